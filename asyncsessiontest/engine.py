"""The engines behind the session mock: real engines with a real dialect, that do no IO.

``self.session.sync_session.bind`` and ``self.session.get_bind()`` give an
:class:`~sqlalchemy.engine.Engine`, and ``self.session.bind`` an
:class:`~sqlalchemy.ext.asyncio.AsyncEngine`, as on a real ``AsyncSession``. Their dialect is
the one the test class's ``sql_dialect`` names, else SQLAlchemy's ``DefaultDialect``, so that
code reading ``bind.dialect.name``, ``insert_returning`` or ``supports_*`` takes the path it
takes in production. Their pool refuses to connect: outside a greenlet with SQLAlchemy's own
``MissingGreenlet``, as an async driver does, inside one with an error saying the mock does
no IO.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from sqlalchemy.engine import URL
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.future import Engine  # what AsyncEngine wraps on 1.4 too (Engine from 2.0)
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only

__all__ = [
    "NO_IO",
    "NoIOAsyncEngine",
    "NoIOEngine",
    "async_engine_for",
    "await_nothing",
    "default_dialect",
    "make_engine",
    "no_io_engine",
    "refuse_connection",
]

NO_IO = (
    "asyncsessiontest: the session mock does no IO, so it has no database connection to give "
    "(session.bind, get_bind(), connection() and code run through run_sync() lead to none). "
    "Statements executed through the session, run_sync() included, are answered by the "
    "test's routes (addResult(..., statement=...)); test code that needs a connection of its "
    "own against a real database."
)
"""What a connection asked of the engines raises, inside a greenlet."""


async def _nothing() -> None:
    return None


def await_nothing() -> None:
    """Await nothing as an async driver awaits its IO: outside a greenlet, this raises
    SQLAlchemy's own ``MissingGreenlet``."""
    coroutine = _nothing()
    try:
        await_only(coroutine)
    except BaseException:
        coroutine.close()  # never awaited: say nothing of it (SQLAlchemy 1.4 leaves it open)
        raise


def refuse_connection(*args: Any, **kwargs: Any) -> Any:
    """Refuse to connect.

    :raises MissingGreenlet: outside a greenlet, as an async driver does.
    :raises InvalidRequestError: inside one (``run_sync()``, ``AsyncEngine.connect()``).
    """
    await_nothing()
    raise InvalidRequestError(NO_IO)


_DEFAULT: Optional[DefaultDialect] = None


def default_dialect() -> DefaultDialect:
    """Return the dialect of a session whose test names none: SQLAlchemy's ``DefaultDialect``.

    One instance for the process, its flags as SQLAlchemy sets them (no RETURNING, name
    ``"default"``), with a ``driver`` of ``"default"`` so that ``engine.driver`` answers.
    """
    global _DEFAULT
    if _DEFAULT is None:
        dialect = DefaultDialect()
        dialect.driver = "default"  # real dialects all have one
        _DEFAULT = dialect
    return _DEFAULT


class NoIOEngine(Engine):
    """An ``Engine`` that refuses to connect, whatever its dialect.

    What the sync session behind the mock is bound to: ``self.session.get_bind()``. Its
    ``connect()``, ``begin()`` and ``raw_connection()`` raise (see :func:`refuse_connection`)
    before reaching the pool or the dialect, which has no DBAPI module loaded; so do those of
    the engines its ``execution_options()`` gives.

    Build it with :func:`make_engine`, which gives it its :attr:`async_engine`.
    """

    async_engine: NoIOAsyncEngine
    """The ``AsyncEngine`` over this engine: ``self.session.bind``."""

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        """Refuse to connect (see :func:`refuse_connection`)."""
        return refuse_connection()

    def raw_connection(self, *args: Any, **kwargs: Any) -> Any:
        """Refuse to connect (see :func:`refuse_connection`)."""
        return refuse_connection()

    def execution_options(self, **opt: Any) -> NoIOEngine:  # type: ignore[override]
        """Return a copy with these execution options added, as ``Engine`` does.

        :param opt: execution options.
        """
        options = dict(self.get_execution_options(), **opt)
        return make_engine(self.dialect, self.url, self.pool, options)


