"""Primary keys as a database would assign them on flush: 1, 2, 3... per table."""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

from sqlalchemy import Integer
from sqlalchemy import inspect as sa_inspect

__all__ = ["KeyAssigner", "assignable", "autoincrement_column"]


class KeyAssigner:
    """Give added instances with an empty integer autoincrement primary key the next integer.

    Rows inserted by an INSERT statement draw from the same counters, as they would in a
    database: an instance flushed after ``insert(users)`` inserted one row gets the key 2.
    """

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

    def key_for_row(self, table: Any, given: Any) -> Any:
        """Return the primary key of a row an INSERT puts in ``table``, as a database gives it.

        A key given in the statement is the row's (and later keys count on from it); without
        one, a table with a single autoincrement integer key gives the next integer, any other
        table None (the database would compute it, or the INSERT would fail).

        :param table: the table the row goes into.
        :param given: the value the statement gives the primary key column, or None.
        """
        column = autoincrement_column(table)
        if column is None:
            return given
        name = table.fullname
        if given is not None:
            if isinstance(given, int) and not isinstance(given, bool):
                self._last[name] = max(self._last.get(name, 0), given)
            return given
        self._last[name] = self._last.get(name, 0) + 1
        return self._last[name]


def assignable(instance: Any) -> bool:
    """Tell whether :class:`KeyAssigner` gives ``instance`` a key when its key is None.

    :param instance: an ORM instance.
    """
    return _key_of(instance) is not None


def autoincrement_column(table: Any) -> Optional[Any]:
    """Return the column of ``table``'s primary key if it is one integer that autoincrements.

    :param table: a ``Table``.
    """
    columns = list(getattr(table, "primary_key", ()))
    if len(columns) != 1 or not _autoincrements(columns[0]):
        return None
    return columns[0]


def _autoincrements(column: Any) -> bool:
    if not isinstance(column.type, Integer) or column.autoincrement not in (True, "auto"):
        return False
    # "auto" means no autoincrement for a key that references another table
    return not (column.autoincrement == "auto" and column.foreign_keys)


def _key_of(instance: Any) -> Optional[Any]:
    """Return (table, attribute, value) of an autoincrement integer primary key, or None."""
    mapper = getattr(sa_inspect(instance, raiseerr=False), "mapper", None)
    if mapper is None or len(mapper.primary_key) != 1:
        return None
    column = mapper.primary_key[0]
    if not _autoincrements(column):
        return None
    attribute = mapper.get_property_by_column(column).key
    return column.table.fullname, attribute, getattr(instance, attribute)
