"""Statement matchers, and the one function that renders a statement for humans.

A matcher is built from what a test writes (a statement, a SQL string, a regex, a mapped class or
a Table) by :func:`matcher_for`. Its :meth:`~StatementMatcher.match` returns ``(matched, reason)``,
the reason saying why a statement did not match; its repr is what failure messages print.
Matchers only read a statement's SQL text when a string or regex needs it, and render values
only for messages: executing a statement never compiles it.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Pattern, Set, Tuple, Union

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql import visitors
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import OPERATORS as _OPERATORS
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, ClauseElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import TableClause, Values

from asyncsessiontest.reprs import safe_repr, values_equal

__all__ = [
    "Matcher",
    "RegexMatcher",
    "SqlTextMatcher",
    "StatementMatcher",
    "TableMatcher",
    "as_executed",
    "is_orm_statement",
    "matcher_for",
    "normalise_sql",
    "plain_sql",
    "render",
]


def normalise_sql(sql: str) -> str:
    """Return ``sql`` with runs of whitespace made one space, case folded.

    :param sql: SQL text.
    """
    return " ".join(sql.split()).casefold()


def is_orm_statement(statement: Any) -> bool:
    """Tell whether ``statement`` is ORM-enabled (built from mapped classes and attributes):
    a real session autoflushes before those, and ``compare()`` tells them from Core ones.

    :param statement: an executed statement.
    """
    attributes: Any = getattr(statement, "_propagate_attrs", None)
    return bool(attributes) and attributes.get("compile_state_plugin") == "orm"


def plain_sql(statement: Any) -> str:
    """Return ``statement`` as ``str()`` renders it: SQL with placeholders, never raising.

    :param statement: an executed statement (or anything passed as one).
    """
    try:
        return str(statement)
    except Exception as error:  # a statement that cannot compile still needs a name
        return f"<{type(statement).__name__} that cannot be rendered: {error}>"


def render(statement: Any, dialect: Any = None, params: Optional[Dict[str, Any]] = None) -> str:
    """Return ``statement`` as readable SQL with its values, for failure messages. Never raises.

    Values are rendered inline where the dialect can render them; where it cannot (JSON, arrays,
    enums...), the SQL keeps its placeholders and is followed by the parameters.

    :param statement: the statement.
    :param dialect: a SQLAlchemy dialect instance; None for SQLAlchemy's default string dialect.
    :param params: parameters passed to ``execute()`` beside the statement, shown after the SQL.
    """
    if not isinstance(statement, ClauseElement):
        return safe_repr(statement)
    extra = f" {safe_repr(params)}" if params else ""
    # parameters passed to execute() override bound values, and a placeholder without a value
    # (text("... :id")) would render as NULL: both show the SQL with placeholders instead
    unbound = _unbound_placeholders(statement)
    if not params and not unbound:
        try:
            compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            return _one_line(_unescape_percent(str(compiled), compiled.dialect))
        except Exception:  # a value this dialect cannot render inline: show it beside the SQL
            pass
    try:
        compiled = statement.compile(dialect=dialect)
        if params:
            return _one_line(str(compiled)) + extra
        values = {key: value for key, value in compiled.params.items() if key not in unbound}
        return _one_line(str(compiled)) + (f" {safe_repr(values)}" if values else "")
    except Exception:
        return _one_line(plain_sql(statement)) + extra


def _unbound_placeholders(statement: ClauseElement) -> Set[str]:
    """Return the names of placeholders that have no value (``text("... :id")``)."""
    try:
        return {
            element.key
            for element in visitors.iterate(statement)
            if isinstance(element, BindParameter)
            and element.value is None
            and element.callable is None
            and element.required
        }
    except Exception:
        return set()


def _unescape_percent(sql: str, dialect: Any) -> str:
    # "format" paramstyles (psycopg, mysqlclient) double a literal % in the SQL they are sent,
    # and the database receives one; with values inline there are no placeholders to confuse
    if getattr(dialect, "paramstyle", None) in ("format", "pyformat"):
        return sql.replace("%%", "%")
    return sql


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


def _bound_values(statement: ClauseElement) -> List[Tuple[str, Any]]:
    """Return (what the value is, the value) for each bound value, in statement order.

    What a value is reads as SQL: ``users.id =``, ``users.name LIKE``, ``LIMIT``.
    """
    labels: Dict[int, str] = {}
    for name in ("_limit_clause", "_offset_clause"):
        clause = getattr(statement, name, None)
        if isinstance(clause, BindParameter):
            labels[id(clause)] = name[1:].split("_")[0].upper()
    binds: List[BindParameter[Any]] = []
    for element in visitors.iterate(statement):
        if isinstance(element, BinaryExpression):
            operator = _operator_sql(element.operator)
            if isinstance(element.right, BindParameter):
                labels[id(element.right)] = f"{plain_sql(element.left)} {operator}"
            elif isinstance(element.left, BindParameter):
                labels[id(element.left)] = f"{operator} {plain_sql(element.right)}"
        elif isinstance(element, BindParameter):
            binds.append(element)
    return [(labels.get(id(bind), _bind_name(bind)), bind.effective_value) for bind in binds]


def _operator_sql(operator: Any) -> str:
    known = _OPERATORS.get(operator)
    if known is not None:
        return str(known).strip()
    # like_op, not_in_op...: the compiler renders these itself; their names say what they are
    name = getattr(operator, "__name__", "=")
    return name[: -len("_op")].replace("_", " ").upper() if name.endswith("_op") else "="


def _bind_name(bind: BindParameter[Any]) -> str:
    # anonymous parameters are named after a memory address: say what they are instead
    return "a bound value" if bind.key.startswith("%(") else f"parameter {bind.key} ="


def _compare(executed: ClauseElement, expected: ClauseElement, **options: Any) -> bool:
    try:
        return bool(_settled(executed).compare(_settled(expected), **options))
    except Exception:  # compare() fails on some ORM statements of different entities
        return False


def _settled(statement: ClauseElement) -> ClauseElement:
    """Return ``statement`` with the columns of each ``values()`` in it made, as compiling it
    or reading ``.c`` makes them. compare() judges a ``Values`` whose columns were made
    different from one whose were not; made on both sides, the verdict no longer depends on
    whether the code (or a failure message rendering the statement) read them first. Values
    with data have no cache key, so every match of their statements goes through compare()."""
    for element in visitors.iterate(statement):
        if isinstance(element, Values):
            element.c  # noqa: B018 (reading it is the point)
    return statement


_STRUCTURES: Dict[Tuple[Any, Any], bool] = {}
_NOT_YET = object()
_MAX_STRUCTURES = 10_000


def _cache_key(statement: ClauseElement) -> Any:
    """Return the statement's cache key (structure, and bound parameters in order), or None."""
    try:
        return statement._generate_cache_key()
    except Exception:  # a construct that does not support caching
        return None


