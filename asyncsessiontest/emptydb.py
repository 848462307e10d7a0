"""Work out what an empty database answers: the rows of a select, the rowcount of DML.

A session over an empty database still answers some statements with rows (``select(func.count())
.select_from(User)`` gives one row, 0), and DML reports the rows it touched. The session gives
these answers when the test configured none.
"""

from __future__ import annotations

from typing import Any, List, Tuple

from sqlalchemy.sql.elements import BindParameter, False_, FunctionFilter, Label, Null, True_
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import (
    AliasedReturnsRows,
    Exists,
    Join,
    ScalarSelect,
    Select,
    SelectBase,
    SelectStatementGrouping,
    TableClause,
)

__all__ = ["empty_database_rowcount", "empty_database_rows"]


def empty_database_rowcount(statement: Any, params: Any = None) -> int:
    """Return the ``rowcount`` an empty database reports for an INSERT, UPDATE or DELETE.

    An UPDATE or DELETE finds nothing: 0. An INSERT inserts its rows: one per dict of an
    executemany, one per row of a multi-row ``values()``, the rows its select gives for
    ``from_select()``, otherwise one. (As SQLite and most drivers count them; some report -1 for
    an executemany.)

    :param statement: the executed DML statement.
    :param params: the parameters passed beside it: a dict, a list of dicts, or None.
    """
    if not getattr(statement, "is_insert", False):
        return 0
    source = getattr(statement, "select", None)
    if source is not None:
        return len(empty_database_rows(source))
    multi_values = getattr(statement, "_multi_values", ())
    if multi_values:
        return sum(len(rows) for rows in multi_values)
    if isinstance(params, (list, tuple)):
        return len(params)
    return 1


def empty_database_rows(statement: Any) -> List[Tuple[Any, ...]]:
    """Return the rows an empty database gives for ``statement``.

    None, mostly. But a select of aggregates alone, without GROUP BY, from empty tables gives
    one row (``count()`` 0, ``max()`` and the like NULL, ``coalesce()`` of those its first
    non-NULL value, an aggregate with ``.filter(...)`` the same), and a select without FROM or
    WHERE gives one row of its values (``exists()`` False, a scalar subquery NULL or its own
    row's value, a literal, ``true()``, ``false()`` or ``null()`` its value).
    A function of literals alone (``func.lower("A")``, ``func.now()``), or an aggregate, in a
    select without FROM gives its one row too, but the mock does not run the function: its
    value there is None. Where the row cannot be known without data (HAVING, WHERE without
    FROM, subqueries and functions in FROM, functions of row values, a parameter's value), no
    rows, as before. A function executed by itself (``session.execute(func.count())``) is
    answered as SQLAlchemy runs it, as ``select(func.count())``.

    :param statement: the executed statement.
    """
    if isinstance(statement, FunctionElement):
        statement = statement.select()
    rows = _rows_of(statement)
    if rows is _UNKNOWN:
        return []
    return [tuple(None if value is _SOME_VALUE else value for value in row) for row in rows]


_UNKNOWN: Any = object()  # a value (or rows) that cannot be worked out without data
_ROW_VALUE: Any = object()  # a value read from a row of a table: an empty one has none
_SOME_VALUE: Any = object()  # a value there is, but the mock does not compute: None to the user
_AGGREGATES = frozenset(
    {"sum", "min", "max", "avg", "array_agg", "string_agg", "group_concat", "json_agg",
     "jsonb_agg", "bool_and", "bool_or", "every", "stddev", "stddev_pop", "stddev_samp",
     "variance", "var_pop", "var_samp"}
)  # fmt: skip
# what a select's column must be for its value not to come from a table's rows
_COMPUTED = (
    Label, BindParameter, ScalarSelect, Exists, FunctionElement, FunctionFilter, True_, False_,
    Null,
)  # fmt: skip
_CONSTANTS = {True_: True, False_: False, Null: None}


