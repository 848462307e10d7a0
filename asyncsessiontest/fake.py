"""The fake session: what a session over an empty database does, without any mock.

:class:`SessionState` is one test's session as the mock shows it: its answers (routes, the
queue, the empty database), its transactions (begin, savepoints, autobegin, a failed flush and
``PendingRollbackError``), its history and its ORM state (a real sync ``Session``,
:mod:`asyncsessiontest.ormstate`). :data:`BEHAVIOURS` says what each session method does by
default. The mock layer (:mod:`asyncsessiontest.session`) builds the spec'd ``AsyncMock`` and
sends each call here.
"""

from __future__ import annotations

import inspect
import weakref
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, object_mapper
from sqlalchemy.orm.util import identity_key
from sqlalchemy.util import greenlet_spawn, immutabledict

from asyncsessiontest.connection import connection_stand_in
from asyncsessiontest.emptydb import answer as database_answer
from asyncsessiontest.engine import async_engine_for
from asyncsessiontest.factory import SessionFactoryStandIn
from asyncsessiontest.keys import KeyAssigner
from asyncsessiontest.kinds import is_exception
from asyncsessiontest.matching import is_orm_statement
from asyncsessiontest.ormstate import (
    OrmState,
    check_parameters,
    check_statement,
    expired_reason,
    orm_instances,
    require_unique,
)
from asyncsessiontest.recording import STATEMENT_METHODS, History, Operation
from asyncsessiontest.results import CannedResult, to_async_result
from asyncsessiontest.routing import ObjectStore, Responder
from asyncsessiontest.shape import Member, shape_of
from asyncsessiontest.transaction import TransactionStandIn, pending_rollback
from asyncsessiontest.unitofwork import CLOSES, COMMITS, ROLLBACKS

__all__ = ["BEHAVIOURS", "RUN_IN_GREENLET", "Behaviour", "SessionState", "behaviour_for"]

RUN_IN_GREENLET = frozenset({"delete", "delete_all", "run_sync"})
"""The methods whose behaviour runs sync session code in a greenlet: a coroutine to await."""

# hides this module's frames from failure tracebacks (strict mode fails from here), so they
# point at the user's line
__unittest = True

_CLOSES = CLOSES | {"reset"}
# awaited on the session, these end its transaction (as begin()'s block would)
_ENDS_TRANSACTIONS = COMMITS | ROLLBACKS | CLOSES | {"reset"}
# after a failed flush, a real session refuses these until rollback() (PendingRollbackError)
_NEEDS_TRANSACTION = frozenset(
    {"commit", "flush", "execute", "scalars", "scalar", "stream", "stream_scalars", "get",
     "get_one", "refresh", "merge", "connection"}
)  # fmt: skip


