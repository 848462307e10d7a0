"""The README's example is a real test: run it against the quickstart's code, and see it fail
when that code has the bug the example guards against."""

import sys
import types
import unittest
from pathlib import Path

from sqlalchemy import select

from tests.support import User

README = Path(__file__).resolve().parent.parent / "README.rst"


def _example_source():
    text = README.read_text()
    block = text.split(".. code-block:: python\n", 1)[1].split("\n\n``self.session``", 1)[0]
    return "\n".join(line[4:] for line in block.splitlines())


async def rename_user(session, user_id, name):
    """The quickstart's function under test."""
    result = await session.execute(select(User).where(User.id == user_id))
    user = result.scalar_one_or_none()
    if user is None:
        raise LookupError(user_id)
    user.name = name
    await session.commit()


async def rename_user_without_commit(session, user_id, name):
    result = await session.execute(select(User).where(User.id == user_id))
    result.scalar_one().name = name


class ReadmeExampleTest(unittest.TestCase):
    def run_example(self, function):
        myapp = types.ModuleType("myapp")
        models = types.ModuleType("myapp.models")
        models.User = User
        users = types.ModuleType("myapp.users")
        users.rename_user = function
        modules = {"myapp": myapp, "myapp.models": models, "myapp.users": users}
        saved = {name: sys.modules.get(name) for name in modules}
        sys.modules.update(modules)
        try:
            namespace = {"__name__": "readme_example"}
            exec(compile(_example_source(), str(README), "exec"), namespace)
        finally:
            for name, module in saved.items():
                if module is None:
                    del sys.modules[name]
                else:
                    sys.modules[name] = module
        result = unittest.TestResult()
        namespace["RenameUserTest"]("test_renames_and_commits").run(result)
        return result

    def test_the_example_passes(self):
        result = self.run_example(rename_user)
        self.assertEqual((result.testsRun, result.failures, result.errors), (1, [], []))

    def test_the_example_catches_a_missing_commit(self):
        result = self.run_example(rename_user_without_commit)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("Expected a commit; none happened.", result.failures[0][1])


if __name__ == "__main__":
    unittest.main()
