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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

import sqlalchemy
from sqlalchemy import event, inspect, select
from sqlalchemy.engine.util import _distill_params_20
from sqlalchemy.exc import InvalidRequestError, MissingGreenlet, ObjectNotExecutableError
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.schema import Column
from sqlalchemy.sql.selectable import Select, TableClause

from asyncsessiontest.engine import await_nothing, no_io_engine
from asyncsessiontest.keys import assignable
from asyncsessiontest.kinds import is_orm_instance
from asyncsessiontest.matching import is_orm_statement, plain_sql
from asyncsessiontest.reprs import safe_repr

if TYPE_CHECKING:
    from asyncsessiontest.fake import SessionState

__all__ = [
    "HeldValues",
    "OrmState",
    "check_connection_execution",
    "check_parameters",
    "check_statement",
    "expired_reason",
    "has_order_by",
    "holding_class_for",
    "orm_instances",
    "require_unique",
]

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
        self.sync: Session = sync_class_for(state.session_class)(
            bind=no_io_engine(state.dialect), **options
        )
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

    def already_held(self, instances: Iterable[Any]) -> Dict[int, Any]:
        """Return the objects of the session that canned ``instances`` stand for: for each
        instance whose identity another object of the session has, id(instance) -> that object.

        A real session's rows give the object it holds for their identity; their values refresh
        only the attributes it had expired, the others keep what it holds (there is no
        ``populate_existing``). So do the canned instance's values here.

        :param instances: ORM instances an execution returns, already adopted.
        """
        found: Dict[int, Any] = {}
        for instance in instances:
            instance_state = sa_inspect(instance)
            if instance_state.session_id is not None or instance_state.key is not None:
                continue
            identity = instance_state.mapper.identity_key_from_instance(instance)
            held = self.sync.identity_map.get(identity)
            if held is None or held is instance:
                continue
            held_state = sa_inspect(held)
            expired = held_state.expired_attributes
            values = instance_state.dict
            for prop in held_state.mapper.column_attrs:
                if prop.key in expired and prop.key in values:
                    set_committed_value(held, prop.key, values[prop.key])
                    self.held.setdefault(id(held), {})[prop.key] = values[prop.key]
            found[id(instance)] = held
        return found

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
                synchronize_foreign_keys(instance_state)
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
                if type(value) is not cls:
                    continue
                # an object in the session (the very one, routed again) has its key: reading
                # its expired attributes to compute one would load
                value_state = sa_inspect(value)
                key = value_state.identity if value_state.key is not None else None
                if key is None:
                    key = mapper.identity_key_from_instance(value)[1]
                if key == identity:
                    return value
        return None

    def close(self) -> None:
        """Close the sync session; its objects keep the values they held, so the test can read
        them."""
        self._fill_unloaded()
        self.sync.close()

    def _fill_unloaded(self) -> None:
        fill_unloaded(self.objects.values(), self.held)

    def hold_loaded_values(self) -> None:
        """Remember every loaded value of the session's objects, before something expires them."""
        for instance in list(self.sync.identity_map.values()):
            self.hold(instance)

    def hold(self, instance: Any) -> None:
        """Remember the values ``instance`` holds, before something expires it.

        :param instance: an ORM instance in the session.
        """
        self.held.setdefault(id(instance), {}).update(_values_to_hold(instance))

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
        send_out_transient(self.objects.values())
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
                await_nothing()
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
        _load_held_columns(target, self.held.get(id(target), {}))
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


