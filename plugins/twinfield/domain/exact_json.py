"""JSON with exact decimals, the one encoder for both uses: on the wire (Decimals as JSON numbers, digit for
digit; the json module would go through float) and in the state store (``canonical``: keys sorted, Decimals
as text, so that a document's hash is stable). Numbers with a fraction are read back as Decimal, never float."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from enum import Enum
from json.encoder import encode_basestring_ascii
from typing import Any


def dumps(value: Any, *, canonical: bool = False) -> str:
    """``value`` as JSON text; dates as ISO text, enums by value. Non-finite Decimals are refused."""
    if canonical:
        return json.dumps(value, default=_as_text, sort_keys=True, ensure_ascii=False)
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def loads(text: str | bytes) -> Any:
    """JSON text back to Python: numbers with a fraction or an exponent as Decimal; NaN/Infinity refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def _as_text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(_finite(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(format(_finite(value), "f"))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + encode_basestring_ascii(str(key)) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, (str, int, float, bool)) or value is None:
        out.append(json.dumps(value))
    else:
        _write(_as_text(value), out)


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")
