"""Queries that read better as SQL, kept in ``include/sql/queries/<name>.sql`` (installed as ``twinfield.sql``)."""

from __future__ import annotations

from functools import cache
from importlib import resources

from sqlalchemy import TextClause, text


@cache
def query(name: str) -> TextClause:
    script = (resources.files("twinfield.sql") / "queries" / f"{name}.sql").read_text(encoding="utf-8")
    body = "\n".join(ln for ln in script.splitlines() if not ln.strip().startswith("--"))
    return text(body.strip().rstrip(";"))
