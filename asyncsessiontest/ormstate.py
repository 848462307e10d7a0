"""The real ``Session`` behind the mock: it holds the instances, flushes without IO, and makes
implicit IO fail as it does in production.

``self.session.sync_session`` is a real :class:`sqlalchemy.orm.Session` of the session class's
``sync_session_class``. Its identity map, cascades, ``new``/``dirty``/``deleted``, expiry and
lazy loaders are SQLAlchemy's own. Two things differ from a session over a database:

- A flush writes nothing. It applies the Python-side column defaults, primary keys (when
  ``assign_primary_keys`` is on) and foreign keys of related objects, then makes the objects
  persistent, deleted or clean through the session's own bookkeeping, as a flush does.
- A load the ORM starts by itself (an expired attribute, a relationship the statement did not
  load) reaches the ``do_orm_execute`` event. From the code under test, outside a greenlet, it
  raises SQLAlchemy's own ``MissingGreenlet`` (with one line saying why), as production does.
  From the test's own methods it gives back the value the object held, so a test can read what
  the code did. Inside ``run_sync()``, where production would query, it is answered like any
  execution.

Every private name of SQLAlchemy's this package uses lives here, each covered by a test that
fails loudly if SQLAlchemy changes it.
"""

from __future__ import annotations

import os
import sys
import unittest
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

import sqlalchemy
from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.schema import Column
from sqlalchemy.sql.selectable import Select, TableClause
from sqlalchemy.util import await_only

from asyncsessiontest.keys import assignable
from asyncsessiontest.kinds import is_orm_instance
from asyncsessiontest.matching import plain_sql

if TYPE_CHECKING:
    from asyncsessiontest.fake import SessionState

__all__ = ["OrmState", "expired_reason", "orm_instances", "require_unique"]

# the attribute of the sync session that leads back to its OrmState
_ORM = "_asyncsessiontest_orm"
_LOADING_STRATEGIES = frozenset({"joined", "selectin", "subquery", "immediate", "noload"})
def sa_inspect(instance: Any) -> Any:
    """Return ``inspect(instance)``: an instance's state, typed alike by every SQLAlchemy."""
    return inspect(instance)


class _MapperPlan:
    """What the session's work on a mapper's objects reads of the mapper, read once per mapper.

    Iterating a mapper's ``attrs``, ``column_attrs`` and ``relationships`` copies them each
    time, and reading each column's defaults walks them all: for each object adopted or flushed,
    in every test, this is most of the cost of that work.

    :param mapper: the mapper.
    """

    def __init__(self, mapper: Any) -> None:
        self.column_attrs = mapper.column_attrs  # replaced by SQLAlchemy when the mapping changes
        self.attrs = tuple(mapper.attrs)
        self.attribute_keys = tuple(prop.key for prop in self.attrs)
        self.column_keys = tuple(prop.key for prop in mapper.column_attrs)
        self.relationships = tuple(mapper.relationships)
        defaults: List[Tuple[str, Any, Any, bool]] = []
        computed: List[str] = []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            default = getattr(column, "default", None)
            scalar = default is not None and bool(getattr(default, "is_scalar", False))
            called = default is not None and bool(getattr(default, "is_callable", False))
            if scalar or called:
                defaults.append((prop.key, column, default, called))
            if getattr(column, "primary_key", False):
                continue
            if getattr(column, "server_default", None) is not None or (
                default is not None and not (scalar or called)
            ):
                computed.append(prop.key)
        self.defaults = tuple(defaults)
        """(key, column, default, callable) of each column with a Python-side default."""
        self.computed = tuple(computed)
        """The keys of the columns the database computes on INSERT (primary keys aside)."""


_PLANS: weakref.WeakKeyDictionary[Any, _MapperPlan] = weakref.WeakKeyDictionary()


def _plan(mapper: Any) -> _MapperPlan:
    """Return the plan of ``mapper``, read anew when its mapping changed."""
    plan = _PLANS.get(mapper)
    if plan is None or plan.column_attrs is not mapper.column_attrs:
        plan = _PLANS[mapper] = _MapperPlan(mapper)
    return plan


