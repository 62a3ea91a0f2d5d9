"""Connection extras, read the same way by every hook of this package."""

from __future__ import annotations

from typing import Any


def get_field(connection: Any, name: str, default: Any = None) -> Any:
    """The connection's extra ``name``, also under the prefixed form older connection forms saved
    (``extra__<conn_type>__<name>``); missing or an empty string means ``default``."""
    extra = connection.extra_dejson
    for key in (name, f"extra__{connection.conn_type}__{name}"):
        value = extra.get(key)
        if value not in (None, ""):
            return value
    return default
