"""The mock layer: build the spec'd session mock and send each call to the fake session.

The session is an ``AsyncMock`` spec'd on the session class. Its children are made to the shape
of that class (:mod:`asyncsessiontest.shape`): coroutine methods are ``AsyncMock`` subclasses,
plain methods ``MagicMock`` subclasses, each checking calls against the real signature. Unless the
user configured a child (``side_effect``, ``return_value``), it answers as the fake session
(:mod:`asyncsessiontest.fake`) says; what the user configured always wins, exactly as on a plain
mock, laid over the real result where the user configured only part of it.

This is the one module that uses unittest.mock's private names (its hooks ``_mock_call``,
``_execute_mock_call``, ``_increment_mock_call``, its records and ``_Call``): building a mock is
slow (a class per instance, a spec read name by name, ~100 magic methods, a code-object mock
for each AsyncMock), and these pieces keep the result identical for every use a test makes of
it at a fraction of the cost. The test suite checks them on Python 3.8 to 3.13 against stock
mocks, so a change in CPython fails here, loudly.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import unittest.mock
from types import CodeType
from typing import Any, Callable, Dict, Optional, Set, Tuple
from unittest.mock import (
    DEFAULT,
    AsyncMock,
    AsyncMockMixin,
    MagicMock,
    NonCallableMagicMock,
    NonCallableMock,
    _Call,
    _CallList,
)

from sqlalchemy.engine import Result, ScalarResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncResult, AsyncScalarResult
from sqlalchemy.util import immutabledict

from asyncsessiontest.engine import async_engine_for
from asyncsessiontest.fake import SessionState, behaviour_for
from asyncsessiontest.recording import Operation
from asyncsessiontest.shape import ASYNC, ATTRIBUTE, SYNC, Member

__all__ = ["create_session", "release_session"]

# hides this module's frames (and fake.py's) from the traceback of a strict-mode failure, raised
# from inside an execution, so that it ends at the user's line
__unittest = True

# -- cheap mock construction -----------------------------------------------------------------

_async_attributes: Dict[str, Any] = {}


def _async_prototype_attributes() -> Dict[str, Any]:
    """Return what ``AsyncMockMixin.__init__`` adds to a mock's ``__dict__``, on this Python.

    AsyncMockMixin.__init__ builds a NonCallableMock spec'd on CodeType for every AsyncMock, most
    of the cost of one. The session's coroutine mocks share one prototype's instead (read, never
    written), with fresh copies of the mutable entries (the await records). Built on first use.
    """
    if not _async_attributes:
        if sys.version_info >= (3, 12):
            plain, prototype = MagicMock(), AsyncMock()
            _async_attributes.update(
                (key, value)
                for key, value in prototype.__dict__.items()
                if key not in plain.__dict__
            )
        else:
            _async_attributes.update(_async_attributes_before_3_12())
    return _async_attributes


def _async_attributes_before_3_12() -> Dict[str, Any]:
    """Return what ``AsyncMockMixin.__init__`` adds on Python 3.8 to 3.11, with its code-object
    mock built as Python 3.12 builds it: spec'd on CodeType's names, not on CodeType. A CodeType
    spec reads CodeType's signature, which costs ~25 ms the first time in a process (inspect
    tokenizes its text signature), a cost no test should carry. The test suite compares the
    result with a real AsyncMock's on every Python."""
    code = NonCallableMock(spec_set=dir(CodeType))
    code.__dict__["_spec_class"] = CodeType  # isinstance(code, CodeType), as with the class
    attributes: Dict[str, Any] = {
        "_is_coroutine": asyncio.coroutines._is_coroutine,  # type: ignore[attr-defined]
        "_mock_await_count": 0,
        "_mock_await_args": None,
        "_mock_await_args_list": _CallList(),
        "__code__": code,
    }
    if sys.version_info >= (3, 11):
        code.co_flags = inspect.CO_COROUTINE + inspect.CO_VARARGS + inspect.CO_VARKEYWORDS
        code.co_argcount = 0
        code.co_varnames = ("args", "kwargs")
        code.co_posonlyargcount = 0
        code.co_kwonlyargcount = 0
    else:
        code.co_flags = inspect.CO_COROUTINE
    if sys.version_info >= (3, 10):
        attributes.update(
            __name__="AsyncMock", __defaults__=(), __kwdefaults__={}, __annotations__=None
        )
    return attributes