# frames of these packages are not the code that read an attribute
_PACKAGE_DIRECTORIES = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(sqlalchemy.__file__)) + os.sep,
)


async def _nothing() -> None:
    return None


def _await_nothing() -> None:
    """Await nothing as an async driver awaits its IO: outside a greenlet, this raises
    SQLAlchemy's own ``MissingGreenlet``."""
    coroutine = _nothing()
    try:
        await_only(coroutine)
    except BaseException:
        coroutine.close()  # never awaited: say nothing of it (SQLAlchemy 1.4 leaves it open)
        raise


def _refuse_connection() -> Any:
    # outside a greenlet this raises MissingGreenlet, as the async drivers do; inside one (run_sync)
    # the code asked for a database connection, which the mock does not have
    _await_nothing()
    raise InvalidRequestError(
        "asyncsessiontest: the session mock has no database connection; code run through "
        "run_sync() can execute statements (answered like session.execute()), not use "
        "connections. Test this code against a real database."
    )


_ENGINE: Any = None


def _no_io_engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = create_engine("sqlite://", creator=_refuse_connection)
    return _ENGINE


_SYNC_CLASSES: Dict[type, type] = {}


def sync_class_for(session_class: type) -> type:
    """Return the sync session class behind mocks of ``session_class``: its
    ``sync_session_class`` with a flush that writes nothing (made once per class).

    :param session_class: ``AsyncSession`` or a subclass.
    """
    found = _SYNC_CLASSES.get(session_class)
    if found is None:
        base = getattr(session_class, "sync_session_class", Session)

        def flush(self: Session, objects: Any = None) -> None:
            """Flush as a session over a database would, writing nothing (see ormstate)."""
            orm = getattr(self, _ORM, None)
            if orm is not None:
                orm.flush_without_io()

        def _is_clean(self: Session) -> bool:
            # after a flush without IO, objects without a primary key stay pending: a commit,
            # which flushes until the session is clean, must not count them
            orm = getattr(self, _ORM, None)
            return orm.nothing_to_flush() if orm is not None else base._is_clean(self)

        found = type(
            base.__name__,
            (base,),
            {"flush": flush, "_is_clean": _is_clean, "__module__": base.__module__},
        )
        event.listen(found, "do_orm_execute", _answer_execution)
        _SYNC_CLASSES[session_class] = found
    return found


