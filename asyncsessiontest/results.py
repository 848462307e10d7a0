"""Build real SQLAlchemy results from canned Python data.

Everything here returns genuine ``sqlalchemy.engine.Result`` objects (``IteratorResult`` over
``SimpleResultMetaData``), so ``.scalars()``, ``.unique()``, ``.one()`` and their exceptions are
SQLAlchemy's own, not imitations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from sqlalchemy.engine import Row
from sqlalchemy.engine.cursor import _NO_RESULT_METADATA
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.exc import ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncResult
from sqlalchemy.sql.elements import BindParameter, Label
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.schema import Column
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

from asyncsessiontest.kinds import is_orm_instance

__all__ = [
    "CannedResult",
    "build_result",
    "empty_database_rowcount",
    "empty_database_rows",
    "is_dml",
    "make_result",
    "statement_keys",
    "to_async_result",
]

_DEFAULT_KEY = "column_{}"

# how a canned result's values meet the columns of the statement they answer
_EXPLICIT = "explicit"  # columns= given: the statement's columns are ignored
_BY_NAME = "by name"  # dicts, named tuples, Rows
_BY_POSITION = "by position"  # tuples, plain values, ORM instances


if TYPE_CHECKING:
    _IteratorResult = IteratorResult[Any]
else:  # SQLAlchemy 1.4's results are not generic
    _IteratorResult = IteratorResult


class CannedResult(_IteratorResult):
    """A real ``IteratorResult`` that remembers its rows, so fresh copies can be made.

    Build it with :func:`make_result`. It behaves like the result of one execution: consuming it
    empties it, as in production. :class:`~asyncsessiontest.AsyncSessionTestCase` hands every
    execution a fresh copy.

    :param keys: the column names, or None for a statement without rows (DML without RETURNING).
    :param rows: the rows, as tuples.
    :param rowcount: the row count to report, or None for -1.
    :param naming: how the rows meet a statement's columns: by name, by position, or explicit.
    """

    rowcount: int
    """Rows matched by an UPDATE or DELETE, as on a real ``CursorResult``; -1 when not given."""

    def __init__(
        self,
        keys: Optional[Sequence[str]],
        rows: Sequence[Tuple[Any, ...]],
        rowcount: Optional[int],
        naming: str,
    ) -> None:
        self._canned_keys = tuple(keys) if keys is not None else None
        self._canned_rows = rows
        self._canned_rowcount = rowcount
        self._canned_naming = naming
        self.rowcount = -1 if rowcount is None else rowcount
        if keys is None:
            # a DML statement without RETURNING: fetching raises ResourceClosedError, as real
            super().__init__(_NO_RESULT_METADATA, _closed_rows())
        else:
            super().__init__(SimpleResultMetaData(list(keys)), iter(rows))

    @property
    def returns_rows(self) -> bool:
        """Tell whether this result has rows to fetch, as ``CursorResult.returns_rows`` does."""
        return self._canned_keys is not None

    def fresh(self, statement_keys: Optional[Sequence[str]] = None) -> CannedResult:
        """Return an unconsumed copy, keyed by ``statement_keys`` unless columns were given.

        Rows given as dicts, named tuples or ``Row`` objects are matched to the statement's
        columns by name; other rows by position.

        :param statement_keys: the keys a real database would give for the executed statement
            (see :func:`statement_keys`); ignored when ``columns=`` was given explicitly.
        :raises ValueError: the rows do not fit the statement's columns.
        """
        keys, rows = self._canned_keys, self._canned_rows
        if statement_keys is not None and keys is not None and self._canned_naming != _EXPLICIT:
            wanted = tuple(statement_keys)
            if rows and self._canned_naming == _BY_NAME and wanted != keys:
                if set(wanted) != set(keys) or len(wanted) != len(keys):
                    raise ValueError(
                        f"the canned rows have the columns {list(keys)}, but the statement "
                        f"selects {list(wanted)}; name the values as the statement names its "
                        f"columns, or give columns= to override them"
                    )
                order = [keys.index(key) for key in wanted]
                rows = [tuple(row[index] for index in order) for row in rows]
            elif rows and len(wanted) != len(keys):
                raise ValueError(
                    f"the canned rows have {len(keys)} value(s) each, but the statement selects "
                    f"{len(wanted)} column(s) {list(wanted)}; give rows that fit the statement, "
                    f"or columns= to override its columns"
                )
            keys = wanted
        return CannedResult(keys, rows, self._canned_rowcount, self._canned_naming)

    def __repr__(self) -> str:
        if self._canned_keys is None:
            return f"<CannedResult no rows, rowcount={self.rowcount}>"
        return f"<CannedResult {list(self._canned_keys)}: {len(self._canned_rows)} row(s)>"


def _closed_rows() -> Iterator[Tuple[Any, ...]]:
    # what a real result of a statement without rows raises on every fetch, one() included
    raise ResourceClosedError(
        "This result object does not return rows. It has been closed automatically."
    )
    yield ()  # a generator: it raises on the first fetch, not when built


def _row_kind(row: Any) -> str:
    if isinstance(row, Row) or (isinstance(row, tuple) and hasattr(row, "_fields")):
        return "named"
    if isinstance(row, tuple):
        return "tuple"
    if isinstance(row, dict):
        return "dict"
    if is_orm_instance(row):
        return "instance"
    return "value"


_KIND_NAMES = {
    "named": "a named tuple or Row",
    "tuple": "a tuple",
    "dict": "a dict",
    "instance": "an ORM instance",
    "value": "a plain value",
}


def _normalise(
    rows: List[Any], caller: str
) -> Tuple[Optional[List[str]], List[Tuple[Any, ...]], Optional[str]]:
    """Turn user rows into (keys or None for defaults, tuples, their kind or None if there are
    none), checking they agree."""
    if not rows:
        return None, [], None
    kinds = {_row_kind(row) for row in rows}
    # instances of mapped classes mix with plain values only as separate kinds: refuse the mix
    if len(kinds) > 1:
        first_kind = _row_kind(rows[0])
        for index, row in enumerate(rows):
            if _row_kind(row) != first_kind:
                raise TypeError(
                    f"{caller}(): row {index} is {_KIND_NAMES[_row_kind(row)]} ({row!r}), "
                    f"but row 0 is {_KIND_NAMES[first_kind]}: give every row in the same form"
                )
    kind = kinds.pop()
    if kind == "dict":
        keys = list(rows[0])
        for index, row in enumerate(rows):
            if set(row) != set(keys):
                raise ValueError(
                    f"{caller}(): row {index} has keys {sorted(row)}, but row 0 has keys "
                    f"{sorted(keys)}: every dict needs the same keys"
                )
        return keys, [tuple(row[key] for key in keys) for row in rows], kind
    if kind == "instance":
        return [type(rows[0]).__name__], [(row,) for row in rows], kind
    if kind == "value":
        return None, [(row,) for row in rows], kind
    width = len(rows[0])
    for index, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(
                f"{caller}(): row {index} has {len(row)} value(s), but row 0 has {width}: "
                f"every row needs the same number of values"
            )
    names = list(rows[0]._fields) if kind == "named" else None
    return names, [tuple(row) for row in rows], kind


def make_result(
    rows: Iterable[Any] = (),
    *,
    columns: Optional[Sequence[str]] = None,
    rowcount: Optional[int] = None,
) -> CannedResult:
    """Return a real SQLAlchemy result holding ``rows``.

    Each row may be a tuple (one value per column), a dict (column name to value), an ORM
    instance (a one-column row keyed by its class name, like ``select(User)``), a ``Row`` or named
    tuple (keeping its names), or a plain value such as an int, a string or None (a one-column
    row, so ``.scalars().all()`` gives the values back). Give every row in the same form.

    Unnamed columns are called ``column_1``, ``column_2``, ... When the result answers a
    ``select()``, the statement's own column names replace these defaults (as a real database
    would name them), unless ``columns`` was given.

    :param rows: the rows, in order.
    :param columns: the column names, one per value in a row.
    :param rowcount: rows matched, as ``CursorResult.rowcount`` reports for UPDATE and DELETE.
        With ``rowcount`` and no rows or columns, the result is that of a DML statement without
        RETURNING: fetching from it raises ``ResourceClosedError``, as a real one does.
    :raises TypeError: an argument has the wrong type, or rows are given in different forms.
    :raises ValueError: rows of different widths, dicts with different keys, or ``columns``
        that do not match the rows.
    """
    return build_result(rows, columns, rowcount, caller="make_result")


def build_result(
    rows: Iterable[Any], columns: Optional[Sequence[str]], rowcount: Optional[int], caller: str
) -> CannedResult:
    """Do :func:`make_result`'s work, naming ``caller`` in error messages.

    :param rows: as for :func:`make_result`.
    :param columns: as for :func:`make_result`.
    :param rowcount: as for :func:`make_result`.
    :param caller: the public function the user called, e.g. ``"addResult"``.
    """
    if isinstance(rows, (str, bytes, dict)) or not isinstance(rows, Iterable):
        raise TypeError(
            f"{caller}(): rows must be a list of rows, got {type(rows).__name__} {rows!r}"
        )
    if isinstance(rows, CannedResult):
        raise TypeError(f"{caller}(): rows is already a result; pass it on as it is")
    if rowcount is not None and (isinstance(rowcount, bool) or not isinstance(rowcount, int)):
        raise TypeError(f"{caller}(): rowcount must be an int, got {rowcount!r}")
    if columns is not None:
        if (
            isinstance(columns, (str, bytes))
            or not isinstance(columns, Iterable)
            or not all(isinstance(name, str) for name in columns)
        ):
            raise TypeError(
                f"{caller}(): columns must be a list of column names (strings), got {columns!r}"
            )
        columns = list(columns)
        if len(set(columns)) != len(columns):
            raise ValueError(f"{caller}(): columns has duplicate names: {columns!r}")

    row_list = list(rows)
    keys, tuples, kind = _normalise(row_list, caller)
    if columns is not None:
        if tuples and len(columns) != len(tuples[0]):
            raise ValueError(
                f"{caller}(): columns has {len(columns)} name(s) {columns!r}, but each row "
                f"has {len(tuples[0])} value(s), e.g. row 0: {row_list[0]!r}"
            )
        if keys is not None and row_list and isinstance(row_list[0], dict) and columns != keys:
            raise ValueError(
                f"{caller}(): columns {columns!r} does not match the dict keys {keys!r}"
            )
        return CannedResult(columns, tuples, rowcount, _EXPLICIT)
    if rowcount is not None and not tuples:
        return CannedResult(None, (), rowcount, _BY_POSITION)
    if keys is None:
        # without rows, one column: so that .scalars() and .scalar() work, as on a real select
        width = len(tuples[0]) if tuples else 1
        keys = [_DEFAULT_KEY.format(position) for position in range(1, width + 1)]
    naming = _BY_NAME if kind in ("dict", "named") else _BY_POSITION
    return CannedResult(keys, tuples, rowcount, naming)


def statement_keys(statement: Any) -> Optional[List[str]]:
    """Return the result keys a real database gives for ``statement``, or None if it has none.

    ORM selects are keyed by entity (``select(User)`` gives ``["User"]``), as real ORM results are.

    :param statement: the executed statement.
    """
    if getattr(statement, "is_dml", False) and not is_dml(statement):
        # RETURNING: the result is keyed by the returned columns
        return list(statement.exported_columns.keys())
    if not getattr(statement, "is_select", False):
        return None
    # the keys depend only on the statement's structure: work them out once per structure
    structure, keep_alive = _keys_structure(statement)
    if structure is None:
        return _statement_keys(statement)
    cached = _KEYS.get(structure)
    if cached is None:
        if len(_KEYS) > 10_000:
            _KEYS.clear()
        cached = _KEYS[structure] = (keep_alive, _statement_keys(statement))
    keys = cached[1]
    return list(keys) if keys is not None else None


_SCHEMA_OBJECTS = (Column, TableClause)
# structure -> (what must outlive the entry, the keys)
_KEYS: Dict[Any, Tuple[Any, Optional[List[str]]]] = {}


def _keys_structure(statement: Any) -> Tuple[Any, Any]:
    """Return what ``statement``'s result keys depend on, as a dict key (None if unknown), and
    the objects that key names by identity, which its cache entry keeps alive."""
    if isinstance(statement, Select):
        columns = tuple(statement._raw_columns)
        if all(isinstance(column, _SCHEMA_OBJECTS) for column in columns):
            # a select's keys follow from its columns and label style; tables and table
            # columns (User's, User.id's) live as long as their metadata and are shared by
            # every select of them, so their identities serve, ~30x cheaper than a cache key.
            # Expressions (count(), labels) are built anew for each statement: they would
            # fill the cache with one entry each, and keep their values alive.
            return (statement._label_style, *map(id, columns)), columns
    try:
        return statement._generate_cache_key().key, None
    except Exception:  # a construct that does not support caching
        return None, None


def _statement_keys(statement: Any) -> Optional[List[str]]:
    try:
        descriptions = getattr(statement, "column_descriptions", None)
        if descriptions:
            return [description["name"] for description in descriptions]
        selected = getattr(statement, "selected_columns", None)
    except NotImplementedError:  # SQLAlchemy 1.4's from_statement(), for one
        return None
    if selected is None:
        return None
    return list(selected.keys())


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
    non-NULL value), and a select without FROM or WHERE gives one row of its values
    (``exists()`` False, a scalar subquery NULL or its own row's value, a literal its value).
    Where the row cannot be known without data (HAVING, WHERE without FROM, subqueries and
    functions in FROM, functions of row values), no rows, as before.

    :param statement: the executed statement.
    """
    rows = _rows_of(statement)
    return [] if rows is _UNKNOWN else rows


