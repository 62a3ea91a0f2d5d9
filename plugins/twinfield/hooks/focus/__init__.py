"""Teamleader Focus: the hook."""

from twinfield.hooks.focus.hook import TeamleaderFocusHook

__all__ = ["TeamleaderFocusHook"]
