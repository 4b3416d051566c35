"""Advisory payloads -> typed events: one msgspec decode of the tagged union picks the class.

An advisory is untrusted network data. What is not an event these schemas know becomes either an
`UnknownAdvisory` (a JSON object with a string ``type`` no schema here names: a newer server's kind)
or an `InvalidAdvisoryError` (not JSON, no ``type``, or a known kind in a shape its schema refuses).
"""

from __future__ import annotations

import msgspec

from .._exceptions import InvalidAdvisoryError
from .._generated.advisories import EVENT_TYPES, KnownEvent
from .._time import dec_hook


class UnknownAdvisory(msgspec.Struct, kw_only=True, frozen=True):
    """An advisory or metric of a kind these schemas do not describe (``meta_rescue``, or one newer
    than the server schemas of this release): its ``type``, and every member as sent in ``data``."""

    type: str
    """The event's kind, e.g. ``io.nats.jetstream.advisory.v1.meta_rescue``."""
    subject: str
    """The subject it arrived on."""
    data: dict[str, object]
    """Every JSON member of the event (``type``, ``id``, ``timestamp`` included), decoded as JSON."""

    @property
    def id(self) -> str | None:
        """The event's unique id, when it has a string one."""
        value = self.data.get("id")
        return value if isinstance(value, str) else None


Advisory = KnownEvent | UnknownAdvisory
"""What `js.advisories()` yields: one typed class per known kind (``match``/``isinstance`` on them),
`UnknownAdvisory` for any other kind."""


class _Envelope(msgspec.Struct):
    """The part of every event read when the typed decode refused it."""

    type: str


_known: msgspec.json.Decoder[KnownEvent] = msgspec.json.Decoder(KnownEvent, dec_hook=dec_hook)
_envelope = msgspec.json.Decoder(_Envelope)
_members = msgspec.json.Decoder(dict[str, object])


def decode_advisory(data: bytes, subject: str = "") -> Advisory:
    """Decode one advisory or metric payload (``subject``: where it came from, for messages).

    Raises `InvalidAdvisoryError` for what is not an event: invalid JSON, not an object with a string
    ``type``, or a known kind whose members do not fit its schema.
    """
    try:
        event: Advisory = _known.decode(data)
        return event
    except msgspec.ValidationError as exc:
        refusal: Exception = exc
    except msgspec.DecodeError as exc:
        raise InvalidAdvisoryError(subject, data, f"not JSON: {exc}") from exc
    except Exception as exc:  # RecursionError of deeply nested JSON, a time the hook refused ...
        raise InvalidAdvisoryError(subject, data, f"cannot decode: {exc!r}") from exc
    try:
        kind = _envelope.decode(data).type
    except Exception as exc:
        raise InvalidAdvisoryError(subject, data, "not a JSON object with a string `type`") from exc
    if kind in EVENT_TYPES:
        raise InvalidAdvisoryError(subject, data, f"not a valid {kind}: {refusal}") from refusal
    try:
        members = _members.decode(data)
    except Exception as exc:  # pragma: no cover - it was valid JSON a moment ago
        raise InvalidAdvisoryError(subject, data, f"cannot decode: {exc!r}") from exc
    return UnknownAdvisory(type=kind, subject=subject, data=members)


def domain_of(event: Advisory) -> str | None:
    """The JetStream domain an event says it comes from, if it says."""
    if isinstance(event, UnknownAdvisory):
        value = event.data.get("domain")
        return value if isinstance(value, str) and value else None
    return getattr(event, "domain", None) or None
