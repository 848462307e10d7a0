"""Build real SQLAlchemy results from canned Python data.

Everything here returns genuine ``sqlalchemy.engine.Result`` objects (``IteratorResult`` over
``SimpleResultMetaData``), so ``.scalars()``, ``.unique()``, ``.one()`` and their exceptions are
SQLAlchemy's own, not imitations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import sqlalchemy
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Row
from sqlalchemy.engine.cursor import _NO_RESULT_METADATA
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.exc import InvalidRequestError, ResourceClosedError
from sqlalchemy.ext.asyncio import AsyncResult
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.schema import Column
from sqlalchemy.sql.selectable import FromClause, Select, TableClause

from asyncsessiontest.kinds import is_orm_instance
from asyncsessiontest.reprs import safe_repr

__all__ = [
    "ENTITIES_RETURNED",
    "CannedResult",
    "CursorFacts",
    "build_result",
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


# SQLAlchemy shares one metadata among the results of a cached statement: nothing changes it
# once it is made. Two are made per execution (the canned result and its fresh copy), so the
# results of one key tuple share one.
_METADATA: Dict[Tuple[str, ...], SimpleResultMetaData] = {}
_MAX_METADATA = 1_000


def _metadata_for(keys: Tuple[str, ...]) -> SimpleResultMetaData:
    """Return the result metadata of ``keys``, made once per key tuple."""
    metadata = _METADATA.get(keys)
    if metadata is None:
        if len(_METADATA) >= _MAX_METADATA:
            _METADATA.clear()
        metadata = _METADATA[keys] = SimpleResultMetaData(list(keys))
    return metadata


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
        canned_keys = self._canned_keys = tuple(keys) if keys is not None else None
        self._canned_rows = rows
        self._canned_rowcount = rowcount
        self._canned_naming = naming
        self.rowcount = -1 if rowcount is None else rowcount
        if canned_keys is None:
            # a DML statement without RETURNING: fetching raises ResourceClosedError, as real
            super().__init__(_NO_RESULT_METADATA, _closed_rows())
        else:
            super().__init__(_metadata_for(canned_keys), iter(rows))

    _cursor_facts: Optional[CursorFacts] = None

    @property
    def returns_rows(self) -> bool:
        """Tell whether this result has rows to fetch, as ``CursorResult.returns_rows`` does."""
        return self._canned_keys is not None

    @property
    def is_insert(self) -> bool:
        """Tell whether the statement was an INSERT, as ``CursorResult.is_insert`` does."""
        facts = self._cursor_facts
        return facts is not None and facts.is_insert

    @property
    def inserted_primary_key(self) -> Any:
        """The primary key of the row an INSERT inserted, as ``CursorResult`` gives it: a
        ``Row``, its values None where the database would compute them (the key itself too,
        unless the session assigns primary keys).

        :raises sqlalchemy.exc.InvalidRequestError: as a real result does: the statement was
            no INSERT, an executemany, or had RETURNING.
        """
        facts = self._insert_facts(returning_checked=False)
        if facts.executemany:
            raise InvalidRequestError(
                "This statement was an executemany call; if primary key returning is "
                "supported, please use .inserted_primary_key_rows."
            )
        rows = self._insert_facts().primary_key_rows()
        return rows[0] if rows else None  # (from_select(): no rows of its own)

    @property
    def inserted_primary_key_rows(self) -> List[Any]:
        """The primary key of each row an INSERT inserted (see :attr:`inserted_primary_key`).

        :raises sqlalchemy.exc.InvalidRequestError: the statement was no INSERT, or had RETURNING.
        """
        return self._insert_facts().primary_key_rows()

    @property
    def returned_defaults(self) -> Any:
        """The row of values ``return_defaults()`` fetched, or None, as on ``CursorResult``.

        :raises sqlalchemy.exc.InvalidRequestError: the statement was an executemany.
        """
        facts = self._cursor_facts
        if facts is None:
            return None
        if facts.executemany:
            raise InvalidRequestError(
                "This statement was an executemany call; if return defaults is supported, "
                "please use .returned_defaults_rows."
            )
        rows = facts.returned_defaults_rows()
        return rows[0] if rows else None

    @property
    def returned_defaults_rows(self) -> Optional[List[Any]]:
        """The rows of values ``return_defaults()`` fetched, one per row, or None."""
        facts = self._cursor_facts
        return None if facts is None else facts.returned_defaults_rows()

    @property
    def lastrowid(self) -> Any:
        """The primary key of the last row a one-row INSERT inserted, if the session assigns
        keys and the key is an integer; otherwise None (a database gives its cursor's value)."""
        facts = self._cursor_facts
        return None if facts is None else facts.lastrowid

    def _insert_facts(self, returning_checked: bool = True) -> CursorFacts:
        """Return the facts of the INSERT that gave this result, refusing as a real result
        does when there was none (or, if ``returning_checked``, when it had RETURNING)."""
        facts = self._cursor_facts
        if facts is None or not facts.is_insert:
            raise InvalidRequestError("Statement is not an insert() expression construct.")
        if returning_checked and facts.returning:
            raise InvalidRequestError("Can't call inserted_primary_key when returning() is used.")
        return facts

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
                    f"or columns= to override its columns" + _list_note(rows)
                )
            keys = wanted
        return CannedResult(keys, rows, self._canned_rowcount, self._canned_naming)

    def __repr__(self) -> str:
        if self._canned_keys is None:
            return f"<CannedResult no rows, rowcount={self.rowcount}>"
        return f"<CannedResult {list(self._canned_keys)}: {len(self._canned_rows)} row(s)>"


