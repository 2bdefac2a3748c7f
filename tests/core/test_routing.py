"""The API's routes are nested by their first path segment (core.api.site.grouped_urls); every path
must still reach the operation that ninja's own flat list sends it to."""

from __future__ import annotations

import functools
import re
import uuid
from typing import Any

from django.urls import resolve

from core.api.site import api

SAMPLES = {"uuid": str(uuid.uuid4()), "int": "7", "path": "a/b", "slug": "a-slug", "str": "word"}


def _sample_path(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], route)


def _target(view: Any) -> Any:
    """What a view stands for: api.urls builds new wrappers on each call, around the same path
    operations (ninja's PathView, held in the wrapper's closure) or the same function (partials)."""
    if isinstance(view, functools.partial):
        return view.func
    cells = [cell.cell_contents for cell in view.__closure__ or ()]
    return cells[0] if cells else view


def test_every_route_resolves_to_the_operation_of_ninjas_flat_list():
    flat, _, _ = api.urls
    assert len(flat) > 100
    for pattern in flat:
        route = _sample_path(str(pattern.pattern))
        first = next(p for p in flat if p.resolve(route))  # Django's rule: the first match wins
        match = resolve("/api/v1/" + route)
        assert _target(match.func) is _target(first.callback), route
        assert match.kwargs == first.resolve(route).kwargs, route
