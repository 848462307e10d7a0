"""Run a check after a test method, as part of the test.

Kept apart from :mod:`asyncsessiontest.case` on purpose: that module sets ``__unittest``, and
unittest cuts a failure's traceback at the first frame of such a module. The wrapper's frame
sits between unittest and the user's test, so it must not be one, or every traceback through
it would stop short of the user's line.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

__all__ = ["then_check"]


def then_check(test_method: Callable[..., Any], check: Callable[[], None]) -> Callable[..., Any]:
    """Return ``test_method`` followed by ``check``, keeping unittest's markers on it.

    ``check`` runs only when the test method returned normally.

    :param test_method: a bound test method, plain or coroutine.
    :param check: what to run after it.
    """
    async def checked_coroutine() -> None:
        await test_method()
        check()

    async def then_check_awaited(awaitable: Any) -> None:
        await awaitable
        check()

    def checked_function() -> Any:
        result = test_method()
        if inspect.isawaitable(result):
            # a plain function returning a coroutine (a sync decorator on an async test):
            # unittest awaits it, so the check comes after it
            return then_check_awaited(result)
        check()
        return result

    checked: Callable[..., Any]
    if inspect.iscoroutinefunction(test_method):
        checked = checked_coroutine
    else:
        checked = checked_function
    # skip and expectedFailure markers live on the method
    return functools.update_wrapper(checked, test_method)
