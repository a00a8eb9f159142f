"""Concrete evaluation of one request against a profile."""
from .decide import Decision, decide, exec_mode_at, file_permissions

__all__ = ["Decision", "decide", "exec_mode_at", "file_permissions"]