# what always makes a real session begin its transaction. get() and refresh() query, and so
# begin, unless get() finds the object loaded in the identity map (see get_object()); delete()
# of a persistent object begins (see _delete()); merge() does or not depending on what it
# loads: it does not, so that begin() never fails in a test where it would work in production
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
    :param expire_on_commit: expire the session's instances on commit, as a real session does.
    :param check_implicit_io: make implicit loads by the code under test raise, as in production.
    :raises TypeError: ``session_class`` is not ``AsyncSession`` or a subclass of it.
    """

    behaviours: Dict[str, Behaviour]
    """What each method does while the user has not configured it (:data:`BEHAVIOURS`)."""

    awaited_answers: FrozenSet[str] = RUN_IN_GREENLET
    """The methods whose behaviour returns a coroutine, which the awaited call awaits."""

    real: Optional[AsyncSession] = None
    """The real session behind the mock, in database mode (:mod:`asyncsessiontest.database`)."""

    def __init__(
        self,
        session_class: type,
        strict: bool = False,
        dialect: Any = None,
        failure_exception: type = AssertionError,
        assign_primary_keys: bool = False,
        expire_on_commit: bool = True,
        check_implicit_io: bool = True,
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
        self.contradicted: List[str] = []
        """Database mode: the explanation of each canned answer the database contradicted."""
        self.history = History()
        self.failed_flush: Optional[BaseException] = None
        """The error of a failed commit() or flush() not yet followed by rollback()."""
        self.factory: Optional[SessionFactoryStandIn] = None
        """The test's session factory stand-in, made on first use."""
        self.expire_on_commit = expire_on_commit
        self.check_implicit_io = check_implicit_io
        self._orm: Optional[OrmState] = None
        self.keys: Optional[KeyAssigner] = KeyAssigner() if assign_primary_keys else None
        self._connection_stand_in: Any = None

    def mock_connection(self) -> Any:
        """Return what ``await session.connection()`` gives: the same connection each time,
        whose executions answer as the session's (:mod:`asyncsessiontest.connection`)."""
        if self._connection_stand_in is None:
            self._connection_stand_in = connection_stand_in(self)
        return self._connection_stand_in

    def set_expire_on_commit(self, expire: bool) -> None:
        """Expire (or not) the session's instances on commit from now on.

        :param expire: as ``Session(expire_on_commit=...)``.
        """
        self.expire_on_commit = expire
        if self._orm is not None:
            self._orm.sync.expire_on_commit = expire

    @property
    def orm(self) -> OrmState:
        """The real sync session holding the instances, made on first use."""
        orm = self._orm
        if orm is None:
            orm = self._orm = OrmState(self)
        return orm

    @property
    def sync_session(self) -> Any:
        """The real sync ``Session`` that holds the session's instances."""
        return self.orm.sync

    def add_objects(self, instances: Any) -> None:
        """Make ``instances`` findable by ``get()`` (``addObject``).

        :param instances: ORM instances with their primary keys set.
        :raises TypeError: one of them is not an ORM instance.
        :raises ValueError: one of them has no primary key, or that of another one.
        """
        self.objects.add(instances)

    def add_answer(self, answer: Any) -> None:
        """Route or queue a configured answer (``addResult``, ``addException``).

        :param answer: a :class:`~asyncsessiontest.routing.CannedAnswer`.
        """
        self.responder.add(answer)

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
        """Let go of the session and of the test's objects, which leave the real session as
        transient objects holding their values.

        Called when the test ends (see :func:`asyncsessiontest.session.release_session`): from
        then on the state holds the session weakly, so that a finished test's session, and
        everything its records hold, is freed as soon as nothing else holds it. Code that still
        holds it can go on using it.
        """
        self._session = None
        self._connection_stand_in = None
        self.transactions.clear()
        self.factory = None
        self.failed_flush = None
        if self._orm is not None:
            self._orm.release()
            self._orm = None

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
        if self._orm is not None:
            self._orm.sync.flush()

    def committed(self, method: str) -> None:
        """Commit the real session's transaction: flush, then expire if ``expire_on_commit``.

        :param method: what committed, as messages name it (``"commit"``).
        """
        orm = self._orm
        if orm is not None:
            orm.sync.flush()  # the values to hold are those after the commit's flush
            orm.hold_loaded_values()
            if self.expire_on_commit:
                orm.expired(None, expired_reason(method, len(self.history)))
            orm.commit()

    def rolled_back(self, savepoint: Any = None) -> None:
        """Roll the real session back (to ``savepoint``, a real nested transaction, if given).

        :param savepoint: the sync session's nested transaction, or None for the transaction.
        """
        orm = self._orm
        if orm is not None:
            orm.hold_loaded_values()
            orm.expired(None, f"expired by the rollback at operation {len(self.history)}")
            (savepoint or orm.sync).rollback()

    def closed(self) -> None:
        """Close the real session: its objects leave it, holding the values they had."""
        orm = self._orm
        if orm is not None:
            orm.close()

    def autoflush(self, operation: Operation) -> None:
        """Flush before an ORM statement executes, as a real session's autoflush does.

        :param operation: the execution.
        """
        orm = self._orm
        if (
            orm is not None
            and orm.sync.autoflush
            and is_orm_statement(
                operation.args[0] if operation.args else operation.kwargs.get("statement")
            )
        ):
            orm.sync.flush()

    def sync_execution(self, statement: Any, params: Any) -> Any:
        """Answer an execution made through the real sync session (``run_sync()``, a subclass's
        own methods), recorded as ``execute()``.

        :param statement: the executed statement.
        :param params: its parameters.
        """
        operation = self.history.record(
            "execute", (statement, params) if params else (statement,), {}, True, self.dialect
        )
        operation.awaited = True
        try:
            return self.result_for(statement, params)
        except BaseException as error:
            operation.error = error
            raise

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
        effect = self.session.commit.side_effect
        if effect is None:
            return
        if is_exception(effect):
            raise effect
        if not callable(effect):
            try:
                value = next(effect)
            except StopIteration:
                # as AsyncMock says a side_effect iterable ran out (a StopIteration cannot
                # leave a coroutine: Python would make it a RuntimeError)
                raise StopAsyncIteration from None
            if is_exception(value):
                raise value
            return
        outcome = effect()
        if inspect.isawaitable(outcome):
            await outcome

    # -- what each call does to the session, around the mock's own answer ------------------------

    def before_call(self, operation: Operation) -> None:
        """Apply what a plain method's call does before it answers: autobegin.

        :param operation: the call, just recorded.
        """
        if operation.method in _AUTOBEGINS:
            self.autobegin()

    def before_await(self, operation: Operation) -> None:
        """Apply what an awaited method does before it answers, as a real session does.

        :param operation: the call, being awaited.
        :raises PendingRollbackError: a flush failed and no rollback followed.
        """
        method = operation.method
        executes = method in STATEMENT_METHODS
        if executes:  # a real session looks at what it is given before anything else
            args, kwargs = operation.args, operation.kwargs
            options = args[2] if len(args) > 2 else kwargs.get("execution_options")
            if options:
                immutabledict(options)  # as AsyncSession reads them (a TypeError if no mapping)
            check_keywords(self.session_class, method, kwargs)
            check_statement(_execution(args, kwargs)[0])
            bind_arguments = args[3] if len(args) > 3 else kwargs.get("bind_arguments")
            if bind_arguments:
                dict(bind_arguments)  # as Session.execute() reads them
        if self.failed_flush is not None and method in _NEEDS_TRANSACTION:
            raise pending_rollback(self.failed_flush)
        if method in _AUTOBEGINS:
            self.autobegin()
        if executes:
            self.autoflush(operation)
            check_parameters(*_execution(operation.args, operation.kwargs))

    def after_await(self, operation: Operation) -> None:
        """Apply what an awaited method did once it returned: flush, commit, rollback, close.

        :param operation: the call, awaited without raising.
        """
        method = operation.method
        if method == "flush":
            self.flushed()
        elif method == "commit":
            self.committed("commit()")  # the real session's commit flushes first
        elif method in ROLLBACKS:
            self.rolled_back()
        elif method in _CLOSES:
            self.closed()
        if method in _ENDS_TRANSACTIONS:
            self.end_transactions()

    def await_failed(self, operation: Operation, error: BaseException) -> None:
        """Note that an awaited method raised ``error``.

        :param operation: the call.
        :param error: what it raised.
        """
        operation.error = error
        if operation.method in ("commit", "flush") and self.failed_flush is None:
            # as a real session after a failed flush: nothing works until rollback()
            self.failed_flush = error

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
        if answer is not None and not getattr(statement, "is_dml", False):
            instances = orm_instances(answer._canned_rows)
            if instances:
                # canned objects come back as the statement would have loaded them, as the
                # objects the session holds for their identities
                self.orm.adopt(instances, statement)
                held = self.orm.already_held(instances)
                if held:
                    rows = [tuple(held.get(id(v), v) for v in row) for row in answer._canned_rows]
                    answer = CannedResult(
                        answer._canned_keys, rows, answer._canned_rowcount, answer._canned_naming
                    )
                require_unique(answer, statement)
            return answer
        # the empty database's answer, and for DML what a CursorResult knows
        # (inserted_primary_key...) beside the rows
        return database_answer(statement, params, answer, self.keys)

    def get_object(self, entity: Any, ident: Any) -> Any:
        """Return the object ``get(entity, ident)`` finds: in the session's identity map, as a
        real session finds it without a query, else among those of ``addObject``; or None.

        :param entity: a mapped class.
        :param ident: a primary key.
        """
        found, key = self.objects.find(entity, ident)  # checks entity and ident as get() does
        orm = self._orm
        if orm is not None:
            in_session = orm.sync.identity_map.get(identity_key(entity, key))
            if in_session is not None:
                if sa_inspect(in_session).expired:
                    self.autobegin()  # a real get() reloads an expired object: a query
                    orm.refresh(in_session, None)
                return in_session
        self.autobegin()  # not in the identity map: a real get() queries, in a transaction
        if found is not None:
            self.orm.adopt([found], None)
        return found


