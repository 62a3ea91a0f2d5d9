"""Teamleader Focus: the hook and its rate limiter."""

from twinfield.hooks.focus.hook import TeamleaderFocusHook
from twinfield.hooks.focus.ratelimit import Clock, SlidingWindowLimiter

__all__ = ["Clock", "SlidingWindowLimiter", "TeamleaderFocusHook"]