class OrmState:
    """One test's real sync session and what the mock knows about its objects.

    :param state: the session state it belongs to (its ``expire_on_commit`` and
        ``check_implicit_io`` say how the session behaves).
    """

    def __init__(self, state: SessionState) -> None:
        self.state = state
        options: Dict[str, Any] = {"expire_on_commit": state.expire_on_commit}
        if sqlalchemy.__version__.startswith("1."):
            options["future"] = True  # as AsyncSession makes its sync session on 1.4
        self.sync: Session = sync_class_for(state.session_class)(bind=_no_io_engine(), **options)
        setattr(self.sync, _ORM, self)
        self.held: Dict[int, Dict[str, Any]] = {}
        """id(object) -> the attribute values it held when they were last loaded."""
        self.why_unloaded: Dict[Tuple[int, str], Any] = {}
        """(id(object), attribute) -> why it is not loaded, for error messages: a reason, or the
        statement that loaded the object without it."""
        self.why_expired: Dict[int, str] = {}
        """id(object) -> what expired all its attributes last (a commit, expire())."""
        self.objects: Dict[int, Any] = {}
        """id(object) -> every object that was in the session, until the test ends."""
        self.raising: Dict[Tuple[int, str], str] = {}
        """(id(object), relationship) -> the lazy= of a raiseload() option that loaded it."""
        self.deleted_flushed = False
        """True once a flush deleted objects, until a commit through the sync session's own
        commit() detaches them."""

    # -- objects entering the session -----------------------------------------------------------

    def track(self, instances: Iterable[Any]) -> None:
        """Remember ``instances`` (added, loaded) so they leave the session cleanly at the end.

        :param instances: ORM instances.
        """
        for instance in instances:
            self.objects[id(instance)] = instance

    def adopt(self, instances: Iterable[Any], statement: Any) -> None:
        """Make canned ``instances`` persistent, loaded as ``statement`` would have loaded them.

        :param instances: ORM instances an execution of ``statement`` returns.
        :param statement: the executed statement, or None for ``get()``.
        """
        for instance in instances:
            self._adopt(instance, statement, None)

    def _adopt(self, instance: Any, statement: Any, path: Any) -> None:
        instance_state = sa_inspect(instance)
        if instance_state.session_id is None and instance_state.key is not None:
            if id(instance) in self.objects and instance_state.key not in self.sync.identity_map:
                # detached by a close() of this session: loaded again, as a new object would be
                self.sync.add(instance)
            return
        if instance_state.session_id is not None or instance_state.key is not None:
            return  # already in a session (this one: identity-mapped, loaded as it is)
        mapper = instance_state.mapper
        identity = mapper.identity_key_from_instance(instance)
        if None in identity[1] or identity in self.sync.identity_map:
            return  # without a complete key, or another object has it: it stays transient
        loaded, raising = loaded_attributes(statement, mapper, path)
        for key in raising:
            self.raising[(id(instance), key)] = raising[key]
        plan = _plan(mapper)
        values = instance_state.dict
        held = self.held.setdefault(id(instance), {})
        for key in plan.attribute_keys:
            if key in values:
                held[key] = values[key]
            if key not in loaded:
                values.pop(key, None)
                # the statement itself: rendered only if a message needs it
                self.why_unloaded[(id(instance), key)] = statement
        for prop in plan.relationships:
            # out of the object while it enters the session, so that add() does not cascade
            # the related objects in as new ones: they come back loaded too, below
            values.pop(prop.key, None)
        make_transient_to_detached(instance)
        self.sync.add(instance)
        self.objects[id(instance)] = instance
        for key in plan.column_keys:
            if key in loaded and key not in values:
                set_committed_value(instance, key, held.get(key))
        for prop in plan.relationships:
            if prop.key in loaded:
                value: Any = held.get(prop.key, [] if prop.uselist else None)
                children: Any = value if prop.uselist else [value]
                for child in children:
                    if child is not None:
                        self._adopt(child, statement, (path or ()) + (prop,))
                set_committed_value(instance, prop.key, value)

    # -- flush, commit, rollback, expiry ---------------------------------------------------------

    def nothing_to_flush(self) -> bool:
        """Tell whether a flush would do nothing: what is pending cannot get a primary key."""
        sync = self.sync
        if sync.deleted or sync.identity_map.check_modified():
            return False
        keys = self.state.keys
        return not any(
            _has_identity(instance) or (keys is not None and assignable(instance))
            for instance in sync.new
        )

    def flush_without_io(self) -> None:
        """Do a flush's work without a database: defaults, keys, then the objects' new states."""
        sync = self.sync
        new = [sa_inspect(instance) for instance in sync.new]
        deleted = [sa_inspect(instance) for instance in sync.deleted]
        modified = sync.identity_map.check_modified()  # cheap: dirty is worked out only then
        dirty = [sa_inspect(instance) for instance in sync.dirty] if modified else []
        if not (new or deleted or dirty):
            return
        self.track(state.obj() for state in new)
        computed: Dict[Any, List[str]] = {}
        for instance_state in new:
            plan = _plan(instance_state.mapper)
            if plan.defaults:
                _apply_defaults(instance_state, plan)
            if plan.computed:
                computed[instance_state] = _computed_by_the_database(instance_state, plan)
        keys = self.state.keys
        if keys is not None:
            keys.assign(state.obj() for state in new)
        for instance_state in new + dirty:
            if _plan(instance_state.mapper).relationships:
                _synchronize_foreign_keys(instance_state)
        persisted = {state for state in new if _has_identity(state.obj())}
        persisted.update(dirty)
        if not sync.in_transaction():
            sync.begin()
        if deleted:
            sync._remove_newly_deleted(deleted)  # what a flush does for deleted objects
            self.deleted_flushed = True
        if persisted:
            sync._register_persistent(persisted)  # ... and for inserted and updated ones
        fetched = _server_defaults_fetched(self.state.dialect) if computed else None
        for instance_state, computed_keys in computed.items():
            if not computed_keys or instance_state not in persisted:
                continue
            instance = instance_state.obj()
            if fetched is not None and fetched(instance_state.mapper):
                for key in computed_keys:  # RETURNING brought the value, unknown to the mock
                    set_committed_value(instance, key, None)
            else:
                sync.expire(instance, computed_keys)  # as the flush of a database expires them
                for key in computed_keys:
                    self.why_unloaded[(id(instance), key)] = (
                        "computed by the database on INSERT and not fetched"
                    )

    def commit(self) -> None:
        """Commit the sync session's transaction, just flushed (see ``SessionState.committed``).

        ``Session.commit()`` costs a test more than everything else the session does to its
        objects, for work that, once flushed without IO, comes down to what this does: expire
        every object (``expire_on_commit``) and end the transaction. Where the commit has more
        to do (a savepoint or a transaction inside another, objects deleted by a flush to
        detach, commit listeners to call, a transaction not active or not begun) it is
        ``Session.commit()`` itself that commits.
        """
        sync = self.sync
        transaction = sync.get_transaction()
        if (
            transaction is None
            or transaction.parent is not None
            or transaction.nested
            or not transaction.is_active
            or self.deleted_flushed
            or sync.twophase
            or sync.dispatch.before_commit
            or sync.dispatch.after_commit
        ):
            self.deleted_flushed = False
            sync.commit()
            return
        # what the transaction's commit does, with nothing left to flush and no connection
        if sync.expire_on_commit:
            sync.expire_all()
        transaction.close()

    def refresh(self, instance: Any, attribute_names: Any) -> None:
        """Reload ``instance`` as ``refresh()`` does: from a routed answer to the select of that
        object, if one is configured (``addResult([User(id=1, ...)], statement=select(User)
        .where(User.id == 1))``, or a route for ``User``), otherwise from the values it holds.

        :param instance: a persistent instance.
        :param attribute_names: the attributes to reload, or None for all.
        """
        instance_state = sa_inspect(instance)
        if instance in self.sync.new:
            return  # kept pending for want of a primary key: production would have one
        if instance_state.session_id != self.sync.hash_key or instance_state.key is None:
            raise InvalidRequestError(
                f"Instance '{_describe(instance)}' is not persistent within this Session"
            )
        mapper = instance_state.mapper
        names = list(attribute_names if attribute_names is not None else mapper.attrs.keys())
        self.hold(instance)  # the values it had before any change not flushed
        held = self.held[id(instance)]
        fresh = self._routed_copy(instance)
        if fresh is not None:
            values = sa_inspect(fresh).dict
            for key in names:
                if key in values and hasattr(mapper.attrs[key], "columns"):
                    held[key] = values[key]
                    set_committed_value(instance, key, values[key])
        for key in names:
            self.why_unloaded.pop((id(instance), key), None)  # loaded now
        for key in names:
            prop = mapper.attrs[key]
            if key in instance_state.unloaded or key in instance_state.committed_state:
                # an unloaded attribute, or one a change not flushed holds: reloaded
                default: Any = ([] if prop.uselist else None) if hasattr(prop, "uselist") else None
                set_committed_value(instance, key, held.get(key, default))
        # what a refresh's load does to the object's state: all of it, or the names loaded
        if attribute_names is None:
            instance_state._commit_all(instance_state.dict, self.sync.identity_map)
        else:
            instance_state._commit(instance_state.dict, names)

    def _routed_copy(self, instance: Any) -> Any:
        """Return the object a route answers the select of ``instance`` by its key with, if any."""
        cls = type(instance)
        mapper = sa_inspect(instance).mapper
        criteria = [
            getattr(cls, mapper.get_property_by_column(column).key) == value
            for column, value in zip(mapper.primary_key, sa_inspect(instance).identity)
        ]
        answer = self.state.responder.respond(select(cls).where(*criteria), queued=False)
        if answer is None:
            return None
        identity = sa_inspect(instance).identity
        for row in answer:
            for value in row:
                if type(value) is cls and mapper.identity_key_from_instance(value)[1] == identity:
                    return value
        return None

    def close(self) -> None:
        """Close the sync session; its objects keep the values they held, so the test can read
        them."""
        self._fill_unloaded()
        self.sync.close()

    def _fill_unloaded(self) -> None:
        for instance in list(self.objects.values()):
            instance_state = sa_inspect(instance)
            held = self.held.get(id(instance), {})
            for key in instance_state.unloaded:
                if key in held:
                    instance_state.dict[key] = held[key]

    def hold_loaded_values(self) -> None:
        """Remember every loaded value of the session's objects, before something expires them."""
        for instance in list(self.sync.identity_map.values()):
            self.hold(instance)

    def hold(self, instance: Any) -> None:
        """Remember the values ``instance`` holds, before something expires it.

        :param instance: an ORM instance in the session.
        """
        instance_state = sa_inspect(instance)
        values = dict(instance_state.dict)
        # a change not flushed is what a rollback, an expire() or a refresh() discards: the
        # value the object holds afterwards is the one it had before the change
        columns = instance_state.mapper.column_attrs
        for key in list(instance_state.committed_state):
            if key in values and key in columns:
                before = instance_state.attrs[key].history.deleted
                if before:  # empty when nothing was loaded before the change
                    values[key] = before[0]
        self.held.setdefault(id(instance), {}).update(values)

    def expired(self, instances: Optional[Iterable[Any]], reason: str) -> None:
        """Note why ``instances`` (None: all of the session's) lost their loaded values.

        :param instances: the instances expired, or None for all.
        :param reason: e.g. ``"expired by commit() (operation 3)"``.
        """
        targets = list(self.sync.identity_map.values()) if instances is None else list(instances)
        for instance in targets:
            self.why_expired[id(instance)] = reason

    def release(self) -> None:
        """Send every object back out of the session as a transient one with its values."""
        self._fill_unloaded()
        delattr(self.sync, _ORM)
        # close() expunges everything and ends the transaction, whose links back to the
        # session would otherwise leave both to the garbage collector
        self.sync.close()
        for instance in self.objects.values():
            instance_state = sa_inspect(instance)
            if instance_state.key is not None or instance_state.session_id is not None:
                make_transient(instance)
        self.objects.clear()
        self.held.clear()
        self.why_unloaded.clear()
        self.why_expired.clear()
        self.raising.clear()

    # -- implicit loads --------------------------------------------------------------------------

    def implicit_load(self, execute_state: Any) -> Any:
        """Answer a load the ORM started by itself (see the module's docstring)."""
        instance, key, reader = _reader()
        serve = not self.state.check_implicit_io or _is_test_frame(reader)
        lazy = self.raising.get((id(instance), key or ""))
        if lazy is not None and not serve and execute_state.is_relationship_load:
            # what the raise loader of a raiseload() option raises, in SQLAlchemy's words
            raise InvalidRequestError(
                f"'{type(instance).__name__}.{key}' is not available due to lazy='{lazy}'"
            )
        if not serve:
            try:
                _await_nothing()
            except MissingGreenlet as error:
                # SQLAlchemy's own text (its link included), then the line that says why
                explained = MissingGreenlet(f"{error}\n{self._explain(instance, key)}")
                explained.code = None  # type: ignore[assignment]  # the link is in line 1 already
                raise explained from None
        if execute_state.is_relationship_load:
            if instance is None or key is None:
                return self.state.result_for(execute_state.statement, execute_state.parameters)
            prop = sa_inspect(instance).mapper.attrs[key]
            value: Any = self.held.get(id(instance), {}).get(key, [] if prop.uselist else None)
            children = list(value) if prop.uselist else ([] if value is None else [value])
            self.adopt(children, None)
            from asyncsessiontest.results import make_result

            return make_result(children)
        return self._column_load(execute_state, instance)

    def _column_load(self, execute_state: Any, instance: Any) -> Any:
        from asyncsessiontest.results import make_result

        refresh = getattr(execute_state.load_options, "_refresh_state", None)
        target = refresh.obj() if refresh is not None else instance
        if target is None:
            return make_result([])
        instance_state = sa_inspect(target)
        held = self.held.get(id(target), {})
        for key in list(instance_state.unloaded):
            prop = instance_state.mapper.attrs[key]
            if not hasattr(prop, "columns"):
                continue
            set_committed_value(target, key, held.get(key))
        return make_result([target])

    def _explain(self, instance: Any, key: Optional[str]) -> str:
        """Return the line that says which attribute of which object, why, and what to do."""
        if instance is None or key is None:
            return "asyncsessiontest: the code under test started a load outside an await."
        name = f"{type(instance).__name__}.{key}"
        identity = sa_inspect(instance).identity
        which = f"{type(instance).__name__}{list(identity)}" if identity else _describe(instance)
        # what the statement left out stays the reason after a commit expired the rest
        why = self.why_unloaded.get((id(instance), key))
        if why is None:
            why = self.why_expired.get(id(instance))
        if not isinstance(why, str):
            why = (
                "not loaded" if why is None else f"not loaded by {' '.join(plain_sql(why).split())}"
            )
        variable = type(instance).__name__.lower()
        if hasattr(sa_inspect(instance).mapper.attrs[key], "uselist"):
            fix = f"load it with the statement, .options(selectinload({name}))"
            if not sqlalchemy.__version__.startswith("1."):  # 1.4 refreshes columns only
                fix += f", or await session.refresh({variable}, [{key!r}])"
        else:
            fix = (
                f"await session.refresh({variable}) before reading it, or the session factory "
                f"must set expire_on_commit=False"
            )
        return f"asyncsessiontest: {name} of {which} was {why}; production code must {fix}."


