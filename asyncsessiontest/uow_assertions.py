"""The unit-of-work assertions: what the code did to the session, in order."""

from __future__ import annotations

import unittest
from typing import TYPE_CHECKING, AbstractSet, Any, List

from asyncsessiontest.kinds import is_mapped_class, is_orm_instance
from asyncsessiontest.recording import History, describe_error
from asyncsessiontest.reprs import safe_repr
from asyncsessiontest.unitofwork import (
    ADDS,
    CLOSES,
    COMMITS,
    DELETES,
    ROLLBACKS,
    UnitOfWork,
    added_objects,
)
from asyncsessiontest.wording import times

__all__ = ["UnitOfWorkAssertions"]

# hides this module's frames from failure tracebacks, so they point at the user's line
__unittest = True

if TYPE_CHECKING:
    _TestCaseBase = unittest.TestCase
else:
    _TestCaseBase = object


class UnitOfWorkAssertions(_TestCaseBase):
    """Assertions on :attr:`~AsyncSessionMixin.session_history`; part of AsyncSessionMixin."""

    if TYPE_CHECKING:

        @property
        def session_history(self) -> History: ...

    def assertCommitted(self, *objects: Any, msg: Any = None) -> None:
        """Fail unless a commit happened, or, given objects, unless each of them was committed.

        A commit is an awaited ``commit()`` that did not raise, or a ``begin()`` block left
        cleanly. An object was committed when it was added (``add``, ``add_all``, ``merge``)
        before such a commit, and no rollback undid it in between.

        :param objects: ORM instances.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: one of ``objects`` is not an ORM instance.
        """
        _check_instances("assertCommitted", objects, classes=False)
        work = UnitOfWork(self.session_history)
        if not objects:
            if not work.commits:
                self._asyncsessiontest_fail(
                    msg, "Expected a commit; " + self._asyncsessiontest_why_not(COMMITS)
                )
            return
        problems = []
        for instance in objects:
            if id(instance) in work.committed:
                continue
            problems.append(
                f"Expected {safe_repr(instance)} to be committed; "
                + _why_uncommitted(work, instance, self.session_history)
            )
        if problems:
            self._asyncsessiontest_fail(msg, "\n".join(problems))

    def assertNotCommitted(self, msg: Any = None) -> None:
        """Fail if a commit happened (an awaited ``commit()``, or a ``begin()`` block left cleanly).

        :param msg: a message for the failure, as for any unittest assertion.
        """
        work = UnitOfWork(self.session_history)
        if work.commits:
            self._asyncsessiontest_fail(
                msg, f"Expected no commit; {_operations(work.commits, self.session_history)}."
            )

    def assertRolledBack(self, msg: Any = None) -> None:
        """Fail unless the session's transaction was rolled back.

        That is an awaited ``rollback()``, or a ``begin()`` block left by an exception. A
        savepoint's rollback (a ``begin_nested()`` block left by an exception) is not the
        transaction's: it is recorded as ``savepoint: rollback`` in :attr:`session_history`.

        :param msg: a message for the failure, as for any unittest assertion.
        """
        work = UnitOfWork(self.session_history)
        if not work.rollbacks:
            reason = self._asyncsessiontest_why_not(ROLLBACKS)
            if work.savepoint_rollbacks:
                reason += " (only a savepoint was rolled back)"
            self._asyncsessiontest_fail(msg, "Expected a rollback; " + reason)

    def assertNotRolledBack(self, msg: Any = None) -> None:
        """Fail if the session's transaction was rolled back (see :meth:`assertRolledBack`).

        :param msg: a message for the failure, as for any unittest assertion.
        """
        work = UnitOfWork(self.session_history)
        if work.rollbacks:
            self._asyncsessiontest_fail(
                msg, f"Expected no rollback; {_operations(work.rollbacks, self.session_history)}."
            )

    def assertAdded(self, *objects_or_classes: Any, msg: Any = None) -> None:
        """Fail unless each instance was added (by identity), or, for a mapped class, unless
        some instance of it was added (``add``, ``add_all`` or ``merge``).

        :param objects_or_classes: ORM instances or mapped classes.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: an argument is neither.
        """
        self._asyncsessiontest_check_named(
            "assertAdded",
            ADDS,
            objects_or_classes,
            msg,
            expected=True,
            classes=True,
        )

    def assertNotAdded(self, *objects_or_classes: Any, msg: Any = None) -> None:
        """Fail if any of the instances (or any instance of a mapped class given) was added.

        :param objects_or_classes: ORM instances or mapped classes.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: an argument is neither.
        """
        self._asyncsessiontest_check_named(
            "assertNotAdded",
            ADDS,
            objects_or_classes,
            msg,
            expected=False,
            classes=True,
        )

    def assertDeleted(self, *objects: Any, msg: Any = None) -> None:
        """Fail unless ``await session.delete(obj)`` happened for each object.

        :param objects: ORM instances.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: an argument is not an ORM instance.
        """
        self._asyncsessiontest_check_named(
            "assertDeleted", DELETES, objects, msg, expected=True, classes=False
        )

    def assertRefreshed(self, *objects: Any, msg: Any = None) -> None:
        """Fail unless ``await session.refresh(obj)`` happened for each object.

        :param objects: ORM instances.
        :param msg: a message for the failure, as for any unittest assertion.
        :raises TypeError: an argument is not an ORM instance.
        """
        self._asyncsessiontest_check_named(
            "assertRefreshed", {"refresh"}, objects, msg, expected=True, classes=False
        )

    def assertFlushed(self, msg: Any = None) -> None:
        """Fail unless ``flush()`` was awaited (the flush inside a commit does not count).

        :param msg: a message for the failure, as for any unittest assertion.
        """
        if not any(op.method == "flush" and op.happened for op in self.session_history):
            self._asyncsessiontest_fail(
                msg, "Expected a flush; " + self._asyncsessiontest_why_not({"flush"})
            )

    def assertClosed(self, msg: Any = None) -> None:
        """Fail unless the session was closed: ``close()`` or ``aclose()`` awaited, or an
        ``async with session`` block left.

        :param msg: a message for the failure, as for any unittest assertion.
        """
        if not any(op.method in CLOSES and op.happened for op in self.session_history):
            self._asyncsessiontest_fail(
                msg, "Expected the session to be closed; " + self._asyncsessiontest_why_not(CLOSES)
            )

    def _asyncsessiontest_why_not(self, methods: AbstractSet[str]) -> str:
        calls = [op for op in self.session_history if op.method in methods]
        unawaited = [op for op in calls if op.is_coroutine and not op.awaited]
        if unawaited:
            name = unawaited[0].method
            count = sum(1 for op in unawaited if op.method == name)
            return f"{name}() was called {times(count)} but never awaited: missing await?"
        failed = [op for op in calls if op.error is not None]
        if failed and failed[-1].error is not None:
            return f"{failed[-1].describe_call()} raised {describe_error(failed[-1].error)}"
        return "none happened."

    def _asyncsessiontest_check_named(
        self, caller: str, methods: Any, wanted: Any, msg: Any, expected: bool, classes: bool
    ) -> None:
        _check_instances(caller, wanted, classes=classes)
        if not wanted:
            raise TypeError(f"{caller}(): give at least one object")
        done = [
            instance
            for op in self.session_history
            if op.method in methods and op.happened
            for instance in added_objects(op)
        ]
        unawaited = [
            (op.method, instance)
            for op in self.session_history
            if op.method in methods and op.is_coroutine and not op.awaited
            for instance in added_objects(op)
        ]
        verb = _VERBS[caller]
        problems = []
        for target in wanted:
            if isinstance(target, type):
                found = any(isinstance(instance, target) for instance in done)
                name = f"an instance of {target.__name__}"
                missed = [m for m, instance in unawaited if isinstance(instance, target)]
            else:
                found = any(instance is target for instance in done)
                name = safe_repr(target)
                missed = [m for m, instance in unawaited if instance is target]
            if found != expected:
                if expected and missed:
                    problems.append(
                        f"Expected {name} to be {verb}; {missed[0]}() was called with it but "
                        f"never awaited: missing await?"
                    )
                    continue
                problems.append(
                    f"Expected {name} to be {verb}; it was not {verb}."
                    if expected
                    else f"Expected {name} not to be {verb}; it was {verb}."
                )
        if problems:
            self._asyncsessiontest_fail(msg, "\n".join(problems))

    def _asyncsessiontest_fail(self, msg: Any, standard: str) -> None:
        standard += "\nSession history:\n" + repr(self.session_history)
        self.fail(self._formatMessage(msg, standard))


