"""Every public entry point, tried with wrong input: each case pinned to its exact error.

The cases cover the TestCase and mixin (configuring, assertions, properties, the class used in
``setUpClass``), the package's functions and classes, and every session method that takes an
argument, each in a fresh test with a fresh session. A case is *clear at the call* when the
call itself raises exactly the error pinned here (type and text): the error a real session
raises (compared with one in the ``*_parity`` and ``test_misuse_session`` modules), or a
TypeError/ValueError naming the argument, never an AttributeError from inside the library.

Print the counts::

    python -m tests.test_misuse_catalogue --count
"""

import inspect
import sys
import unittest

import sqlalchemy
from sqlalchemy import Column, Integer, select
from sqlalchemy.exc import (
    ArgumentError,
    InvalidRequestError,
    NoInspectionAvailable,
    ObjectNotExecutableError,
)
from sqlalchemy.orm.exc import UnmappedInstanceError

from asyncsessiontest import (
    AsyncSessionTestCase,
    SessionFactoryStandIn,
    SessionNotSetUpError,
    make_result,
)
from tests.support import Base, User

SQLALCHEMY_1 = sqlalchemy.__version__.startswith("1.")


class CataloguePair(Base):
    """A model with a composite primary key."""

    __tablename__ = "catalogue_pairs"

    left = Column(Integer, primary_key=True)
    right = Column(Integer, primary_key=True)


class Case:
    """One wrong call and the error it must raise.

    :param entry: the entry point, e.g. ``"session.execute"`` or ``"addResult"``.
    :param wrong: what is wrong, in a few words.
    :param call: a function of the running test making the call (its result is awaited if it
        is awaitable, as code would await it).
    :param error: the exception type.
    :param message: its exact text.
    """

    def __init__(self, entry, wrong, call, error, message):
        self.entry = entry
        self.wrong = wrong
        self.call = call
        self.error = error
        self.message = message


def unmapped(value):
    """What SQLAlchemy says of an object that is not mapped where an instance is needed."""
    if isinstance(value, type):
        meta = type(value)
        return (
            f"Class '{meta.__module__}.{meta.__name__}' is not mapped; was a class "
            f"({value.__module__}.{value.__name__}) supplied where an instance was required?"
        )
    return f"Class '{type(value).__module__}.{type(value).__qualname__}' is not mapped"


def qualified(qualname):
    """A function's name as Python's own call errors show it (the bare name before 3.10)."""
    return qualname if sys.version_info >= (3, 10) else qualname.rsplit(".", 1)[-1]


def state_str(instance):
    return f"<{type(instance).__name__} at {id(instance):#x}>"


NOT_A_MATCHER = (
    "{caller}(): statement: cannot match statements against {shown}; give a SQLAlchemy "
    "statement, a SQL string, a compiled re.Pattern, a mapped class or a Table"
)
NOT_EXECUTABLE = "Executable SQL or text() construct expected, got {}."


def class_call(method):
    return (
        f"{method}() was called on the class (cls.{method}(...) in setUpClass()?), but the "
        f"session it configures exists for each test, from setUp() on. Call self.{method}(...) "
        f"in setUp() after super().setUp(), in asyncSetUp(), or in the test."
    )


