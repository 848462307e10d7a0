"""Run a test's end-of-test checks from outside :mod:`asyncsessiontest.case`.

``case.py`` sets ``__unittest``, which hides its frames from failure tracebacks. A failure of the
end-of-test checks is raised after the test method returned, so every other frame of its
traceback is unittest's or ``case.py``'s: pytest, finding nothing left once those are hidden,
would print the whole traceback, unittest's internals included. This module's one frame is
what both runners show instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_end_of_test"]


def check_end_of_test(test: Any) -> None:
    """Run ``test``'s end-of-test checks (strict mode's leftovers, unawaited coroutines).

    :param test: the finished test, an :class:`~asyncsessiontest.AsyncSessionMixin`.
    """
    test._asyncsessiontest_check_end()