def _rows_of(statement: Any) -> Any:
    """Return the rows of ``statement`` on an empty database, or _UNKNOWN."""
    if not isinstance(statement, Select):
        return _UNKNOWN
    if not any(isinstance(column, _COMPUTED) for column in statement._raw_columns):
        return []  # rows of tables (select(User)...): the usual case, answered at once
    if statement._having_criteria:
        return _UNKNOWN
    if statement._group_by_clauses:
        return []  # no rows, no groups
    try:
        if statement._limit == 0 or (statement._offset or 0) > 0:
            return []  # the one row, if any, is cut
    except Exception:  # LIMIT or OFFSET given as an expression
        return _UNKNOWN
    final_froms = getattr(statement, "get_final_froms", None)  # SQLAlchemy 2.0+
    froms = final_froms() if final_froms is not None else statement.froms
    if not all(_is_empty(source) for source in froms):
        return _UNKNOWN  # a subquery or a function in FROM may have rows
    has_from = bool(froms)
    if not has_from and statement._where_criteria:
        return _UNKNOWN  # the one row, if the condition holds
    values = [_value_of(column, has_from) for column in statement._raw_columns]
    if any(value is _UNKNOWN for value, _ in values):
        return _UNKNOWN
    if has_from:
        aggregated = [is_aggregate for _, is_aggregate in values]
        if not any(aggregated):
            return []  # rows of empty tables
        if not all(aggregated) or any(value is _ROW_VALUE for value, _ in values):
            return _UNKNOWN
    elif any(value is _ROW_VALUE for value, _ in values):
        return _UNKNOWN
    return [tuple(value for value, _ in values)]


def _is_empty(source: Any) -> bool:
    """Tell whether a FROM of a select is known to have no rows on an empty database: a
    table, an alias of one, a join of such, or a subquery that gives none."""
    if isinstance(source, TableClause):
        return True
    if isinstance(source, Join):
        return _is_empty(source.left) and _is_empty(source.right)
    if isinstance(source, AliasedReturnsRows):
        inner = source.element
        return _is_empty(inner) if isinstance(inner, TableClause) else _rows_of(inner) == []
    return False


def _value_of(element: Any, has_from: bool) -> Tuple[Any, bool]:
    """Return (the value of a selected ``element`` on an empty database, whether it is an
    aggregate): the value may be _UNKNOWN, _ROW_VALUE for one read from a table's rows, or
    _SOME_VALUE for one the database computes without data (``func.now()``)."""
    if isinstance(element, Label):
        return _value_of(element.element, has_from)
    constant = type(element)
    if constant in _CONSTANTS:
        return _CONSTANTS[constant], False
    if isinstance(element, FunctionFilter):
        # the filter keeps fewer of an empty table's rows: none. Without FROM, the one row
        # may pass it or not: a count of 0 or 1, a value or NULL
        value, is_aggregate = _value_of(element.func, has_from)
        if not has_from and value is not _UNKNOWN and value is not _ROW_VALUE:
            value = _SOME_VALUE
        return value, is_aggregate
    if isinstance(element, BindParameter):
        if element.value is None and element.callable is None and element.required:
            return _UNKNOWN, False  # its value comes with the execution's parameters
        return element.effective_value, False
    if isinstance(element, ScalarSelect):
        rows = _rows_of(element.element)
        if rows is _UNKNOWN:
            return _UNKNOWN, False
        return (rows[0][0] if rows else None), False
    if isinstance(element, Exists):
        inner = _inner_statement(element)
        rows = _UNKNOWN if inner is None else _rows_of(inner)
        return (_UNKNOWN if rows is _UNKNOWN else bool(rows)), False
    if isinstance(element, FunctionElement):
        name = str(getattr(element, "name", "")).lower()
        arguments = list(element.clauses)
        if name == "count":
            # count(*) of no table counts the one row a select without FROM has
            return (0 if has_from else 1), True
        if name in _AGGREGATES and not (name in ("min", "max") and len(arguments) > 1):
            # (SQLite's min(a, b) and max(a, b) are not aggregates)
            # without FROM, of the one row a select without FROM has: not computed
            return (None if has_from else _SOME_VALUE), True
        if name == "coalesce":
            values = [_value_of(argument, has_from) for argument in arguments]
            aggregated = any(is_aggregate for _, is_aggregate in values)
            for value, _ in values:
                if value is not None:  # a value, or a marker that it is not known
                    return value, aggregated
            return None, aggregated
        if not has_from and all(
            _value_of(argument, has_from)[0] not in (_UNKNOWN, _ROW_VALUE) for argument in arguments
        ):
            return _SOME_VALUE, False  # a function of literals: one row, a value not computed
        return _UNKNOWN, False
    return _ROW_VALUE, False


def _inner_statement(element: Any) -> Any:
    """Return the statement inside ``element`` (an exists()), or None."""
    for child in element.get_children():
        while isinstance(child, (ScalarSelect, SelectStatementGrouping)):
            child = child.element
        if isinstance(child, SelectBase):
            return child  # a select, or a union and the like (unknown)
        found = _inner_statement(child)
        if found is not None:
            return found
    return None