_VERBS = {
    "assertAdded": "added",
    "assertNotAdded": "added",
    "assertDeleted": "deleted",
    "assertRefreshed": "refreshed",
}


def _check_instances(caller: str, objects: Any, classes: bool) -> None:
    for target in objects:
        if is_orm_instance(target) or (classes and is_mapped_class(target)):
            continue
        wanted = "ORM instances or mapped classes" if classes else "ORM instances"
        raise TypeError(
            f"{caller}(): {safe_repr(target)} is not an ORM instance; give {wanted}"
        )


def _operations(indexes: List[int], history: History) -> str:
    described = ", ".join(_numbered(history, i) for i in indexes)
    return f"{len(indexes)} happened: {described}"


def _numbered(history: History, index: int) -> str:
    operation = history[index]
    text = f"{operation.describe_call()} (operation {index + 1})"
    if operation.error is not None:
        text += f", which raised {describe_error(operation.error)}"
    return text


def _why_uncommitted(work: UnitOfWork, instance: Any, history: History) -> str:
    key = id(instance)
    if key in work.pending:
        _, added_at = work.pending[key]
        if not work.commits:
            return f"{_numbered(history, added_at)} was never followed by a commit."
        return f"{_numbered(history, added_at)} happened after the last commit."
    if key in work.undone:
        _, added_at, undone_at = work.undone[key]
        return f"{_numbered(history, added_at)} was undone by {_numbered(history, undone_at)}."
    return "it was never added."
