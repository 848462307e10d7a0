"""Build the spec'd session mock and give each of its methods the behaviour of a real session.

The session is an ``AsyncMock`` spec'd on the session class. Its children are made to the shape
of that class (:mod:`asyncsessiontest.shape`): coroutine methods are ``AsyncMock`` subclasses,
plain methods ``MagicMock`` subclasses, each checking calls against the real signature. Unless the
user configured a child (``side_effect``, ``return_value``), it answers as a session over an empty
database would; what the user configured always wins, exactly as on a plain mock.
"""

from __future__ import annotations

import contextlib
import inspect
import unittest.mock
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple
from unittest.mock import DEFAULT, AsyncMock, MagicMock, NonCallableMagicMock, NonCallableMock

from sqlalchemy.engine import Result, ScalarResult
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncResult,
    AsyncScalarResult,
    AsyncSession,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import IdentitySet, immutabledict

from asyncsessiontest.emptydb import answer as database_answer
from asyncsessiontest.factory import SessionFactoryStandIn
from asyncsessiontest.fastmock import FastAsyncInit, FastSpec, Prototype, SharedClass, call_record
from asyncsessiontest.kinds import is_exception
from asyncsessiontest.overlay import is_default_return, overlaid
from asyncsessiontest.recording import History, Operation
from asyncsessiontest.results import CannedResult, to_async_result
from asyncsessiontest.routing import ObjectStore, Responder
from asyncsessiontest.shape import ASYNC, SYNC, Member, shape_of
from asyncsessiontest.transaction import TransactionStandIn, pending_rollback
from asyncsessiontest.unitofwork import ADDS, CLOSES, COMMITS, ROLLBACKS, added_objects

if TYPE_CHECKING:
    from asyncsessiontest.keys import KeyAssigner

__all__ = ["SessionState", "create_session"]

# awaited on the session, these end its transaction (as begin()'s block would)
_ENDS_TRANSACTIONS = COMMITS | ROLLBACKS | CLOSES | {"reset"}
# after a failed flush, a real session refuses these until rollback() (PendingRollbackError)
_NEEDS_TRANSACTION = frozenset(
    {"commit", "flush", "execute", "scalars", "scalar", "stream", "stream_scalars", "get",
     "get_one", "refresh", "merge", "connection"}
)  # fmt: skip


# what always makes a real session begin its transaction. get(), merge(), delete() and
# refresh() do or not depending on its identity map, which the mock does not keep: they do not,
# so that begin() never fails in a test where it would work in production
_AUTOBEGINS = frozenset(
    {"add", "add_all", "execute", "scalars", "scalar", "stream", "stream_scalars", "connection"}
)


