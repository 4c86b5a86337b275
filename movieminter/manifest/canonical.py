"""Canonical JSON: the same bytes for the same manifest on every machine.

Rules (also in docs/manifest.md):
  * object keys sorted by Unicode code point, no insignificant whitespace,
    separators `,` and `:`;
  * strings as UTF-8, not ASCII-escaped (only `"`, `\\` and control characters
    are escaped, as json.dumps does);
  * numbers: a float with an integral value is written as an integer
    (`1.0` -> `1`, `-0.0` -> `0`), other floats in Python's shortest
    round-trip form (`repr`); NaN and Infinity are refused;
  * booleans and null as JSON literals; tuples as arrays.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from movieminter.errors import MovieMinterError


def _normalize(obj: Any, path: str = "") -> Any:
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise MovieMinterError(
                f"{path or '/'}: {obj} cannot be written as JSON",
                hint="use a finite number; NaN and Infinity have no JSON form",
            )
        if obj.is_integer():
            return int(obj)  # also turns -0.0 into 0
        return obj
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise MovieMinterError(f"{path or '/'}: object key {k!r} is not a string", hint="use string keys")
            out[k] = _normalize(v, f"{path}/{k}")
        return out
    if isinstance(obj, (list, tuple)):
        return [_normalize(v, f"{path}/{i}") for i, v in enumerate(obj)]
    raise MovieMinterError(
        f"{path or '/'}: a {type(obj).__name__} cannot be written as JSON",
        hint="use only objects, arrays, strings, numbers, booleans and null",
    )


def canonical_json(obj: Any) -> bytes:
    """The canonical UTF-8 JSON bytes of `obj` (see module docstring)."""
    return json.dumps(
        _normalize(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