_UNKNOWN: Any = object()  # a value (or rows) that cannot be worked out without data
_ROW_VALUE: Any = object()  # a value read from a row of a table: an empty one has none
_AGGREGATES = frozenset(
    {"sum", "min", "max", "avg", "array_agg", "string_agg", "group_concat", "json_agg",
     "jsonb_agg", "bool_and", "bool_or", "every", "stddev", "stddev_pop", "stddev_samp",
     "variance", "var_pop", "var_samp"}
)  # fmt: skip
# what a select's column must be for its value not to come from a table's rows
_COMPUTED = (Label, BindParameter, ScalarSelect, Exists, FunctionElement)


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
    aggregate): the value may be _UNKNOWN, or _ROW_VALUE for one read from a table's rows."""
    if isinstance(element, Label):
        return _value_of(element.element, has_from)
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
            return (None if has_from else _UNKNOWN), True
        if name == "coalesce":
            values = [_value_of(argument, has_from) for argument in arguments]
            aggregated = any(is_aggregate for _, is_aggregate in values)
            for value, _ in values:
                if value is not None:  # a value, or a marker that it is not known
                    return value, aggregated
            return None, aggregated
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


def is_dml(statement: Any) -> bool:
    """Tell whether ``statement`` is an INSERT, UPDATE or DELETE without RETURNING.

    :param statement: the executed statement.
    """
    if not getattr(statement, "is_dml", False):
        return False
    return not getattr(statement, "_returning", ()) and not getattr(
        statement, "_return_defaults", False
    )


def to_async_result(result: IteratorResult[Any]) -> AsyncResult[Any]:
    """Wrap ``result`` the way ``AsyncSession.stream()`` does.

    :param result: a synchronous result.
    """
    async_result = AsyncResult(result)
    if not hasattr(async_result, "_source_supports_scalars"):
        # SQLAlchemy 1.4's AsyncResult reads this in scalar()/scalar_one() but never sets it
        async_result._source_supports_scalars = result._source_supports_scalars
    return async_result