_last_values: List[Any] = [None, None]


def _values_of(cache_key: Any) -> List[Any]:
    """Return the bound values of a cache key, in order; routes ask for the same one in turn."""
    if _last_values[0] is not cache_key:
        _last_values[:] = [cache_key, [bind.effective_value for bind in cache_key.bindparams]]
    values: List[Any] = _last_values[1]
    return values


def _tables_of(statement: Any) -> Set[str]:
    if not isinstance(statement, ClauseElement):
        return set()
    return {
        _table_name(element)
        for element in visitors.iterate(statement)
        if isinstance(element, TableClause)
    }


def _table_name(table: TableClause) -> str:
    # plain table() constructs have no fullname on SQLAlchemy 1.4
    return getattr(table, "fullname", None) or table.name


class _Matcher:
    """What every matcher does; a matcher without a measure of nearness ranks everything 0."""

    def match(self, executed: Any) -> Tuple[bool, str]:
        """Return whether ``executed`` matches, and if not, why.

        :param executed: the executed statement.
        """
        raise NotImplementedError

    def matches(self, executed: Any) -> bool:
        """Return whether ``executed`` matches, without saying why not.

        :param executed: the executed statement.
        """
        return self.match(executed)[0]

    def closeness(self, executed: Any) -> int:
        """Rank how near ``executed`` comes to matching, to point at the closest miss.

        :param executed: the executed statement.
        """
        return 0


def as_executed(statement: Any) -> Any:
    """Return the statement SQLAlchemy runs for ``statement``: ``select(f)`` for a function
    ``f`` executed by itself (``session.execute(func.count())``), else ``statement``.

    :param statement: an executed or expected statement.
    """
    if isinstance(statement, FunctionElement):
        return statement.select()
    return statement