def _has_identity(instance: Any) -> bool:
    return None not in sa_inspect(instance).mapper.identity_key_from_instance(instance)[1]


def _describe(instance: Any) -> str:
    return f"<{type(instance).__name__} at {hex(id(instance))}>"


def _answer_execution(execute_state: Any) -> Any:
    """The sync session's ``do_orm_execute`` listener: every execution is answered by the mock."""
    orm: Optional[OrmState] = getattr(execute_state.session, _ORM, None)
    if orm is None:
        return None
    if execute_state.is_column_load or execute_state.is_relationship_load:
        return orm.implicit_load(execute_state)
    return orm.state.sync_execution(execute_state.statement, execute_state.parameters)


def _reader() -> Tuple[Any, Optional[str], Any]:
    """Return (instance, attribute, frame) of the attribute read that started a load."""
    frame: Any = sys._getframe(2)
    instance: Any = None
    key: Optional[str] = None
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__get__" and "instance" in frame.f_locals:
            descriptor = frame.f_locals.get("self")
            if hasattr(descriptor, "key") and hasattr(descriptor, "impl"):
                instance, key = frame.f_locals["instance"], descriptor.key
        if not code.co_filename.startswith(_PACKAGE_DIRECTORIES):
            return instance, key, frame
        frame = frame.f_back
    return instance, key, None


