"""What ``await session.connection()`` returns: a connection whose executions answer as the
session's do.

A mock spec'd on ``AsyncConnection``, so that ``isinstance()`` and every other method are as a
plain mock has them, whose ``execute``, ``scalar``, ``scalars``, ``stream`` and
``stream_scalars`` are real coroutine functions: they answer from the test's configured results
(or the empty database), are recorded in the session's history (``connection.execute(...)``),
which the statement assertions read, and give real results.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Dict, Optional
from unittest.mock import AsyncMock

from sqlalchemy.ext import asyncio as sa_asyncio

from asyncsessiontest.ormstate import check_connection_execution
from asyncsessiontest.recording import ExecutedStatement
from asyncsessiontest.results import to_async_result

if TYPE_CHECKING:
    from asyncsessiontest.fake import SessionState

__all__ = ["connection_stand_in"]

# hides this module's frames from failure tracebacks (strict mode fails from here)
__unittest = True

EXECUTING = ("execute", "scalar", "scalars", "stream", "stream_scalars")
"""The connection's methods that execute a statement, answered as the session's are."""


def connection_stand_in(state: SessionState) -> Any:
    """Return a connection for ``state``'s session, executing as the session does.

    :param state: the state of the test's session.
    """
    connection = AsyncMock(spec=sa_asyncio.AsyncConnection, name="session.connection()")
    executions = AsyncConnection(state)
    for name in EXECUTING:
        setattr(connection, name, getattr(executions, name))
    return connection


class AsyncConnection:
    """The executions of the connection stand-in (named as the real class is, so that a bad
    call's TypeError reads as the real one's: ``AsyncConnection.execute() got ...``).

    :param state: the state of the test's session.
    """

    def __init__(self, state: SessionState) -> None:
        self._state = state

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Optional[Dict[str, Any]] = None,
    ) -> Any:
        """Execute ``statement``, answered as ``session.execute()`` is."""
        return self._answer("execute", statement, parameters, execution_options)

    async def scalar(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Optional[Dict[str, Any]] = None,
    ) -> Any:
        """Execute ``statement`` and return the first column of its first row, or None."""
        return self._answer("scalar", statement, parameters, execution_options).scalar()

    async def scalars(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Optional[Dict[str, Any]] = None,
    ) -> Any:
        """Execute ``statement`` and return the first column of its rows."""
        return self._answer("scalars", statement, parameters, execution_options).scalars()

    async def stream(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Optional[Dict[str, Any]] = None,
    ) -> Any:
        """Execute ``statement`` and return an ``AsyncResult``."""
        return to_async_result(self._answer("stream", statement, parameters, execution_options))

    async def stream_scalars(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Optional[Dict[str, Any]] = None,
    ) -> Any:
        """Execute ``statement`` and return an ``AsyncScalarResult``."""
        result = self._answer("stream_scalars", statement, parameters, execution_options)
        return to_async_result(result).scalars()

    def _answer(self, method: str, statement: Any, parameters: Any, options: Any) -> Any:
        state = self._state
        args = (statement,) if parameters is None else (statement, parameters)
        kwargs = {} if options is None else {"execution_options": options}
        operation = ExecutedStatement(
            f"connection.{method}", args, kwargs, True, _caller(), dialect=state.dialect
        )
        operation.awaited = True
        state.history.append(operation)
        try:
            check_connection_execution(statement, parameters)
            return state.result_for(statement, parameters)
        except BaseException as error:
            operation.error = error
            raise


def _caller() -> Any:
    """Return (file, line) of the code that awaited the execution: the first frame outside
    this module (the coroutine's own frame is the awaiting one's callee)."""
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)
