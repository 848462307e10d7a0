"""How many parity scenarios there are: one function run on both sessions, outcomes compared.

Each scenario function of the tests/test_*_parity.py modules is registered by
``tests.support.parity_scenario``. Run this module alone to print the count by module.
"""

import collections
import importlib
import re
import unittest
from pathlib import Path

from tests.support import PARITY_SCENARIOS

TESTS = Path(__file__).resolve().parent
PARITY_MODULES = sorted(path.stem for path in TESTS.glob("test_*_parity.py"))
MINIMUM = 60


def registered():
    """Import every parity module; return the names of their scenarios, ``module.name``."""
    for module in PARITY_MODULES:
        importlib.import_module(f"tests.{module}")
    return list(PARITY_SCENARIOS)


class ParityScenarioCountTest(unittest.TestCase):
    def test_there_are_enough_scenarios(self):
        scenarios = registered()
        self.assertEqual(len(scenarios), len(set(scenarios)), "a scenario registered twice")
        self.assertGreaterEqual(len(scenarios), MINIMUM)

    def test_a_test_runs_each_scenario(self):
        # a scenario no test names is not compared: its name appears beyond its own def
        for name in registered():
            module, function = name.rsplit(".", 1)
            source = (TESTS / f"{module.split('.')[-1]}.py").read_text(encoding="utf-8")
            uses = re.findall(rf"\b{re.escape(function)}\b", source)
            with self.subTest(name):
                self.assertGreaterEqual(len(uses), 2, f"{name} is defined but never run")


if __name__ == "__main__":
    counts = collections.Counter(name.rsplit(".", 1)[0] for name in registered())
    for module, count in sorted(counts.items()):
        print(f"{count:4}  {module}")
    print(f"{sum(counts.values()):4}  in all (at least {MINIMUM} wanted)")
