"""Base classes for request schemas.

``WriteSchema`` is the base of every request body (POST/PUT/PATCH): a field the client sends that the
schema does not know is refused (422), so a client is never misled into thinking ``role`` or
``is_staff`` was accepted, and a boolean must be a JSON boolean (pydantic would otherwise turn "1",
"yes", "on" or 1 into True). A time of day is a local wall-clock time: an offset ("09:00Z") is refused.
``refuse_null`` names fields that may be omitted but not sent as null (``"__all__"`` for every field):
a PATCH leaves an omitted field unchanged, and null is no value for a column that cannot be empty.

No text may contain the NUL character (U+0000): PostgreSQL cannot store or compare it (psycopg
refuses it before sending), so ``WriteSchema`` and ``QuerySchema`` (the base of query-parameter
schemas) refuse it in any string, list or object value with a 422 naming the field. Integers that
reach a column are bounded by its range (``INT32_MAX`` for an IntegerField) in the schema.
"""

from __future__ import annotations

import datetime as dt
import types
from typing import Any, ClassVar, Union, get_args, get_origin

from ninja import Schema
from pydantic import ConfigDict, GetJsonSchemaHandler, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

INT32_MAX = 2**31 - 1  # PostgreSQL integer (Django IntegerField, PositiveIntegerField)
NUL = "\x00"


def refuse_nul(value: Any) -> Any:
    """``value`` unchanged, or a 422 field error if any string in it (keys too) contains NUL."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                raise PydanticCustomError("nul_character", "Text cannot contain the NUL character (U+0000)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
    return value


def _is_bool_annotation(annotation: Any) -> bool:
    if annotation is bool:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return bool(args) and all(a is bool for a in args)
    return False


class WriteSchema(Schema):
    model_config = ConfigDict(extra="forbid")
    refuse_null: ClassVar[tuple[str, ...] | str] = ()

    @classmethod
    def _refuses_null(cls, name: str) -> bool:
        return cls.refuse_null == "__all__" or name in cls.refuse_null

    @field_validator("*", mode="before")
    @classmethod
    def _strict_input(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or ""
        field = cls.model_fields.get(name)
        if value is None and cls._refuses_null(name):
            raise PydanticCustomError("not_null", "May be omitted, but not null")
        if field is not None and _is_bool_annotation(field.annotation) and value is not None and not isinstance(value, bool):
            raise PydanticCustomError("bool_type", "Input should be a JSON boolean (true or false)")
        return refuse_nul(value)

    @field_validator("*", mode="after")
    @classmethod
    def _local_times(cls, value: Any) -> Any:
        if isinstance(value, dt.time) and value.tzinfo is not None:
            raise PydanticCustomError("time_offset", "A local time of day, without an offset (e.g. 09:30)")
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        target = handler.resolve_ref_schema(json_schema)
        for name, prop in target.get("properties", {}).items():
            if cls._refuses_null(name) and "anyOf" in prop:
                options = [o for o in prop["anyOf"] if o != {"type": "null"}]
                if len(options) == 1:
                    prop.pop("anyOf")
                    prop.update(options[0])
                else:
                    prop["anyOf"] = options
        return json_schema


class QuerySchema(Schema):
    """Base of query-parameter schemas (``Query[...]``): no value may contain NUL (see above)."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)
