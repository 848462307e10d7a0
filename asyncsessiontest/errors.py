"""Errors for misuse of the package: wrong arguments and wrong set-up, never test failures.

Test failures are raised by the TestCase through ``self.fail``; these are programming errors in
the test itself, raised where the mistake is made.
"""

from __future__ import annotations

__all__ = ["SessionNotSetUpError"]


class SessionNotSetUpError(RuntimeError):
    """``self.session`` was used where no test's session exists.

    That is in a test whose ``setUp`` chain skipped the mixin's ``setUp``, after its test
    ended, or on the class (``cls.session``, ``cls.addResult(...)`` in ``setUpClass``).
    """