def _is_test_frame(frame: Any) -> bool:
    """Tell whether ``frame`` runs a method of a TestCase: the test's own code, not the code
    under test."""
    # a comprehension, generator expression or lambda in a test method is the method's code
    while frame is not None and frame.f_code.co_name.startswith("<") and (
        frame.f_code.co_name != "<module>"
    ):
        frame = frame.f_back
    return frame is not None and isinstance(frame.f_locals.get("self"), unittest.TestCase)


# -- what a statement loads -----------------------------------------------------------------------

_SCHEMA_OBJECTS = (Column, TableClause)
# identities of the tables and columns a cache key below names -> those objects
_ALIVE: Dict[Tuple[int, ...], Tuple[Any, ...]] = {}
# (statement structure, mapper, path) -> what the statement loads of those objects; the key holds
# no bound values, so the cache keeps no statement's values alive
_LOADED: Dict[Any, Tuple[Set[str], Dict[str, str]]] = {}
# statement structure -> whether its result needs unique() (a joined eager load of a collection)
_NEEDS_UNIQUE: Dict[Any, bool] = {}


def _structure(statement: Any) -> Any:
    """Return what a statement's loading depends on, as a dict key, or None."""
    if statement is None or not getattr(statement, "is_select", False):
        return None
    if isinstance(statement, Select) and not statement._with_options:
        columns = tuple(statement._raw_columns)
        if all(isinstance(column, _SCHEMA_OBJECTS) for column in columns):
            # without loader options, what a select of entities loads follows from the
            # mapping alone: the identities of its tables and columns serve, ~30x cheaper
            # than a cache key; kept alive, so that no other object takes their identities
            identities = tuple(map(id, columns))
            if identities not in _ALIVE:
                _remember(_ALIVE, identities, columns)
            return ("mapping", identities)
    try:
        return statement._generate_cache_key().key  # memoized on the statement by SQLAlchemy
    except Exception:  # a construct that does not support caching
        return None


