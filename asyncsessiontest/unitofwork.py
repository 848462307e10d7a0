"""What a recorded history amounts to: which objects were committed, what was rolled back."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from asyncsessiontest.recording import Operation

__all__ = ["ADDS", "CLOSES", "COMMITS", "DELETES", "ROLLBACKS", "UnitOfWork", "added_objects"]

COMMITS = frozenset({"commit", "transaction: commit"})
"""The session's commits: an awaited commit(), and a begin() block left cleanly."""
ROLLBACKS = frozenset({"rollback", "invalidate", "transaction: rollback"})
"""The transaction's rollbacks: invalidate() rolls back too, dropping the connection."""
CLOSES = frozenset({"close", "aclose", "__aexit__"})
"""What closes the session: close(), aclose(), leaving ``async with session``."""
ADDS = frozenset({"add", "add_all", "merge", "merge_all"})
"""The operations that put objects in the session (merge_all is SQLAlchemy 2.1's)."""
DELETES = frozenset({"delete", "delete_all"})
"""The operations that delete objects (delete_all is SQLAlchemy 2.1's)."""


def added_objects(operation: Operation) -> List[Any]:
    """Return the objects an add, add_all, merge, delete, refresh or expunge operation names.

    :param operation: a recorded operation.
    """
    if operation.method.endswith("_all"):
        instances = operation.args[0] if operation.args else operation.kwargs.get("instances", ())
        return list(instances)
    if operation.args:
        return [operation.args[0]]
    if "instance" in operation.kwargs:
        return [operation.kwargs["instance"]]
    return []


class UnitOfWork:
    """The effect of a history, replayed as a session would apply it.

    :param history: the operations, in order.
    """

    def __init__(self, history: List[Operation]) -> None:
        self.commits: List[int] = []
        """Indexes of the commits that took effect (awaited ``commit()``, a ``begin()`` block)."""
        self.rollbacks: List[int] = []
        """Indexes of the transaction's rollbacks (not savepoints')."""
        self.savepoint_rollbacks: List[int] = []
        """Indexes of the savepoints' rollbacks."""
        self.committed: Dict[int, Tuple[Any, int, int]] = {}
        """id(object) -> (object, index of its add, index of the commit that committed it)."""
        self.undone: Dict[int, Tuple[Any, int, int]] = {}
        """id(object) -> (object, index of its add, index of what undid it), if not committed."""
        self.pending: Dict[int, Tuple[Any, int]] = {}
        """id(object) -> (object, index of its add), added after the last commit."""
        levels: List[Dict[int, Tuple[Any, int]]] = [{}]
        for index, operation in enumerate(history):
            method = operation.method
            if method in COMMITS and operation.error is not None:
                # a failed commit rolls the transaction back: nothing pending survives it
                self._undo(levels, index)
                levels = [{}]
                continue
            if not operation.happened:
                continue
            if method in ADDS:
                for instance in added_objects(operation):
                    levels[-1][id(instance)] = (instance, index)
                    self.undone.pop(id(instance), None)
            elif method == "expunge":
                for instance in added_objects(operation):
                    for level in levels:
                        removed = level.pop(id(instance), None)
                        if removed is not None:
                            self.undone[id(instance)] = (instance, removed[1], index)
            elif method == "expunge_all":
                self._undo(levels, index)
                levels = [{}]
            elif method in COMMITS:
                self.commits.append(index)
                for level in levels:
                    for key, (instance, added_at) in level.items():
                        self.committed[key] = (instance, added_at, index)
                levels = [{}]
            elif method in ROLLBACKS:
                self.rollbacks.append(index)
                self._undo(levels, index)
                levels = [{}]
            elif method in CLOSES or method == "reset":
                self._undo(levels, index)
                levels = [{}]
            elif method == "savepoint: begin":
                levels.append({})
            elif method == "savepoint: release" and len(levels) > 1:
                top = levels.pop()
                levels[-1].update(top)
            elif method == "savepoint: rollback" and len(levels) > 1:
                self.savepoint_rollbacks.append(index)
                self._undo([levels.pop()], index)
        for level in levels:
            self.pending.update(level)

    def _undo(self, levels: List[Dict[int, Tuple[Any, int]]], index: int) -> None:
        for level in levels:
            for key, (instance, added_at) in level.items():
                self.undone[key] = (instance, added_at, index)
