"""shape_of(): which members of a session class are coroutines, plain methods or attributes."""

import asyncio
import functools
import inspect
import sys
import unittest

from sqlalchemy.ext.asyncio import AsyncSession

from asyncsessiontest.shape import ASYNC, ATTRIBUTE, SYNC, shape_of

# Known members of AsyncSession on every supported SQLAlchemy (1.4, 2.0, 2.1).
KNOWN_ASYNC = {
    "close", "commit", "connection", "delete", "execute", "flush", "get", "invalidate", "merge",
    "refresh", "rollback", "run_sync", "scalar", "scalars", "stream", "stream_scalars",
    "close_all", "__aenter__", "__aexit__",
}  # fmt: skip
KNOWN_SYNC = {
    "add", "add_all", "begin", "begin_nested", "expire", "expire_all", "expunge", "expunge_all",
    "get_bind", "get_transaction", "get_nested_transaction", "in_transaction",
    "in_nested_transaction", "is_modified",
}  # fmt: skip
KNOWN_PROPERTIES = {
    "autoflush", "deleted", "dirty", "identity_map", "info", "is_active", "new", "no_autoflush",
}  # fmt: skip


def expected_kind(cls, name):
    """Classify a member the way a user sees it through the class, with inspect."""
    value = getattr(cls, name)
    if inspect.iscoroutinefunction(value):
        return ASYNC
    if inspect.isfunction(value) or inspect.ismethod(value):
        return SYNC
    return ATTRIBUTE


class ProjectSession(AsyncSession):
    """A project's own session class, with one member of every kind."""

    marker = "project"

    async def fetch_user(self, user_id, *, lock=False):
        raise NotImplementedError

    def tenant_of(self, user):
        raise NotImplementedError

    @classmethod
    async def warm_up(cls, engine):
        raise NotImplementedError

    @staticmethod
    def build_key(region, user_id):
        raise NotImplementedError

    @property
    def tenant(self):
        raise NotImplementedError


class ShapeOfAsyncSessionTest(unittest.TestCase):
    def setUp(self):
        self.shape = shape_of(AsyncSession)

    def test_members_are_every_name_of_the_class_but_dunders_the_session_does_not_answer(self):
        expected = {name for name in dir(AsyncSession) if not name.startswith("__")}
        expected |= {"__aenter__", "__aexit__", "__contains__", "__iter__"}
        self.assertEqual(set(self.shape.members), expected)
        self.assertIs(self.shape.cls, AsyncSession)

    def test_each_member_is_classified_as_inspect_sees_it_on_the_real_class(self):
        for name, member in self.shape.members.items():
            with self.subTest(name=name):
                self.assertEqual(member.name, name)
                self.assertEqual(member.kind, expected_kind(AsyncSession, name))

    def test_known_members_of_every_version_are_in_the_right_kind(self):
        kinds = {}
        for member in self.shape.members.values():
            kinds.setdefault(member.kind, set()).add(member.name)
        self.assertLessEqual(KNOWN_ASYNC, kinds[ASYNC])
        self.assertLessEqual(KNOWN_SYNC, kinds[SYNC])
        self.assertLessEqual(KNOWN_PROPERTIES, kinds[ATTRIBUTE])

    def test_version_specific_methods_follow_the_installed_class(self):
        # get_one, aclose, reset: 2.0+; delete_all, merge_all: 2.1
        for name in ("get_one", "aclose", "reset", "delete_all", "merge_all"):
            with self.subTest(name=name):
                if hasattr(AsyncSession, name):
                    self.assertEqual(self.shape.members[name].kind, ASYNC)
                else:
                    self.assertNotIn(name, self.shape.members)

    def test_method_signatures_are_the_real_ones_as_seen_through_an_instance(self):
        instance = AsyncSession()
        for name, member in self.shape.members.items():
            if member.kind == ATTRIBUTE:
                continue
            with self.subTest(name=name):
                self.assertEqual(member.signature, inspect.signature(getattr(instance, name)))

    def test_get_signature_drops_self(self):
        parameters = list(self.shape.members["get"].signature.parameters)
        self.assertEqual(parameters[:2], ["entity", "ident"])

    def test_close_all_is_an_async_classmethod_without_cls(self):
        member = self.shape.members["close_all"]
        self.assertEqual(member.kind, ASYNC)
        self.assertNotIn("cls", member.signature.parameters)

    def test_properties_carry_no_value_and_no_signature(self):
        for name in KNOWN_PROPERTIES:
            with self.subTest(name=name):
                member = self.shape.members[name]
                self.assertIsNone(member.signature)
                self.assertFalse(member.has_value)
                self.assertIsNone(member.value)

    def test_plain_class_attributes_carry_their_value(self):
        member = self.shape.members["sync_session_class"]
        self.assertEqual(member.kind, ATTRIBUTE)
        self.assertTrue(member.has_value)
        self.assertIs(member.value, AsyncSession.sync_session_class)