class FastAsyncInit:
    """Initialise an AsyncMock subclass without rebuilding AsyncMockMixin's code object mock."""

    __dict__: Dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(AsyncMockMixin, self).__init__(*args, **kwargs)  # type: ignore[misc]
        for key, value in _async_prototype_attributes().items():
            if isinstance(value, (list, dict)):
                value = type(value)()
            self.__dict__[key] = value


_SPECS: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
_SPEC_KEYS = ("_spec_class", "_spec_set", "_spec_signature", "_mock_methods", "_spec_asyncs")


class FastSpec:
    """Read a mock's spec once per class, not once per mock."""

    __dict__: Dict[str, Any]

    def _mock_add_spec(
        self, spec: Any, spec_set: Any, _spec_as_instance: bool = False, _eat_self: bool = False
    ) -> None:
        # reading a spec walks dir(spec) testing every name for a coroutine, and Python 3.11
        # walks dir(None) even without a spec: the answer depends only on the class
        if spec is None or isinstance(spec, type):
            key = (spec, bool(spec_set), _spec_as_instance, _eat_self)
            cached = _SPECS.get(key)
            if cached is None:
                super()._mock_add_spec(spec, spec_set, _spec_as_instance, _eat_self)  # type: ignore[misc]
                cached = _SPECS[key] = {name: self.__dict__[name] for name in _SPEC_KEYS}
            self.__dict__.update(cached)  # the name lists shared: see _SHARED_LISTS
            return
        super()._mock_add_spec(spec, spec_set, _spec_as_instance, _eat_self)  # type: ignore[misc]


# bypasses Mock's read-only __class__ property, which reports the spec class
_set_class = object.__dict__["__class__"].__set__


class ClassPool:
    """Classes for the mocks of one kind, each lent to one mock at a time.

    Mock gives every instance a class of its own, so that what a test sets on ``type(mock)``
    (a magic method, a ``PropertyMock``) stays with that mock. Building that class is the
    costliest part of making a mock (~50 us): the session's mocks borrow one from the pool of
    their kind instead, and give it back when their test ends (:func:`release_session`). A
    class that comes back changed (``type(session).is_active = PropertyMock(...)``) is never
    lent again: it stays with the mocks of the test that changed it. So no two live mocks share
    a class, whatever thread runs their tests, and nothing set on one reaches another test.

    :param base: the class the lent classes derive from.
    """

    __slots__ = ("base", "free", "pristine")

    def __init__(self, base: type) -> None:
        self.base = base
        self.free: Set[type] = set()  # set.pop() and set.add() hold the GIL: thread-safe
        self.pristine: Optional[Dict[str, Any]] = None

    def take(self) -> type:
        """Return a class of the pool's kind that no live mock has."""
        free = self.free
        while free:
            try:
                lent = free.pop()
            except KeyError:  # another thread took the last one
                break
            if lent.__dict__ == self.pristine:
                return lent
            # changed by the test it was lent to: it goes with that test's mocks
        made = type(self.base.__name__, (self.base,), {"_ast_pool": self})
        if self.pristine is None:
            self.pristine = dict(made.__dict__)
        return made

    def give_back(self, lent: type) -> None:
        """Take back a class whose mock's test ended.

        :param lent: a class :meth:`take` returned.
        """
        self.free.add(lent)


_POOLS: Dict[type, ClassPool] = {}


def lend_class(base: type) -> type:
    """Return a class derived from ``base`` for one mock, from the pool of ``base``'s kind.

    :param base: the class the mock would otherwise have.
    """
    pool = _POOLS.get(base)
    if pool is None:
        pool = _POOLS.setdefault(base, ClassPool(base))
    return pool.take()


def _give_back_class(mock: Any) -> None:
    """Give the class ``mock`` borrowed back to its pool (once; a mock without one: nothing)."""
    lent = mock.__dict__.pop("_ast_class", None)
    if lent is not None:
        lent.__dict__["_ast_pool"].give_back(lent)


