"""What ``session.begin()`` and ``session.begin_nested()`` return: a small real class."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import InvalidRequestError, PendingRollbackError

from asyncsessiontest.recording import Operation

if TYPE_CHECKING:
    from asyncsessiontest.fake import SessionState

__all__ = ["TransactionBlock", "TransactionStandIn", "pending_rollback"]


def pending_rollback(original: BaseException) -> PendingRollbackError:
    """Return the error a real session raises for work asked of it after a failed flush.

    :param original: the error the flush (or commit) raised.
    """
    return PendingRollbackError(
        "This Session's transaction has been rolled back due to a previous exception during "
        "flush. To begin a new transaction with this Session, first issue Session.rollback(). "
        f"Original exception was: {original}"
    )


class TransactionBlock:
    """What both kinds of ``begin()`` result share with ``AsyncSessionTransaction``: awaited,
    it starts; as an ``async with`` block, it starts, then commits on a clean exit and rolls
    back on an exception, which propagates. Subclasses give ``_start``, ``_is_open``,
    ``commit`` and ``rollback``."""

    async def _start(self) -> Any:
        raise NotImplementedError

    def _is_open(self) -> bool:
        raise NotImplementedError

    async def commit(self) -> None:
        """Commit the transaction (release it, for a savepoint)."""
        raise NotImplementedError

    async def rollback(self) -> None:
        """Roll the transaction back (to the savepoint, for a nested one)."""
        raise NotImplementedError

    def __await__(self) -> Any:
        return self._start().__await__()

    async def __aenter__(self) -> Any:
        return await self._start()

    async def __aexit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        if not self._is_open():
            return  # committed or rolled back inside the block already
        if exc_type is None:
            await self.commit()
        else:
            await self.rollback()


class TransactionStandIn(TransactionBlock):
    """What ``session.begin()`` and ``session.begin_nested()`` return.

    Like the real ``AsyncSessionTransaction`` it can be awaited (``await session.begin()``) and
    used as an async context manager: leaving the block cleanly commits (or releases the
    savepoint), leaving it by an exception rolls back, and the exception propagates.

    Beginning a transaction while the session has the one it began by itself open (a real
    session begins one when first used) raises ``InvalidRequestError``, as a real session does.

    :param state: the state of the session it belongs to.
    :param nested: True for ``begin_nested()``.
    :param implicit: True for the transaction a session begins by itself on first use.
    """

    def __init__(self, state: SessionState, nested: bool, implicit: bool = False) -> None:
        self._state = state
        self.nested = nested
        """True for ``begin_nested()``, a savepoint."""
        self.implicit = implicit
        """True for the transaction the session began by itself (autobegin)."""
        self.is_active = False
        """True between the start of the transaction and its commit or rollback."""
        self._savepoint: Any = None  # the real sync session's nested transaction

    @property
    def session(self) -> Any:
        """The session mock this transaction belongs to."""
        return self._state.session

    def _is_open(self) -> bool:
        return self.is_active

    @property
    def _kind(self) -> str:
        return "savepoint" if self.nested else "transaction"

    async def _start(self) -> TransactionStandIn:
        if not self.is_active:
            if self.nested:
                if self._state.failed_flush is not None:
                    raise pending_rollback(self._state.failed_flush)
                self._state.autobegin()  # a savepoint needs a transaction to be in
                # the real session's savepoint, so that its rollback undoes what it holds
                self._savepoint = self._state.orm.sync.begin_nested()
            else:
                current = self._state.current_transaction(False)
                # only against the transaction the session began by itself: a begun one may be
                # another session's in production (the test has one for all a factory makes)
                if current is not None and current.implicit:
                    raise InvalidRequestError("A transaction is already begun on this Session.")
            self._state.history.append(Operation(f"{self._kind}: begin"))
            self._state.transaction_started(self)
        return self

    async def commit(self) -> None:
        """Commit this transaction (release it, for a savepoint).

        A transaction's commit runs the ``side_effect`` set on ``session.commit``, if any: that
        is how a test makes the commit at the end of a ``begin()`` block fail. The block's
        commit is recorded as ``transaction: commit``, not as a call of ``commit()``.
        """
        event = Operation(f"{self._kind}: {'release' if self.nested else 'commit'}")
        self._state.history.append(event)
        self._state.transaction_ended(self)
        if self.nested:
            savepoint, self._savepoint = self._savepoint, None
            if savepoint is not None and savepoint.is_active:
                savepoint.commit()
        else:
            try:
                await self._state.commit_side_effect()
            except BaseException as error:
                event.error = error
                # as the real transaction does when its commit fails
                self._state.history.append(Operation("transaction: rollback"))
                self._state.rolled_back()
                raise
            self._state.committed("the begin() block's commit")

    async def rollback(self) -> None:
        """Roll this transaction back (to the savepoint, for a nested one)."""
        self._state.history.append(Operation(f"{self._kind}: rollback"))
        self._state.transaction_ended(self)
        self._state.failed_flush = None  # a rollback is what a failed flush waits for
        savepoint, self._savepoint = self._savepoint, None
        if not self.nested:
            self._state.rolled_back()
        elif savepoint is not None and savepoint.is_active:
            self._state.rolled_back(savepoint)

    def __repr__(self) -> str:
        state = "active" if self.is_active else "inactive"
        return f"<TransactionStandIn {self._kind}, {state}>"
