"""The pytest plugin never hurts: pytest loads it into every run of an environment that has jetstream-py,
so loading it imports nothing but itself, and without pytest-asyncio only the tests that ask for its
fixtures fail, with a usage error that says what to install.

The real thing (the built wheel in a fresh venv without pytest-asyncio) is in test_packaging.py."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import _jetstream_pytest_plugin as light
import jetstream.testing.pytest_plugin as public

FIXTURES = ("nats_server", "nats_server_no_js", "nats_cluster", "nats_hub_leaf", "nats_server_factory")


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def _suite(tmp_path: Path, tests: str) -> Path:
    # An ini file of its own: the suite is not configured by this repository's pyproject.toml.
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "test_suite.py").write_text(textwrap.dedent(tests), encoding="utf-8")
    return tmp_path


def test_loading_the_plugin_imports_nothing_but_itself(tmp_path: Path) -> None:
    # pytest and pytest-asyncio (when installed) are there before any plugin of ours is loaded.
    code = textwrap.dedent(
        """
        import sys
        import pytest
        try:
            import pytest_asyncio
        except ImportError:
            pass
        before = set(sys.modules)
        import _jetstream_pytest_plugin
        print("\\n".join(sorted(set(sys.modules) - before)))
        """
    )
    done = _run(["-c", code], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["_jetstream_pytest_plugin"]


def test_the_entry_point_is_named_after_the_public_module() -> None:
    # pytest knows plugins by name: `pytest_plugins = ["jetstream.testing.pytest_plugin"]` in a
    # conftest.py is then seen as loaded, not registered a second time.
    [entry] = [e for e in importlib.metadata.entry_points(group="pytest11") if e.value == light.__name__]
    assert entry.name == "jetstream.testing.pytest_plugin" == public.__name__
    assert entry.dist is not None and entry.dist.name == "jetstream-py"


def test_the_public_module_has_the_same_fixtures() -> None:
    for name in FIXTURES:
        assert getattr(public, name) is getattr(light, name)
        assert name in public.__all__
    assert public.NatsServerFactory is not None


def test_without_pytest_asyncio_only_the_fixture_users_fail_and_say_what_to_install(tmp_path: Path) -> None:
    suite = _suite(
        tmp_path,
        """
        import asyncio

        def test_plain():
            assert asyncio.run(asyncio.sleep(0, "ok")) == "ok"

        def test_server(nats_server):
            pass

        def test_factory(nats_server_factory):
            pass
        """,
    )
    # pytest-asyncio is hidden from the import system (and its entry point disabled) before pytest starts.
    code = textwrap.dedent(
        """
        import sys
        from importlib.machinery import PathFinder

        path_finder_find_spec = PathFinder.find_spec

        def find_spec(cls, name, path=None, target=None):
            if name.partition(".")[0] == "pytest_asyncio":
                return None
            return path_finder_find_spec(name, path, target)

        # Also the finder pytest's assertion rewriter uses.
        PathFinder.find_spec = classmethod(find_spec)
        import pytest
        sys.exit(pytest.main(["-q", "-p", "no:asyncio", "-p", "no:cacheprovider"]))
        """
    )
    done = _run(["-c", code], cwd=suite)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "1 passed, 2 errors" in out
    for name in ("nats_server", "nats_server_factory"):
        assert (
            f"UsageError: the {name} fixture of jetstream-py is async and runs on pytest-asyncio, "
            "which is not installed: pip install 'jetstream-py[testing]'"
        ) in out
    assert "ModuleNotFoundError" not in out + done.stderr


def test_fixtures_in_pytest_asyncio_strict_mode(tmp_path: Path) -> None:
    # Strict mode is pytest-asyncio's default, so the fixtures must not rely on asyncio_mode=auto.
    suite = _suite(
        tmp_path,
        """
        import pytest

        import jetstream


        @pytest.mark.asyncio
        async def test_server(nats_server):
            async with await jetstream.connect(nats_server.url) as js:
                info = await js.stream_create("S", subjects=["s.>"])
                assert info.config.name == "S"


        @pytest.mark.asyncio
        async def test_factory(nats_server_factory, nats_server_no_js):
            server = await nats_server_factory(max_payload=1024)
            assert server.url != nats_server_no_js.url
        """,
    )
    done = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=strict"], cwd=suite)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