class CursorFacts:
    """What a ``CursorResult`` knows of the DML statement that gave it, beside its rows.

    :param is_insert: the statement was an INSERT.
    :param executemany: it ran with a list of parameter sets.
    :param returning: it had ``returning()``.
    :param primary_key_names: the keys of the table's primary key columns.
    :param primary_keys: the primary key values of each inserted row.
    :param default_names: the keys of the columns ``return_defaults()`` fetched, or None
        without ``return_defaults()``.
    :param defaults: the values it fetched, per row.
    :param lastrowid: what ``lastrowid`` reports.
    """

    __slots__ = (
        "default_names",
        "defaults",
        "executemany",
        "is_insert",
        "lastrowid",
        "primary_key_names",
        "primary_keys",
        "returning",
    )  # fmt: skip

    def __init__(
        self,
        is_insert: bool,
        executemany: bool,
        returning: bool,
        primary_key_names: Sequence[str] = (),
        primary_keys: Sequence[Tuple[Any, ...]] = (),
        default_names: Optional[Sequence[str]] = None,
        defaults: Sequence[Tuple[Any, ...]] = (),
        lastrowid: Any = None,
    ) -> None:
        self.is_insert = is_insert
        self.executemany = executemany
        self.returning = returning
        self.primary_key_names = primary_key_names
        self.primary_keys = primary_keys
        self.default_names = default_names
        self.defaults = defaults
        self.lastrowid = lastrowid

    def primary_key_rows(self) -> List[Any]:
        """Return the inserted primary keys as ``Row`` objects, as a real result does."""
        return _rows(self.primary_key_names, self.primary_keys)

    def returned_defaults_rows(self) -> Optional[List[Any]]:
        """Return the values ``return_defaults()`` fetched as ``Row`` objects, or None."""
        if self.default_names is None:
            return None
        return _rows(self.default_names, self.defaults)


def _rows(names: Sequence[str], values: Sequence[Tuple[Any, ...]]) -> List[Any]:
    return IteratorResult(SimpleResultMetaData(list(names)), iter(values)).all()  # type: ignore[return-value]


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
                    f"{caller}(): row {index} is {_KIND_NAMES[_row_kind(row)]} "
                    f"({safe_repr(row)}), but row 0 is {_KIND_NAMES[first_kind]}: give every "
                    f"row in the same form"
                )
    kind = kinds.pop()
    if kind == "dict":
        return _normalise_dicts(rows, caller)
    if kind == "instance":
        _check_one_entity(rows, caller)
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
    if width == 0:
        raise ValueError(
            f"{caller}(): row 0 is empty ({safe_repr(rows[0])}): a row has one value per "
            f"column; give rows such as (1, 'ada'), or no rows ([]) for an empty result"
        )
    names = None
    if kind == "named":
        names = list(rows[0]._fields)
        for index, row in enumerate(rows):
            if list(row._fields) != names:
                raise ValueError(
                    f"{caller}(): row {index} has the fields {list(row._fields)}, but row 0 "
                    f"has {names}: every named tuple or Row needs the same fields, in the "
                    f"same order"
                )
    return names, [tuple(row) for row in rows], kind