def loaded_attributes(statement: Any, mapper: Any, path: Any) -> Tuple[Set[str], Dict[str, str]]:
    """Return the attribute keys of ``mapper`` that ``statement`` loads for its objects, and
    the relationships a ``raiseload()`` option makes raise (key -> its ``lazy=``).

    Columns are loaded unless deferred; relationships when eagerly loaded (by the mapping's
    ``lazy=`` or the statement's loader options), as SQLAlchemy's own compile state says.
    Worked out once per statement structure, mapper and path.

    :param statement: an ORM select, or None for the mapping's own defaults.
    :param mapper: the mapper of the objects.
    :param path: the relationships followed from the statement's entity to them, or None.
    """
    structure = _structure(statement)
    cache_key = (structure, mapper, path)
    found = _LOADED.get(cache_key)
    if found is not None:
        return found
    context = _compile_state(statement)
    registry = mapper._path_registry
    for prop in path or ():
        registry = registry[prop][prop.mapper]
    loaded: Set[str] = set()
    raising: Dict[str, str] = {}
    primary = {column.key for column in mapper.primary_key}
    for prop in mapper.attrs:
        loader = prop._get_context_loader(context, registry) if context is not None else None
        chosen = loader.strategy if loader is not None and loader.strategy else None
        strategy = dict(chosen or prop.strategy_key)
        if hasattr(prop, "uselist"):
            lazy = strategy.get("lazy")
            if lazy in _LOADING_STRATEGIES:
                loaded.add(prop.key)
            elif chosen and lazy in ("raise", "raise_on_sql"):
                raising[prop.key] = lazy  # the mapping's own raise loader raises by itself
        elif not strategy.get("deferred") or prop.key in primary:
            loaded.add(prop.key)
    if structure is not None or statement is None:
        _remember(_LOADED, cache_key, (loaded, raising))
    return loaded, raising


