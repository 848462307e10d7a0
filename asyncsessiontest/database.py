"""Database mode: the session mock in front of a real ``AsyncSession`` on a real database.

With ``database_url`` set on a test class (or ``ASYNCSESSIONTEST_DATABASE_URL`` in the
environment, for a class with ``metadata``), each test's ``self.session`` is the same spec'd mock
as in mock mode, with the same records, history and assertions, but each call it does not have
configured goes to a real ``AsyncSession``. That session is bound to a connection inside an
outer transaction which is rolled back when the test ends, as in SQLAlchemy's recipe "Joining a
Session into an External Transaction (such as for test suites)": the code under test can commit,
roll back and use savepoints, and nothing it writes outlives the test.

What the test configured still applies: ``addObject`` inserts its instances as rows before the
code runs (seed data), ``addException`` raises at the matching execution, and ``addResult``
becomes a claim the database must confirm: each execution it answers runs on the database, whose
rows must equal the canned ones.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import sqlalchemy
from sqlalchemy import event, insert, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.exc import UnmappedColumnError
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.schema import MetaData, Table, sort_tables

from asyncsessiontest.fake import Behaviour, SessionState
from asyncsessiontest.keys import autoincrement_column
from asyncsessiontest.kinds import is_orm_instance
from asyncsessiontest.matching import render
from asyncsessiontest.ormstate import (
    HeldValues,
    has_order_by,
    holding_class_for,
    orm_instances,
    require_unique,
    synchronize_foreign_keys,
)
from asyncsessiontest.recording import Operation
from asyncsessiontest.reprs import safe_repr, values_equal
from asyncsessiontest.results import CannedResult, to_async_result
from asyncsessiontest.shape import ASYNC
from asyncsessiontest.transaction import TransactionBlock

__all__ = ["ENVIRONMENT_VARIABLE", "DatabaseSessionState", "database_url_for"]

# hides this module's frames from failure tracebacks: a contradicted answer fails from here
__unittest = True

ENVIRONMENT_VARIABLE = "ASYNCSESSIONTEST_DATABASE_URL"
"""The environment variable that runs every test class with ``metadata`` on a database."""

_IS_1_4 = sqlalchemy.__version__.startswith("1.")


def database_url_for(database_url: Optional[str], metadata: Optional[MetaData]) -> Optional[str]:
    """Return the database a test class runs on, or None for the mock.

    :param database_url: the class's ``database_url``.
    :param metadata: the class's ``metadata``: with it, and no ``database_url``, the class runs
        on the database :data:`ENVIRONMENT_VARIABLE` names, if it is set.
    """
    if database_url is not None:
        return database_url
    if metadata is not None:
        return os.environ.get(ENVIRONMENT_VARIABLE) or None
    return None


# -- the connection: one per test, as connections are bound to the test's event loop ----------

_DRIVER_PACKAGES = {"aiosqlite": "aiosqlite", "asyncpg": "asyncpg", "aiomysql": "aiomysql"}
# (database URL, id(metadata)) whose schema this process made (or found made)
_SCHEMAS: Set[Tuple[str, int]] = set()
# PostgreSQL advisory lock key that serializes schema creation across processes ("ast" + 1)
_SCHEMA_LOCK = 0x61737401


def _is_memory_sqlite(url: Any) -> bool:
    return bool(url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def create_engine_for(database_url: str) -> AsyncEngine:
    """Return an engine for one test on ``database_url``, with SQLite's savepoints working.

    :param database_url: a SQLAlchemy URL with an async driver.
    :raises ValueError: the URL cannot be read, or names a driver that is not async.
    :raises ImportError: the driver is not installed (naming the package to install).
    """
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ValueError(
            f"database_url: {database_url!r} is not a SQLAlchemy URL; give one such as "
            f"'sqlite+aiosqlite://' or 'postgresql+asyncpg://user@host/database'"
        ) from None
    # one connection for the whole test: an in-memory SQLite database lives in its connection
    pool = StaticPool if _is_memory_sqlite(url) else NullPool
    try:
        engine = create_async_engine(url, poolclass=pool)
    except ModuleNotFoundError as error:
        package = _DRIVER_PACKAGES.get(str(error.name), str(error.name).split(".")[0])
        raise ImportError(
            f"database_url {url.render_as_string(hide_password=True)!r} needs the "
            f"{package!r} package, which is not installed: pip install {package}"
        ) from None
    except InvalidRequestError:  # a driver that is not async
        raise ValueError(
            f"database_url {url.render_as_string(hide_password=True)!r} names a driver that is "
            f"not async ({url.get_driver_name()}); give an async one, e.g. "
            f"'sqlite+aiosqlite://' or 'postgresql+asyncpg://...'"
        ) from None
    if url.get_backend_name() == "sqlite":
        _make_sqlite_savepoints_work(engine)
    return engine


# per thread (tests of a thread-parallel runner run at once, and an in-memory SQLite database is
# its one connection): database URL -> its engine, whose pool is emptied after each test
_ENGINES = threading.local()


def _engine_for(database_url: str) -> AsyncEngine:
    """Return this thread's engine for ``database_url``, made on first use.

    An engine holds no connection between tests (each test's is closed, and its pool disposed
    of, when the test ends), so one serves every test of the thread whatever its event loop:
    only its first connection pays for the dialect's first-connect queries.
    """
    engines: Dict[str, AsyncEngine] = _ENGINES.__dict__.setdefault("engines", {})
    engine = engines.get(database_url)
    if engine is None:
        engine = engines[database_url] = create_engine_for(database_url)
    return engine


def _make_sqlite_savepoints_work(engine: AsyncEngine) -> None:
    """Apply the workaround of SQLAlchemy's SQLite dialect docs ("Serializable isolation /
    Savepoints / Transactional DDL"): without it, the Python driver's own BEGIN handling
    breaks SAVEPOINT, and the rollback at the end of the test would leave rows behind."""

    @event.listens_for(engine.sync_engine, "connect")
    def _no_driver_begin(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.info.get(_SQLITE_BEGIN, "BEGIN"))


# the connection info key of the BEGIN a SQLite connection emits instead of a plain one
_SQLITE_BEGIN = "asyncsessiontest_begin"


async def _make_schema(engine: AsyncEngine, connection: AsyncConnection, metadata: Any) -> None:
    """Create ``metadata``'s tables once per database and process (each time for an in-memory
    SQLite database, which is new for each test), tables that exist kept as they are."""
    url = engine.url
    if _is_memory_sqlite(url):
        await connection.run_sync(metadata.create_all)
        return
    key = (url.render_as_string(hide_password=False), id(metadata))
    if key in _SCHEMAS:
        return
    # processes of a parallel runner starting at once: one creates, the others wait (on
    # PostgreSQL for an advisory lock, on SQLite for the write lock BEGIN IMMEDIATE takes)
    async with engine.connect() as schema_connection:
        info = (await schema_connection.get_raw_connection()).info
        info[_SQLITE_BEGIN] = "BEGIN IMMEDIATE"
        try:
            async with schema_connection.begin():
                if url.get_backend_name() == "postgresql":
                    await schema_connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK}
                    )
                await schema_connection.run_sync(metadata.create_all)
        finally:
            info.pop(_SQLITE_BEGIN, None)
    _SCHEMAS.add(key)


def _begin_nested(connection: Any) -> Any:
    return connection.begin_nested()


# -- the session state ---------------------------------------------------------------------------


class DatabaseSessionState(SessionState):
    """One test's session in database mode: the mock's records, a real session's answers.

    :param session_class: the class of the real session (``AsyncSession`` or a subclass).
    :param database_url: the database to run on.
    :param metadata: the schema to create there, if any.
    :param options: as for :class:`~asyncsessiontest.fake.SessionState`.
    """

    def __init__(
        self,
        session_class: type,
        database_url: str,
        metadata: Optional[MetaData],
        **options: Any,
    ) -> None:
        super().__init__(session_class, **options)
        self.keys = None  # the database gives the primary keys
        self.awaited_answers = frozenset(
            name for name, member in self.shape.members.items() if member.kind == ASYNC
        )
        self.database_url = database_url
        self.metadata = metadata
        self._engine: Optional[AsyncEngine] = None
        self._connection: Optional[AsyncConnection] = None
        self._outer: Any = None
        self._savepoint: Any = None  # SQLAlchemy 1.4: the savepoint the session works in
        self._reads: Optional[HeldValues] = None
        self._seeds: List[Any] = []  # objects whose rows are still to be inserted
        self._canned_seeds: Set[int] = set()  # ids of those of them that claims brought

    # -- the connection ---------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, begin the outer transaction, and make the real session on it."""
        engine = self._engine = _engine_for(self.database_url)
        try:
            connection = self._connection = await engine.connect()
        except (OSError, DBAPIError) as error:
            shown = engine.url.render_as_string(hide_password=True)
            raise ConnectionError(
                f"database mode cannot connect to {shown!r} (the test class's database_url, "
                f"or {ENVIRONMENT_VARIABLE}): {type(error).__name__}: {error}"
            ) from error
        self._outer = await connection.begin()
        if self.metadata is not None:
            await _make_schema(engine, connection, self.metadata)
        options: Dict[str, Any] = {
            "expire_on_commit": self.expire_on_commit,
            "sync_session_class": holding_class_for(self.session_class),
        }
        if _IS_1_4:
            # SQLAlchemy 1.4's recipe: the session works inside a savepoint, begun again
            # each time the session's transaction ends (by the listener, in a greenlet: the
            # savepoint is the sync connection's)
            self._savepoint = await connection.run_sync(_begin_nested)
        else:
            options["join_transaction_mode"] = "create_savepoint"
        real = self.real = self.session_class(bind=connection, **options)
        if _IS_1_4:
            event.listen(real.sync_session, "after_transaction_end", self._restart_savepoint)
        self._reads = HeldValues(real.sync_session)

    def _restart_savepoint(self, session: Any, transaction: Any) -> None:
        connection = self._connection
        if connection is not None and connection.sync_connection is not None:
            if not self._savepoint.is_active:
                self._savepoint = _begin_nested(connection.sync_connection)

    async def close(self) -> None:
        """Close the real session and roll back everything the test wrote."""
        real, reads = self.real, self._reads
        try:
            if real is not None and reads is not None:
                reads.hold_all()
                await real.close()
                reads.fill_unloaded()
        finally:
            connection, self._connection = self._connection, None
            try:
                if self._outer is not None and self._outer.is_active:
                    await self._outer.rollback()
                if connection is not None:
                    await connection.close()
            finally:
                if self._engine is not None:
                    await self._engine.dispose()

    def release(self) -> None:
        """Let go of the session; its objects leave as transient ones holding their values."""
        if self._reads is not None:
            self._reads.release()
        super().release()

    @property
    def sync_session(self) -> Any:
        """The real session's sync ``Session``."""
        return self._real().sync_session

    def _real(self) -> Any:
        if self.real is None:
            raise RuntimeError("database mode: the test's database connection is not open")
        return self.real

    def set_expire_on_commit(self, expire: bool) -> None:
        """Expire (or not) the session's instances on commit from now on.

        :param expire: as ``Session(expire_on_commit=...)``.
        """
        self.expire_on_commit = expire
        if self.real is not None:
            self.real.sync_session.expire_on_commit = expire

    # -- the real session does what the fake one imitates ------------------------------------------

    def before_call(self, operation: Operation) -> None:
        """Nothing: the real session begins its own transactions."""

    def before_await(self, operation: Operation) -> None:
        """Nothing: the real session refuses what it refuses."""

    def after_await(self, operation: Operation) -> None:
        """Nothing: the real session flushed, committed or rolled back itself."""

    def await_failed(self, operation: Operation, error: BaseException) -> None:
        """Note that an awaited method raised ``error``.

        :param operation: the call.
        :param error: what it raised.
        """
        operation.error = error

    def handed_out_anew(self) -> None:
        """Nothing: the real session keeps its transaction, as the same session would."""

    def hold(self, instances: Optional[Iterable[Any]] = None) -> None:
        """Remember what ``instances`` (None: all the session's objects) hold, before something
        expires them, for the test's own reads.

        :param instances: ORM instances, or None.
        """
        if self._reads is not None:
            if instances is None:
                self._reads.hold_all()
            else:
                self._reads.hold(instances)

    # -- seed data ----------------------------------------------------------------------------

    def add_objects(self, instances: Any) -> None:
        """Insert ``instances`` (and what their relationships bring) as rows before the next
        awaited call, and make them persistent in the session at once, so that ``get()`` and
        selects find them and give them back.

        :param instances: ORM instances with their primary keys set.
        :raises TypeError: one of them is not an ORM instance.
        :raises ValueError: one of them has no primary key, or that of another one.
        """
        super().add_objects(instances)
        self._seed(instances, "addObject")

    def add_answer(self, answer: Any) -> None:
        """Route or queue a claim, refusing at once the ORM instances it could not seed.

        A claim's instances become rows before the execution it answers (see :meth:`answer`),
        so each needs its primary key; an INSERT's returned instances need none (the database
        gives them), and so may a queued result's until it answers a select.

        :param answer: a :class:`~asyncsessiontest.routing.CannedAnswer`.
        :raises ValueError: an instance of a routed select's rows has no primary key.
        """
        if isinstance(answer.answer, CannedResult):
            statement = getattr(answer.matcher, "statement", None)
            if statement is not None and not getattr(statement, "is_dml", False):
                for instance in orm_instances(answer.answer._canned_rows):
                    _require_key(instance, "addResult")
        super().add_answer(answer)

    def _seed(self, instances: Iterable[Any], caller: str) -> None:
        sync = self.sync_session
        closure: Dict[int, Any] = {}
        for instance in instances:
            state = inspect(instance)
            if state.session_id is not None or id(instance) in closure:
                continue  # in the session already (seeded, or loaded)
            closure[id(instance)] = instance
            for related, *_ in state.mapper.cascade_iterator("save-update", state):
                if inspect(related).session_id is None:
                    closure.setdefault(id(related), related)
        for instance in closure.values():
            synchronize_foreign_keys(inspect(instance))
        for number, instance in list(closure.items()):
            key = _require_key(instance, caller)
            other = sync.identity_map.get(key)
            if other is None:
                continue
            if caller == "addObject" and id(other) in self._canned_seeds:
                # a canned copy seeded first: the object the test gives addObject() is the row
                sync.expunge(other)
                self._seeds.remove(other)
                self._canned_seeds.discard(id(other))
            elif caller == "addObject":
                raise ValueError(
                    f"addObject(): {safe_repr(instance)} has the primary key of "
                    f"{safe_repr(other)}, already a row of this test (loaded, or written by the "
                    f"code); add seed objects before the code runs"
                )
            else:
                # the row of another instance of this test (the seed a claim copies): the
                # claim that gives this one is checked against that row's values
                del closure[number]
        # persistent at once, with no IO: code given the object sees a loaded one
        for instance in closure.values():
            make_transient_to_detached(instance)
        began = not sync.in_transaction()
        sync.add_all(closure.values())
        if began:
            # adding began the session's transaction, which the code under test must find not
            # begun (its begin() would fail): end it, with nothing to flush or to expire
            expire, sync.expire_on_commit = sync.expire_on_commit, False
            try:
                sync.commit()
            finally:
                sync.expire_on_commit = expire
        self._seeds.extend(closure.values())
        if caller == "addResult":
            self._canned_seeds.update(closure)

    async def prepare(self) -> None:
        """Insert the rows of the seed objects not inserted yet (before any awaited call)."""
        if not self._seeds:
            return
        seeds, self._seeds = self._seeds, []
        self._canned_seeds.clear()
        connection = self._connection
        if connection is None:  # a seed object added once the test's connection was closed
            raise RuntimeError("database mode: the test's database connection is closed")
        tables = []
        for table, rows in _seed_rows(seeds):
            await connection.execute(insert(table), rows)
            tables.append(table)
        if connection.dialect.name == "postgresql":
            await _advance_sequences(connection, tables)
        savepoint = self._savepoint
        if savepoint is not None and savepoint.is_active and not self.sync_session.in_transaction():
            # SQLAlchemy 1.4: the rows go in the outer transaction, out of reach of the
            # session's rollbacks (unless its transaction is open, as on 2.0: see the docs)
            await connection.run_sync(lambda _: savepoint.commit())
            self._savepoint = await connection.run_sync(_begin_nested)
        sync = self.sync_session
        self.hold(seeds)
        for seed in seeds:
            # loaded again by the code's own statements, as production loads the rows
            sync.expire(seed)

    # -- answers --------------------------------------------------------------------------------

    async def answer(self, method: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """Run one execution (``execute``, ``scalars``, ``scalar``, ``stream``,
        ``stream_scalars``) on the database, checking a canned answer against it.

        :param method: the session method.
        :param args: its positional arguments.
        :param kwargs: its keyword arguments.
        """
        statement = args[0] if args else kwargs["statement"]
        canned = self.responder.respond(statement)  # raises the exception of addException
        if canned is not None and not getattr(statement, "is_dml", False):
            # a claim's instances become rows before the execution it answers (not before an
            # INSERT's: what an INSERT returns is what the code writes)
            self._seed(orm_instances(canned._canned_rows), "addResult")
        await self.prepare()
        if canned is None and self.strict:
            message = self.responder.explain_unmatched(statement, self.dialect)
            self.unmatched.append(message)
            raise self.failure_exception(message)
        real = self._real()
        if canned is None:
            return await getattr(real, method)(*args, **kwargs)
        result = await real.execute(*args, **kwargs)
        result = self._verified(canned, result, statement)
        if method == "scalars":
            return result.scalars()
        if method == "scalar":
            return result.scalar()
        if method == "stream":
            return to_async_result(result)
        if method == "stream_scalars":
            return to_async_result(result).scalars()
        return result

    def _verified(self, canned: CannedResult, result: Any, statement: Any) -> Any:
        """Return ``result`` (buffered) once its rows are checked against ``canned``'s."""
        if not getattr(result, "returns_rows", True):  # a CursorResult of DML without RETURNING
            if canned._canned_rowcount is not None and canned._canned_rowcount != result.rowcount:
                self._contradicted(
                    statement,
                    f"rowcount={canned._canned_rowcount}",
                    f"rowcount={result.rowcount}",
                )
            return result
        frozen = result.freeze()
        real_rows = [tuple(row) for row in frozen()]
        canned_rows = [tuple(row) for row in canned._canned_rows]
        if not _same_rows(canned_rows, real_rows, ordered=has_order_by(statement)):
            # an instance whose row the database has with other values shows those columns
            shown = _columns_differing_by_key(canned_rows, real_rows)
            self._contradicted(
                statement, _show_rows(canned_rows, shown), _show_rows(real_rows, shown)
            )
        return require_unique(frozen(), statement)

    def _contradicted(self, statement: Any, canned: str, real: str) -> None:
        last = self.responder.last
        source = last.label if last is not None else "the canned answer"
        message = (
            f"The database contradicts {source} for: {render(statement, self.dialect)}\n"
            f"{source} answered {canned}; the database answers {real}"
        )
        self.contradicted.append(message)
        raise self.failure_exception(message)


def _require_key(instance: Any, caller: str) -> Any:
    """Return the identity key of an instance that becomes a row; refuse one without."""
    key = inspect(instance).mapper.identity_key_from_instance(instance)
    if None in key[1]:
        raise ValueError(
            f"{caller}(): in database mode {safe_repr(instance)} becomes a row before "
            f"the code runs, and needs its primary key set"
        )
    return key


def _seed_rows(seeds: Sequence[Any]) -> List[Tuple[Table, List[Dict[str, Any]]]]:
    """Return the rows to insert for ``seeds``: table by table in dependency order, a row
    that another row of its table refers to before that row, consecutive rows that set the
    same columns in one executemany."""
    rows: Dict[Table, List[Dict[str, Any]]] = defaultdict(list)
    for seed in seeds:
        state = inspect(seed)
        mapper, values = state.mapper, state.dict
        for table in mapper.tables:
            row: Dict[str, Any] = {}
            for column in table.columns:
                try:
                    prop = mapper.get_property_by_column(column)
                except UnmappedColumnError:  # a column the class does not map: its default
                    continue
                if prop.key in values:
                    row[column.key] = values[prop.key]
            rows[table].append(row)
        for prop in mapper.relationships:  # rows of many-to-many association tables
            if prop.secondary is None or prop.key not in values or values[prop.key] is None:
                continue
            children = list(values[prop.key]) if prop.uselist else [values[prop.key]]
            for child in children:
                child_mapper = inspect(child).mapper
                row = {}
                for local, remote in prop.synchronize_pairs:
                    row[remote.key] = getattr(seed, mapper.get_property_by_column(local).key)
                for remote_child, remote in prop.secondary_synchronize_pairs:
                    row[remote.key] = getattr(
                        child, child_mapper.get_property_by_column(remote_child).key
                    )
                rows[prop.secondary].append(row)
    batches: List[Tuple[Table, List[Dict[str, Any]]]] = []
    for table in sort_tables(list(rows)):
        for row in _referred_first(table, rows[table]):
            if batches and batches[-1][0] is table and set(batches[-1][1][0]) == set(row):
                batches[-1][1].append(row)
            else:
                batches.append((table, [row]))
    return batches


def _referred_first(table: Table, rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Order ``rows`` so that a row another row refers to (a self-referential foreign key,
    such as an employee's manager) comes before it, as the database checks on insert."""
    pairs = [
        (element.parent.key, element.column.key)
        for element in table.foreign_keys
        if element.column.table is table
    ]
    if not pairs:
        return rows
    ordered: List[Dict[str, Any]] = []
    waiting = list(rows)
    while waiting:
        placed = [
            row
            for row in waiting
            if not any(
                row.get(local) is not None
                and any(other.get(remote) == row.get(local) for other in waiting)
                and not (row.get(remote) == row.get(local))  # a row that refers to itself
                for local, remote in pairs
            )
        ]
        if not placed:  # a cycle: the database refuses it as it would refuse the code's
            placed = waiting
        ordered += placed
        waiting = [row for row in waiting if not any(row is done for done in placed)]
    return ordered


async def _advance_sequences(connection: AsyncConnection, tables: Iterable[Table]) -> None:
    """Move each seeded table's key sequence past the keys the seed rows set by hand, so that
    rows the code under test adds get new keys, as after rows the application inserted."""
    preparer = connection.dialect.identifier_preparer
    for table in set(tables):
        column = autoincrement_column(table)
        if column is None:
            continue
        name = preparer.format_table(table)
        highest = f"SELECT max({preparer.quote(column.name)}) FROM {name}"
        # never backwards: a sequence is not rolled back, and other tests may have moved it
        await connection.execute(
            text(
                "SELECT setval(sequence, GREATEST((" + highest + "), "
                "COALESCE(pg_sequence_last_value(sequence), 1))) "
                "FROM (SELECT pg_get_serial_sequence(:table, :column)::regclass AS sequence) "
                "AS found WHERE sequence IS NOT NULL"
            ),
            {"table": name, "column": column.name},
        )


def _same_rows(
    canned: List[Tuple[Any, ...]], real: List[Tuple[Any, ...]], ordered: bool
) -> bool:
    """Tell whether the database's rows are the canned ones (in order if ``ordered``)."""
    if len(canned) != len(real):
        return False
    if ordered:
        return all(_same_row(a, b) for a, b in zip(canned, real))
    remaining = list(real)
    for row in canned:
        for index, candidate in enumerate(remaining):
            if _same_row(row, candidate):
                del remaining[index]
                break
        else:
            return False
    return True


def _same_row(canned: Tuple[Any, ...], real: Tuple[Any, ...]) -> bool:
    return len(canned) == len(real) and all(_same_value(a, b) for a, b in zip(canned, real))


def _same_value(canned: Any, real: Any) -> bool:
    if is_orm_instance(canned) and is_orm_instance(real):
        if canned is real:
            return True
        if _identity_key(canned) != _identity_key(real):
            return False
        return not _differing_columns(canned, real)
    return values_equal(real, canned)[0]


def _differing_columns(canned: Any, real: Any) -> List[str]:
    """Return the columns the canned instance sets to other values than the database's row
    (of those the statement loaded: a deferred column is not compared)."""
    canned_state, real_state = inspect(canned), inspect(real)
    unloaded = real_state.unloaded
    return [
        key
        for key, value in canned_state.dict.items()
        if key in canned_state.mapper.column_attrs
        and key not in unloaded
        and not values_equal(real_state.dict.get(key), value)[0]
    ]


def _identity_key(instance: Any) -> Any:
    """Return the instance's identity key, reading no attribute (which could load)."""
    state = inspect(instance)
    if state.key is not None:
        return state.key
    return state.mapper.identity_key_from_instance(instance)


def _columns_differing_by_key(
    canned: List[Tuple[Any, ...]], real: List[Tuple[Any, ...]]
) -> Dict[Any, List[str]]:
    """Return, by identity key, the columns of the instances both answers hold (the same row)
    whose values differ."""
    found = {
        _identity_key(value): value for row in real for value in row if is_orm_instance(value)
    }
    differing: Dict[Any, List[str]] = {}
    for row in canned:
        for value in row:
            if is_orm_instance(value):
                key = _identity_key(value)
                other = found.get(key)
                if other is not None and other is not value:
                    columns = _differing_columns(value, other)
                    if columns:
                        differing[key] = columns
    return differing


def _show_rows(rows: List[Tuple[Any, ...]], shown: Dict[Any, List[str]]) -> str:
    return "[" + ", ".join(_show_row(row, shown) for row in rows) + "]"


def _show_row(row: Tuple[Any, ...], shown: Dict[Any, List[str]]) -> str:
    if len(row) == 1:
        return _show_value(row[0], shown)
    return "(" + ", ".join(_show_value(value, shown) for value in row) + ")"


def _show_value(value: Any, shown: Dict[Any, List[str]]) -> str:
    """Show an instance by its primary key (and the columns ``shown`` names for its row)."""
    if not is_orm_instance(value):
        return safe_repr(value)
    state = inspect(value)
    mapper = state.mapper
    keys = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
    identity = _identity_key(value)
    parts = [f"{key}={part!r}" for key, part in zip(keys, identity[1])]
    parts += [f"{key}={state.dict.get(key)!r}" for key in shown.get(identity, [])]
    return f"{type(value).__name__}({', '.join(parts)})"


# -- what each method does in database mode -------------------------------------------------


def _on_real(name: str) -> Behaviour:
    """Return the behaviour of a coroutine method: the real session's, after the seed rows."""

    async def call(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        await state.prepare()
        return await getattr(state._real(), name)(*args, **kwargs)

    return call


def _on_real_sync(name: str) -> Behaviour:
    """Return the behaviour of a plain method: the real session's."""

    def call(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        return getattr(state._real(), name)(*args, **kwargs)

    return call


def _execution(name: str) -> Behaviour:
    async def call(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        return await state.answer(name, args, kwargs)

    return call


def _holding(name: str, everything: bool) -> Behaviour:
    """Return the behaviour of a method that expires objects: hold their values first."""
    on_real = _on_real(name)

    async def call(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        state.hold(None if everything else args[:1])
        return await on_real(state, args, kwargs)

    return call


def _expire(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    instance = args[0] if args else kwargs["instance"]
    state.hold([instance])
    state._real().expire(*args, **kwargs)


def _expire_all(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    state.hold(None)
    state._real().expire_all()


async def _close(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
    state.hold(None)
    await state._real().close()
    state._reads.fill_unloaded()  # closed, the objects are detached: they keep their values


def _begin(nested: bool) -> Behaviour:
    def call(state: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        return RecordedTransaction(state, nested)

    return call


DATABASE_BEHAVIOURS: Dict[str, Behaviour] = {
    "__aenter__": lambda state, a, k: _aenter(state),
    "__aexit__": lambda state, a, k: _close(state, (), {}),
    "close": _close,
    "aclose": _close,
    "reset": _close,
    "rollback": _holding("rollback", everything=True),
    "expire": _expire,
    "expire_all": _expire_all,
    "begin": _begin(nested=False),
    "begin_nested": _begin(nested=True),
    "__contains__": lambda state, a, k: a[0] in state.sync_session,
    "__iter__": lambda state, a, k: iter(state.sync_session),
}
for _name in ("execute", "scalars", "scalar", "stream", "stream_scalars"):
    DATABASE_BEHAVIOURS[_name] = _execution(_name)
for _name in (
    "commit", "flush", "get", "get_one", "merge", "merge_all", "refresh", "delete",
    "delete_all", "run_sync", "connection", "invalidate",
):  # fmt: skip
    DATABASE_BEHAVIOURS[_name] = _on_real(_name)
for _name in (
    "add", "add_all", "expunge", "expunge_all", "is_modified", "in_transaction",
    "in_nested_transaction", "get_transaction", "get_nested_transaction", "get_bind",
    "get_async_bind", "identity_key", "object_session",
):  # fmt: skip
    DATABASE_BEHAVIOURS[_name] = _on_real_sync(_name)
DatabaseSessionState.behaviours = DATABASE_BEHAVIOURS


async def _aenter(state: Any) -> Any:
    await state.prepare()
    return state.session


class RecordedTransaction(TransactionBlock):
    """What ``session.begin()`` and ``session.begin_nested()`` return in database mode: the real
    session's transaction, its begin, commit and rollback recorded in the session's history as
    in mock mode.

    :param state: the state of the session it belongs to.
    :param nested: True for ``begin_nested()``.
    """

    def __init__(self, state: DatabaseSessionState, nested: bool) -> None:
        self._state = state
        self.nested = nested
        """True for ``begin_nested()``, a savepoint."""
        self._real: Any = None

    @property
    def session(self) -> Any:
        """The session mock this transaction belongs to."""
        return self._state.session

    @property
    def is_active(self) -> bool:
        """True between the start of the transaction and its commit or rollback."""
        return bool(self._real is not None and self._real.is_active)

    def _is_open(self) -> bool:
        return self.is_active

    @property
    def _kind(self) -> str:
        return "savepoint" if self.nested else "transaction"

    async def _start(self) -> RecordedTransaction:
        if self._real is None:
            await self._state.prepare()
            real = self._state._real()
            self._real = await (real.begin_nested() if self.nested else real.begin())
            self._state.history.append(Operation(f"{self._kind}: begin"))
        return self

    async def commit(self) -> None:
        """Commit this transaction (release it, for a savepoint); the ``side_effect`` set on
        ``session.commit`` runs first, as in mock mode."""
        event = Operation(f"{self._kind}: {'release' if self.nested else 'commit'}")
        self._state.history.append(event)
        try:
            if not self.nested:
                await self._state.commit_side_effect()
            await self._real.commit()
        except BaseException as error:
            event.error = error
            self._state.history.append(Operation(f"{self._kind}: rollback"))
            if self._real.is_active:
                self._state.hold(None)
                await self._real.rollback()
            raise

    async def rollback(self) -> None:
        """Roll this transaction back (to the savepoint, for a nested one)."""
        self._state.history.append(Operation(f"{self._kind}: rollback"))
        self._state.hold(None)
        await self._real.rollback()

    def __repr__(self) -> str:
        state = "active" if self.is_active else "inactive"
        return f"<RecordedTransaction {self._kind}, {state}>"

