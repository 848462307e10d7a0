"""The statement assertions: what was executed, with the SQL in every failure message."""

from __future__ import annotations

import sys
import unittest
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from asyncsessiontest.fake import SessionState
from asyncsessiontest.matching import Matcher, matcher_for
from asyncsessiontest.recording import ExecutedStatement
from asyncsessiontest.reprs import safe_repr, values_equal
from asyncsessiontest.wording import statements, times, were

__all__ = ["StatementAssertions"]

# hides this module's frames from failure tracebacks, so they point at the user's line
__unittest = True

if TYPE_CHECKING:
    _TestCaseBase = unittest.TestCase
else:
    _TestCaseBase = object


class StatementAssertions(_TestCaseBase):
    """Assertions on :attr:`~AsyncSessionMixin.executed_statements`; part of AsyncSessionMixin."""

    if TYPE_CHECKING:

        @property
        def executed_statements(self) -> List[ExecutedStatement]: ...

        @property
        def _asyncsessiontest(self) -> SessionState: ...

    def assertExecuted(
        self, statement: Any, msg: Any = None, *, params: Optional[Dict[str, Any]] = None
    ) -> None:
        """Fail unless a statement matching ``statement`` was executed (awaited).

        :param statement: a SQLAlchemy statement (equal as ``compare()`` judges, bound values
            included), a SQL string (as ``str(statement)`` renders it, ignoring case and
            spacing), a compiled ``re.Pattern`` (searched in that SQL), or a mapped class or
            ``Table`` (any statement that reads or writes it).
        :param msg: a message for the failure, as for any unittest assertion.
        :param params: values the execution must also have had, by parameter name: the
            statement's bound values and the parameters passed to the call, merged.
        :raises TypeError: ``statement`` or ``params`` is of an unsupported type.
        """
        self._asyncsessiontest_check_executed("assertExecuted", statement, msg, params, at_least=1)

    def assertExecutedOnce(
        self, statement: Any, msg: Any = None, *, params: Optional[Dict[str, Any]] = None
    ) -> None:
        """Fail unless exactly one executed statement matches ``statement``.

        :param statement: what to match, as for :meth:`assertExecuted`.
        :param msg: a message for the failure, as for any unittest assertion.
        :param params: values the execution must also have had, as for :meth:`assertExecuted`.
        :raises TypeError: ``statement`` or ``params`` is of an unsupported type.
        """
        self._asyncsessiontest_check_executed(
            "assertExecutedOnce", statement, msg, params, exactly=1
        )

    def assertNotExecuted(self, statement: Any, msg: Any = None) -> None:
        """Fail if any executed statement matches ``statement``.

        :param statement: what to match, as for :meth:`assertExecuted`.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: ``statement`` is of an unsupported type.
        """
        self._asyncsessiontest_check_executed("assertNotExecuted", statement, msg, None, exactly=0)

    def assertExecuteCount(self, expected: int, msg: Any = None) -> None:
        """Fail unless exactly ``expected`` statements were executed so far.

        :param expected: the number of statements.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: ``expected`` is not an int.
        """
        _check_count("assertExecuteCount", expected)
        executed = [op for op in self.executed_statements if op.awaited]
        if len(executed) != expected:
            standard = (
                f"Expected {statements(expected)} to be executed; "
                f"{were(len(executed))} executed.\n" + _statement_list(self.executed_statements)
            )
            self.fail(self._formatMessage(msg, standard))

    def assertNumStatements(self, expected: int, msg: Any = None) -> _StatementCounter:
        """Return a context manager that fails unless its block executes ``expected`` statements.

        When the block raises, nothing is checked and the error goes through::

            with self.assertNumStatements(2):
                await service.rename(5, "new")

        Called without ``with``, it would check nothing: a test that passes fails at its end,
        naming the line that called it.

        :param expected: the number of statements.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: ``expected`` is not an int.
        """
        _check_count("assertNumStatements", expected)
        caller = sys._getframe(1)
        counter = _StatementCounter(
            self, expected, msg, f"{caller.f_code.co_filename}:{caller.f_lineno}"
        )
        # the end-of-test checks read this list: a counter never entered checked nothing
        self.__dict__.setdefault("_asyncsessiontest_counters", []).append(counter)
        return counter

    def _asyncsessiontest_check_executed(
        self,
        caller: str,
        statement: Any,
        msg: Any,
        params: Optional[Dict[str, Any]],
        at_least: int = 0,
        exactly: Optional[int] = None,
    ) -> None:
        state = self._asyncsessiontest
        matcher = matcher_for(statement, f"{caller}(): statement", state.dialect)
        if params is not None and not isinstance(params, dict):
            raise TypeError(f"{caller}(): params must be a dict, got {safe_repr(params)}")
        statements = self.executed_statements
        results = [_match(matcher, op, params) for op in statements]
        count = sum(1 for op, (matched, _) in zip(statements, results) if matched and op.awaited)
        if (exactly is None and count >= at_least) or count == exactly:
            return
        target = f"a statement matching {matcher!r}"
        if params is not None:
            target += f" with params {safe_repr(params)}"
        if exactly == 0:
            head = (
                f"Expected no statement matching {matcher!r} to be executed; "
                f"it was executed {times(count)}."
            )
        elif exactly == 1:
            head = f"Expected {target} to be executed once; it was executed {times(count)}."
        else:
            head = f"Expected {target} to be executed; it was not executed."
        # too many matches: point at them; too few: point at the closest miss
        too_many = count > (exactly if exactly is not None else at_least)
        notes = _notes(matcher, statements, results, show_matches=too_many)
        standard = head + "\n" + _statement_list(statements, notes)
        self.fail(self._formatMessage(msg, standard))


