"""What the code under test did to the session, in order."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy.sql.elements import ClauseElement

from asyncsessiontest.matching import render
from asyncsessiontest.reprs import safe_repr

__all__ = ["STATEMENT_METHODS", "ExecutedStatement", "History", "Operation", "describe_error"]

STATEMENT_METHODS = frozenset({"execute", "scalars", "scalar", "stream", "stream_scalars"})
"""The session methods that execute a statement."""

_TAKES_ITERABLE = frozenset({"add_all", "delete_all", "merge_all"})


def describe_error(error: BaseException) -> str:
    """Return ``Type: message`` on one line: a multi-line message (IntegrityError's) keeps its
    first line, followed by `` ...``.

    :param error: an exception.
    """
    lines = str(error).splitlines() or [""]
    more = " ..." if len(lines) > 1 else ""
    return f"{type(error).__name__}: {lines[0]}{more}"


_SPELLINGS = {"__aenter__": "async with session: enter", "__aexit__": "async with session: exit"}


class Operation:
    """One call made on the session (or one transaction block entered or left).

    :param method: the method's name, e.g. ``"commit"``; for a transaction block, an event
        such as ``"transaction: commit"`` or ``"savepoint: release"``.
    :param args: the positional arguments.
    :param kwargs: the keyword arguments.
    :param is_coroutine: True when the call returned a coroutine that must be awaited.
    """

    __slots__ = ("args", "awaited", "error", "is_coroutine", "kwargs", "location", "method")

    def __init__(
        self,
        method: str,
        args: Tuple[Any, ...] = (),
        kwargs: Optional[Dict[str, Any]] = None,
        is_coroutine: bool = False,
        location: Optional[Tuple[str, int]] = None,
    ) -> None:
        self.method = method
        """The method's name, or the transaction event (``"transaction: commit"``)."""
        self.args = args
        """The positional arguments of the call."""
        self.kwargs = kwargs or {}
        """The keyword arguments of the call."""
        self.is_coroutine = is_coroutine
        """True when the call returned a coroutine that must be awaited."""
        self.awaited = False
        """True once the coroutine was awaited (always False for a plain call)."""
        self.error: Optional[BaseException] = None
        """The exception the call raised, if it raised."""
        self.location = location
        """(file name, line number) of the code that made the call."""

    @property
    def happened(self) -> bool:
        """True when the operation took effect: awaited if a coroutine, and did not raise."""
        return (self.awaited or not self.is_coroutine) and self.error is None

    def describe_call(self) -> str:
        """Return the call as code would write it, e.g. ``add(<User ...>)``."""
        if self.method in _SPELLINGS:
            return _SPELLINGS[self.method]
        if ": " in self.method:  # a transaction event, not a call
            return self.method
        arguments = [safe_repr(argument) for argument in self.args]
        arguments += [f"{key}={safe_repr(value)}" for key, value in self.kwargs.items()]
        return f"{self.method}({', '.join(arguments)})"

    def __repr__(self) -> str:
        text = self.describe_call()
        if self.is_coroutine and not self.awaited:
            text += "  [never awaited]"
        if self.error is not None:
            text += f"  [raised {describe_error(self.error)}]"
        return text


class ExecutedStatement(Operation):
    """One statement passed to ``execute``, ``scalars``, ``scalar``, ``stream``, ``stream_scalars``.

    Nothing is compiled when it is recorded; :attr:`sql` renders on demand.
    """

    __slots__ = ("_sql", "dialect")

    def __init__(self, *args: Any, dialect: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dialect = dialect
        """The dialect that renders :attr:`sql` (None for SQLAlchemy's default string dialect)."""
        self._sql: Optional[str] = None

    @property
    def statement(self) -> Any:
        """The statement as passed."""
        return self.args[0] if self.args else self.kwargs.get("statement")

    @property
    def params(self) -> Any:
        """The parameters passed beside the statement: a dict, a list of dicts, or None."""
        return self.args[1] if len(self.args) > 1 else self.kwargs.get("params")

    @property
    def execution_options(self) -> Dict[str, Any]:
        """The execution options passed to the call (empty if none)."""
        options = self.args[2] if len(self.args) > 2 else self.kwargs.get("execution_options")
        return dict(options or {})

    @property
    def sql(self) -> str:
        """The statement as readable SQL with its values, rendered once, on first use."""
        if self._sql is None:
            self._sql = render(self.statement, self.dialect, self.params)
        return self._sql

    def bound_values(self) -> Dict[str, Any]:
        """Return the statement's bound values merged with the parameters passed to the call.

        For an executemany (a list of parameter dicts), the dicts' values are given as lists.
        """
        values: Dict[str, Any] = {}
        if isinstance(self.statement, ClauseElement):
            try:
                values.update(self.statement.compile().params)
            except Exception:  # a statement that cannot compile has no values to offer
                pass
        params = self.params
        if isinstance(params, dict):
            values.update(params)
        elif isinstance(params, (list, tuple)):
            for row in params:
                if not isinstance(row, Mapping):
                    continue  # not parameters by name, as a real session refuses: no values here
                for key, value in row.items():
                    values.setdefault(key, [])
                    if not isinstance(values[key], list):
                        values[key] = []
                    values[key].append(value)
        return values

    def describe_call(self) -> str:
        """Return ``method(SQL)`` on one line, with its values, as the statement lists of
        failure messages show it."""
        return f"{self.method}({' '.join(self.sql.split())})"


class History(List[Operation]):
    """The operations on one test's session, in the order they happened.

    Its repr numbers them, one per line: it is what failure messages print.
    """

    def record(
        self,
        method: str,
        args: Tuple[Any, ...],
        kwargs: Dict[str, Any],
        is_coroutine: bool,
        dialect: Any = None,
    ) -> Operation:
        """Append and return an operation for the call a session method's mock received.

        :param method: the method's name.
        :param args: the positional arguments.
        :param kwargs: the keyword arguments.
        :param is_coroutine: True for a coroutine method.
        :param dialect: the dialect for rendering statements.
        """
        # the caller of the mock: our hook is called by Mock.__call__, called by user code
        frame = sys._getframe(3)
        location = (frame.f_code.co_filename, frame.f_lineno)
        if method in _TAKES_ITERABLE and args and not isinstance(args[0], (list, tuple)):
            # the real method consumes an iterator (a generator) as it is called: so do we,
            # keeping what it gave for the assertions
            args = (list(args[0]), *args[1:])
        operation: Operation
        if method in STATEMENT_METHODS:
            operation = ExecutedStatement(
                method, args, kwargs, is_coroutine, location, dialect=dialect
            )
        else:
            operation = Operation(method, args, kwargs, is_coroutine, location)
        self.append(operation)
        return operation

    def __repr__(self) -> str:
        if not self:
            return "<no operations>"
        return "\n".join(f"{number}. {operation!r}" for number, operation in enumerate(self, 1))
