"""The TestCase and the mixin: the only module that fails tests."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
import unittest
import unittest.mock
import warnings
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, List, Optional, Sequence, TypeVar

from sqlalchemy import MetaData
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import sessionmaker

from asyncsessiontest.database import DatabaseSessionState, database_url_for
from asyncsessiontest.ending import check_end_of_test
from asyncsessiontest.errors import SessionNotSetUpError
from asyncsessiontest.factory import SessionFactoryStandIn
from asyncsessiontest.fake import SessionState
from asyncsessiontest.kinds import is_exception, is_mapped_class
from asyncsessiontest.matching import matcher_for
from asyncsessiontest.recording import ExecutedStatement, History, Operation
from asyncsessiontest.reprs import safe_repr
from asyncsessiontest.results import CannedResult, build_result
from asyncsessiontest.routing import CannedAnswer
from asyncsessiontest.session import create_session, release_session
from asyncsessiontest.statement_assertions import StatementAssertions
from asyncsessiontest.unitofwork import ADDS, added_objects
from asyncsessiontest.uow_assertions import UnitOfWorkAssertions

__all__ = ["AsyncSessionMixin", "AsyncSessionTestCase"]

# hides this module's frames from failure tracebacks, so they point at the user's line
__unittest = True

if TYPE_CHECKING:
    _TestCaseBase = unittest.TestCase
else:
    _TestCaseBase = object

# what a finished test keeps instead of its session state (suites keep test objects alive)
_FINISHED = object()
_MISSING = object()


class _ClassLevelProperty(property):
    """A property that exists for each test: read on the class (``cls.session`` in
    ``setUpClass``), it is the bare property, and using it says where the session exists."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # what tools probe for (__wrapped__, _is_coroutine...)
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        raise SessionNotSetUpError(_class_use_message(self))

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):  # property's own __doc__
            super().__setattr__(name, value)
            return
        raise SessionNotSetUpError(_class_use_message(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise SessionNotSetUpError(_class_use_message(self))


_Class = TypeVar("_Class", bound=type)


def _per_test(*names: str) -> Callable[[_Class], _Class]:
    """Make the class's properties ``names`` say, used on the class, that they exist per test.

    (A class decorator, not a property decorator, as type checkers know properties by name.)
    """

    def decorate(cls: _Class) -> _Class:
        for name in names:
            plain = vars(cls)[name]
            # without doc=: a property subclass given one shows its class docstring instead
            # (before Python 3.12); given none, it takes the getter's, as plain properties do
            setattr(cls, name, _ClassLevelProperty(plain.fget, plain.fset, plain.fdel))
        return cls

    return decorate


def _class_use_message(prop: property) -> str:
    name = getattr(prop.fget, "__name__", "session")
    return (
        f"self.{name} exists for each test, from setUp() on, not on the class: cls.{name} "
        f"(in setUpClass()?) is only its property. Configure the session in setUp() after "
        f"super().setUp(), in asyncSetUp(), or in the test."
    )


class _ConfiguringMethod:
    """A method that configures the test's session: read on the class (``cls.addResult`` in
    ``setUpClass``), calling it says where the session exists, whatever arguments it was given
    (unbound, its first argument took ``self``, and one it needs may be missing)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        name = function.__name__

        @functools.wraps(function)
        def called_on_the_class(*args: Any, **kwargs: Any) -> Any:
            if args and isinstance(args[0], AsyncSessionMixin):  # Mixin.addResult(self, ...)
                return function(*args, **kwargs)
            raise SessionNotSetUpError(
                f"{name}() was called on the class (cls.{name}(...) in setUpClass()?), but "
                f"the session it configures exists for each test, from setUp() on. Call "
                f"self.{name}(...) in setUp() after super().setUp(), in asyncSetUp(), or in "
                f"the test."
            )

        self.on_the_class = called_on_the_class

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self.on_the_class
        return self.function.__get__(instance, owner)


def _configuring(*names: str) -> Callable[[_Class], _Class]:
    """Make the class's methods ``names`` say, called on the class, that the session they
    configure exists per test (a class decorator, as for :func:`_per_test`)."""

    def decorate(cls: _Class) -> _Class:
        for name in names:
            setattr(cls, name, _ConfiguringMethod(vars(cls)[name]))
        return cls

    return decorate


@_per_test("session", "session_factory", "session_history", "executed_statements")
@_configuring("addResult", "addException", "addObject", "patchSessionFactory")
class AsyncSessionMixin(UnitOfWorkAssertions, StatementAssertions):
    """Give each test a fresh ``self.session``: a mock shaped exactly like an ``AsyncSession``.

    Mix it into a suite that already has its own base class, before that class::

        class UserServiceTest(AsyncSessionMixin, ProjectTestCase):
            ...

    The base class must be an :class:`unittest.IsolatedAsyncioTestCase` (or a subclass), so the
    session's coroutine methods can be awaited. Suites without a base class of their own use
    :class:`AsyncSessionTestCase`.

    The session is created in :meth:`setUp`, so every ``setUp`` and ``asyncSetUp`` that runs
    after ``super().setUp()`` can use it.
    """

    session_class: ClassVar[type] = AsyncSession
    """The class ``self.session`` imitates: ``AsyncSession`` or the project's subclass of it.

    Its coroutine methods become awaitable mocks and its plain methods plain ones, extra methods
    of a subclass included, each checking calls against the real signature. The methods and
    properties a subclass adds (SQLModel's ``exec()``, a project's helpers) run their own code
    with ``self.session`` as ``self``: what they execute is answered by the routes and recorded,
    unless the test configures the method's mock (``return_value``, ``side_effect``).
    """

    strict: ClassVar[bool] = False
    """Fail executions that no configured result answers, and results never used.

    When True, an execution that matches no route and finds no queued result raises
    ``failureException`` at the call, naming the statement and why each route did not match;
    as code under test may swallow that error, the test also fails at its end. Results added
    but never used fail the test at its end. End-of-test checks are skipped for a test that
    already failed.
    """

    asyncio_debug: ClassVar[bool] = True
    """Run each test's event loop in asyncio's debug mode, as IsolatedAsyncioTestCase does.

    Debug mode finds real bugs (never-awaited coroutines, slow callbacks, calls from the wrong
    thread) but costs most of a test's overhead; set False on a class for speed.
    """

    check_awaited: ClassVar[bool] = True
    """Fail a test whose code created a session coroutine (``self.session.commit()``) and never
    awaited it, naming the method and the line that called it. Set False on a class to turn
    the check off."""

    assign_primary_keys: ClassVar[bool] = False
    """Give added instances primary keys as a database would, when they are flushed.

    When True, on ``flush()``, ``commit()`` and a ``begin()`` block's commit, every added
    instance whose single integer autoincrement primary key is None gets the next integer for
    its table (1, 2, 3..., after any key set by hand), so that code such as
    ``session.add(user); await session.commit(); return user.id`` can be tested.
    """

    expire_on_commit: ClassVar[bool] = True
    """Expire every instance in the session when it commits, as ``AsyncSession`` does by default.

    After a commit, the code under test reading an attribute of an instance then raises
    ``MissingGreenlet``, as in production; the test's own methods still read the values the
    objects held. A suite whose production session factory sets ``expire_on_commit=False`` sets
    this False. When :meth:`patchSessionFactory` replaces a real factory, that factory's setting
    wins for the test.
    """

    check_implicit_io: ClassVar[bool] = True
    """Make implicit IO by the code under test fail as it does in production.

    An expired attribute, or a relationship the statement that loaded the object did not load,
    read by the code under test raises ``MissingGreenlet`` with a line saying why and what
    production code needs. Reads by the test's own methods (any method of the TestCase) give the
    values the objects hold. Set False on a class to give every reader those values, for a
    suite that migrates step by step.
    """

    sql_dialect: ClassVar[Any] = None
    """The dialect of the test's database: a dialect instance, a dialect name (``"postgresql"``,
    ``"mysql"``, ``"sqlite"``, ``"postgresql.asyncpg"``...), or None.

    It renders SQL in failure messages, and it is what the code under test sees:
    ``self.session.bind.dialect`` and ``self.session.get_bind().dialect``, so that code
    branching on ``dialect.name`` or ``insert_returning`` takes its production path. With
    None, messages use SQLAlchemy's default string dialect (what ``str(statement)`` uses) and
    the engines SQLAlchemy's ``DefaultDialect`` (name ``"default"``, no RETURNING).
    """

    database_url: ClassVar[Optional[str]] = None
    """Run the class's tests on this database instead of the mock (database mode).

    A SQLAlchemy URL with an async driver, e.g. ``"sqlite+aiosqlite://"`` (a new in-memory
    database for each test) or ``"postgresql+asyncpg://user@host/db"``. ``self.session`` stays
    the same mock, with the same records and assertions, in front of a real ``AsyncSession`` on
    a connection whose outer transaction is rolled back when the test ends. Canned results
    become claims the database must confirm; ``addObject`` inserts its instances as rows. See
    "Running the same tests on a real database" in the docs. None (the default): the mock, or
    the database :envvar:`ASYNCSESSIONTEST_DATABASE_URL` names, for a class with
    :attr:`metadata`.
    """

    metadata: ClassVar[Optional[MetaData]] = None
    """The schema database mode creates (once per database and process), e.g.
    ``Base.metadata``. A class with it runs on the database
    :envvar:`ASYNCSESSIONTEST_DATABASE_URL` names when that is set and the class has no
    :attr:`database_url` of its own."""

    _asyncsessiontest_state: Any

    def setUp(self) -> None:
        """Create this test's session, then run the next ``setUp`` in the method order.

        :raises TypeError: a class attribute of the mixin (:attr:`strict`...) has the wrong type.
        :raises ValueError: :attr:`sql_dialect` names no dialect.
        """
        settings = (
            type(self),
            self.session_class,
            self.strict,
            self.asyncio_debug,
            self.check_awaited,
            self.assign_primary_keys,
            self.expire_on_commit,
            self.check_implicit_io,
            self.sql_dialect,
            self.database_url,
            self.metadata,
        )
        try:  # checked once per class and settings: one dict lookup per test
            dialect = _CHECKED_SETTINGS[settings]
        except (KeyError, TypeError):  # new settings, or a value that cannot be hashed
            dialect = _MISSING
        if dialect is _MISSING:  # checked out of the except block: its errors stand alone
            dialect = _check_settings(settings)
        options: Dict[str, Any] = {
            "strict": self.strict,
            "dialect": dialect,
            "failure_exception": self.failureException,
            "assign_primary_keys": self.assign_primary_keys,
            "expire_on_commit": self.expire_on_commit,
            "check_implicit_io": self.check_implicit_io,
        }
        database_url = database_url_for(self.database_url, self.metadata)
        state: SessionState
        if database_url is None:
            state = SessionState(self.session_class, **options)
        else:
            state = DatabaseSessionState(
                self.session_class, database_url, self.metadata, **options
            )
        create_session(state)
        self._asyncsessiontest_state = state
        self.addCleanup(self._asyncsessiontest_finish)
        if not self.asyncio_debug:
            _event_loop_of_this_test(self).set_debug(False)
        if isinstance(state, DatabaseSessionState):
            # the loop is not running yet: connect now, so that setUp() and everything after
            # it find the session on its database (closed after the test's own cleanups)
            self.addAsyncCleanup(state.close)  # type: ignore[attr-defined]
            loop = _event_loop_of_this_test(self)
            # connecting (the driver's import, the first connection's queries) may take more
            # than debug mode's 0.1 s: a step of the package's, not of the code under test
            slow, loop.slow_callback_duration = loop.slow_callback_duration, 10.0
            try:
                loop.run_until_complete(state.open())
            finally:
                loop.slow_callback_duration = slow
        super().setUp()

    def _callTestMethod(self, method: Any) -> None:
        # Run the test method, then, if it passed, the end-of-test checks (see strict and
        # check_awaited), as part of the test: a test that already failed reports only its own
        # failure, of which leftovers are usually a consequence. unittest calls this hook for
        # the test method alone, on every Python since 3.8 (the tests check it on each); a
        # wrapper around the method would cost more, in every test, than this one frame.
        try:
            super()._callTestMethod(method)  # type: ignore[misc]
        except self.failureException as failure:
            _note_unused_results(failure, self.__dict__.get("_asyncsessiontest_state"))
            raise
        check_end_of_test(self)

    def _asyncsessiontest_check_end(self) -> None:
        state = self.__dict__.get("_asyncsessiontest_state")
        # a subtest that failed leaves the test running: unittest notes it in _outcome.success
        # (the same private attribute on Python 3.8 to 3.13)
        subtests_passed = getattr(getattr(self, "_outcome", None), "success", True)
        if isinstance(state, SessionState) and subtests_passed:
            problems = _end_of_test_problems(
                state, self.check_awaited, self.__dict__.get("_asyncsessiontest_counters")
            )
            if problems:
                self.fail("\n\n".join(problems))

    def __getstate__(self) -> Dict[str, Any]:
        """Return the test's state for pickling, as process-parallel runners need.

        IsolatedAsyncioTestCase keeps a ``contextvars.Context`` from Python 3.11 on, which
        cannot be pickled: it is left out, and a fresh one made on unpickling.
        """
        state = dict(self.__dict__)
        state.pop("_asyncioTestContext", None)
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        """Restore a pickled test (see :meth:`__getstate__`)."""
        self.__dict__.update(state)
        if hasattr(unittest.IsolatedAsyncioTestCase, "_setupAsyncioRunner"):  # Python 3.11+
            self.__dict__.setdefault("_asyncioTestContext", contextvars.copy_context())

    def run(self, result: Any = None) -> Any:
        """Run the test as unittest does, undoing what :meth:`patchSessionFactory` patched even
        when the test was interrupted (a ``KeyboardInterrupt`` skips unittest's cleanups).

        :param result: the ``unittest.TestResult`` to report to, as for ``TestCase.run``.
        """
        try:
            return super().run(result)
        finally:
            self._asyncsessiontest_unpatch()

    def _asyncsessiontest_unpatch(self) -> None:
        patchers = self.__dict__.get("_asyncsessiontest_patchers")
        while patchers:
            patchers.pop().stop()  # the last patch first, as cleanups run

    def _asyncsessiontest_finish(self) -> None:
        state = self.__dict__.get("_asyncsessiontest_state")
        self._asyncsessiontest_state = _FINISHED
        if isinstance(state, SessionState):
            release_session(state)

    # -- code that builds its own sessions -----------------------------------------------------

    @property
    def session_factory(self) -> SessionFactoryStandIn:
        """A stand-in for ``async_sessionmaker`` (or ``sessionmaker(class_=AsyncSession)``).

        ``self.session_factory()`` returns ``self.session``, and so do
        ``async with self.session_factory() as s`` and ``async with self.session_factory.begin()
        as s``; the latter commits on a clean exit and rolls back on an exception, recorded like
        ``self.session.begin()``, then closes the session. Give it to code that keeps a factory
        (``service.session_local = self.session_factory``), or see :meth:`patchSessionFactory`.
        """
        state = self._asyncsessiontest
        if state.factory is None:
            state.factory = SessionFactoryStandIn(
                self.session, on_hand_out=state.handed_out_anew
            )
        return state.factory

    def patchSessionFactory(self, target: str) -> SessionFactoryStandIn:
        """Replace the factory at ``target`` with :attr:`session_factory` for the rest of the test.

        The original is restored when the test ends, whether it passed or not.

        :param target: the dotted path of the factory, e.g. ``"app.db.SessionLocal"``, as for
            :func:`unittest.mock.patch`.
        :returns: :attr:`session_factory`.
        :raises TypeError: ``target`` is not a dotted path string, or what it names is not a
            session factory (a setting, a number, a class other than a session class).
        :raises AttributeError: ``target`` names an attribute that does not exist.
        :raises ModuleNotFoundError: ``target`` names a module that does not exist.
        """
        parts = target.split(".") if isinstance(target, str) else []
        if len(parts) < 2 or not all(part.isidentifier() for part in parts):
            raise TypeError(
                f"patchSessionFactory(): target must be a dotted path such as "
                f"'app.db.SessionLocal', got {target!r}"
            )
        patcher = unittest.mock.patch(target, self.session_factory)
        try:
            original = getattr(_import_modules_of(parts), parts[-1], _MISSING)
            # a missing attribute: mock.patch says so, below
            problem = None if original is _MISSING else _not_a_factory(original)
            if problem is not None:
                raise TypeError(
                    f"patchSessionFactory(): {target!r} holds {problem}, not a session "
                    f"factory; give the path of the async_sessionmaker (or "
                    f"sessionmaker(class_=AsyncSession)) the code calls, e.g. "
                    f"'app.db.SessionLocal'"
                )
            patcher.start()
        except (AttributeError, ImportError) as error:
            raise type(error)(
                f"patchSessionFactory(): cannot patch {target!r}, it does not exist: {error}"
            ) from None
        patchers = self.__dict__.get("_asyncsessiontest_patchers")
        if patchers is None:
            patchers = self.__dict__["_asyncsessiontest_patchers"] = []
            self.addCleanup(self._asyncsessiontest_unpatch)
        patchers.append(patcher)
        # the real factory's expire_on_commit is what the code under test gets in production
        setting = getattr(original, "kw", {}).get("expire_on_commit")
        if isinstance(setting, bool):
            self._asyncsessiontest.set_expire_on_commit(setting)
        return self.session_factory

    # -- configuring answers -----------------------------------------------------------------

    def addResult(
        self,
        rows: Any = (),
        *,
        statement: Any = None,
        columns: Optional[Sequence[str]] = None,
        rowcount: Optional[int] = None,
        times: Optional[int] = 1,
    ) -> None:
        """Make executions answer with ``rows``, a real SQLAlchemy result.

        Without ``statement`` the result is queued: the next execution that no routed result
        matches gets it, first in, first out. With ``statement`` it is routed: it answers only
        executions whose statement matches. Routes are tried in the order added. Every execution
        gets a fresh result. Applies to ``execute`` (the result), ``scalars`` (its first column),
        ``scalar`` (the first value or None), ``stream`` and ``stream_scalars``.

        :param rows: the rows, in any form :func:`make_result` takes, or a result it made.
        :param statement: which executions it answers: a SQLAlchemy statement (equal as
            ``compare()`` judges, bound values included), a SQL string (as ``str(statement)``
            renders it, ignoring case and spacing), a compiled ``re.Pattern`` (searched in that
            SQL), or a mapped class or ``Table`` (any statement on it).
        :param columns: the column names, as for :func:`make_result`.
        :param rowcount: the row count, as for :func:`make_result`.
        :param times: how many executions it answers; None for no limit.
        :raises TypeError: an argument has the wrong type.
        :raises ValueError: the rows do not fit together (see :func:`make_result`).
        """
        if isinstance(rows, CannedResult):
            if columns is not None or rowcount is not None:
                raise TypeError(
                    "addResult(): rows is already a result; give columns and rowcount to "
                    "make_result() instead"
                )
            result = rows
        else:
            result = build_result(rows, columns, rowcount, caller="addResult")
        self._asyncsessiontest_add("addResult", result, statement, times)

    def addException(self, exc: Any, *, statement: Any = None, times: Optional[int] = 1) -> None:
        """Make executions raise ``exc``, routed or queued exactly like :meth:`addResult`.

        :param exc: an exception instance or class, e.g. ``IntegrityError("...", {}, None)``.
            A class is raised as Python raises one, built without arguments.
        :param statement: which executions raise it (as for :meth:`addResult`).
        :param times: how many executions raise it; None for no limit.
        :raises TypeError: ``exc`` is not an exception, a class that cannot be built without
            arguments, or ``StopIteration``/``StopAsyncIteration``, which a coroutine cannot
            raise as an error.
        """
        if not is_exception(exc):
            raise TypeError(
                f"addException(): exc must be an exception instance or class, got {safe_repr(exc)}"
            )
        _check_raisable(exc)
        self._asyncsessiontest_add("addException", exc, statement, times)

    def addObject(self, *instances: Any) -> None:
        """Make ``await self.session.get(Model, pk)`` find these instances.

        ``get()`` returns the added instance of that class whose primary key (read through the
        mapper; a tuple for a composite key) equals ``pk``, else None; ``get_one()`` raises
        ``NoResultFound`` instead of returning None.

        :param instances: ORM instances with their primary keys set.
        :raises TypeError: one of them is not an instance of a mapped class.
        :raises ValueError: one of them has no primary key, or the primary key of another
            instance added (of the same class or one it inherits from).
        """
        self._asyncsessiontest.add_objects(instances)

    # -- what happened ---------------------------------------------------------------------------

    @property
    def session_history(self) -> History:
        """Every operation on ``self.session`` so far, in order (a list of :class:`Operation`).

        Its repr numbers the operations one per line, as failure messages show them.
        """
        return self._asyncsessiontest.history

    @property
    def executed_statements(self) -> List[ExecutedStatement]:
        """Every statement passed to ``execute``, ``scalars``, ``scalar``, ``stream`` or
        ``stream_scalars`` so far, in order (a list of :class:`ExecutedStatement`)."""
        return [op for op in self._asyncsessiontest.history if isinstance(op, ExecutedStatement)]

    def addedObjects(self, entity: Optional[type] = None) -> List[Any]:
        """Return the objects the code added to the session, in the order added, each once.

        That is every instance given to ``add()``, ``add_all()`` or ``merge()`` (a call that
        happened: awaited, and not raising), followed by the related objects the save-update
        cascade brought in with it, as the real session adds them. Use it to check a created
        object's fields::

            (user,) = self.addedObjects(User)
            self.assertEqual(user.name, "ann")

        :param entity: only the instances of this mapped class (or its subclasses).
        :raises TypeError: ``entity`` is not a mapped class.
        """
        if entity is not None and not is_mapped_class(entity):
            raise TypeError(
                f"addedObjects(): entity must be a mapped class such as User, got "
                f"{safe_repr(entity)}"
            )
        found: Dict[int, Any] = {}
        for operation in self._asyncsessiontest.history:
            if operation.method in ADDS and operation.happened:
                for instance in added_objects(operation):
                    found.setdefault(id(instance), instance)
                    state = sa_inspect(instance)
                    for related, *_ in state.mapper.cascade_iterator("save-update", state):
                        found.setdefault(id(related), related)
        return [o for o in found.values() if entity is None or isinstance(o, entity)]

    def _asyncsessiontest_add(self, caller: str, answer: Any, statement: Any, times: Any) -> None:
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise TypeError(f"{caller}(): times must be a positive int or None, got {times!r}")
        if times is not None and times < 1:
            raise ValueError(f"{caller}(): times must be at least 1 (or None), got {times!r}")
        state = self._asyncsessiontest
        matcher = (
            None
            if statement is None
            else matcher_for(statement, f"{caller}(): statement", state.dialect)
        )
        state.add_answer(CannedAnswer(answer, matcher, times))

    @property
    def session(self) -> Any:
        """This test's session mock: an ``AsyncMock`` spec'd on :attr:`session_class`.

        ``isinstance(self.session, AsyncSession)`` is true. Coroutine methods must be awaited;
        plain methods (``add``, ``begin``, ``expire`` ...) must not. Unless configured otherwise
        it answers like a session over an empty database: ``execute()`` returns a real, empty
        ``Result``, ``get()`` returns None.
        """
        return self._asyncsessiontest.session

    @session.setter
    def session(self, value: Any) -> None:
        raise AttributeError(
            f"self.session is provided by AsyncSessionMixin and cannot be assigned "
            f"(in {type(self).__name__}); configure the provided session instead, e.g. "
            f"self.session.execute.return_value = ..., or remove the assignment"
        )

    @property
    def _asyncsessiontest(self) -> SessionState:
        state = self.__dict__.get("_asyncsessiontest_state")
        if state is None:
            raise SessionNotSetUpError(_not_set_up_message(type(self)))
        if state is _FINISHED:
            raise SessionNotSetUpError(
                f"self.session of {type(self).__name__} is only available while a test runs "
                f"(from setUp() to the cleanups); each test gets a new one."
            )
        session_state: SessionState = state
        return session_state


def _check_raisable(exc: Any) -> None:
    """Refuse an exception that cannot be raised from a session's coroutine as given."""
    kind = exc if isinstance(exc, type) else type(exc)
    if issubclass(kind, StopIteration):
        raise TypeError(
            f"addException(): {kind.__name__} cannot be raised through a coroutine: Python "
            f"turns it into RuntimeError('coroutine raised StopIteration'); give another "
            f"exception"
        )
    if issubclass(kind, StopAsyncIteration):
        raise TypeError(
            f"addException(): {kind.__name__} raised by an awaited call would end an async for "
            f"loop around it silently, as if it had no more items; give another exception"
        )
    if isinstance(exc, type):
        try:
            exc()  # what raising the class does, at each execution
        except Exception:
            if issubclass(exc, DBAPIError):
                arguments = '"INSERT ...", {}, Exception("UNIQUE constraint failed")'
                example = f"{exc.__name__}({arguments})"
            else:
                example = f"{exc.__name__}(...)"
            raise TypeError(
                f"addException(): {exc.__name__} cannot be built without arguments, as raising "
                f"the class would do; give an instance, e.g. self.addException({example})"
            ) from None


def _note_unused_results(failure: BaseException, state: Any) -> None:
    """Add to a failed test's message the results it configured that nothing used: in strict
    mode the end of the test says so, otherwise a failure such as "None is not <User 1>" would
    not tell that the route missed."""
    if not isinstance(state, SessionState) or state.strict or not failure.args:
        return
    unused = state.responder.unused()
    if unused:
        listed = "\n".join(f"{number}. {answer!r}" for number, answer in enumerate(unused, 1))
        failure.args = (
            f"{failure.args[0]}\n\nResults added but never used (did a route miss? strict = "
            f"True says why):\n{listed}",
            *failure.args[1:],
        )


def _end_of_test_problems(
    state: SessionState, check_awaited: bool, counters: Optional[List[Any]]
) -> List[str]:
    problems = [f"Strict mode: {explanation}" for explanation in state.unmatched]
    problems += [f"Database mode: {explanation}" for explanation in state.contradicted]
    if counters:
        problems += [counter.never_entered() for counter in counters if not counter.entered]
    if state.strict:
        unused = state.responder.unused()
        if unused:
            problems.append(
                "Strict mode: results added but never used:\n"
                + "\n".join(f"{number}. {answer!r}" for number, answer in enumerate(unused, 1))
            )
    if check_awaited:
        unawaited = [op for op in state.history if op.is_coroutine and not op.awaited]
        if unawaited:
            problems.append(
                "Session coroutines created but never awaited:\n"
                + "\n".join(f"{op.describe_call()} called at {_where(op)}" for op in unawaited)
                + "\nAwait them, or set check_awaited = False on the test class."
            )
    return problems


def _where(operation: Operation) -> str:
    if operation.location is None:
        return "an unknown place"
    return f"{operation.location[0]}:{operation.location[1]}"


def _import_modules_of(parts: List[str]) -> Any:
    """Return what owns the path's last name, importing the path's modules on the way."""
    # mock.patch reports a missing module as a missing attribute from Python 3.11 on: import
    # the path's modules first, so that every Python raises ModuleNotFoundError for them
    owner: Any = importlib.import_module(parts[0])
    for index in range(1, len(parts) - 1):
        # an attribute that is there, even a falsy one (an empty settings object), is the owner
        attribute = getattr(owner, parts[index], _MISSING)
        if attribute is _MISSING:
            attribute = importlib.import_module(".".join(parts[: index + 1]))
        owner = attribute
    return owner


def _not_a_factory(value: Any) -> Optional[str]:
    """Say what ``value`` is when it cannot be a session factory; None when it can."""
    if isinstance(value, sessionmaker):
        class_ = getattr(value, "class_", None)
        if isinstance(class_, type) and not issubclass(class_, AsyncSession):
            return (
                f"a sessionmaker of {class_.__name__}, a synchronous session, which "
                f"self.session (an AsyncSession) cannot stand in for"
            )
        return None
    if isinstance(value, type):
        if issubclass(value, AsyncSession):
            return None
        return f"the class {value.__name__}"
    if callable(value):  # async_sessionmaker, a function that makes sessions, a stand-in, a mock
        return None
    return f"{safe_repr(value)} ({type(value).__name__})"


def _event_loop_of_this_test(test: Any) -> asyncio.AbstractEventLoop:
    # IsolatedAsyncioTestCase creates the test's loop (in debug mode) before setUp() runs, and
    # keeps it in a private attribute: _asyncioRunner on 3.11+, _asyncioTestLoop before. The
    # public fallback, the current loop, is the same loop unless a loop_factory (3.13) is set.
    runner = getattr(test, "_asyncioRunner", None)
    if runner is not None:
        loop: asyncio.AbstractEventLoop = runner.get_loop()
        return loop
    if getattr(test, "_asyncioTestLoop", None) is not None:
        loop = test._asyncioTestLoop
        return loop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return asyncio.get_event_loop()


# (test class, its settings, in setUp's order) -> the dialect they give: checked once each
_CHECKED_SETTINGS: Dict[Any, Any] = {}
_FLAGS = (
    "strict",
    "asyncio_debug",
    "check_awaited",
    "assign_primary_keys",
    "expire_on_commit",
    "check_implicit_io",
)


def _check_settings(settings: Any) -> Any:
    """Check a test class's settings (the mixin's class attributes) and return the dialect.

    :param settings: the test class, then the values of session_class, strict, asyncio_debug,
        check_awaited, assign_primary_keys, expire_on_commit, check_implicit_io,
        sql_dialect, database_url and metadata.
    :raises TypeError: a value has the wrong type.
    :raises ValueError: sql_dialect names no dialect.
    """
    test_class, session_class, *flags, sql_dialect, database_url, metadata = settings
    owner = test_class.__name__
    if not (isinstance(session_class, type) and issubclass(session_class, AsyncSession)):
        raise TypeError(
            f"{owner}.session_class must be AsyncSession or a subclass of it, "
            f"got {safe_repr(session_class)}"
        )
    for name, value in zip(_FLAGS, flags):
        if not isinstance(value, bool):
            raise TypeError(
                f"{owner}.{name} must be True or False, got {safe_repr(value)} "
                f"({type(value).__name__})"
            )
    if database_url is not None and not isinstance(database_url, str):
        raise TypeError(
            f"{owner}.database_url must be a database URL string such as "
            f"'sqlite+aiosqlite://', or None; got {safe_repr(database_url)}"
        )
    if metadata is not None and not isinstance(metadata, MetaData):
        raise TypeError(
            f"{owner}.metadata must be a MetaData such as Base.metadata, or None; "
            f"got {safe_repr(metadata)}"
        )
    dialect = _resolve_dialect(sql_dialect, owner)
    try:
        if len(_CHECKED_SETTINGS) > 1_000:
            _CHECKED_SETTINGS.clear()
        _CHECKED_SETTINGS[settings] = dialect
    except TypeError:  # a value that cannot be hashed (a dialect that defines __eq__): no cache
        pass
    return dialect


def _resolve_dialect(dialect: Any, owner: str) -> Any:
    if dialect is None or isinstance(dialect, Dialect):
        return dialect
    if isinstance(dialect, str):
        from sqlalchemy.dialects import registry

        try:
            # "postgresql+asyncpg", as a URL names it, is the registry's "postgresql.asyncpg"
            return registry.load(dialect.replace("+", "."))()
        except Exception as error:  # NoSuchModuleError, or a driver that is not installed
            raise ValueError(
                f"{owner}.sql_dialect: no SQLAlchemy dialect named {dialect!r} ({error}); give "
                f"a name such as 'postgresql', 'mysql' or 'sqlite', or a dialect instance"
            ) from None
    raise TypeError(
        f"{owner}.sql_dialect must be a dialect instance, a dialect name such as 'postgresql', "
        f"or None; got {safe_repr(dialect)}"
    )


def _not_set_up_message(test_class: type) -> str:
    skipping: List[str] = []
    for klass in test_class.__mro__:
        if klass is AsyncSessionMixin:
            break
        if "setUp" in vars(klass):
            skipping.append(klass.__name__)
    culprit = " or ".join(f"{name}.setUp()" for name in skipping) or "a setUp()"
    return (
        f"self.session is not set up: {culprit} does not call super().setUp(), so "
        f"AsyncSessionMixin.setUp() never ran. Add super().setUp() to it "
        f"(first thing in the method, if setUp itself uses self.session)."
    )


class AsyncSessionTestCase(AsyncSessionMixin, unittest.IsolatedAsyncioTestCase):
    """An :class:`unittest.IsolatedAsyncioTestCase` whose tests each get a fresh ``self.session``.

    Example::

        class RenameUserTest(AsyncSessionTestCase):
            async def test_renames(self):
                user = User(id=5, name="old")
                self.addResult([user], statement=select(User).where(User.id == 5))

                await rename_user(self.session, 5, "new")

                self.assertEqual(user.name, "new")
                self.assertCommitted()

    See :class:`AsyncSessionMixin` for everything it adds.
    """
