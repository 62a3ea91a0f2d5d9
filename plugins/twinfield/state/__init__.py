"""The sync-state store (SQLAlchemy). Only this package imports SQLAlchemy."""

from twinfield.state.db import StateStore

__all__ = ["StateStore"]