def _remember(cache: Dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) > 10_000:
        # together: a key of one may name objects only another keeps alive
        for each in (_LOADED, _NEEDS_UNIQUE, _ALIVE):
            each.clear()
    cache[key] = value


def _compile_state(statement: Any) -> Any:
    if statement is None or not getattr(statement, "is_select", False):
        return None
    try:
        return statement.compile().compile_state
    except Exception:  # a statement the default dialect cannot compile loads as mapped
        return None


def require_unique(result: Any, statement: Any) -> Any:
    """Make ``result`` refuse to give rows without ``unique()`` when ``statement`` joined-eager
    loads a collection, as the ORM's own results do.

    :param result: the result answering ``statement``.
    :param statement: the executed statement.
    """
    structure = _structure(statement)
    needs_unique = _NEEDS_UNIQUE.get(structure) if structure is not None else None
    if needs_unique is None:
        context = _compile_state(statement)
        needs_unique = bool(getattr(context, "multi_row_eager_loaders", False))
        if structure is not None:
            _remember(_NEEDS_UNIQUE, structure, needs_unique)
    if needs_unique:

        def refuse(row: Any) -> Any:
            raise InvalidRequestError(
                "The unique() method must be invoked on this Result, as it contains results "
                "that include joined eager loads against collections"
            )

        # what the ORM's own results get (sqlalchemy/orm/loading.py, 1.4 to 2.1)
        result._unique_filter_state = (set(), refuse)
    return result