class SessionState:
    """Everything one test's session knows: its shape, its open transactions, its answers.

    :param session_class: the class the session imitates.
    :param strict: fail executions that no configured answer matches.
    :param dialect: the dialect that renders SQL in messages (None: SQLAlchemy's default).
    :param failure_exception: what a failure raises (the TestCase's ``failureException``).
    :param assign_primary_keys: give added instances primary keys on flush and commit.
    :raises TypeError: ``session_class`` is not ``AsyncSession`` or a subclass of it.
    """

    def __init__(
        self,
        session_class: type,
        strict: bool = False,
        dialect: Any = None,
        failure_exception: type = AssertionError,
        assign_primary_keys: bool = False,
    ) -> None:
        if not (isinstance(session_class, type) and issubclass(session_class, AsyncSession)):
            raise TypeError(
                f"session_class must be AsyncSession or a subclass of it, got {session_class!r}"
            )
        self.session_class = session_class
        self.shape = shape_of(session_class)
        self.strict = strict
        self.dialect = dialect
        self.failure_exception = failure_exception
        # strong until the test ends (see release()), weak for good
        self._session: Any = None
        self._session_reference: Optional[Callable[[], Any]] = None
        self.transactions: List[TransactionStandIn] = []
        self.responder = Responder()
        self.objects = ObjectStore()
        self.unmatched: List[str] = []
        """Strict mode: the explanation of each execution nothing answered."""
        self.history = History()
        self.failed_flush: Optional[BaseException] = None
        """The error of a failed commit() or flush() not yet followed by rollback()."""
        self.factory: Optional[SessionFactoryStandIn] = None
        """The test's session factory stand-in, made on first use."""
        self.keys: Optional[KeyAssigner] = None
        if assign_primary_keys:
            # imported on first use, as few suites need it: each module costs ~0.1 ms of import
            from asyncsessiontest.keys import KeyAssigner

            self.keys = KeyAssigner()

    @property
    def session(self) -> Any:
        """The session mock (None before it is made, or once it is gone)."""
        reference = self._session_reference
        return None if reference is None else reference()

    @session.setter
    def session(self, session: Any) -> None:
        self._session = session
        self._session_reference = weakref.ref(session)

    def release(self) -> None:
        """Break the reference cycles between the session, its mocks and this state.

        Called when the test ends. A mock and its children refer to each other, as do the
        session and this state: left alone, a finished test's session, and everything its
        records hold (statements, instances, results), would wait for the garbage collector,
        whose every pass then costs the later tests more. Released, they are freed as soon as
        nothing else holds the session. Code that still holds it (a task cancelled when the
        test's loop closes, running its ``finally``) can go on using it; its mocks' calls just
        no longer reach ``session.mock_calls``.
        """
        session, self._session = self._session, None
        if session is not None:
            _detach_children(session)
        self.transactions.clear()
        self.factory = None
        self.failed_flush = None

    # -- transactions -----------------------------------------------------------------------

    def transaction_started(self, transaction: TransactionStandIn) -> None:
        """Note that ``transaction`` began.

        :param transaction: the transaction or savepoint.
        """
        transaction.is_active = True
        self.transactions.append(transaction)

    def transaction_ended(self, transaction: TransactionStandIn) -> None:
        """Note that ``transaction`` (and any savepoint inside it) ended.

        :param transaction: the transaction or savepoint.
        """
        transaction.is_active = False
        if transaction in self.transactions:
            for inner in self.transactions[self.transactions.index(transaction) :]:
                inner.is_active = False
            del self.transactions[self.transactions.index(transaction) :]

    def flushed(self) -> None:
        """Note that the session flushed (flush(), commit(), a begin() block's commit)."""
        if self.keys is not None:
            self.keys.assign(
                instance
                for operation in self.history
                if operation.method in ADDS and operation.happened
                for instance in added_objects(operation)
            )

    def autobegin(self) -> None:
        """Begin the session's transaction implicitly, if none is open, as a real session does
        when it is first used (``add()``, ``execute()``...): from then on ``in_transaction()``
        is True and ``begin()`` fails, until a commit, rollback or close."""
        if not self.transactions:
            self.transaction_started(TransactionStandIn(self, nested=False, implicit=True))

    def handed_out_anew(self) -> None:
        """Note that a session factory handed the session out as a new session, which has no
        transaction yet: end the one the session began implicitly, if it is open."""
        if self.transactions and self.transactions[0].implicit:
            self.transaction_ended(self.transactions[0])

    def end_transactions(self) -> None:
        """Note that the session's transaction, and every savepoint in it, ended."""
        self.failed_flush = None
        if self.transactions:
            self.transaction_ended(self.transactions[0])

    async def commit_side_effect(self) -> None:
        """Run the ``side_effect`` the user set on ``session.commit``, without calling it."""
        commit = self.session._mock_children.get("commit")
        effect = getattr(commit, "side_effect", None)
        if effect is None:
            return
        if is_exception(effect):
            raise effect
        if not callable(effect):
            value = next(effect)
            if is_exception(value):
                raise value
            return
        outcome = effect()
        if inspect.isawaitable(outcome):
            await outcome

    def current_transaction(self, nested: bool) -> Optional[TransactionStandIn]:
        """Return the innermost open transaction (a savepoint if ``nested``), or None.

        :param nested: look for a savepoint rather than the transaction.
        """
        for transaction in reversed(self.transactions):
            if transaction.nested == nested:
                return transaction
        return None

    # -- answers ----------------------------------------------------------------------------

    def result_for(self, statement: Any, params: Any = None) -> CannedResult:
        """Return a fresh result for one execution of ``statement`` (or raise its exception).

        A routed or queued answer if one applies; otherwise what an empty database gives, or,
        in strict mode, a failure naming the statement and why each route did not match.

        :param statement: the executed statement.
        :param params: the parameters passed beside it, if any.
        """
        answer = self.responder.respond(statement)
        if answer is None and self.strict:
            message = self.responder.explain_unmatched(statement, self.dialect)
            self.unmatched.append(message)
            raise self.failure_exception(message)
        # fidelity hook (asyncsessiontest/emptydb.py): the empty database's answer when none
        # was configured, and for DML what a CursorResult knows (inserted_primary_key...)
        return database_answer(statement, params, answer, self.keys)

    def get_object(self, entity: Any, ident: Any) -> Any:
        """Return the object ``get(entity, ident)`` finds among those added, or None.

        :param entity: a mapped class.
        :param ident: a primary key.
        """
        return self.objects.find(entity, ident)


