"""Domain events to JSON and back: a frozen dataclass becomes ``{field: value}`` with datetimes as
ISO 8601 text, decimals as strings and tuples as lists; decoding reads the class's type hints."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import importlib
import types
import typing
from decimal import Decimal
from typing import Any


def topic_of(event_type: type) -> str:
    """The name an event class is journaled under: ``module.QualName``."""
    return f"{event_type.__module__}.{event_type.__qualname__}"


def encode(event: Any) -> dict[str, Any]:
    """The event's fields as JSON values."""
    return {f.name: _plain(getattr(event, f.name)) for f in dataclasses.fields(event)}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list | frozenset | set):
        return [_plain(v) for v in value]
    return value


def decode(event_type: type, data: dict[str, Any]) -> Any:
    """The event of ``event_type`` that :func:`encode` turned into ``data``."""
    hints = _hints(event_type)
    return event_type(**{name: _typed(hints.get(name), value) for name, value in data.items()})


def resolve(topic: str, known: dict[str, type]) -> type:
    """The event class named ``topic``: one the bus knows, else imported by its dotted name."""
    found = known.get(topic)
    if found is not None:
        return found
    module, _, name = topic.rpartition(".")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    if not (isinstance(target, type) and dataclasses.is_dataclass(target)):
        raise TypeError(f"{topic} is not an event class")
    return target


@functools.cache
def _hints(event_type: type) -> dict[str, Any]:
    return typing.get_type_hints(event_type)


def _typed(hint: Any, value: Any) -> Any:
    if value is None or hint is None:
        return value
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _typed(typing.get_args(hint)[0], value)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is not type(None):
                return _typed(arg, value)
        return value
    if origin is tuple:
        args = typing.get_args(hint)
        inner = args[0] if args else None
        return tuple(_typed(inner, v) for v in value)
    if hint is dt.datetime and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if hint is dt.date and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if hint is Decimal:
        return Decimal(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    return value
