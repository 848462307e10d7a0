"""Make mocks cheaply: the same mocks unittest.mock builds, without most of the building.

Building a mock is slow (a class per instance, a spec read name by name, ~100 magic methods,
a code-object mock for each AsyncMock): most of a spec'd session's cost. These pieces keep the
result identical for every use a test makes of it, and are checked across Python 3.8-3.13 by
the test suite, since some reach into unittest.mock's internals.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from types import CodeType
from typing import Any, Dict, Optional, Tuple

# _Call and _CallList are unittest.mock's private call records: the same on Python 3.8 to 3.13
from unittest.mock import AsyncMock, AsyncMockMixin, MagicMock, NonCallableMock, _Call, _CallList

__all__ = ["FastAsyncInit", "FastSpec", "Prototype", "SharedClass", "call_record"]


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


class SharedClass:
    """Let mocks share their class until one needs its own.

    Mock gives every instance a class of its own, because setting a magic method on a mock sets
    it on the mock's class. Building that class is the costliest part of making a mock, and most
    mocks never have a magic method set: these share their class, and get their own the moment
    one is set, deleted or re-read from a spec.
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

    def stamp(self, **changes: Any) -> Any:
        """Return a new mock with the prototype's state and ``changes``.

        :param changes: ``__dict__`` entries that differ from the prototype's (its parent...).
        """
        state = dict(self.state)
        for name, container in self.containers:
            state[name] = container(state[name])
        state.update(changes)
        mock: Any = object.__new__(self.mock_class)
        mock.__dict__.update(state)
        return mock
