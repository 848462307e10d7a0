"""Canned answers to executions: queued in order, or routed by the statement they answer."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple, Union

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import ArgumentError, InvalidRequestError

from asyncsessiontest.kinds import is_orm_instance
from asyncsessiontest.matching import Matcher, render
from asyncsessiontest.reprs import safe_repr
from asyncsessiontest.results import CannedResult, statement_keys

__all__ = ["CannedAnswer", "ObjectStore", "Responder"]

Answer = Union[CannedResult, BaseException, type]


class CannedAnswer:
    """One ``addResult`` or ``addException``: what it answers, which executions, how many times.

    :param answer: a result, or an exception (instance or class) to raise.
    :param matcher: which statements it answers; None for a queued answer.
    :param times: how many executions it answers; None for no limit.
    """

    def __init__(self, answer: Answer, matcher: Optional[Matcher], times: Optional[int]) -> None:
        self.answer = answer
        self.matcher = matcher
        self.times = times
        self.used = 0
        self.label = "route" if matcher is not None else "queued result"
        """What messages call it: ``route 2``, ``queued result 1`` (numbered once added)."""

    @property
    def exhausted(self) -> bool:
        """True once it answered ``times`` executions."""
        return self.times is not None and self.used >= self.times

    def take(self, statement: Any) -> CannedResult:
        """Answer one execution of ``statement``: a fresh result, or raise the exception.

        :param statement: the executed statement.
        """
        self.used += 1
        if isinstance(self.answer, CannedResult):
            return self.answer.fresh(statement_keys(statement))
        raise self.answer

    def __repr__(self) -> str:
        if isinstance(self.answer, CannedResult):
            what = repr(self.answer)
        elif isinstance(self.answer, type):
            what = f"raise {self.answer.__name__}"
        else:
            what = f"raise {self.answer!r}"
        target = f" for {self.matcher!r}" if self.matcher is not None else " (queued)"
        times = "no limit" if self.times is None else f"times={self.times}"
        return f"{what}{target}, {times}, used {self.used}"


class Responder:
    """The answers configured for one test's session, tried routes first, then the queue."""

    def __init__(self) -> None:
        self.routes: List[CannedAnswer] = []
        self.queue: Deque[CannedAnswer] = deque()
        self.added: List[CannedAnswer] = []
        self.last: Optional[CannedAnswer] = None
        """The answer that answered the latest execution, if any did."""

    def add(self, answer: CannedAnswer) -> None:
        """Route ``answer`` if it has a matcher, queue it otherwise.

        :param answer: the configured answer.
        """
        self.added.append(answer)
        if answer.matcher is None:
            self.queue.append(answer)
            number = sum(1 for added in self.added if added.matcher is None)
        else:
            self.routes.append(answer)
            number = len(self.routes)
        answer.label = f"{answer.label} {number}"

    def respond(self, statement: Any, queued: bool = True) -> Optional[CannedResult]:
        """Return the configured result for ``statement`` (or raise its exception); None if none.

        :param statement: the executed statement.
        :param queued: also take the next queued result when no route matches.
        """
        for route in self.routes:
            matcher = route.matcher  # a route always has one; a queued answer has none
            if matcher is not None and not route.exhausted and matcher.matches(statement):
                self.last = route
                return route.take(statement)
        self.last = None
        if not queued:
            return None
        while self.queue and self.queue[0].exhausted:
            self.queue.popleft()
        if self.queue:
            head = self.queue[0]
            self.last = head
            try:
                return head.take(statement)
            finally:
                if head.exhausted:
                    self.queue.popleft()
        return None

    def explain_unmatched(self, statement: Any, dialect: Any = None) -> str:
        """Say why nothing answered ``statement``: each route with its reason, the empty queue.

        :param statement: the executed statement.
        :param dialect: the dialect to render SQL with.
        """
        lines = [f"No result configured for: {render(statement, dialect)}"]
        if self.routes:
            lines.append(f"Routes ({len(self.routes)}):")
            for number, route in enumerate(self.routes, 1):
                if route.exhausted:
                    reason = "used up"
                else:
                    reason = route.matcher.match(statement)[1] if route.matcher else ""
                lines.append(f"{number}. {route!r}: {reason}")
        else:
            lines.append("No routes configured.")
        lines.append("No queued results left.")
        lines.append(
            "Add one with self.addResult(rows, statement=...) or self.addResult(rows), "
            "or set strict = False."
        )
        return "\n".join(lines)

    def unused(self) -> List[CannedAnswer]:
        """Return the answers that never answered an execution."""
        return [answer for answer in self.added if answer.used == 0]


