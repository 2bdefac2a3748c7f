"""Pagination: page numbers for admin tables, keyset cursors for feeds and big tables."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet
from ninja import Field, Schema

from core.api.schemas import QuerySchema
from core.errors import BadRequest

T = TypeVar("T")
M = TypeVar("M", bound=Model)
MAX_PAGE_SIZE = 100


class PageQuery(QuerySchema):
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class Page(Schema, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int
    pages: int


class CursorQuery(QuerySchema):
    cursor: str | None = Field(None, max_length=200, description="Opaque cursor from next_cursor")
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class CursorPage(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None


def paginate(qs: QuerySet[M], params: PageQuery, *, count: int | None = None) -> tuple[list[M], dict[str, int]]:
    """Slice a queryset by page number; one COUNT and one SELECT. Pass ``count`` to skip the COUNT."""
    total = qs.count() if count is None else count
    start = (params.page - 1) * params.page_size
    rows = list(qs[start : start + params.page_size])
    pages = (total + params.page_size - 1) // params.page_size if total else 0
    return rows, {"page": params.page, "page_size": params.page_size, "total": total, "pages": pages}


def _encode(values: Sequence[Any]) -> str:
    def conv(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return {"dt": v.isoformat()}
        if isinstance(v, uuid.UUID):
            return {"u": str(v)}
        return v

    raw = json.dumps([conv(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise ValueError
    except (ValueError, json.JSONDecodeError) as exc:
        raise BadRequest("The cursor is not valid; start again without one", code="invalid_cursor") from exc

    def conv(v: Any) -> Any:
        if isinstance(v, dict) and "dt" in v:
            return dt.datetime.fromisoformat(v["dt"])
        if isinstance(v, dict) and "u" in v:
            return uuid.UUID(v["u"])
        return v

    return [conv(v) for v in values]


def keyset_paginate(
    qs: QuerySet[M],
    params: CursorQuery,
    *,
    order: Sequence[str] = ("-created_at", "-id"),
    key: Callable[[M], Sequence[Any]] | None = None,
) -> tuple[list[M], str | None]:
    """Keyset paging over ``order`` (the last field must be unique). Stable under inserts; no COUNT."""
    fields = [f.lstrip("-") for f in order]
    qs = qs.order_by(*order)
    if params.cursor:
        values = _decode(params.cursor)
        if len(values) != len(fields):
            raise BadRequest("The cursor is not valid; start again without one", code="invalid_cursor")
        cond = Q()
        for i, name in enumerate(fields):
            op = "lt" if order[i].startswith("-") else "gt"
            step = Q(**{f"{name}__{op}": values[i]})
            for j in range(i):
                step &= Q(**{fields[j]: values[j]})
            cond |= step
        qs = qs.filter(cond)
    rows = list(qs[: params.limit + 1])
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        vals = key(last) if key else [getattr(last, f) for f in fields]
        next_cursor = _encode(vals)
    return rows, next_cursor
