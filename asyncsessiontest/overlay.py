"""What the user configured on a method's default return value, laid over the real result.

``self.session.execute.return_value.scalar_one_or_none.return_value = x`` configures one method
of the mock standing for every execution's result; each execution still gets its own real
result, seen through that configuration: configured parts answer from the mock, the rest is real.
"""

from __future__ import annotations

import inspect
from typing import Any, Dict
from unittest.mock import AsyncMock, MagicMock, NonCallableMagicMock

__all__ = ["is_default_return", "overlaid"]


def _is_mock(value: Any) -> bool:
    return isinstance(value, (MagicMock, NonCallableMagicMock, AsyncMock))


class _Overlay:
    """A real result seen through the user's configuration of the mock standing for it.

    Only the attributes the user configured on the mock answer from it; every other attribute is
    the real result's.
    """

    __slots__ = ("_ast_config", "_ast_real")

    def __init__(self, real: Any, config: Any) -> None:
        self._ast_real = real
        self._ast_config = config

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() sees the real result's class
        return type(self._ast_real)

    def __getattr__(self, name: str) -> Any:
        configured_values = _values_set_on(self._ast_config)
        if name in configured_values:
            return configured_values[name]  # a plain value the user set, e.g. rowcount
        real_attribute = getattr(self._ast_real, name)
        child = self._ast_config._mock_children.get(name)
        if not _is_mock(child) or not callable(real_attribute):
            return real_attribute
        if inspect.iscoroutinefunction(real_attribute):

            async def call_async(*args: Any, **kwargs: Any) -> Any:
                configured = await child(*args, **kwargs)
                if not is_default_return(child, configured):
                    return configured
                return overlaid(await real_attribute(*args, **kwargs), configured)

            return call_async

        def call(*args: Any, **kwargs: Any) -> Any:
            configured = child(*args, **kwargs)
            if not is_default_return(child, configured):
                return configured
            return overlaid(real_attribute(*args, **kwargs), configured)

        return call

    def __iter__(self) -> Any:
        return iter(self._ast_real)

    def __next__(self) -> Any:
        return next(self._ast_real)

    def __aiter__(self) -> Any:
        return self._ast_real.__aiter__()

    async def __anext__(self) -> Any:
        return await self._ast_real.__anext__()

    def __repr__(self) -> str:
        return repr(self._ast_real)


def is_default_return(mock: Any, value: Any) -> bool:
    """Tell whether ``value`` is the return value ``mock`` made itself (nobody set one).

    :param mock: a mock.
    :param value: what calling it gave.
    """
    return (
        _is_mock(value)
        and value is mock.__dict__.get("_mock_return_value")
        and value._mock_new_parent is mock
        and value._mock_new_name == "()"
    )


def _values_set_on(mock: Any) -> Dict[str, Any]:
    """Return the plain attributes a user set on ``mock`` (Mock keeps them in its __dict__)."""
    return {
        name: value
        for name, value in mock.__dict__.items()
        if not name.startswith("_") and name != "method_calls"
    }


def overlaid(real: Any, config: Any) -> Any:
    """Return ``real`` seen through what the user configured on ``config``.

    An untouched default return value configures nothing: ``real`` comes back as it is.

    :param real: the real result (or a real object a result method returned).
    :param config: the mock standing for it, as the user may have configured it.
    """
    if config._mock_children or _values_set_on(config):
        return _Overlay(real, config)
    return real
