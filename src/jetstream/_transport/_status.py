"""Telling server status messages from data.

A status message ("NATS/1.0 404 No Messages") is the server's: its header block begins with a
status line and it carries no reply subject and no payload. A stored message is data whatever its
headers say - a publisher may set ``Status: 409`` or even write its own status line, but a message
delivered by a consumer always carries its ``$JS.ACK`` reply subject.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._numbers import parse_status
from ._msg import Msg

STATUS = "Status"
DESCRIPTION = "Description"


class StatusHeaders(dict[str, str]):
    """The headers of a message whose header block began with a status line (the parser of
    `NatsConnection` returns this type for those only)."""

    __slots__ = ()


def status_of(msg: Msg) -> str:
    """The status code ("100", "404" ...) of a server status message; "" for data."""
    if msg.reply or msg.data:
        return ""
    return header_status(msg.headers)


def header_status(headers: Mapping[str, str] | None) -> str:
    """The status code a header block began with ("" when none), ASCII digits only."""
    if type(headers) is not StatusHeaders:
        return ""
    code = headers.get(STATUS, "")
    return code if parse_status(code) is not None else ""


def description_of(headers: Mapping[str, str] | None) -> str:
    """The text after a status code; nats-py leaves the header lines of a status message without
    text in it ("503\\r\\nNats-Subject: ..."): only its first line is the description."""
    if not headers:
        return ""
    return headers.get(DESCRIPTION, "").replace("\r", "").split("\n", 1)[0].strip()