class ObjectStore:
    """The instances ``addObject`` made findable by ``get()`` and ``get_one()``."""

    def __init__(self) -> None:
        self.instances: List[Any] = []

    def add(self, instances: Sequence[Any]) -> None:
        """Make ``instances`` findable; each needs a primary key no other one has.

        :param instances: ORM instances.
        :raises TypeError: one of them is not an instance of a mapped class.
        :raises ValueError: one of them has no primary key, or the primary key of another.
        """
        by_identity: Dict[Any, Any] = {}
        for known in self.instances:
            known_mapper = sa_inspect(known).mapper
            identity = _identity_of(known_mapper, known_mapper.primary_key_from_instance(known))
            if identity is not None:
                by_identity[identity] = known
        new: List[Any] = []
        for instance in instances:
            if not is_orm_instance(instance):
                raise TypeError(
                    f"addObject(): {safe_repr(instance)} is not an instance of a mapped class; "
                    f"give ORM instances, e.g. self.addObject(User(id=1))"
                )
            mapper = sa_inspect(instance).mapper
            key = tuple(mapper.primary_key_from_instance(instance))
            if any(value is None for value in key):
                _refuse_missing_key(instance, mapper, key)
            identity = _identity_of(mapper, key)
            other = by_identity.get(identity) if identity is not None else None
            if other is instance:
                continue
            if other is not None:
                shown = key[0] if len(key) == 1 else key
                raise ValueError(
                    f"addObject(): {safe_repr(instance)} and {safe_repr(other)} have the same "
                    f"primary key ({safe_repr(shown)}): get() would find only one of them; "
                    f"add one instance per primary key"
                )
            if identity is not None:
                by_identity[identity] = instance
            new.append(instance)
        self.instances.extend(new)

    def find(self, entity: Any, ident: Any) -> Tuple[Any, Tuple[Any, ...]]:
        """Return the added instance of ``entity`` whose primary key equals ``ident`` (or None),
        and that primary key as a tuple.

        :param entity: a mapped class.
        :param ident: a primary key: a value, a tuple for a composite key, or a dict by name.
        :raises sqlalchemy.exc.NoInspectionAvailable: ``entity`` is not mapped (as ``get()``).
        :raises sqlalchemy.exc.ArgumentError: ``entity`` is an instance, not a class.
        :raises sqlalchemy.exc.InvalidRequestError: ``ident`` has the wrong number of values,
            or names that are not the key's, as the real ``get()`` says.
        """
        mapper = sa_inspect(entity)  # raises for a non-mapped entity, as the real get() does
        if not getattr(mapper, "is_mapper", False):
            raise ArgumentError(f"Expected mapped class or mapper, got: {entity!r}")
        wanted = _identity(mapper, ident)
        return self._find(mapper, wanted), wanted

    def _find(self, mapper: Any, wanted: Tuple[Any, ...]) -> Any:
        for instance in self.instances:
            if isinstance(instance, mapper.class_):
                if tuple(mapper.primary_key_from_instance(instance)) == wanted:
                    return instance
        return None


def _identity_of(mapper: Any, key: Sequence[Any]) -> Any:
    """Return what makes an instance one row, as the identity map sees it: its base mapper and
    primary key; None if the key cannot be hashed."""
    identity = (mapper.base_mapper, tuple(key))
    try:
        hash(identity)
    except TypeError:  # a key of values that cannot be hashed: not checked for duplicates
        return None
    return identity


def _refuse_missing_key(instance: Any, mapper: Any, key: Tuple[Any, ...]) -> None:
    names = [
        mapper.get_property_by_column(column).key
        for column, value in zip(mapper.primary_key, key)
        if value is None
    ]
    class_name = mapper.class_.__name__
    attributes = ", ".join(f"{class_name}.{name}" for name in names)
    example = ", ".join(f"{name}=1" for name in names)
    raise ValueError(
        f"addObject(): {safe_repr(instance)} has no primary key ({attributes} "
        f"{'is' if len(names) == 1 else 'are'} None); get() finds an instance by its primary "
        f"key: set it, e.g. {class_name}({example})"
    )


def _identity(mapper: Any, ident: Any) -> Tuple[Any, ...]:
    """Return the primary key ``get()`` looks for, refusing an identifier of the wrong shape
    with the real ``Session.get()``'s error."""
    is_dict = isinstance(ident, dict)
    if ident is None:
        values: Any = [None]
    elif is_dict or isinstance(ident, (str, bytes)) or not isinstance(ident, Iterable):
        values = ident if is_dict else [ident]
    else:
        values = list(ident)
    if len(values) != len(mapper.primary_key):
        columns = ",".join(f"'{column}'" for column in mapper.primary_key)
        raise InvalidRequestError(
            "Incorrect number of values in identifier to formulate primary key for "
            f"session.get(); primary key columns are {columns}"
        )
    if not is_dict:
        return tuple(values)
    names = [mapper.get_property_by_column(column).key for column in mapper.primary_key]
    by_name = dict(ident)
    for synonym in mapper.synonyms:  # a synonym of a key attribute names it too
        if synonym.key in by_name and synonym.name in names:
            by_name[synonym.name] = by_name[synonym.key]
    try:
        return tuple(by_name[name] for name in names)
    except KeyError:
        shown = ",".join(f"'{name}'" for name in names)
        raise InvalidRequestError(
            "Incorrect names of values in identifier to formulate primary key for "
            f"session.get(); primary key attribute names are {shown} (synonym names are also "
            "accepted)"
        ) from None
