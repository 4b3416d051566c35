"""Exceptions raised by the test-server helpers."""

from __future__ import annotations


class NatsServerError(RuntimeError):
    """A ``nats-server`` process could not be started or did not become ready.

    The message includes the tail of the server log, which is usually all
    that is needed to see what went wrong (bad config, port clash, ...).
    """


class PortInUseError(NatsServerError):
    """``nats-server`` exited because one of its listen ports was taken.

    Raised only when the ports were fixed by the caller; with automatically
    chosen ports the helpers retry on fresh ports instead.
    """