def cases():
    """Return every case, as the installed SQLAlchemy and Python have them."""
    transient = User(id=1)
    criterion = User.id == 5
    subquery = select(User).subquery()
    found = []

    def case(entry, wrong, call, error, message):
        found.append(Case(entry, wrong, call, error, message))

    # -- the TestCase and mixin ------------------------------------------------------------
    case("addResult", "rows an int", lambda t: t.addResult(5), TypeError,
         "addResult(): rows must be a list of rows, got int 5")
    case("addResult", "statement an int", lambda t: t.addResult([(1,)], statement=5),
         TypeError, NOT_A_MATCHER.format(caller="addResult", shown="5 (int)"))
    case("addResult", "statement empty", lambda t: t.addResult([(1,)], statement=""),
         ValueError, "addResult(): statement is an empty string (''), which matches no "
         "statement; give the SQL as str(statement) renders it, a statement, a compiled "
         "re.Pattern, a mapped class or a Table")
    case("addResult", "times 0", lambda t: t.addResult([(1,)], times=0), ValueError,
         "addResult(): times must be at least 1 (or None), got 0")
    case("addResult", "times a string", lambda t: t.addResult([(1,)], times="x"), TypeError,
         "addResult(): times must be a positive int or None, got 'x'")
    case("addResult", "times True", lambda t: t.addResult([(1,)], times=True), TypeError,
         "addResult(): times must be a positive int or None, got True")
    case("addResult", "columns an int", lambda t: t.addResult([(1,)], columns=5), TypeError,
         "addResult(): columns must be a list of column names (strings), got 5")
    case("addResult", "rowcount a string", lambda t: t.addResult([(1,)], rowcount="x"),
         TypeError, "addResult(): rowcount must be an int, got 'x'")
    case("addResult", "an unknown keyword", lambda t: t.addResult(foo=1), TypeError,
         f"{qualified('AsyncSessionMixin.addResult')}() got an unexpected keyword argument "
         f"'foo'")
    case("addResult", "a set of rows", lambda t: t.addResult({(1,)}), TypeError,
         "addResult(): rows is a set, whose order is arbitrary (by hash); give the rows in a "
         "list, in the order the database would return them")
    case("addException", "an int", lambda t: t.addException(5), TypeError,
         "addException(): exc must be an exception instance or class, got 5")
    case("addException", "statement an int",
         lambda t: t.addException(ValueError(), statement=5), TypeError,
         NOT_A_MATCHER.format(caller="addException", shown="5 (int)"))
    case("addException", "StopIteration", lambda t: t.addException(StopIteration), TypeError,
         "addException(): StopIteration cannot be raised through a coroutine: Python turns it "
         "into RuntimeError('coroutine raised StopIteration'); give another exception")
    case("addObject", "an int", lambda t: t.addObject(5), TypeError,
         "addObject(): 5 is not an instance of a mapped class; give ORM instances, e.g. "
         "self.addObject(User(id=1))")
    case("addObject", "a class", lambda t: t.addObject(User), TypeError,
         f"addObject(): {User!r} is not an instance of a mapped class; give ORM instances, "
         f"e.g. self.addObject(User(id=1))")
    case("addObject", "no primary key", lambda t: t.addObject(User(name="ada")), ValueError,
         "addObject(): <User id=None name='ada'> has no primary key (User.id is None); get() "
         "finds an instance by its primary key: set it, e.g. User(id=1)")
    case("patchSessionFactory", "an int", lambda t: t.patchSessionFactory(5), TypeError,
         "patchSessionFactory(): target must be a dotted path such as 'app.db.SessionLocal', "
         "got 5")
    case("patchSessionFactory", "no such module",
         lambda t: t.patchSessionFactory("no_module_here.SessionLocal"), ModuleNotFoundError,
         "patchSessionFactory(): cannot patch 'no_module_here.SessionLocal', it does not "
         "exist: No module named 'no_module_here'")
    case("patchSessionFactory", "a setting", lambda t: t.patchSessionFactory(
         f"{__name__}.SQLALCHEMY_1"), TypeError,
         f"patchSessionFactory(): '{__name__}.SQLALCHEMY_1' holds {SQLALCHEMY_1!r} (bool), "
         f"not a session factory; give the path of the async_sessionmaker (or "
         f"sessionmaker(class_=AsyncSession)) the code calls, e.g. 'app.db.SessionLocal'")
    case("addedObjects", "an int", lambda t: t.addedObjects(5), TypeError,
         "addedObjects(): entity must be a mapped class such as User, got 5")
    for name in ("assertExecuted", "assertExecutedOnce", "assertNotExecuted"):
        case(name, "an int", lambda t, n=name: getattr(t, n)(5), TypeError,
             NOT_A_MATCHER.format(caller=name, shown="5 (int)"))
    case("assertExecuted", "None", lambda t: t.assertExecuted(None), TypeError,
         NOT_A_MATCHER.format(caller="assertExecuted", shown="None (NoneType)"))
    case("assertExecuted", "params an int", lambda t: t.assertExecuted(User, params=5),
         TypeError, "assertExecuted(): params must be a dict, got 5")
    for name in ("assertExecuteCount", "assertNumStatements"):
        for value, shown in (("x", "'x'"), (-1, "-1")):
            case(name, f"expected {shown}", lambda t, n=name, v=value: getattr(t, n)(v),
                 TypeError, f"{name}(): expected must be a non-negative int, got {shown}")
    for name, what in (("assertAdded", "ORM instances or mapped classes"),
                       ("assertNotAdded", "ORM instances or mapped classes"),
                       ("assertDeleted", "ORM instances"), ("assertCommitted", "ORM instances"),
                       ("assertRefreshed", "ORM instances")):  # fmt: skip
        case(name, "an int", lambda t, n=name: getattr(t, n)(5), TypeError,
             f"{name}(): 5 is not an ORM instance; give {what}")
    case("session", "assigned", lambda t: setattr(t, "session", 5), AttributeError,
         "self.session is provided by AsyncSessionMixin and cannot be assigned (in "
         "CatalogueTest); configure the provided session instead, e.g. "
         "self.session.execute.return_value = ..., or remove the assignment")
    case("session_factory", "a positional argument", lambda t: t.session_factory(5),
         TypeError, f"{qualified('SessionFactoryStandIn.__call__')}() takes 1 positional "
         f"argument but 2 were given")
    for method, call in (
        ("addResult", lambda t: AsyncSessionTestCase.addResult([(1,)])),
        ("addException", lambda t: AsyncSessionTestCase.addException(LookupError())),
        ("addObject", lambda t: AsyncSessionTestCase.addObject(User(id=1))),
        ("patchSessionFactory", lambda t: AsyncSessionTestCase.patchSessionFactory("a.b")),
    ):
        case(f"cls.{method}", "called on the class", call, SessionNotSetUpError,
             class_call(method))
    case("cls.session", "used on the class", lambda t: AsyncSessionTestCase.session.execute,
         SessionNotSetUpError,
         "self.session exists for each test, from setUp() on, not on the class: cls.session "
         "(in setUpClass()?) is only its property. Configure the session in setUp() after "
         "super().setUp(), in asyncSetUp(), or in the test.")
    case("make_result", "rows an int", lambda t: make_result(5), TypeError,
         "make_result(): rows must be a list of rows, got int 5")
    case("make_result", "columns too many", lambda t: make_result([(1,)], columns=["a", "b"]),
         ValueError, "make_result(): columns has 2 name(s) ['a', 'b'], but each row has 1 "
         "value(s), e.g. row 0: (1,)")
    case("SessionFactoryStandIn", "an int", lambda t: SessionFactoryStandIn(5), TypeError,
         "SessionFactoryStandIn(): session must be an AsyncSession or a mock of one, such as "
         "a test's self.session; got 5 (int)")

    # -- the session's methods ---------------------------------------------------------------
    for name in ("add", "expunge", "is_modified", "delete", "merge", "refresh", "expire"):
        for value in (5, None, User):
            case(f"session.{name}", f"{value!r}", lambda t, n=name, v=value: getattr(
                 t.session, n)(v), UnmappedInstanceError, unmapped(value))
    case("session.add_all", "an int", lambda t: t.session.add_all(5), TypeError,
         "'int' object is not iterable")
    case("session.add_all", "a list of ints", lambda t: t.session.add_all([5]),
         UnmappedInstanceError, unmapped(5))
    for name in ("merge_all", "delete_all"):
        if hasattr(AsyncSessionTestCase.session_class, name):
            case(f"session.{name}", "a list of ints",
                 lambda t, n=name: getattr(t.session, n)([5]), UnmappedInstanceError,
                 unmapped(5))
    case("session.delete", "an object not in the session",
         lambda t: t.session.delete(transient), InvalidRequestError,
         f"Instance '{state_str(transient)}' is not persisted")
    for name in ("refresh", "expire"):
        case(f"session.{name}", "an object not in the session",
             lambda t, n=name: getattr(t.session, n)(transient), InvalidRequestError,
             f"Instance '{state_str(transient)}' is not persistent within this Session")
    case("session.expunge", "an object not in the session",
         lambda t: t.session.expunge(transient), InvalidRequestError,
         f"Instance {state_str(transient)} is not present in this Session")
    for name in ("commit", "begin", "rollback", "close"):
        case(f"session.{name}", "a positional argument", lambda t, n=name: getattr(
             t.session, n)(5), TypeError, f"{name}() takes 0 positional arguments but 1 was "
             f"given")
    case("session.run_sync", "an int", lambda t: t.session.run_sync(5), TypeError,
         "'int' object is not callable")
    case("session.run_sync", "no function", lambda t: t.session.run_sync(), TypeError,
         "run_sync() missing 1 required positional argument: 'fn'")
    case("session", "called", lambda t: t.session(), TypeError,
         "'AsyncSession' object is not callable")
    case("session", "a name it does not have", lambda t: t.session.no_such_method,
         AttributeError, "Mock object has no attribute 'no_such_method'")
    for name in ("get", "get_one") if not SQLALCHEMY_1 else ("get",):
        case(f"session.{name}", "no identifier", lambda t, n=name: getattr(t.session, n)(User),
             TypeError, f"{name}() missing 1 required positional argument: 'ident'")
        case(f"session.{name}", "an unknown keyword",
             lambda t, n=name: getattr(t.session, n)(User, 1, foo=1), TypeError,
             f"{name}() got an unexpected keyword argument 'foo'")
        case(f"session.{name}", "an int for the class", lambda t, n=name: getattr(
             t.session, n)(5, 1), NoInspectionAvailable,
             "No inspection system is available for object of type <class 'int'>")
        case(f"session.{name}", "an instance for the class", lambda t, n=name: getattr(
             t.session, n)(transient, 1), ArgumentError,
             f"Expected mapped class or mapper, got: {transient!r}")
        wrong_number = (
            "Incorrect number of values in identifier to formulate primary key for "
            "session.get(); primary key columns are {}"
        )
        case(f"session.{name}", "a scalar for a composite key", lambda t, n=name: getattr(
             t.session, n)(CataloguePair, 5), InvalidRequestError,
             wrong_number.format("'catalogue_pairs.left','catalogue_pairs.right'"))
        case(f"session.{name}", "two values for a simple key", lambda t, n=name: getattr(
             t.session, n)(User, (1, 2)), InvalidRequestError, wrong_number.format("'users.id'"))
        case(f"session.{name}", "a dict with an unknown name", lambda t, n=name: getattr(
             t.session, n)(User, {"nope": 1}), InvalidRequestError,
             "Incorrect names of values in identifier to formulate primary key for "
             "session.get(); primary key attribute names are 'id' (synonym names are also "
             "accepted)")
    refuser = "Session.get_bind" if SQLALCHEMY_1 else "Session.execute"
    for name in ("execute", "scalars", "scalar", "stream", "stream_scalars"):
        entry = f"session.{name}"
        if not SQLALCHEMY_1:  # 1.4 takes a plain string as text()
            case(entry, "a plain string", lambda t, n=name: getattr(t.session, n)("SELECT 1"),
                 ArgumentError, "Textual SQL expression 'SELECT 1' should be explicitly "
                 "declared as text('SELECT 1')")
        for value, shown in ((5, "5"), (None, "None"), (User, repr(User)),
                             (criterion, repr(criterion)), (subquery, repr(subquery))):  # fmt: skip
            case(entry, f"{shown} for the statement",
                 lambda t, n=name, v=value: getattr(t.session, n)(v), ArgumentError,
                 NOT_EXECUTABLE.format(shown))
        case(entry, "params an int", lambda t, n=name: getattr(t.session, n)(
             select(User), params=5), ArgumentError,
             "mapping or sequence expected for parameters" if SQLALCHEMY_1
             else "mapping or list expected for parameters")
        case(entry, "an unknown keyword", lambda t, n=name: getattr(t.session, n)(
             select(User), execution_option={}), TypeError,
             f"{refuser}() got an unexpected keyword argument 'execution_option'")
        case(entry, "bind_arguments an int", lambda t, n=name: getattr(t.session, n)(
             select(User), bind_arguments=5), TypeError, "'int' object is not iterable")
        if not SQLALCHEMY_1:  # 1.4's immutabledict raises a SystemError, as the real one does
            case(entry, "execution_options an int", lambda t, n=name: getattr(t.session, n)(
                 select(User), execution_options=5), TypeError, "'int' object is not iterable")

    async def on_connection(t, *args, **kwargs):
        connection = await t.session.connection()
        return await connection.execute(*args, **kwargs)

    case("connection.execute", "a plain string", lambda t: on_connection(t, "SELECT 1"),
         ObjectNotExecutableError, "Not an executable object: 'SELECT 1'")
    case("connection.execute", "params an int", lambda t: on_connection(t, select(User), 5),
         ArgumentError, "mapping or sequence expected for parameters" if SQLALCHEMY_1
         else "mapping or list expected for parameters")
    case("connection.execute", "an unknown keyword",
         lambda t: on_connection(t, select(User), foo=1), TypeError,
         f"{qualified('AsyncConnection.execute')}() got an unexpected keyword argument 'foo'")
    return found


