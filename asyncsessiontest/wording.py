"""How counts read in failure messages."""

from __future__ import annotations

__all__ = ["statements", "times", "were"]


def times(count: int) -> str:
    """Return ``"1 time"`` or ``"N times"``.

    :param count: how many times.
    """
    return "1 time" if count == 1 else f"{count} times"


def statements(count: int) -> str:
    """Return ``"1 statement"`` or ``"N statements"``.

    :param count: how many statements.
    """
    return "1 statement" if count == 1 else f"{count} statements"


def were(count: int) -> str:
    """Return ``"1 was"`` or ``"N were"``.

    :param count: how many.
    """
    return "1 was" if count == 1 else f"{count} were"