def _normalise_dicts(
    rows: List[Dict[Any, Any]], caller: str
) -> Tuple[List[str], List[Tuple[Any, ...]], str]:
    """Turn dict rows into (their keys, tuples, "dict"), checking the keys."""
    for index, row in enumerate(rows):
        for key in row:
            if not isinstance(key, str):
                raise TypeError(
                    f"{caller}(): row {index} has the key {safe_repr(key)} "
                    f"({type(key).__name__}); a dict row maps column names (strings) to "
                    f"values, e.g. {{'id': 1, 'name': 'ada'}}"
                )
    keys = list(rows[0])
    if not keys:
        raise ValueError(
            f"{caller}(): row 0 is empty ({{}}): a row has one value per column; give rows "
            f"such as {{'id': 1, 'name': 'ada'}}, or no rows ([]) for an empty result"
        )
    for index, row in enumerate(rows):
        if set(row) != set(keys):
            raise ValueError(
                f"{caller}(): row {index} has keys {sorted(row)}, but row 0 has keys "
                f"{sorted(keys)}: every dict needs the same keys"
            )
    return keys, [tuple(row[key] for key in keys) for row in rows], "dict"


def _check_one_entity(rows: List[Any], caller: str) -> None:
    """Refuse ORM instances of unrelated classes: the rows of one entity share a base class."""
    first = sa_inspect(rows[0]).mapper
    for index, row in enumerate(rows):
        mapper = sa_inspect(row).mapper
        if mapper.base_mapper is not first.base_mapper:
            raise TypeError(
                f"{caller}(): row {index} is an instance of {mapper.class_.__name__}, but row 0 "
                f"is an instance of {first.class_.__name__}: the rows of one entity are of one "
                f"mapped class (or its subclasses); give each select its own result, or tuples "
                f"such as (user, address) for a select of both"
            )


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
            f"{caller}(): rows must be a list of rows, got {type(rows).__name__} "
            f"{safe_repr(rows)}"
        )
    if isinstance(rows, CannedResult):
        raise TypeError(f"{caller}(): rows is already a result; pass it on as it is")
    if isinstance(rows, (set, frozenset)):
        raise TypeError(
            f"{caller}(): rows is a {type(rows).__name__}, whose order is arbitrary (by hash); "
            f"give the rows in a list, in the order the database would return them"
        )
    if rowcount is not None and (isinstance(rowcount, bool) or not isinstance(rowcount, int)):
        raise TypeError(f"{caller}(): rowcount must be an int, got {safe_repr(rowcount)}")
    if rowcount is not None and rowcount < -1:
        raise ValueError(
            f"{caller}(): rowcount must be 0 or more (or -1, a count not known, as a real "
            f"result reports it), got {rowcount}"
        )
    if columns is not None:
        if isinstance(columns, (set, frozenset)):
            raise TypeError(
                f"{caller}(): columns is a {type(columns).__name__}, whose order is arbitrary "
                f"(by hash); give the names in a list, in the order of the values in a row"
            )
        if (
            isinstance(columns, (str, bytes))
            or not isinstance(columns, Iterable)
            or not all(isinstance(name, str) for name in columns)
        ):
            raise TypeError(
                f"{caller}(): columns must be a list of column names (strings), got "
                f"{safe_repr(columns)}"
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
                f"has {len(tuples[0])} value(s), e.g. row 0: {safe_repr(row_list[0])}"
                + _list_note(tuples)
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


def _list_note(rows: Sequence[Tuple[Any, ...]]) -> str:
    """Explain, when the rows were lists, why they have one value each (else say nothing)."""
    if rows and len(rows[0]) == 1 and isinstance(rows[0][0], list):
        return (
            "; each row is a list, which is read as one value (of an ARRAY or JSON column): "
            "give each row as a tuple, e.g. (1, 'ada'), for one value per column"
        )
    return ""


def statement_keys(statement: Any) -> Optional[List[str]]:
    """Return the result keys a real database gives for ``statement``, or None if it has none.

    ORM selects are keyed by entity (``select(User)`` gives ``["User"]``), as real ORM results are.
    A Core select's columns are keyed by the names its compiled SQL gives them, as the database
    reports them: an unlabelled ``func.count()`` is ``count_1``, ``t.c.id + 1`` is ``anon_1``, a
    repeated ``t.c.id`` is ``id__1``. Worked out once per statement structure, not per execution.
    A function executed by itself (``func.count()``) is keyed as the select SQLAlchemy runs for it.

    :param statement: the executed statement.
    """
    if isinstance(statement, FunctionElement):
        statement = statement.select()  # what SQLAlchemy executes for a function given alone
    if getattr(statement, "is_dml", False) and not is_dml(statement):
        return _returning_keys(statement)
    if not getattr(statement, "is_select", False):
        return None
    # the keys depend only on the statement's structure: work them out once per structure
    structure, keep_alive = _keys_structure(statement)
    if structure is None:
        # nothing to cache the work under (values() with data has no cache key): no compile
        return _statement_keys(statement, compile_it=False)
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


def _statement_keys(statement: Any, compile_it: bool = True) -> Optional[List[str]]:
    if compile_it and isinstance(statement, Select) and not _is_orm(statement):
        names = _compiled_keys(statement)
        if names is not None:
            return names
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


def _returning_keys(statement: Any) -> List[str]:
    """Return the keys of the rows a DML statement's RETURNING gives: its columns', and from
    SQLAlchemy 2.0 on, an entity's name for ``returning(User)`` of an ORM statement."""
    returning = statement._returning
    if not any(isinstance(element, FromClause) for element in returning):
        return list(statement.exported_columns.keys())
    keys: List[str] = []
    for element in returning:
        if not isinstance(element, FromClause):
            keys.append(getattr(element, "key", None) or _NO_LABEL)
            continue
        entity = element._annotations.get("parententity") if ENTITIES_RETURNED else None
        if entity is not None:
            keys.append(entity.class_.__name__)  # rows hold instances, as in production
        else:
            keys.extend(element.columns.keys())
    return keys


_NO_LABEL = "_no_label"  # the key SQLAlchemy gives an ORM expression without a label
ENTITIES_RETURNED = not sqlalchemy.__version__.startswith("1.")
"""Whether ``returning(User)`` of an ORM statement gives instances (SQLAlchemy 2.0 on)."""


def _is_orm(statement: Any) -> bool:
    """Tell whether ``statement`` is an ORM statement (one of mapped classes or attributes)."""
    return statement._propagate_attrs.get("compile_state_plugin") == "orm"  # type: ignore[no-any-return]


def _compiled_keys(statement: Any) -> Optional[List[str]]:
    """Return the names the compiled SQL of a Core select gives its columns, or None if it
    names one without knowing it (``text()``) or does not compile without a database."""
    try:
        # (the names of anonymous labels, count_1 and anon_1, are the same on every dialect)
        names = [column[0] for column in statement.compile()._result_columns]
    except Exception:
        return None
    if not names or any(name is None for name in names):
        return None
    return names


def is_dml(statement: Any) -> bool:
    """Tell whether ``statement`` is an INSERT, UPDATE or DELETE without ``returning()``.

    ``return_defaults()`` alone does not count as RETURNING: the values it fetches go to
    ``returned_defaults``, not to rows.

    :param statement: the executed statement.
    """
    if not getattr(statement, "is_dml", False):
        return False
    return not getattr(statement, "_returning", ())


def to_async_result(result: IteratorResult[Any]) -> AsyncResult[Any]:
    """Wrap ``result`` the way ``AsyncSession.stream()`` does.

    :param result: a synchronous result.
    """
    async_result = AsyncResult(result)
    if not hasattr(async_result, "_source_supports_scalars"):
        # SQLAlchemy 1.4's AsyncResult reads this in scalar()/scalar_one() but never sets it
        async_result._source_supports_scalars = result._source_supports_scalars
    return async_result