CASES = cases()


class CatalogueTest(AsyncSessionTestCase):
    """One test per case (added below), each with a fresh session."""

    maxDiff = None
    check_awaited = False  # a refused call's coroutine is the point, not a leftover

    async def check_case(self, case):
        with self.assertRaises(BaseException) as caught:
            outcome = case.call(self)
            if inspect.isawaitable(outcome):
                await outcome
        error = caught.exception
        self.assertIs(type(error), case.error, f"{case.entry}, {case.wrong}: {error!r}")
        self.assertEqual(str(error), case.message, f"{case.entry}, {case.wrong}")


def _add_tests():
    for number, case in enumerate(CASES, 1):
        name = f"test_{number:03d}_{case.entry.replace('.', '_')}"

        async def test(self, case=case):
            await self.check_case(case)

        test.__name__ = name
        test.__doc__ = f"{case.entry}: {case.wrong}"
        setattr(CatalogueTest, name, test)


_add_tests()


def count(stream=None):
    """Run every case, print (to ``stream``, or not at all) and return (tried, clear at the
    call) overall, and per group: the TestCase and package, the session's methods."""
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(CatalogueTest)
    result = unittest.TestResult()
    suite.run(result)
    failed = {test._testMethodName for test, _ in result.failures + result.errors}
    groups = {"TestCase and package": [0, 0], "session methods": [0, 0]}
    for number, case in enumerate(CASES, 1):
        group = "session methods" if case.entry.startswith(("session.", "connection.")) or (
            case.entry == "session" and case.wrong != "assigned"
        ) else "TestCase and package"
        name = f"test_{number:03d}_{case.entry.replace('.', '_')}"
        groups[group][0] += 1
        groups[group][1] += name not in failed
    tried = sum(tried for tried, _ in groups.values())
    clear = sum(clear for _, clear in groups.values())
    if stream is not None:
        entries = len({case.entry for case in CASES})
        print(f"wrong-input cases tried: {tried} over {entries} entry points; clear at the "
              f"call: {clear}", file=stream)
        for group, (group_tried, group_clear) in groups.items():
            print(f"  {group}: tried {group_tried}, clear {group_clear}", file=stream)
        for test, trace in result.failures + result.errors:
            print(f"NOT CLEAR {test._testMethodName}: {trace.splitlines()[-1]}", file=stream)
    return tried, clear


class CountTest(unittest.TestCase):
    def test_every_case_is_clear_at_the_call(self):
        tried, clear = count()

        self.assertEqual(tried, len(CASES))
        self.assertEqual(clear, tried)
        self.assertGreater(tried, 100)


if __name__ == "__main__":
    if "--count" in sys.argv:
        tried, clear = count(sys.stdout)
        sys.exit(0 if tried == clear else 1)
    unittest.main()