class StatementMatcher(_Matcher):
    """Match statements equal to ``statement`` as ``ClauseElement.compare`` judges, values included.

    A function executed by itself is the select of it, as SQLAlchemy runs it: ``func.count()``
    and ``select(func.count())`` match each other.

    :param statement: the expected statement.
    :param dialect: the dialect its repr renders SQL with (None: SQLAlchemy's default).
    """

    def __init__(self, statement: ClauseElement, dialect: Any = None) -> None:
        self.statement = as_executed(statement)
        self.dialect = dialect
        # worked out on first need: most executions are of the very statement routed, or none
        self._key: Any = _NOT_YET
        self._values: Any = None

    def _expected_key(self) -> Any:
        """Return the expected statement's cache key (None if it has none), reading it once."""
        if self._key is _NOT_YET:
            self._key = _cache_key(self.statement)
            self._values = None if self._key is None else _values_of(self._key)
        return self._key

    def match(self, executed: Any) -> Tuple[bool, str]:
        """Return whether ``executed`` matches, and if not, why.

        :param executed: the executed statement.
        """
        executed = as_executed(executed)
        if executed is self.statement:
            return True, ""
        if not isinstance(executed, ClauseElement):
            return False, f"not a SQLAlchemy statement: {safe_repr(executed)}"
        if not self._same_structure(executed):
            if render(executed, self.dialect) == render(self.statement, self.dialect):
                if is_orm_statement(executed) == is_orm_statement(self.statement):
                    return False, (
                        "the same SQL, built differently: their options differ (loader options "
                        "such as selectinload(), or execution options), which compare() tells "
                        "apart"
                    )
                return False, (
                    "the same SQL, built differently: compare() tells ORM and Core statements "
                    "apart (select(User.id) is not select(users.c.id))"
                )
            return False, "a different statement"
        if self._same_values(executed):
            return True, ""
        differences = []
        for (label, got), (_, expected) in zip(
            _bound_values(executed), _bound_values(self.statement)
        ):
            equal, why = values_equal(got, expected)
            if not equal:
                difference = f"{label} {safe_repr(got)}, expected {safe_repr(expected)}"
                differences.append(f"{difference} ({why})" if why else difference)
        return False, "; ".join(differences) or "different values"

    def matches(self, executed: Any) -> bool:
        """Return whether ``executed`` matches, without working out why not (fast).

        :param executed: the executed statement.
        """
        executed = as_executed(executed)
        return executed is self.statement or (
            isinstance(executed, ClauseElement)
            and self._same_structure(executed)
            and self._same_values(executed)
        )

    def _same_structure(self, executed: ClauseElement) -> bool:
        # compare() costs ~0.1 ms; cache keys (memoised on each statement) say the same for
        # statements built the same way, and compare()'s verdict on two structures is kept
        ours, theirs = self._expected_key(), _cache_key(executed)
        if ours is None or theirs is None:
            return _compare(executed, self.statement, compare_values=False)
        if theirs.key == ours.key:
            return True
        pair = (ours.key, theirs.key)
        same = _STRUCTURES.get(pair)
        if same is None:
            # e.g. an ORM-annotated column (User.id) and its table column: equal, other keys
            same = _compare(executed, self.statement, compare_values=False)
            if len(_STRUCTURES) > _MAX_STRUCTURES:
                _STRUCTURES.clear()
            _STRUCTURES[pair] = same
        return same

    def _same_values(self, executed: ClauseElement) -> bool:
        ours, theirs = self._expected_key(), _cache_key(executed)
        if ours is None or theirs is None:
            return _compare(executed, self.statement)
        values, expected = _values_of(theirs), self._values
        try:
            return bool(values == expected)
        except Exception:  # a value whose == gives no bool (an array): compare one by one
            return len(values) == len(expected) and all(
                values_equal(got, wanted)[0] for got, wanted in zip(values, expected)
            )

    def closeness(self, executed: Any) -> int:
        """Rank how near ``executed`` comes: 2 same but for values, 1 same tables, 0 neither.

        :param executed: the executed statement.
        """
        executed = as_executed(executed)
        if not isinstance(executed, ClauseElement):
            return 0
        if _compare(executed, self.statement, compare_values=False):
            return 2
        return 1 if _tables_of(executed) & _tables_of(self.statement) else 0

    def __repr__(self) -> str:
        return f"<{render(self.statement, self.dialect)}>"


