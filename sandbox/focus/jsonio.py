"""JSON with exact numbers: Decimals are written as JSON numbers digit for digit, and numbers are read as
Decimal (never float), so amounts survive the wire unchanged."""

from __future__ import annotations

import json
from decimal import Decimal
from json.encoder import encode_basestring


def dumps(value: object) -> str:
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: object, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, (int, Decimal)):
        out.append(str(value))
    elif isinstance(value, float):  # never money: e.g. a fault's seconds
        out.append(json.dumps(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: bytes | str) -> object:
    """Parse JSON, numbers with a fraction or exponent as Decimal; NaN/Infinity refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
