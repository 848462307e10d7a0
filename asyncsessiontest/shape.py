"""Read the shape of a session class: which names are coroutines, which are plain methods.

The mock is built from this shape rather than from a hand-written list, so each installed
SQLAlchemy version (and each project's own ``AsyncSession`` subclass) gets exactly its own
methods, of exactly the right kind, with their real signatures. The methods a subclass adds
keep their function, so that the mock can run their own code.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from typing import Any, Callable, Dict, List, Optional

__all__ = ["ASYNC", "ATTRIBUTE", "SYNC", "Member", "ClassShape", "shape_of"]

ASYNC = "async"
"""A coroutine method: its mock is an AsyncMock."""
SYNC = "sync"
"""A plain method: its mock's result is not awaitable."""
ATTRIBUTE = "attribute"
"""A property or class attribute: not a method."""


class Member:
    """One public name of a session class, as the mock must reproduce it.

    (A plain class, not a NamedTuple: building a NamedTuple class costs ~0.2 ms of import.)

    :param name: the name.
    :param kind: :data:`ASYNC`, :data:`SYNC` or :data:`ATTRIBUTE`.
    :param signature: the signature as seen through an instance (``self`` removed); None if
        unknown or not a method.
    :param value: for a plain class attribute (not a method or property): its value.
    :param has_value: True when ``value`` holds a plain class attribute's value.
    :param check: a function with the member's signature that does nothing: calling it with the
        arguments of a call raises the TypeError Python raises for a bad call, at the cost of a
        plain call.
    :param own_code: for a method or property a subclass adds (one SQLAlchemy's class does not
        have): a function that runs its code (the property's getter), called with the session as
        ``self``, then the call's arguments; None for every other member.
    """

    __slots__ = ("check", "has_value", "kind", "name", "own_code", "signature", "value")

    def __init__(
        self,
        name: str,
        kind: str,
        signature: Optional[inspect.Signature],
        value: Any = None,
        has_value: bool = False,
        check: Optional[Callable[..., None]] = None,
        own_code: Optional[Callable[..., Any]] = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.signature = signature
        self.value = value
        self.has_value = has_value
        self.check = check
        self.own_code = own_code

    def __repr__(self) -> str:
        return f"<Member {self.name} ({self.kind})>"


class ClassShape:
    """The members of a session class, keyed by name.

    :param cls: the class.
    :param members: its members by name.
    """

    __slots__ = ("cls", "members")

    def __init__(self, cls: type, members: Dict[str, Member]) -> None:
        self.cls = cls
        self.members = members


def _bound_signature(func: Callable[..., Any], drop_first: bool) -> Optional[inspect.Signature]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    if drop_first:
        parameters = list(signature.parameters.values())[1:]
        signature = signature.replace(parameters=parameters)
    return signature


_NO_DEFAULT = inspect.Parameter.empty


def _checker(name: str, signature: Optional[inspect.Signature]) -> Optional[Callable[..., None]]:
    """Return a do-nothing function with ``signature``, named ``name``, or None if impossible.

    ``Signature.bind`` costs ~10 us a call; letting the interpreter check the arguments of a
    real function costs next to nothing, and its TypeError reads as Python's own.
    """
    if signature is None or not name.isidentifier():
        return None
    parts: List[str] = []
    star_written = False
    positional_only = False
    for parameter in signature.parameters.values():
        kind = parameter.kind
        if positional_only and kind is not inspect.Parameter.POSITIONAL_ONLY:
            parts.append("/")
            positional_only = False
        default = "" if parameter.default is _NO_DEFAULT else "=_"
        if kind is inspect.Parameter.POSITIONAL_ONLY:
            positional_only = True
            parts.append(parameter.name + default)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            star_written = True
            parts.append("*" + parameter.name)
        elif kind is inspect.Parameter.KEYWORD_ONLY:
            if not star_written:
                parts.append("*")
                star_written = True
            parts.append(parameter.name + default)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            parts.append("**" + parameter.name)
        else:
            parts.append(parameter.name + default)
    if positional_only:
        parts.append("/")
    namespace: Dict[str, Any] = {"_": None}
    try:
        exec(f"def {name}({', '.join(parts)}):\n    pass\n", namespace)
    except SyntaxError:
        return None
    check: Callable[..., None] = namespace[name]
    return check


def is_coroutine_function(func: Any) -> bool:
    """Tell whether calling ``func`` gives a coroutine, as far as its marks say.

    ``inspect`` knows ``async def`` functions and, from Python 3.12, those marked by
    ``inspect.markcoroutinefunction``. Before 3.12, a function that returns a coroutine is marked
    the asyncio way (what ``typing_extensions.deprecated`` does to a coroutine function), which
    only ``asyncio.iscoroutinefunction`` reads; it is deprecated from Python 3.14, where every
    such mark is ``inspect``'s.

    :param func: a function.
    """
    if inspect.iscoroutinefunction(func):
        return True
    return sys.version_info < (3, 14) and asyncio.iscoroutinefunction(func)


def _own_code(cls: type, raw: Any, func: Callable[..., Any]) -> Callable[..., Any]:
    """Return a function calling ``func`` as ``raw`` (a class's attribute) binds it: with the
    session as ``self``, with ``cls`` (a classmethod), or with neither (a staticmethod)."""
    if isinstance(raw, staticmethod):
        return lambda session, *args, **kwargs: func(*args, **kwargs)
    if isinstance(raw, classmethod):
        return lambda session, *args, **kwargs: func(cls, *args, **kwargs)
    return func


def _member(cls: type, name: str, base_names: Any) -> Member:
    raw = inspect.getattr_static(cls, name)
    if isinstance(raw, (classmethod, staticmethod)):
        func = raw.__func__
        drop_first = isinstance(raw, classmethod)
    else:
        func = raw
        drop_first = True
    is_coroutine = is_coroutine_function(func)
    if is_coroutine or inspect.isfunction(func):
        kind = ASYNC if is_coroutine else SYNC
        signature = _bound_signature(func, drop_first)
        # a method SQLAlchemy's class has stays the mock's; one the project adds runs its code
        own = None if name in base_names else _own_code(cls, raw, func)
        return Member(name, kind, signature, check=_checker(name, signature), own_code=own)
    if hasattr(raw, "__get__") and not isinstance(raw, type):
        # properties and other descriptors: their value only exists on an instance; the getter
        # of a property the project adds is its own code
        own = None
        if isinstance(raw, property) and raw.fget is not None and name not in base_names:
            own = raw.fget
        return Member(name, ATTRIBUTE, None, own_code=own)
    return Member(name, ATTRIBUTE, None, raw, has_value=True)


_SHAPES: Dict[type, ClassShape] = {}


def shape_of(cls: type) -> ClassShape:
    """Return the shape of ``cls``, computed once per class.

    :param cls: ``AsyncSession`` or a subclass of it.
    """
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = _read_shape(cls)
    return shape


# the magic methods a session mock answers as the session does (Mock configures the others)
_MAGIC_MEMBERS = frozenset({"__aenter__", "__aexit__", "__contains__", "__iter__"})


def _sqlalchemy_base(cls: type) -> type:
    """Return the class of SQLAlchemy's that ``cls`` derives from (``AsyncSession``): the first
    in its method order defined in SQLAlchemy's package."""
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] == "sqlalchemy":
            return klass
    return object


def _read_shape(cls: type) -> ClassShape:
    members = {}
    base_names = frozenset(dir(_sqlalchemy_base(cls)))
    for name in dir(cls):
        if name.startswith("__") and name not in _MAGIC_MEMBERS:
            continue
        members[name] = _member(cls, name, base_names)
    return ClassShape(cls, members)
