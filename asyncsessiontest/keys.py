"""Primary keys as a database would assign them on flush: 1, 2, 3... per table."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from sqlalchemy import Integer
from sqlalchemy import inspect as sa_inspect

__all__ = ["KeyAssigner", "assignable"]


class KeyAssigner:
    """Give added instances with an empty integer autoincrement primary key the next integer."""

    def __init__(self) -> None:
        self._last: Dict[str, int] = {}

    def assign(self, instances: Iterable[Any]) -> None:
        """Set the primary key of each instance that has a single autoincrement integer one,
        still None, to the next integer for its table.

        :param instances: the instances added to the session so far.
        """
        instances = list(instances)
        for instance in instances:  # keys set by hand are taken: the counter starts past them
            found = _key_of(instance)
            if found is not None and found[2] is not None:
                table, _, value = found
                if isinstance(value, int):
                    self._last[table] = max(self._last.get(table, 0), value)
        for instance in instances:
            found = _key_of(instance)
            if found is not None and found[2] is None:
                table, attribute, _ = found
                self._last[table] = self._last.get(table, 0) + 1
                setattr(instance, attribute, self._last[table])


def assignable(instance: Any) -> bool:
    """Tell whether :class:`KeyAssigner` gives ``instance`` a key when its key is None.

    :param instance: an ORM instance.
    """
    return _key_of(instance) is not None


def _key_of(instance: Any) -> Optional[Any]:
    """Return (table, attribute, value) of an autoincrement integer primary key, or None."""
    mapper = getattr(sa_inspect(instance, raiseerr=False), "mapper", None)
    if mapper is None or len(mapper.primary_key) != 1:
        return None
    column = mapper.primary_key[0]
    if not isinstance(column.type, Integer) or column.autoincrement not in (True, "auto"):
        return None
    if column.autoincrement == "auto" and column.foreign_keys:
        return None  # "auto" means no autoincrement for a key that references another table
    attribute = mapper.get_property_by_column(column).key
    return column.table.fullname, attribute, getattr(instance, attribute)
