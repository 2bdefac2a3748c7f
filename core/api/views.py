from django.http import HttpRequest, HttpResponse

from core.api.errors import problem_response


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """Unknown paths under /api/ answer problem details too, not Django's HTML 404."""
    return problem_response(request, 404, f"No API route matches {request.method} {request.path}", code="route_not_found")