class HeldValues:
    """Database mode's memory of what its objects held, for the test's own reads.

    In database mode the real session does the real thing: the code under test reading an
    expired attribute gets the real ``MissingGreenlet``. The test's own methods read what the
    objects held instead, exactly as in mock mode, so that one test passes in both modes: the
    values are held before each commit expires them (``after_commit``), before a rollback, an
    ``expire()`` or a close, and an implicit load started by a test method is answered from
    them (``do_orm_execute``).

    :param sync: the real session's sync ``Session``.
    """

    def __init__(self, sync: Session) -> None:
        self.sync = sync
        self.held: Dict[int, Dict[str, Any]] = {}
        """id(object) -> the attribute values it held when they were last loaded."""
        self.objects: Dict[int, Any] = {}
        """id(object) -> every object whose values were held, until the test ends."""
        setattr(sync, _HELD, self)  # where the listeners of holding_class_for() find it

    def hold(self, instances: Iterable[Any]) -> None:
        """Remember the values ``instances`` hold, before something expires them.

        :param instances: ORM instances.
        """
        for instance in instances:
            self.objects[id(instance)] = instance
            self.held.setdefault(id(instance), {}).update(_values_to_hold(instance))

    def hold_all(self) -> None:
        """Remember the values of every object in the session."""
        self.hold(list(self.sync.identity_map.values()))

    def fill_unloaded(self) -> None:
        """Give every held object back the values it held where they are no longer loaded
        (after the session closed, its objects are detached and cannot load)."""
        fill_unloaded(self.objects.values(), self.held)

    def release(self) -> None:
        """Send every held object out of the session as a transient one with its values."""
        self.fill_unloaded()
        send_out_transient(self.objects.values())
        self.objects.clear()
        self.held.clear()

    def serve_test_read(self, execute_state: Any) -> Any:
        """Answer a load the ORM started by itself from a test method with the values held;
        None (the real load) for any other.

        :param execute_state: the ``ORMExecuteState`` of the load.
        """
        if not (execute_state.is_column_load or execute_state.is_relationship_load):
            return None
        instance, key, reader = _reader()
        if not _is_test_frame(reader):
            return None  # the code under test: the real load, which raises outside a greenlet
        from asyncsessiontest.results import make_result

        if execute_state.is_relationship_load:
            if instance is None or key is None:
                return None
            prop = sa_inspect(instance).mapper.attrs[key]
            value: Any = self.held.get(id(instance), {}).get(key, [] if prop.uselist else None)
            return make_result(list(value) if prop.uselist else ([] if value is None else [value]))
        refresh = getattr(execute_state.load_options, "_refresh_state", None)
        target = refresh.obj() if refresh is not None else instance
        if target is None:
            return make_result([])
        _load_held_columns(target, self.held.get(id(target), {}))
        return make_result([target])


_HELD = "_asyncsessiontest_held"
# session class -> the sync session class of its real sessions in database mode
_HOLDING_CLASSES: Dict[type, type] = {}


def holding_class_for(session_class: type) -> type:
    """Return the sync session class of database mode's real sessions of ``session_class``:
    its ``sync_session_class``, whose sessions' :class:`HeldValues` hear each load and commit
    (made once per class: listeners on a class cost nothing per session).

    :param session_class: ``AsyncSession`` or a subclass.
    """
    found = _HOLDING_CLASSES.get(session_class)
    if found is None:
        base = getattr(session_class, "sync_session_class", Session)
        found = type(base.__name__, (base,), {"__module__": base.__module__})
        event.listen(found, "do_orm_execute", _serve_test_read)
        event.listen(found, "after_commit", _hold_after_commit)
        _HOLDING_CLASSES[session_class] = found
    return found


def _serve_test_read(execute_state: Any) -> Any:
    held: Optional[HeldValues] = getattr(execute_state.session, _HELD, None)
    return None if held is None else held.serve_test_read(execute_state)


def _hold_after_commit(session: Session) -> None:
    # after the commit's flush, before expire_on_commit expires the objects
    held: Optional[HeldValues] = getattr(session, _HELD, None)
    if held is not None:
        held.hold_all()


def _load_held_columns(instance: Any, held: Dict[str, Any]) -> None:
    """Load ``instance``'s unloaded columns with the values it held (None for the others)."""
    instance_state = sa_inspect(instance)
    for key in list(instance_state.unloaded):
        if hasattr(instance_state.mapper.attrs[key], "columns"):
            set_committed_value(instance, key, held.get(key))


def has_order_by(statement: Any) -> bool:
    """Tell whether ``statement`` orders its rows (a SELECT with ORDER BY).

    :param statement: an executed statement.
    """
    return bool(getattr(statement, "_order_by_clauses", ()))


def send_out_transient(objects: Iterable[Any]) -> None:
    """Make each of ``objects`` that a session knows (persistent, detached, pending) transient,
    keeping the values it holds, so that it carries nothing into the next test.

    :param objects: ORM instances.
    """
    for instance in objects:
        instance_state = sa_inspect(instance)
        if instance_state.key is not None or instance_state.session_id is not None:
            make_transient(instance)


def fill_unloaded(objects: Iterable[Any], held: Dict[int, Dict[str, Any]]) -> None:
    """Give ``objects`` back the values they held (``held``, by id) where those are no longer
    loaded: detached, or expired, they keep what the test can read.

    :param objects: ORM instances.
    :param held: id(instance) -> the values it held.
    """
    for instance in list(objects):
        instance_state = sa_inspect(instance)
        values = held.get(id(instance), {})
        for key in instance_state.unloaded:
            if key in values:
                instance_state.dict[key] = values[key]


