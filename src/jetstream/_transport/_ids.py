"""Unique ids (NUIDs) for inboxes, consumer names and object ids."""

from __future__ import annotations

from nats.nuid import NUID

_nuid = NUID()


def next_id() -> str:
    """A new 22-character NUID."""
    return _nuid.next().decode()
