"""One JSON convention for every config and result: dataclasses ↔ plain JSON documents.

Why one helper: every engine returns frozen dataclasses, and the report, the run folder and
``--json`` all need them as JSON. Written by hand, each class grows its own ``to_json`` with
its own idea of NaN. Here there is one rule set, driven by the type hints:

* a dataclass becomes an object of its fields (fields with ``metadata={"json": False}``, such
  as a live model, are left out); tuples become lists; numpy scalars and arrays become numbers
  and lists; paths become strings;
* JSON has no NaN or infinity, so a non-finite float is written as ``null`` and a ``null`` read
  into a field typed ``float`` comes back as NaN (a field typed ``float | None`` keeps ``None``);
* reading ignores keys the class does not know and fills missing ones from the defaults, so an
  older or newer document still loads;
* a class may write what follows from its fields beside them (a method ``json_derived()``
  returning a dict, e.g. a circuit's ``found``), so a report rendered from the JSON alone says
  what the code would; being derived, those keys are ignored when read back.

Use it by inheriting :class:`JsonMixin`, or call :func:`to_jsonable` / :func:`from_jsonable`.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (dicts, lists, str, int, float, bool, None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {
            f.name: to_jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.metadata.get("json", True)
        }
        derived = getattr(value, "json_derived", None)
        return {**out, **to_jsonable(derived())} if callable(derived) else out
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_jsonable(tp: Any, data: Any) -> Any:
    """Rebuild a value of type ``tp`` (a dataclass, ``list[X]``, ``float | None``, …) from JSON."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None if type(None) in args else from_jsonable(args[0], None)
        options = [a for a in args if a is not type(None)]
        return from_jsonable(options[0], data) if len(options) == 1 else data
    if tp is float:
        return float("nan") if data is None else float(data)
    if data is None:
        return None
    if dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {
            f.name: from_jsonable(hints[f.name], data[f.name])
            for f in dataclasses.fields(tp)
            if f.init and f.name in data and f.metadata.get("json", True)
        }
        return tp(**kwargs)
    if origin in (list, typing.List):  # noqa: UP006
        return [from_jsonable(args[0] if args else Any, v) for v in data]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], v) for v in data)
        return tuple(from_jsonable(a, v) for a, v in zip(args, data, strict=False))
    if origin is dict:
        value_type = args[1] if len(args) == 2 else Any
        return {k: from_jsonable(value_type, v) for k, v in data.items()}
    return data


class JsonMixin:
    """``to_json()`` and ``from_json()`` for a dataclass, by the rules of this module."""

    def to_json(self) -> dict:
        return to_jsonable(self)

    @classmethod
    def from_json(cls: type[T], data: dict) -> T:
        return from_jsonable(cls, data)