# -- default behaviour of each method, used while the user has not configured the child --------
# Each takes (state, args, kwargs) with the call already checked against the real signature.

_Behaviour = Callable[[SessionState, Tuple[Any, ...], Dict[str, Any]], Any]


def _execution(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Tuple[Any, Any]:
    """Return the statement and the parameters of a call to execute(), scalars()..."""
    statement = args[0] if args else kwargs["statement"]
    return statement, args[1] if len(args) > 1 else kwargs.get("params")


def _get_one(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    found = _get(state, args, kwargs)
    if found is None:
        raise NoResultFound("No row was found when one was required")
    return found


def _get(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    entity = args[0] if args else kwargs["entity"]
    ident = args[1] if len(args) > 1 else kwargs["ident"]
    return state.get_object(entity, ident)


def _returns_none(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    return None


_BEHAVIOURS: Dict[str, _Behaviour] = {
    "execute": lambda state, a, k: state.result_for(*_execution(a, k)),
    "scalars": lambda state, a, k: state.result_for(*_execution(a, k)).scalars(),
    "scalar": lambda state, a, k: state.result_for(*_execution(a, k)).scalar(),
    "stream": lambda state, a, k: to_async_result(state.result_for(*_execution(a, k))),
    "stream_scalars": lambda state, a, k: to_async_result(
        state.result_for(*_execution(a, k))
    ).scalars(),
    "get": _get,
    "get_one": _get_one,
    "merge": lambda state, a, k: a[0] if a else k["instance"],
    "__aenter__": lambda state, a, k: state.session,
    "begin": lambda state, a, k: TransactionStandIn(state, nested=False),
    "begin_nested": lambda state, a, k: TransactionStandIn(state, nested=True),
    "in_transaction": lambda state, a, k: bool(state.transactions),
    "in_nested_transaction": lambda state, a, k: state.current_transaction(True) is not None,
    "get_transaction": lambda state, a, k: state.current_transaction(False),
    "get_nested_transaction": lambda state, a, k: state.current_transaction(True),
    "is_modified": lambda state, a, k: False,
}
for _name in (
    "add", "add_all", "expire", "expire_all", "expunge", "expunge_all",
    "__aexit__", "aclose", "close", "commit", "delete", "delete_all", "flush", "invalidate",
    "refresh", "reset", "rollback",
):  # fmt: skip
    _BEHAVIOURS[_name] = _returns_none
_BEHAVIOURS["merge_all"] = lambda state, a, k: list(a[0] if a else k["instances"])

# What ``session.<method>.return_value`` is before the user replaces it: a mock shaped like the
# real return type, whose configured parts override the real result of each execution.
_RETURN_SPECS: Dict[str, Tuple[type, type]] = {
    "execute": (MagicMock, Result),
    "scalars": (MagicMock, ScalarResult),
    "stream": (AsyncMock, AsyncResult),
    "stream_scalars": (AsyncMock, AsyncScalarResult),
    "connection": (AsyncMock, AsyncConnection),
}


class _MemberMock(SharedClass, FastSpec):
    """Behaviour shared by the mocks of the session's methods (mixed into a mock class)."""

    __dict__: Dict[str, Any]

    def _mock_set_magics(self) -> None:
        # a method's mock needs no magic methods; setting ~100 of them per mock is its main cost
        pass

    def _ast_setup(self, state: SessionState, member: Member) -> None:
        self.__dict__["_ast_state"] = state
        self.__dict__["_ast_member"] = member
        self.__dict__["_ast_behaviour"] = _BEHAVIOURS.get(member.name)

    def _mock_check_sig(self, *args: Any, **kwargs: Any) -> None:
        # called by Mock.__call__ before it records anything: a bad call is not a call
        check = self.__dict__["_ast_member"].check
        if check is not None:
            check(*args, **kwargs)

    def _increment_mock_call(self, *args: Any, **kwargs: Any) -> None:
        # Mock's own bookkeeping reaches every record through properties and __setattr__, a
        # third of a call's cost: for a method of a session that is no other mock's child (the
        # usual case), write the very same records straight into the two __dict__s (the
        # function is the same on Python 3.8 to 3.13)
        state = self.__dict__
        session = state["_mock_new_parent"]
        parent = getattr(session, "__dict__", None)
        if (
            parent is None
            or state["_mock_parent"] is not session
            or state["_mock_delegate"] is not None
            or parent.get("_mock_new_parent") is not None
            or parent.get("_mock_parent") is not None
        ):
            super()._increment_mock_call(*args, **kwargs)  # type: ignore[misc]
            return
        state["_mock_called"] = True
        state["_mock_call_count"] += 1
        call = call_record(args, kwargs)
        state["_mock_call_args"] = call
        state["_mock_call_args_list"].append(call)
        state["_mock_mock_calls"].append(call_record("", args, kwargs))
        name, new_name = state["_mock_name"], state["_mock_new_name"]
        method_call = call_record(name, args, kwargs)
        parent["method_calls"].append(method_call)
        # records are immutable: one serves both lists when they hold the same
        parent["_mock_mock_calls"].append(
            method_call if new_name == name else call_record(new_name, args, kwargs)
        )

    def _ast_untouched(self) -> bool:
        """Tell whether the user left this method's behaviour alone."""
        state = self.__dict__
        return_value = state["_mock_return_value"]
        return (
            state["_ast_behaviour"] is not None
            and state["_mock_side_effect"] is None
            and state["_mock_wraps"] is None
            and (return_value is DEFAULT or is_default_return(self, return_value))
        )

    def _ast_default(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """Return the real answer, seen through the default return value if the user touched it."""
        real = self.__dict__["_ast_behaviour"](self.__dict__["_ast_state"], args, kwargs)
        config = self.__dict__["_mock_return_value"]
        return real if config is DEFAULT else overlaid(real, config)

    def _ast_answer(self, configured: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """Return what the session answers, given what the plain mock machinery produced."""
        if not is_default_return(self, configured) or self.__dict__["_ast_behaviour"] is None:
            return configured
        return self._ast_default(args, kwargs)

    def _get_child_mock(self, **kwargs: Any) -> Any:
        if kwargs.get("_new_name") == "()":
            mock_class, spec = _RETURN_SPECS.get(
                self.__dict__["_ast_member"].name, (MagicMock, None)
            )
            return mock_class(spec=spec, **kwargs)
        return MagicMock(**kwargs)


class _SyncMethodMock(_MemberMock, MagicMock):
    """The mock of a plain (non-coroutine) session method."""

    def _mock_call(self, *args: Any, **kwargs: Any) -> Any:
        # called by Mock.__call__ once the signature check passed and the call was counted
        state: SessionState = self.__dict__["_ast_state"]
        operation = state.history.record(self.__dict__["_ast_member"].name, args, kwargs, False)
        if operation.method in _AUTOBEGINS:
            state.autobegin()
        try:
            # the recorded arguments: an iterator given to add_all() is read once, there
            return super()._mock_call(*operation.args, **operation.kwargs)
        except BaseException as error:
            operation.error = error
            raise

    def _execute_mock_call(self, *args: Any, **kwargs: Any) -> Any:
        if self._ast_untouched():
            return self._ast_default(args, kwargs)
        return self._ast_answer(super()._execute_mock_call(*args, **kwargs), args, kwargs)


class _AsyncMethodMock(_MemberMock, FastAsyncInit, AsyncMock):
    """The mock of a coroutine session method."""

    def _mock_call(self, *args: Any, **kwargs: Any) -> Any:
        # called by Mock.__call__ at call time; the coroutine it returns runs at await time
        state: SessionState = self.__dict__["_ast_state"]
        operation = state.history.record(
            self.__dict__["_ast_member"].name, args, kwargs, True, state.dialect
        )
        return self._ast_run(operation)

    async def _ast_run(self, operation: Operation) -> Any:
        operation.awaited = True
        state: SessionState = self.__dict__["_ast_state"]
        try:
            if state.failed_flush is not None and operation.method in _NEEDS_TRANSACTION:
                raise pending_rollback(state.failed_flush)
            if operation.method in _AUTOBEGINS:
                state.autobegin()
            if self._ast_untouched():
                # in debug mode each coroutine made costs ~3 us: no second one for the default
                answer = self._ast_default_awaited(operation.args, operation.kwargs)
            else:
                answer = await self._execute_mock_call(*operation.args, **operation.kwargs)
        except BaseException as error:
            operation.error = error
            if operation.method in ("commit", "flush") and state.failed_flush is None:
                # as a real session after a failed flush: nothing works until rollback()
                state.failed_flush = error
            raise
        if operation.method in ("flush", "commit"):
            state.flushed()
        if operation.method in _ENDS_TRANSACTIONS:
            state.end_transactions()
        return answer

    def _ast_default_awaited(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """Record the await as AsyncMock does when it runs a call itself, and answer as the
        session does."""
        # the records live in __dict__, as Mock keeps them (a method's mock has no delegate)
        call = call_record(args, kwargs)
        state = self.__dict__
        state["_mock_await_count"] += 1
        state["_mock_await_args"] = call
        state["_mock_await_args_list"].append(call)
        return self._ast_default(args, kwargs)

    async def _execute_mock_call(self, *args: Any, **kwargs: Any) -> Any:
        # only for a method the test configured: _ast_run answers the others itself
        configured = await super()._execute_mock_call(*args, **kwargs)
        return self._ast_answer(configured, args, kwargs)


def _sync_session(session: Any, state: SessionState) -> Any:
    return NonCallableMagicMock(spec=getattr(state.session_class, "sync_session_class", Session))


# Instance attributes a class-level spec cannot know (or would make truthy MagicMocks of),
# built on first access with plausible values of a fresh session.
_ATTRIBUTES: Dict[str, Callable[[Any, SessionState], Any]] = {
    "info": lambda session, state: {},
    "new": lambda session, state: IdentitySet(),
    "dirty": lambda session, state: IdentitySet(),
    "deleted": lambda session, state: IdentitySet(),
    "is_active": lambda session, state: True,
    "autoflush": lambda session, state: True,
    "no_autoflush": lambda session, state: contextlib.nullcontext(),
    "identity_map": lambda session, state: Session().identity_map,
    "sync_session": _sync_session,
    "bind": lambda session, state: NonCallableMagicMock(spec=AsyncEngine),
    # SQLAlchemy 2.1's properties
    "binds": lambda session, state: immutabledict(),
    "execution_options": lambda session, state: immutabledict(),
}
# present on instances only, so absent from the class's shape
_INSTANCE_ONLY = frozenset({"sync_session", "bind"})


class _SessionMagic:
    """A magic method of every session of one class, made per session on first use.

    What ``unittest.mock.MagicProxy`` does for one mock, done for a class: the session mocks of
    one session class share it, so they need no class of their own.

    :param name: the magic method's name, e.g. ``"__aenter__"``.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, session: Any, owner: Any = None) -> Any:
        if session is None:
            return self
        children = session.__dict__["_mock_children"]
        child = children.get(self.name)
        if child is None:
            child = session._get_child_mock(
                name=self.name, _new_name=self.name, _new_parent=session
            )
            children[self.name] = child
            if _set_return_value is not None:  # defaults such as __hash__'s and __str__'s
                _set_return_value(session, child, self.name)
        return child


# unittest.mock's defaults for magic methods (hash, str, comparisons), present on 3.8 to 3.13
_set_return_value = getattr(unittest.mock, "_set_return_value", None)


class _SessionMock(SharedClass, FastSpec, FastAsyncInit, AsyncMock):
    """The session: an ``AsyncMock`` spec'd on the session class."""

    def _mock_set_magics(self) -> None:
        # MagicMixin calls this before reading the spec (installing every magic method) and
        # after (removing those the spec lacks): only the second call has anything to do, and
        # only on a session with a class of its own (the shared class has _SessionMagic's)
        if "_mock_methods" in self.__dict__ and type(self).__dict__.get("_ast_is_own_class"):
            super()._mock_set_magics()

    def reset_mock(self, *args: Any, **kwargs: Any) -> None:
        """Reset the mock as :meth:`unittest.mock.Mock.reset_mock` does, and forget what the
        assertions read: the session's history and executed statements."""
        super().reset_mock(*args, **kwargs)
        state = self.__dict__.get("_ast_state")
        if state is not None:
            del state.history[:]
            state.unmatched.clear()

    def _mock_check_sig(self, *args: Any, **kwargs: Any) -> None:
        # a session instance is not callable; only its methods are
        name = self.__dict__["_ast_state"].session_class.__name__
        raise TypeError(f"'{name}' object is not callable")

    def mock_add_spec(self, spec: Any, spec_set: bool = False) -> None:
        """Add a spec to the session, as :meth:`unittest.mock.Mock.mock_add_spec` does."""
        # from now on Mock's own lookup judges which methods the session still has
        self.__dict__["_ast_respecced"] = True
        super().mock_add_spec(spec, spec_set)

    def __getattr__(self, name: str) -> Any:
        own = self.__dict__
        state = own.get("_ast_state")
        if state is None:  # still inside AsyncMock.__init__
            return super().__getattr__(name)
        # Mock's lookup of a child checks the name against the spec and takes a lock: for a
        # method of a session whose spec is its class's, find or make it directly
        plain = "_ast_respecced" not in own
        child = own["_mock_children"].get(name)
        if plain and isinstance(child, _MemberMock):
            return child
        factory = _ATTRIBUTES.get(name)
        if factory is not None and name not in state.shape.members and name not in _INSTANCE_ONLY:
            factory = None  # a property of another SQLAlchemy version: the spec refuses it
        if factory is None:
            member = state.shape.members.get(name)
            if member is None:
                return super().__getattr__(name)
            if member.has_value:
                return member.value
            if plain and child is None and member.kind in _METHODS and own["_mock_wraps"] is None:
                child = own["_mock_children"][name] = _method_mock(state, member, self, self)
                return child
            return super().__getattr__(name)
        value = factory(self, state)
        self.__dict__[name] = value
        return value

    def _get_child_mock(self, **kwargs: Any) -> Any:
        state: SessionState = self.__dict__["_ast_state"]
        member = state.shape.members.get(kwargs.get("_new_name", ""))
        if member is None or member.kind not in _METHODS:
            return MagicMock(**kwargs)
        if set(kwargs) - _PLAIN_CHILD_ARGUMENTS or kwargs.get("wraps") is not None:
            # anything unusual is built the normal way
            child_class = _AsyncMethodMock if member.kind == ASYNC else _SyncMethodMock
            child: Any = child_class(**kwargs)
            child._ast_setup(state, member)
            return child
        parent = kwargs.get("parent")
        return _method_mock(state, member, parent, kwargs.get("_new_parent") or parent)


_METHODS = frozenset({ASYNC, SYNC})
# what Mock passes to _get_child_mock for a child
_PLAIN_CHILD_ARGUMENTS = frozenset({"name", "_new_name", "parent", "_new_parent", "wraps"})
# id(member) -> the prototype of its mocks (members, read once per class, live for good)
_METHOD_PROTOTYPES: Dict[int, Prototype] = {}


def _method_mock(state: SessionState, member: Member, parent: Any, new_parent: Any) -> Any:
    """Return a new mock of a session method, stamped from a prototype (~4x cheaper than built).

    :param state: the state of the session it belongs to.
    :param member: the method.
    :param parent: its parent for ``method_calls`` (None for a magic method).
    :param new_parent: its parent for ``mock_calls``.
    """
    prototype = _METHOD_PROTOTYPES.get(id(member))
    if prototype is None:
        child_class = _AsyncMethodMock if member.kind == ASYNC else _SyncMethodMock
        built = child_class(name=member.name, _new_name=member.name)
        built._ast_setup(state, member)
        prototype = _METHOD_PROTOTYPES[id(member)] = Prototype(built)
        prototype.state["_ast_state"] = None  # each copy gets its own; keep no test alive
    return prototype.stamp(_mock_parent=parent, _mock_new_parent=new_parent, _ast_state=state)


_SESSION_PROTOTYPES: Dict[type, Prototype] = {}


def _session_prototype(session_class: type) -> Prototype:
    """Return the prototype of the sessions of ``session_class``, stamping a class they share."""
    built = _SessionMock(spec=session_class, name="session")
    built._ast_own_class()  # give the prototype a class of its own, as Mock would
    built._mock_set_magics()
    # the magic methods Mock gave the prototype (those of the spec) become shared descriptors
    magics = {
        name: _SessionMagic(name)
        for name, value in vars(type(built)).items()
        if type(value).__name__ == "MagicProxy"
    }
    shared_class = type(_SessionMock.__name__, (_SessionMock,), magics)
    return Prototype(built, shared_class)


def _detach_children(mock: Any) -> None:
    """Cut the links from ``mock``'s child mocks (and return values) back up to their parents,
    all the way down, keeping the children: the cycles go, every mock still works."""
    own = mock.__dict__
    children = [child for child in own.get("_mock_children", {}).values()]
    children.append(own.get("_mock_return_value"))
    for child in children:
        state = getattr(child, "__dict__", None)
        if not isinstance(child, NonCallableMock) or state is None:
            continue
        if state.get("_mock_new_parent") is mock or state.get("_mock_parent") is mock:
            state["_mock_parent"] = state["_mock_new_parent"] = None
            _detach_children(child)


def create_session(state: SessionState) -> Any:
    """Return a new session mock for ``state.session_class``, answering from ``state``.

    :param state: the state behind the session.
    """
    session_class = state.session_class
    prototype = _SESSION_PROTOTYPES.get(session_class)
    if prototype is None:
        prototype = _SESSION_PROTOTYPES[session_class] = _session_prototype(session_class)
    session = prototype.stamp(_ast_state=state)
    state.session = session
    return session