class ShapeOfSubclassTest(unittest.TestCase):
    def setUp(self):
        self.shape = shape_of(ProjectSession)

    def test_extra_coroutine_method_is_async_with_its_signature(self):
        member = self.shape.members["fetch_user"]
        self.assertEqual(member.kind, ASYNC)
        self.assertEqual(str(member.signature), "(user_id, *, lock=False)")

    def test_extra_plain_method_is_sync_with_its_signature(self):
        member = self.shape.members["tenant_of"]
        self.assertEqual(member.kind, SYNC)
        self.assertEqual(str(member.signature), "(user)")

    def test_async_classmethod_is_async_without_cls(self):
        member = self.shape.members["warm_up"]
        self.assertEqual(member.kind, ASYNC)
        self.assertEqual(str(member.signature), "(engine)")

    def test_staticmethod_keeps_its_first_parameter(self):
        member = self.shape.members["build_key"]
        self.assertEqual(member.kind, SYNC)
        self.assertEqual(str(member.signature), "(region, user_id)")

    def test_property_is_an_attribute_without_value(self):
        member = self.shape.members["tenant"]
        self.assertEqual(member.kind, ATTRIBUTE)
        self.assertFalse(member.has_value)

    def test_class_attribute_carries_its_value(self):
        member = self.shape.members["marker"]
        self.assertEqual(member.kind, ATTRIBUTE)
        self.assertTrue(member.has_value)
        self.assertEqual(member.value, "project")

    def test_inherited_members_are_classified_as_on_the_base_class(self):
        base = shape_of(AsyncSession)
        for name, member in base.members.items():
            with self.subTest(name=name):
                self.assertEqual(self.shape.members[name].kind, member.kind)

    def test_every_member_is_classified_as_inspect_sees_it(self):
        for name, member in self.shape.members.items():
            with self.subTest(name=name):
                self.assertEqual(member.kind, expected_kind(ProjectSession, name))


def marked_the_asyncio_way(function):
    """A plain function returning ``function``'s coroutine, marked as ``typing_extensions``'s
    ``deprecated`` marks it: ``inspect``'s way from Python 3.12, asyncio's before."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    if sys.version_info >= (3, 12):
        return inspect.markcoroutinefunction(wrapper)
    wrapper._is_coroutine = asyncio.coroutines._is_coroutine
    return wrapper


class MarkedSession(AsyncSession):
    @marked_the_asyncio_way
    async def fetch(self, user_id):
        raise NotImplementedError


class OwnCodeTest(unittest.TestCase):
    def test_methods_a_subclass_adds_keep_their_code(self):
        shape = shape_of(ProjectSession)
        self.assertIs(shape.members["fetch_user"].own_code, ProjectSession.fetch_user)
        self.assertIs(shape.members["tenant_of"].own_code, ProjectSession.tenant_of)
        self.assertIsNotNone(shape.members["warm_up"].own_code)
        self.assertIsNotNone(shape.members["build_key"].own_code)

    def test_methods_of_sqlalchemys_class_keep_none(self):
        for name, member in shape_of(ProjectSession).members.items():
            if name in shape_of(AsyncSession).members:
                with self.subTest(name):
                    self.assertIsNone(member.own_code)

    def test_a_static_method_and_a_class_method_are_called_as_bound(self):
        class Keyed(AsyncSession):
            @staticmethod
            def key(region):
                return f"key {region}"

            @classmethod
            def kind(cls):
                return cls

        members = shape_of(Keyed).members
        self.assertEqual(members["key"].own_code("the session", "eu"), "key eu")
        self.assertIs(members["kind"].own_code("the session"), Keyed)


class MarkedCoroutineFunctionTest(unittest.TestCase):
    def test_a_coroutine_function_marked_the_asyncio_way_is_async(self):
        if sys.version_info < (3, 12):
            self.assertFalse(inspect.iscoroutinefunction(MarkedSession.fetch))
        member = shape_of(MarkedSession).members["fetch"]
        self.assertEqual(member.kind, ASYNC)
        self.assertEqual(str(member.signature), "(user_id)")

    def test_typing_extensions_deprecated_is_async(self):
        try:
            from typing_extensions import deprecated
        except ImportError:
            self.skipTest("typing_extensions is not installed")

        class Deprecated(AsyncSession):
            @deprecated("use fetch()")
            async def old_fetch(self, user_id):
                raise NotImplementedError

        self.assertEqual(shape_of(Deprecated).members["old_fetch"].kind, ASYNC)


class ShapeCacheTest(unittest.TestCase):
    def test_same_class_gives_the_same_shape_object(self):
        self.assertIs(shape_of(AsyncSession), shape_of(AsyncSession))
        self.assertIs(shape_of(ProjectSession), shape_of(ProjectSession))

    def test_each_class_has_its_own_shape(self):
        class LocalSession(AsyncSession):
            async def only_here(self):
                raise NotImplementedError

        local = shape_of(LocalSession)
        self.assertIs(local.cls, LocalSession)
        self.assertIn("only_here", local.members)
        self.assertNotIn("only_here", shape_of(AsyncSession).members)
        self.assertIsNot(local, shape_of(AsyncSession))
        self.assertIs(shape_of(LocalSession), local)


if __name__ == "__main__":
    unittest.main()
