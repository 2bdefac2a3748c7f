from django.http import HttpRequest
from ninja import Router, Schema

router = Router()


class Pong(Schema):
    pong: bool


@router.get("/ping", auth=None, response=Pong)
def ping(request: HttpRequest) -> Pong:
    return Pong(pong=True)


def tick() -> None:
    return None
