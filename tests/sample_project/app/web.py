"""The two parts of FastAPI the sample's web layer uses, so the sample runs without FastAPI.

A FastAPI project imports ``Depends`` and ``FastAPI`` from ``fastapi`` instead; its
``app.dependency_overrides`` is the same plain dict as here.
"""

import contextlib
import inspect


class Depends:
    """Declare that an endpoint's parameter comes from ``dependency``, as ``fastapi.Depends``."""

    def __init__(self, dependency):
        self.dependency = dependency


class FastAPI:
    """An application: its routes and its ``dependency_overrides``."""

    def __init__(self):
        self.dependency_overrides = {}
        self.routes = {}

    def get(self, path):
        """Register the decorated endpoint for GET ``path``."""

        def register(endpoint):
            self.routes[path] = endpoint
            return endpoint

        return register

    async def call(self, endpoint, **params):
        """Call ``endpoint`` as FastAPI does for a request.

        Each ``Depends()`` parameter gets the value of its dependency, or of the dependency's
        override in ``dependency_overrides``; a dependency that yields is finished once the
        endpoint has returned.
        """
        async with contextlib.AsyncExitStack() as stack:
            for name, parameter in inspect.signature(endpoint).parameters.items():
                if isinstance(parameter.default, Depends):
                    dependency = parameter.default.dependency
                    dependency = self.dependency_overrides.get(dependency, dependency)
                    params[name] = await _solve(dependency, stack)
            return await endpoint(**params)


async def _solve(dependency, stack):
    if inspect.isasyncgenfunction(dependency):
        context = contextlib.asynccontextmanager(dependency)()
        return await stack.enter_async_context(context)
    value = dependency()
    if inspect.isawaitable(value):
        value = await value
    return value