_MAX_LISTED = 20
_MAX_SQL = 500


class _StatementCounter:
    """The context manager :meth:`AsyncSessionMixin.assertNumStatements` returns.

    :param test: the test whose statements it counts.
    :param expected: the number of statements.
    :param msg: a message for the failure.
    :param location: ``file:line`` of the call that made it, for the never-entered failure.
    """

    def __init__(self, test: StatementAssertions, expected: int, msg: Any, location: str) -> None:
        self._test = test
        self._expected = expected
        self._msg = msg
        self._start = 0
        self.location = location
        self.entered = False
        """True once a ``with`` block entered it."""

    def __enter__(self) -> _StatementCounter:
        self.entered = True
        self._start = len(self._test.executed_statements)
        return self

    def never_entered(self) -> str:
        """Say that this counter checked nothing, and how to use it."""
        return (
            f"assertNumStatements({self._expected}) called at {self.location} was never used "
            f"in a with block, so it checked nothing; write: "
            f"with self.assertNumStatements({self._expected}): ..."
        )

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if exc_type is not None:
            return  # the block's own error is the one to see
        block = self._test.executed_statements[self._start :]
        count = sum(1 for op in block if op.awaited)
        if count != self._expected:
            standard = (
                f"Expected {statements(self._expected)} to be executed in the block; "
                f"{were(count)} executed.\n" + _statement_list(block)
            )
            self._test.fail(self._test._formatMessage(self._msg, standard))


def _check_count(caller: str, expected: Any) -> None:
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise TypeError(f"{caller}(): expected must be a non-negative int, got {expected!r}")


def _match(
    matcher: Matcher, op: ExecutedStatement, params: Optional[Dict[str, Any]]
) -> Tuple[bool, str]:
    matched, reason = matcher.match(op.statement)
    if not matched or params is None:
        return matched, reason
    values = op.bound_values()
    differences = []
    for key, expected in params.items():
        if key not in values:
            differences.append(f"no parameter {key!r}")
            continue
        equal, why = values_equal(values[key], expected)
        if not equal:
            difference = f"{key} = {safe_repr(values[key])}, expected {safe_repr(expected)}"
            differences.append(f"{difference} ({why})" if why else difference)
    if differences:
        return False, "params: " + "; ".join(differences)
    return True, ""


def _notes(
    matcher: Matcher,
    statements: List[ExecutedStatement],
    results: List[Tuple[bool, str]],
    show_matches: bool,
) -> Dict[int, str]:
    """Return the note to print beside some statements: the matches, or the closest miss."""
    if show_matches:
        return {i: "matches" for i, (matched, _) in enumerate(results) if matched}
    notes: Dict[int, str] = {}
    for i, (op, (matched, _)) in enumerate(zip(statements, results)):
        if matched and not op.awaited:
            notes[i] = "matches, but was never awaited"
    best, best_rank = None, 0
    for i, (op, (matched, reason)) in enumerate(zip(statements, results)):
        rank = 3 if reason.startswith("params:") else matcher.closeness(op.statement)
        if not matched and rank > best_rank:
            best, best_rank = i, rank
    if best is not None:
        notes[best] = f"closest: {results[best][1]}"
    return notes


def _statement_list(
    statements: List[ExecutedStatement], notes: Optional[Dict[int, str]] = None
) -> str:
    if not statements:
        return "No statements were executed."
    notes = notes or {}
    lines = [f"Statements executed ({len(statements)}):"]
    for i, op in enumerate(statements[:_MAX_LISTED]):
        sql = op.sql
        if len(sql) > _MAX_SQL:
            sql = f"{sql[:_MAX_SQL]}... ({len(sql) - _MAX_SQL} more characters)"
        line = f"{i + 1}. {sql}"
        if op.method != "execute":
            line += f"  [{op.method}]"
        if not op.awaited:
            line += "  [never awaited]"
        if i in notes:
            line += f"   <- {notes[i]}"
        lines.append(line)
    if len(statements) > _MAX_LISTED:
        lines.append(f"... and {len(statements) - _MAX_LISTED} more, not shown.")
    return "\n".join(lines)