class SharedClass:
    """Let a mock keep the class it was made with until it needs a class of its own.

    The session's mocks are made with a class lent to them alone (see :class:`ClassPool`),
    which is not where Mock puts magic methods: a mock gets a class of its own, derived from
    it, the moment one is set, deleted or re-read from a spec.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    def _ast_own_class(self) -> None:
        if not type(self).__dict__.get("_ast_is_own_class"):
            own_class = type(type(self).__name__, (type(self),), {"_ast_is_own_class": True})
            _set_class(self, own_class)

    def __setattr__(self, name: str, value: Any) -> None:
        if name[:2] == "__" == name[-2:]:
            self._ast_own_class()
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if name[:2] == "__" == name[-2:]:
            self._ast_own_class()
        super().__delattr__(name)

    def mock_add_spec(self, spec: Any, spec_set: bool = False) -> None:
        """Add a spec to the mock, as :meth:`unittest.mock.Mock.mock_add_spec` does."""
        self._ast_own_class()
        super().mock_add_spec(spec, spec_set)  # type: ignore[misc]


_new_tuple = tuple.__new__
# a record's __dict__, read without _Call's own __getattribute__ (Python code)
_call_dict = _Call.__dict__["__dict__"].__get__
# what _Call.__init__ sets on a record made as Mock makes them (the same on Python 3.8 to 3.13)
_CALL_ATTRIBUTES = {"_mock_name": None, "_mock_parent": None, "_mock_from_kall": True}


def call_record(*items: Any) -> Any:
    """Return the call record Mock makes of ``items``, a few times cheaper than ``_Call`` does.

    ``call_record(args, kwargs)`` is ``_Call((args, kwargs), two=True)`` (``call_args``,
    ``await_args``), and ``call_record(name, args, kwargs)`` is ``_Call((name, args, kwargs))``
    (``mock_calls``, ``method_calls``): equal, with the same attributes.

    :param items: ``(args, kwargs)`` or ``(name, args, kwargs)``.
    """
    call = _new_tuple(_Call, items)
    _call_dict(call).update(_CALL_ATTRIBUTES)
    return call


# the spec's names: unittest.mock replaces these lists (mock_add_spec), never changes them
_SHARED_LISTS = frozenset({"_mock_methods", "_spec_asyncs"})


class Prototype:
    """A mock's ``__dict__``, to stamp out copies of it far cheaper than building a mock.

    A mock's state is its ``__dict__``: a copy has the prototype's values, with its own copies of
    the containers (call records, children), which must never be shared.

    :param mock: the mock to copy.
    :param mock_class: the class of the copies; by default the mock's own.
    """

    def __init__(self, mock: Any, mock_class: Optional[type] = None) -> None:
        self.mock_class = type(mock) if mock_class is None else mock_class
        self.state = dict(mock.__dict__)
        self.containers = [
            (name, type(value))
            for name, value in self.state.items()
            if (type(value) in (list, dict) or type(value).__mro__[1:2] in ((list,), (dict,)))
            and name not in _SHARED_LISTS
        ]

    def stamp(self, mock_class: Optional[type] = None, /, **changes: Any) -> Any:
        """Return a new mock with the prototype's state and ``changes``.

        :param mock_class: the new mock's class; by default the prototype's.
        :param changes: ``__dict__`` entries that differ from the prototype's (its parent...).
        """
        mock: Any = object.__new__(self.mock_class if mock_class is None else mock_class)
        state = mock.__dict__
        state.update(self.state)
        for name, container in self.containers:
            state[name] = container(state[name])
        state.update(changes)
        return mock


# -- the user's configuration laid over real results ---------------------------------------

def _is_mock(value: Any) -> bool:
    return isinstance(value, (MagicMock, NonCallableMagicMock, AsyncMock))


class _Overlay:
    """A real result seen through the user's configuration of the mock standing for it.

    Only the attributes the user configured on the mock answer from it; every other attribute is
    the real result's.
    """

    __slots__ = ("_ast_config", "_ast_real")

    def __init__(self, real: Any, config: Any) -> None:
        self._ast_real = real
        self._ast_config = config

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() sees the real result's class
        return type(self._ast_real)

    def __getattr__(self, name: str) -> Any:
        configured_values = _values_set_on(self._ast_config)
        if name in configured_values:
            return configured_values[name]  # a plain value the user set, e.g. rowcount
        real_attribute = getattr(self._ast_real, name)
        child = self._ast_config._mock_children.get(name)
        if not _is_mock(child) or not callable(real_attribute):
            return real_attribute
        if inspect.iscoroutinefunction(real_attribute):

            async def call_async(*args: Any, **kwargs: Any) -> Any:
                configured = await child(*args, **kwargs)
                if not is_default_return(child, configured):
                    return configured
                return overlaid(await real_attribute(*args, **kwargs), configured)

            return call_async

        def call(*args: Any, **kwargs: Any) -> Any:
            configured = child(*args, **kwargs)
            if not is_default_return(child, configured):
                return configured
            return overlaid(real_attribute(*args, **kwargs), configured)

        return call

    def __iter__(self) -> Any:
        return iter(self._ast_real)

    def __next__(self) -> Any:
        return next(self._ast_real)

    def __aiter__(self) -> Any:
        return self._ast_real.__aiter__()

    async def __anext__(self) -> Any:
        return await self._ast_real.__anext__()

    def __repr__(self) -> str:
        return repr(self._ast_real)


def is_default_return(mock: Any, value: Any) -> bool:
    """Tell whether ``value`` is the return value ``mock`` made itself (nobody set one).

    :param mock: a mock.
    :param value: what calling it gave.
    """
    return (
        _is_mock(value)
        and value is mock.__dict__.get("_mock_return_value")
        and value._mock_new_parent is mock
        and value._mock_new_name == "()"
    )


def _values_set_on(mock: Any) -> Dict[str, Any]:
    """Return the plain attributes a user set on ``mock`` (Mock keeps them in its __dict__)."""
    return {
        name: value
        for name, value in mock.__dict__.items()
        if not name.startswith("_") and name != "method_calls"
    }


def overlaid(real: Any, config: Any) -> Any:
    """Return ``real`` seen through what the user configured on ``config``.

    An untouched default return value configures nothing: ``real`` comes back as it is.

    :param real: the real result (or a real object a result method returned).
    :param config: the mock standing for it, as the user may have configured it.
    """
    if config._mock_children or _values_set_on(config):
        return _Overlay(real, config)
    return real


# -- the session's mocks -----------------------------------------------------------------------

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
        self.__dict__["_ast_behaviour"] = behaviour_for(state, member)

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
        state.before_call(operation)
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
        name = self.__dict__["_ast_member"].name
        operation = state.history.record(name, args, kwargs, True, state.dialect)
        coroutine: Any = self._ast_run(operation)
        # what a "never awaited" warning names: the call the code made, not this method
        coroutine.__qualname__ = coroutine.__name__ = f"session.{name}"
        return coroutine

    async def _ast_run(self, operation: Operation) -> Any:
        operation.awaited = True
        state: SessionState = self.__dict__["_ast_state"]
        try:
            try:
                state.before_await(operation)
            except BaseException:
                # refused as the real session refuses it: still an await, as AsyncMock counts
                # one whose side_effect raised
                self._ast_note_await(operation.args, operation.kwargs)
                raise
            if self._ast_untouched():
                # in debug mode each coroutine made costs ~3 us: no second one for the default
                answer = self._ast_default_awaited(operation.args, operation.kwargs)
            else:
                answer = await self._execute_mock_call(*operation.args, **operation.kwargs)
            if inspect.iscoroutine(answer) and (
                operation.method in state.awaited_answers
                or self.__dict__["_ast_member"].own_code is not None
            ):
                # the behaviour is itself a coroutine (see SessionState), or the subclass's own
                answer = await answer
        except BaseException as error:
            state.await_failed(operation, error)
            raise
        state.after_await(operation)
        return answer

    def _ast_default_awaited(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Any:
        """Record the await as AsyncMock does when it runs a call itself, and answer as the
        session does."""
        self._ast_note_await(args, kwargs)
        return self._ast_default(args, kwargs)

    def _ast_note_await(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> None:
        """Record an await as AsyncMock records one."""
        # the records live in __dict__, as Mock keeps them (a method's mock has no delegate)
        call = call_record(args, kwargs)
        state = self.__dict__
        state["_mock_await_count"] += 1
        state["_mock_await_args"] = call
        state["_mock_await_args_list"].append(call)

    async def _execute_mock_call(self, *args: Any, **kwargs: Any) -> Any:
        # only for a method the test configured: _ast_run answers the others itself
        configured = await super()._execute_mock_call(*args, **kwargs)
        return self._ast_answer(configured, args, kwargs)


# Instance attributes a class-level spec cannot know (or would make truthy MagicMocks of),
# built on first access with plausible values of a fresh session.
_ATTRIBUTES: Dict[str, Callable[[Any, SessionState], Any]] = {
    "info": lambda session, state: state.sync_session.info,  # as AsyncSession.info is
    "is_active": lambda session, state: True,
    "sync_session": lambda session, state: state.sync_session,
    "bind": lambda session, state: (  # see engine.py; in database mode, the real one
        async_engine_for(state.sync_session.bind) if state.real is None else state.real.bind
    ),
    # SQLAlchemy 2.1's properties
    "binds": lambda session, state: immutabledict(),
    "execution_options": lambda session, state: immutabledict(),
}
# present on instances only, so absent from the class's shape
_INSTANCE_ONLY = frozenset({"sync_session", "bind"})
# the real sync session's own, read anew on every access: they change as the session works
_LIVE = frozenset({"new", "dirty", "deleted", "identity_map", "autoflush", "no_autoflush"})


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
            shape = session.__dict__["_ast_state"].shape
            # defaults such as __hash__'s and __str__'s, for what the session does not answer
            if _set_return_value is not None and self.name not in shape.members:
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
        if name in _LIVE and name in state.shape.members and "_ast_respecced" not in own:
            return getattr(state.sync_session, name)
        factory = _ATTRIBUTES.get(name)
        if factory is not None and name not in state.shape.members and name not in _INSTANCE_ONLY:
            factory = None  # a property of another SQLAlchemy version: the spec refuses it
        if factory is None:
            member = state.shape.members.get(name)
            if member is None:
                return super().__getattr__(name)
            if member.has_value:
                return member.value
            if member.kind == ATTRIBUTE and member.own_code is not None:
                return member.own_code(self)  # a property the subclass adds runs its getter
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
            child_class = lend_class(_AsyncMethodMock if member.kind == ASYNC else _SyncMethodMock)
            child: Any = child_class(**kwargs)
            child._ast_setup(state, member)
            child.__dict__["_ast_class"] = child_class
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
    lent = lend_class(prototype.mock_class)
    return prototype.stamp(
        lent,
        _mock_parent=parent,
        _mock_new_parent=new_parent,
        _ast_state=state,
        _ast_class=lent,
        _ast_behaviour=behaviour_for(state, member),
    )


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


def release_session(state: SessionState) -> None:
    """Break the reference cycles between a finished test's session, its mocks and ``state``.

    A mock and its children refer to each other, as do the session and its state: left alone,
    a finished test's session, and everything its records hold (statements, instances,
    results), would wait for the garbage collector, whose every pass then costs the later tests
    more. Released, they are freed as soon as nothing else holds the session. Code that still
    holds it (a task cancelled when the test's loop closes, running its ``finally``) can go on
    using it; its mocks' calls just no longer reach ``session.mock_calls``.

    :param state: the state of the finished test's session.
    """
    session = state.session
    if session is not None:
        _detach_children(session)
        _give_back_class(session)
        for child in session.__dict__["_mock_children"].values():
            if isinstance(child, _MemberMock):
                _give_back_class(child)
    state.release()


def create_session(state: SessionState) -> Any:
    """Return a new session mock for ``state.session_class``, answering from ``state``.

    :param state: the state behind the session.
    """
    session_class = state.session_class
    prototype = _SESSION_PROTOTYPES.get(session_class)
    if prototype is None:
        prototype = _SESSION_PROTOTYPES[session_class] = _session_prototype(session_class)
    lent = lend_class(prototype.mock_class)
    session = prototype.stamp(lent, _ast_state=state, _ast_class=lent)
    state.session = session
    return session