def _values_to_hold(instance: Any) -> Dict[str, Any]:
    """Return the values ``instance`` holds, as the test should go on reading them once
    something expires it."""
    instance_state = sa_inspect(instance)
    values = dict(instance_state.dict)
    # a change not flushed is what a rollback, an expire() or a refresh() discards: the value
    # the object holds afterwards is the one it had before the change
    columns = instance_state.mapper.column_attrs
    for key in list(instance_state.committed_state):
        if key in values and key in columns:
            before = instance_state.attrs[key].history.deleted
            if before:  # empty when nothing was loaded before the change
                values[key] = before[0]
    return values


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
    # columns and relationships: a synonym or a composite loads nothing of its own
    for prop in (*mapper.column_attrs, *mapper.relationships):
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


def synchronize_foreign_keys(instance_state: Any) -> None:
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


# the types of statement seen to need no coercion: checked once each (coercion costs ~2 us)
_STATEMENT_TYPES: Set[type] = set()


def check_statement(statement: Any) -> None:
    """Raise what a real session raises first when ``statement`` is not one it executes.

    ``Session.execute()`` begins with SQLAlchemy's coercion of its argument to a statement
    (``sqlalchemy.sql.coercions``, private): a plain string (from 2.0 on; 1.4 takes it as
    ``text()``), a number, None, a mapped class, a criterion, a subquery or a table raise its
    ``ArgumentError``, with its own message.

    :param statement: what the code passed as the statement.
    :raises sqlalchemy.exc.ArgumentError: ``statement`` is not executable.
    """
    kind = type(statement)
    if kind in _STATEMENT_TYPES:
        return
    coerced = coercions.expect(roles.StatementRole, statement)
    if coerced is statement and isinstance(statement, Executable):
        _STATEMENT_TYPES.add(kind)


_SQLALCHEMY_1 = sqlalchemy.__version__.startswith("1.")


def check_parameters(statement: Any, params: Any) -> None:
    """Raise what a real session raises when ``params`` cannot be the statement's parameters.

    A real session checks them as it executes (after it began its transaction and flushed):
    through the engine's own check (``sqlalchemy.engine.util``, private), whose
    ``ArgumentError`` the mock raises as it is. An ORM insert, and an ORM update given a list,
    read them as dicts, and a real session raises a ``TypeError`` from inside SQLAlchemy for
    anything else (SQLAlchemy 2.0+; 1.4 for rows that are not dicts): the mock raises a
    ``TypeError`` saying what they must be.

    :param statement: the executed statement (already checked).
    :param params: the parameters passed beside it.
    :raises sqlalchemy.exc.ArgumentError: ``params`` is neither a dict nor a list of dicts.
    :raises TypeError: ``params`` of an ORM insert or bulk update are not dicts.
    """
    if not params:
        return  # a real session executes with ``params or {}``
    several = isinstance(params, (list, tuple))
    is_insert = getattr(statement, "is_insert", False)
    if _SQLALCHEMY_1:
        _distill_params_20(params)  # 1.4 has no ORM bulk DML: the engine checks them first
        reads_dicts = several and is_insert and is_orm_statement(statement)
    else:
        # an ORM bulk insert or update (or any ORM insert) reads each row as a dict
        reads_dicts = (
            getattr(statement, "is_dml", False)
            and (several or is_insert)
            and is_orm_statement(statement)
        )
    if reads_dicts:
        for row in params if several else [params]:
            if not isinstance(row, Mapping):
                kind = "insert" if is_insert else "bulk update"
                raise TypeError(
                    f"the parameters of an ORM {kind} must be a dict, or a list of dicts for "
                    f"several rows; got {safe_repr(params)}"
                )
    _distill_params_20(params)


def check_connection_execution(statement: Any, parameters: Any) -> None:
    """Raise what a real ``AsyncConnection`` raises for what it cannot execute.

    :param statement: what the code passed as the statement.
    :param parameters: the parameters passed beside it.
    :raises sqlalchemy.exc.ObjectNotExecutableError: ``statement`` is not executable (a
        string, a number, a mapped class, a criterion...).
    :raises sqlalchemy.exc.ArgumentError: ``parameters`` is neither a dict nor a list of dicts
        (the engine's own check, ``sqlalchemy.engine.util``, private).
    """
    if not isinstance(statement, Executable):
        raise ObjectNotExecutableError(statement)
    _distill_params_20(parameters)
