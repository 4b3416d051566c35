"""Make the jetstream.testing fixtures available to these tests.

The project normally loads the plugin from ``tests/conftest.py`` or its
``pytest11`` entry point; registering it here only when nobody else did
keeps this directory runnable on its own and checks that loading the
plugin through several routes is harmless.
"""

from __future__ import annotations

import pytest

import jetstream.testing.pytest_plugin as plugin


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, plugin.__name__)