def make_engine(
    dialect: Any, url: Any, pool: Any = None, execution_options: Optional[Dict[str, Any]] = None
) -> NoIOEngine:
    """Return a new :class:`NoIOEngine` with its :class:`NoIOAsyncEngine`.

    :param dialect: a dialect instance.
    :param url: the engine's URL.
    :param pool: its pool (a new one that refuses to connect if None).
    :param execution_options: its execution options.
    """
    engine = NoIOEngine(
        NullPool(refuse_connection) if pool is None else pool,
        dialect,
        url,
        execution_options=execution_options,
    )
    # built before the engine is shared with any thread: see NoIOAsyncEngine.__init__
    engine.async_engine = NoIOAsyncEngine(engine)
    return engine


# id(dialect) -> (the dialect, kept alive so the id stays its own; its engine). Dialects come
# from class attributes (sql_dialect), checked once per class and settings.
_ENGINES: Dict[int, Tuple[Any, NoIOEngine]] = {}


def no_io_engine(dialect: Any = None) -> NoIOEngine:
    """Return the engine with ``dialect`` that refuses to connect (one per dialect).

    :param dialect: a dialect instance; None for :func:`default_dialect`.
    """
    if dialect is None:
        dialect = default_dialect()
    found = _ENGINES.get(id(dialect))
    if found is None or found[0] is not dialect:
        driver = getattr(dialect, "driver", None)
        name = f"{dialect.name}+{driver}" if driver and driver != dialect.name else dialect.name
        found = (dialect, make_engine(dialect, URL.create(name)))
        if len(_ENGINES) > 100:  # engines already handed out keep working
            _ENGINES.clear()
        _ENGINES[id(dialect)] = found
    return found[1]


def async_engine_for(engine: Any) -> Any:
    """Return the :class:`NoIOAsyncEngine` over a :class:`NoIOEngine`, as ``AsyncEngine``
    gives the proxy of a sync engine; any other engine comes back as it is.

    :param engine: what a sync session's ``get_bind()`` gave.
    """
    if isinstance(engine, NoIOEngine):
        return engine.async_engine
    return engine


class _AsyncProbe:
    """What ``AsyncEngine.__init__`` checks a dialect for: that it is async."""

    is_async = True
    driver = "asyncsessiontest"


_PROBE = _AsyncProbe()


class NoIOAsyncEngine(AsyncEngine):
    """An ``AsyncEngine`` over an engine that does no IO, whatever its dialect.

    ``AsyncEngine`` refuses a sync engine whose dialect is not async; this one never connects,
    so it takes any dialect (``sql_dialect = "postgresql"`` names psycopg2's). Connecting
    (``connect()``, ``begin()``, ``raw_connection()``) raises, saying the mock does no IO.

    :param sync_engine: the engine, from :func:`no_io_engine`.
    """

    __slots__ = ()

    def __init__(self, sync_engine: Engine) -> None:
        # the engine is new (see make_engine), not yet shared with any thread: its dialect is
        # swapped for the check alone
        dialect = sync_engine.dialect
        sync_engine.dialect = _PROBE  # type: ignore[assignment]
        try:
            super().__init__(sync_engine)
        finally:
            sync_engine.dialect = dialect

    def execution_options(self, **opt: Any) -> NoIOAsyncEngine:
        """Return a copy with the given execution options, as ``AsyncEngine`` does.

        :param opt: execution options.
        """
        engine = self.sync_engine.execution_options(**opt)
        if isinstance(engine, NoIOEngine):
            return engine.async_engine
        return NoIOAsyncEngine(engine)

    def __repr__(self) -> str:
        return f"NoIOAsyncEngine({self.sync_engine.url})"
