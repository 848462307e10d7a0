"""Tell what kind of object a test passed: the checks every argument check is made of."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect as sa_inspect

__all__ = ["is_exception", "is_mapped_class", "is_orm_instance"]


def is_exception(value: Any) -> bool:
    """Tell whether ``value`` can be raised: an exception instance or class.

    :param value: anything.
    """
    return isinstance(value, BaseException) or (
        isinstance(value, type) and issubclass(value, BaseException)
    )


def is_orm_instance(value: Any) -> bool:
    """Tell whether ``value`` is an instance of a mapped class.

    :param value: anything.
    """
    return not isinstance(value, type) and sa_inspect(value, raiseerr=False) is not None


def is_mapped_class(value: Any) -> bool:
    """Tell whether ``value`` is a mapped class.

    :param value: anything.
    """
    return isinstance(value, type) and sa_inspect(value, raiseerr=False) is not None