# (session class, method) -> its named parameters, the extra keywords the sync session takes
# (None: any) and the sync method that refuses the others
_KEYWORDS: Dict[Tuple[type, str], Tuple[FrozenSet[str], Optional[FrozenSet[str]], str]] = {}


def check_keywords(session_class: type, method: str, kwargs: Dict[str, Any]) -> None:
    """Raise the TypeError a real session raises for a keyword its execution does not take.

    ``AsyncSession.execute(statement, ..., **kw)`` takes any keyword and hands the extra ones to
    the sync session's ``execute()``, which refuses those it does not name (on SQLAlchemy 1.4
    they reach ``Session.get_bind()``, which does): a misspelt ``execution_option=`` fails at
    the await, not at the call.

    :param session_class: the session class the mock imitates.
    :param method: the executing method (``"execute"``, ``"scalars"``...).
    :param kwargs: the keyword arguments of the call.
    """
    if not kwargs:
        return
    key = (session_class, method)
    known = _KEYWORDS.get(key)
    if known is None:
        known = _KEYWORDS[key] = _keywords_of(session_class, method)
    named, accepted, refuser = known
    if accepted is None:
        return
    for name in kwargs:
        if name not in named and name not in accepted:
            raise TypeError(f"{refuser}() got an unexpected keyword argument {name!r}")


