"""Show any object in a message, and compare any two values, without ever raising.

Failure messages and routing meet the test's own objects: a model whose ``__repr__`` reads an
attribute that is not loaded, a bound value whose ``==`` gives an array instead of a bool. A
failure message that raises hides the failure; a comparison that raises breaks routing. These
two functions are what every message and every comparison of user values goes through.
"""

from __future__ import annotations

from typing import Any, Tuple

__all__ = ["safe_repr", "values_equal"]


def safe_repr(value: Any) -> str:
    """Return ``repr(value)``, or, if that raises, ``<User object at 0x...; repr failed: E>``.

    A plain dict, list or tuple whose repr raises shows its items, each shown this way.

    :param value: anything.
    """
    try:
        return repr(value)
    except Exception as error:
        if type(value) is dict:
            items = ", ".join(f"{safe_repr(key)}: {safe_repr(item)}" for key, item in value.items())
            return f"{{{items}}}"
        if type(value) in (list, tuple):
            items = ", ".join(safe_repr(item) for item in value)
            if type(value) is list:
                return f"[{items}]"
            return f"({items}{',' if len(value) == 1 else ''})"
        return (
            f"<{type(value).__name__} object at {id(value):#x}; "
            f"repr failed: {type(error).__name__}>"
        )


def values_equal(got: Any, expected: Any) -> Tuple[bool, str]:
    """Return whether ``got == expected``, and, when that gives no clear answer, why not.

    A value is equal to itself, as in Python's containers. A value whose ``==`` gives something
    that is not a bool and cannot be made one (an array, an SQL expression) counts as not
    equal, as does one whose ``==`` raises.

    :param got: the value seen.
    :param expected: the value wanted.
    """
    if got is expected:
        return True, ""
    try:
        return bool(got == expected), ""
    except Exception as error:
        return False, (
            f"cannot be compared: == between {type(got).__name__} and "
            f"{type(expected).__name__} gave no True or False ({type(error).__name__})"
        )