def expired_reason(method: str, number: int) -> str:
    """Return why a commit (or expire) unloaded attributes, as messages say it.

    :param method: what expired them, e.g. ``"commit()"``.
    :param number: the operation's number in the session's history.
    """
    return f"expired by {method} at operation {number}"


# -- a flush's work on one object ------------------------------------------------------------------


class _DefaultContext:
    """What a context-sensitive column default (``default=lambda context: ...``) is given."""

    def __init__(self, parameters: Dict[str, Any]) -> None:
        self.current_parameters = parameters

    def get_current_parameters(self, isolate_multiinsert_groups: bool = True) -> Dict[str, Any]:
        """Return the values of the row being inserted, by column key."""
        return self.current_parameters


def _computed_by_the_database(instance_state: Any, plan: _MapperPlan) -> List[str]:
    """Return the unset attributes of a pending object the database computes on INSERT: server
    defaults, and defaults that are SQL expressions (primary keys aside)."""
    values = instance_state.dict
    return [key for key in plan.computed if key not in values]


def _server_defaults_fetched(dialect: Any) -> Callable[[Any], bool]:
    """Return a test of whether a flush fetches a mapper's server defaults, as SQLAlchemy decides:
    ``eager_defaults=True``, or (2.0+) ``"auto"`` on a dialect with INSERT..RETURNING."""
    returning = bool(getattr(dialect, "insert_returning", False))

    def fetched(mapper: Any) -> bool:
        eager = getattr(mapper, "eager_defaults", False)
        return eager is True or (eager == "auto" and returning)

    return fetched


def _apply_defaults(instance_state: Any, plan: _MapperPlan) -> None:
    """Give unset columns their Python-side defaults, as the INSERT of a flush does."""
    mapper = instance_state.mapper
    values = instance_state.dict
    parameters: Optional[Dict[str, Any]] = None  # what a callable default is given
    for key, column, default, called in plan.defaults:
        if values.get(key) is not None:
            continue
        if not called:
            value: Any = default.arg
        else:
            if parameters is None:
                parameters = {
                    table_column.key: values.get(mapper.get_property_by_column(table_column).key)
                    for table_column in mapper.local_table.columns
                    if table_column in mapper._columntoproperty
                }
            value = default.arg(_DefaultContext(parameters))
        setattr(instance_state.obj(), key, value)
        if parameters is not None:
            parameters[column.key] = value


def _synchronize_foreign_keys(instance_state: Any) -> None:
    """Copy related objects' keys into foreign key columns, as a flush's dependency rules do."""
    instance = instance_state.obj()
    mapper = instance_state.mapper
    values = instance_state.dict
    for prop in mapper.relationships:
        if prop.key not in values:
            continue
        related = values[prop.key]
        pairs = prop.synchronize_pairs
        if prop.direction.name == "MANYTOONE" and related is not None:
            related_mapper = sa_inspect(related).mapper
            for remote, local in pairs:
                value = getattr(related, related_mapper.get_property_by_column(remote).key)
                if value is not None:
                    setattr(instance, mapper.get_property_by_column(local).key, value)
        elif prop.direction.name == "ONETOMANY" and related is not None:
            children = list(related) if prop.uselist else [related]
            for child in children:
                child_mapper = sa_inspect(child).mapper
                for local, remote in pairs:
                    value = getattr(instance, mapper.get_property_by_column(local).key)
                    if value is not None:
                        setattr(child, child_mapper.get_property_by_column(remote).key, value)


def orm_instances(rows: Iterable[Tuple[Any, ...]]) -> List[Any]:
    """Return the ORM instances among a canned result's rows.

    :param rows: the rows, as tuples.
    """
    return [value for row in rows for value in row if is_orm_instance(value)]
