"""How counts read in failure messages."""

from __future__ import annotations

__all__ = ["times"]


def times(count: int) -> str:
    """Return ``"1 time"`` or ``"N times"``.

    :param count: how many times.
    """
    return "1 time" if count == 1 else f"{count} times"
