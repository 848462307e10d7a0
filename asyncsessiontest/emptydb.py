"""Work out what an empty database answers: the rows of a select, the rowcount of DML.

A session over an empty database still answers some statements with rows (``select(func.count())
.select_from(User)`` gives one row, 0), and DML reports the rows it touched, and an INSERT's
RETURNING the rows it inserted. The session gives these answers when the test configured none;
and to every DML result, configured or not, what a ``CursorResult`` knows beside its rows
(:func:`answer`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy.sql.elements import BindParameter, False_, FunctionFilter, Label, Null, True_
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import (
    AliasedReturnsRows,
    Exists,
    FromClause,
    Join,
    ScalarSelect,
    Select,
    SelectBase,
    SelectStatementGrouping,
    TableClause,
)

from asyncsessiontest.results import (
    ENTITIES_RETURNED,
    CannedResult,
    CursorFacts,
    is_dml,
    make_result,
    statement_keys,
)

if TYPE_CHECKING:
    from asyncsessiontest.keys import KeyAssigner

__all__ = ["answer", "empty_database_rowcount", "empty_database_rows"]

# return_defaults() fetches through RETURNING from SQLAlchemy 2.0 on (on SQLite and the
# databases that have it); 1.4 reads the key from the cursor and fetches nothing
_DEFAULTS_RETURNED = ENTITIES_RETURNED


def answer(
    statement: Any, params: Any, canned: Optional[CannedResult], keys: Optional[KeyAssigner]
) -> CannedResult:
    """Return the result of one execution: ``canned`` if an answer was configured, else what
    an empty database gives; for DML, with what a ``CursorResult`` knows beside its rows.

    An INSERT inserts one row per dict of an executemany, per row of a multi-row ``values()``,
    or one, holding the values the statement gives, its columns' Python-side scalar defaults,
    the primary key the session assigns (with ``assign_primary_keys``; otherwise the one
    given, or None), and None for what the database would compute (server defaults). Its
    RETURNING gives those rows (an ORM ``returning(User)`` instances of ``User``, not in the
    session); an UPDATE's or DELETE's gives none, as on an empty database.

    :param statement: the executed statement.
    :param params: the parameters passed beside it: a dict, a list of dicts, or None.
    :param canned: the configured answer for this execution, or None.
    :param keys: the session's primary key assigner, or None if it assigns none.
    """
    if not getattr(statement, "is_dml", False):
        if canned is not None:
            return canned
        # a statement whose columns cannot be known (text()) gets one, as make_result() gives
        columns = statement_keys(statement) or None
        return make_result(empty_database_rows(statement), columns=columns)
    is_insert = bool(getattr(statement, "is_insert", False))
    returning = not is_dml(statement)
    executemany = isinstance(params, (list, tuple)) and len(params) > 1
    table = getattr(statement, "table", None)
    rows = _inserted_rows(statement, params) if is_insert else []
    primary_key = list(getattr(table, "primary_key", ()))
    if rows and table is not None:
        for row in rows:
            for column in primary_key:
                given = row.get(column.key)
                row[column.key] = keys.key_for_row(table, given) if keys is not None else given
    defaults = _defaults_fetched(statement, table, primary_key) if is_insert else None
    result = canned
    if result is not None and defaults is not None and not result.returns_rows:
        # a canned rowcount: the values return_defaults() fetched came as rows, consumed
        result = make_result([], columns=[c.key for c in defaults], rowcount=result.rowcount)
    if result is None:
        rowcount = empty_database_rowcount(statement, params)
        if returning:
            columns = statement_keys(statement) or []
            values = [_returned(statement, row) for row in rows]
            result = make_result(values, columns=columns, rowcount=rowcount)
        elif defaults is not None:
            # the values came through RETURNING, which the result consumed
            result = make_result([], columns=[column.key for column in defaults], rowcount=rowcount)
        else:
            result = make_result(rowcount=rowcount)
    # what a database reports of the keys: per row of a single execution or an executemany,
    # but only the parameters' (None) for an executemany without RETURNING, or a multi-row
    # values(), whose keys the driver does not report
    multi_row = bool(getattr(statement, "_multi_values", ()))
    key_known = defaults is not None or not (executemany or multi_row)
    key_rows = rows[:1] if multi_row else rows
    result._cursor_facts = CursorFacts(
        is_insert=is_insert,
        executemany=executemany,
        returning=returning,
        primary_key_names=[column.key for column in primary_key],
        primary_keys=[
            tuple(row[column.key] if key_known else None for column in primary_key)
            for row in key_rows
        ],
        default_names=None if defaults is None else [column.key for column in defaults],
        defaults=[tuple(row.get(column.key) for column in defaults or ()) for row in rows],
        lastrowid=_lastrowid(rows, primary_key, executemany and not returning and not defaults),
    )
    return result


def _inserted_rows(statement: Any, params: Any) -> List[Dict[str, Any]]:
    """Return the rows an INSERT inserts, as dicts from column key to value (None for one
    the database computes), or none if they come from a select."""
    if getattr(statement, "select", None) is not None:
        return []  # from_select(): the rows of a select, none on an empty database
    table = statement.table
    columns = list(table.columns)
    multi_values = getattr(statement, "_multi_values", ())
    if multi_values:
        given = [
            _keyed(row) if isinstance(row, dict) else dict(zip([c.key for c in columns], row))
            for rows in multi_values
            for row in rows
        ]
    else:
        base = _keyed(getattr(statement, "_values", None) or {})
        if isinstance(params, dict):
            given = [{**base, **params}]
        elif isinstance(params, (list, tuple)) and params:
            # rows that are not mappings a real session refuses; here they insert no values
            given = [{**base, **(each if isinstance(each, dict) else {})} for each in params]
        else:
            given = [base]
    return [_with_defaults(row, columns) for row in given]


def _keyed(values: Any) -> Dict[str, Any]:
    """Return ``values`` (of a ``values()``) keyed by column key, their literal values taken."""
    keyed = {}
    for key, value in values.items():
        keyed[key if isinstance(key, str) else key.key] = _literal(value)
    return keyed


def _literal(value: Any) -> Any:
    if isinstance(value, BindParameter):
        return value.effective_value
    if hasattr(value, "__clause_element__") or hasattr(value, "_compiler_dispatch"):
        return None  # an expression the database computes: func.now(), a subquery...
    return value


def _with_defaults(row: Dict[str, Any], columns: Sequence[Any]) -> Dict[str, Any]:
    """Add to ``row`` what SQLAlchemy itself gives the columns it lacks: a scalar default."""
    for column in columns:
        if column.key not in row:
            default = column.default
            scalar = default is not None and default.is_scalar
            row[column.key] = default.arg if scalar else None
    return row


def _defaults_fetched(statement: Any, table: Any, primary_key: List[Any]) -> Optional[List[Any]]:
    """Return the columns ``return_defaults()`` fetches through RETURNING, or None."""
    if not _DEFAULTS_RETURNED or not getattr(statement, "_return_defaults", False):
        return None
    if getattr(statement, "_returning", ()):
        return None
    asked = list(getattr(statement, "_return_defaults_columns", None) or ())
    server = [column for column in table.columns if column.server_default is not None]
    fetched = primary_key + [c for c in asked or server if not any(c is k for k in primary_key)]
    return fetched


def _returned(statement: Any, row: Dict[str, Any]) -> Tuple[Any, ...]:
    """Return the values RETURNING gives for one inserted ``row``."""
    values: List[Any] = []
    table = statement.table
    for element in statement._returning:
        if isinstance(element, FromClause):
            entity = element._annotations.get("parententity") if ENTITIES_RETURNED else None
            if entity is not None:
                values.append(_instance(entity, row))
            else:
                values.extend(row.get(column.key) for column in element.columns)
            continue
        # a column of the table (ORM-annotated or not), else an expression the database
        # computes
        column = table.corresponding_column(element)
        values.append(row.get(column.key) if column is not None else None)
    return tuple(values)


def _instance(mapper: Any, row: Dict[str, Any]) -> Any:
    """Return an instance of ``mapper``'s class holding the values of an inserted ``row``."""
    instance = mapper.class_manager.new_instance()
    for prop in mapper.column_attrs:
        setattr(instance, prop.key, row.get(prop.columns[0].key))
    return instance


def _lastrowid(rows: List[Dict[str, Any]], primary_key: List[Any], unreported: bool) -> Any:
    """Return the ``lastrowid`` of an INSERT: its last row's integer key, unless the driver
    ran an executemany without RETURNING (``unreported``), which reports none."""
    if not rows or unreported or len(primary_key) != 1:
        return None
    value = rows[-1][primary_key[0].key]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