class SqlTextMatcher(_Matcher):
    """Match statements whose SQL (with placeholders) equals ``sql``, ignoring case and spacing.

    :param sql: the expected SQL, as ``str(statement)`` renders it (``WHERE users.id = :id_1``).
    """

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self._normalised = normalise_sql(sql)

    def match(self, executed: Any) -> Tuple[bool, str]:
        """Return whether ``executed`` matches, and if not, why.

        :param executed: the executed statement.
        """
        if normalise_sql(plain_sql(executed)) == self._normalised:
            return True, ""
        return False, "the SQL text differs"

    def __repr__(self) -> str:
        return f"<sql {_one_line(self.sql)!r}>"


class RegexMatcher(_Matcher):
    """Match statements whose SQL (with placeholders) contains a match of ``pattern``, as
    ``str(statement)`` renders it or on one line, as failure messages show it.

    :param pattern: a compiled regular expression, searched with ``pattern.search``.
    """

    def __init__(self, pattern: Pattern[str]) -> None:
        self.pattern = pattern

    def match(self, executed: Any) -> Tuple[bool, str]:
        """Return whether ``executed`` matches, and if not, why.

        :param executed: the executed statement.
        """
        sql = plain_sql(executed)
        # as str() renders it, or on one line as failure messages show it
        if self.pattern.search(sql) or self.pattern.search(" ".join(sql.split())):
            return True, ""
        return False, f"no match for {self.pattern.pattern!r} in its SQL"

    def __repr__(self) -> str:
        return f"<regex {self.pattern.pattern!r}>"


class TableMatcher(_Matcher):
    """Match statements that read or write any of ``tables``.

    :param tables: full table names (``schema.name`` where a schema is set).
    :param label: how the matcher shows itself: the class or table name.
    """

    def __init__(self, tables: Set[str], label: str) -> None:
        self.tables = tables
        self.label = label

    def match(self, executed: Any) -> Tuple[bool, str]:
        """Return whether ``executed`` matches, and if not, why.

        :param executed: the executed statement.
        """
        used = _tables_of(executed)
        if used & self.tables:
            return True, ""
        if not used:
            return False, "uses no table"
        return False, f"uses {', '.join(sorted(used))}"

    def matches(self, executed: Any) -> bool:
        """Return whether ``executed`` matches.

        :param executed: the executed statement.
        """
        return bool(_tables_of(executed) & self.tables)

    def __repr__(self) -> str:
        return f"<any statement on {self.label}>"


Matcher = Union[StatementMatcher, SqlTextMatcher, RegexMatcher, TableMatcher]


def matcher_for(expected: Any, argument: str = "statement", dialect: Any = None) -> Matcher:
    """Return the matcher for what a test wrote.

    :param expected: a SQLAlchemy statement, a SQL string, a compiled ``re.Pattern``, a mapped
        class, or a ``Table``.
    :param argument: the argument's name, for the error message.
    :param dialect: the dialect a statement matcher renders its statement with.
    :raises TypeError: ``expected`` is none of these.
    """
    if isinstance(expected, TableClause):
        return TableMatcher({_table_name(expected)}, _table_name(expected))
    if isinstance(expected, ClauseElement) and isinstance(expected, Executable):
        return StatementMatcher(expected, dialect)
    if isinstance(expected, str):
        if not expected.strip():
            raise ValueError(
                f"{argument} is an empty string ({expected!r}), which matches no statement; "
                f"give the SQL as str(statement) renders it, a statement, a compiled "
                f"re.Pattern, a mapped class or a Table"
            )
        return SqlTextMatcher(expected)
    if isinstance(expected, re.Pattern):
        if isinstance(expected.pattern, str):
            return RegexMatcher(expected)
        raise TypeError(
            f"{argument}: {expected!r} is a bytes pattern, but it is searched in the SQL text, "
            f"a str; compile it from a str, e.g. re.compile({expected.pattern.decode()!r})"
        )
    if isinstance(expected, type):
        mapper: Any = sa_inspect(expected, raiseerr=False)
        tables = getattr(mapper, "tables", None)
        if tables:
            return TableMatcher({_table_name(table) for table in tables}, expected.__name__)
    raise TypeError(
        f"{argument}: cannot match statements against {safe_repr(expected)} "
        f"({type(expected).__name__}); give a SQLAlchemy statement, a SQL string, a compiled "
        f"re.Pattern, a mapped class or a Table"
    )