def _keywords_of(
    session_class: type, method: str
) -> Tuple[FrozenSet[str], Optional[FrozenSet[str]], str]:
    named = frozenset(_parameters(getattr(session_class, method))) - {"self"}
    sync_class = getattr(session_class, "sync_session_class", Session)
    execute = sync_class.execute
    refuser = execute
    if _takes_any_keyword(execute):
        if execute is not getattr(Session, "execute", None):
            return named, None, ""  # a project's own execute(): it decides
        refuser = sync_class.get_bind  # SQLAlchemy 1.4 hands them on to get_bind()
    return named, frozenset(_parameters(refuser)) - {"self"}, refuser.__qualname__


def _parameters(function: Any) -> List[str]:
    return [
        parameter.name
        for parameter in inspect.signature(function).parameters.values()
        if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]


def _takes_any_keyword(function: Any) -> bool:
    return any(
        parameter.kind is parameter.VAR_KEYWORD
        for parameter in inspect.signature(function).parameters.values()
    )


# -- default behaviour of each method, used while the user has not configured the child --------
# Each takes (state, args, kwargs) with the call already checked against the real signature.

Behaviour = Callable[[SessionState, Tuple[Any, ...], Dict[str, Any]], Any]


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


def _on_sync(name: str) -> Behaviour:
    """Return a behaviour that calls the real sync session's method of that name."""

    def call(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        return getattr(state.orm.sync, name)(*args, **kwargs)

    return call


async def _delete(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    instance = args[0] if args else kwargs["instance"]
    sync = state.orm.sync
    if instance in sync.new:
        # kept pending for want of a primary key: production would have one, and delete it
        sync.expunge(instance)
        return
    state.autobegin()  # as a real session's delete() of a persistent object does
    # in a greenlet, as AsyncSession.delete() runs it: a delete cascade may load collections
    await greenlet_spawn(sync.delete, instance)


def _merge(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    instance = args[0] if args else kwargs["instance"]
    object_mapper(instance)  # an object that is not mapped: UnmappedInstanceError, as merge()
    return instance


def _merge_all(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    instances = list(args[0] if args else kwargs["instances"])
    for instance in instances:
        object_mapper(instance)
    return instances


async def _delete_all(
    state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> None:
    for instance in list(args[0] if args else kwargs["instances"]):
        await _delete(state, (instance,), {})


def _expire(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    orm = state.orm
    instance = args[0] if args else kwargs["instance"]
    object_mapper(instance)  # as the real expire() refuses an object that is not mapped
    if instance in orm.sync.new:
        return  # kept pending for want of a primary key: production would have one
    orm.hold(instance)  # only the object expired: its values, for the test's own reads
    orm.sync.expire(*args, **kwargs)
    orm.expired([instance], expired_reason("expire()", len(state.history)))


def _expire_all(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    orm = state.orm
    orm.hold_loaded_values()
    orm.expired(None, expired_reason("expire_all()", len(state.history)))
    orm.sync.expire_all()


def _refresh(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    instance = args[0] if args else kwargs["instance"]
    object_mapper(instance)  # as the real refresh() refuses an object that is not mapped
    if instance in state.orm.sync:
        state.autobegin()  # a real refresh() queries
    names = args[1] if len(args) > 1 else kwargs.get("attribute_names")
    state.orm.refresh(instance, names)


async def _run_sync(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
    fn = args[0] if args else kwargs.pop("fn")
    return await greenlet_spawn(fn, state.orm.sync, *args[1:], **kwargs)


BEHAVIOURS: Dict[str, Behaviour] = {
    "execute": lambda state, a, k: state.result_for(*_execution(a, k)),
    "scalars": lambda state, a, k: state.result_for(*_execution(a, k)).scalars(),
    "scalar": lambda state, a, k: state.result_for(*_execution(a, k)).scalar(),
    "stream": lambda state, a, k: to_async_result(state.result_for(*_execution(a, k))),
    "stream_scalars": lambda state, a, k: to_async_result(
        state.result_for(*_execution(a, k))
    ).scalars(),
    "get": _get,
    "get_one": _get_one,
    "connection": lambda state, a, k: state.mock_connection(),
    "merge": _merge,
    "__aenter__": lambda state, a, k: state.session,
    "__contains__": lambda state, a, k: a[0] in state.orm.sync,
    "__iter__": lambda state, a, k: iter(state.orm.sync),
    "begin": lambda state, a, k: TransactionStandIn(state, nested=False),
    "begin_nested": lambda state, a, k: TransactionStandIn(state, nested=True),
    "in_transaction": lambda state, a, k: bool(state.transactions),
    "in_nested_transaction": lambda state, a, k: state.current_transaction(True) is not None,
    "get_transaction": lambda state, a, k: state.current_transaction(False),
    "get_nested_transaction": lambda state, a, k: state.current_transaction(True),
    # pending objects need no tracking: closing the session at the end makes them transient
    "add": _on_sync("add"),
    "add_all": _on_sync("add_all"),
    "delete": _delete,
    "expunge": _on_sync("expunge"),
    "expunge_all": _on_sync("expunge_all"),
    "is_modified": _on_sync("is_modified"),
    # the sync session's engine, which has the test's dialect and does no IO (see engine.py)
    "get_bind": _on_sync("get_bind"),
    "get_async_bind": lambda state, a, k: async_engine_for(state.orm.sync.get_bind(*a, **k)),
    "expire": _expire,
    "expire_all": _expire_all,
    "refresh": _refresh,
    "run_sync": _run_sync,
}
for _name in (
    "__aexit__", "aclose", "close", "commit", "flush", "invalidate",
    "reset", "rollback",
):  # fmt: skip
    BEHAVIOURS[_name] = _returns_none
BEHAVIOURS["merge_all"] = _merge_all
BEHAVIOURS["delete_all"] = _delete_all
SessionState.behaviours = BEHAVIOURS


def behaviour_for(state: SessionState, member: Member) -> Optional[Behaviour]:
    """Return what ``member``'s mock does while the user has not configured it, or None.

    A method of SQLAlchemy's session has its behaviour in the state's :attr:`behaviours`. A
    method the project's subclass adds (even one a later SQLAlchemy has, such as a backported
    ``get_one()``) runs its own code with the session mock as ``self``, so that what
    it does to the session (``self.execute()``, ``self.sync_session``, ``run_sync()``) is
    answered and recorded as if the code under test did it; a coroutine method's behaviour
    gives its coroutine, which the mock awaits.

    :param state: the state of the session the mock belongs to.
    :param member: a member of the session class.
    """
    own_code = member.own_code
    if own_code is None:
        return state.behaviours.get(member.name)

    def run_own_code(state: SessionState, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        return own_code(state.session, *args, **kwargs)

    return run_own_code
