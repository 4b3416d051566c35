"""Where the server publishes each event, and the subscriptions that narrow them.

The schemas name the payloads, not the subjects: these come from nats-server (`server/jetstream_api.go`,
the ``JSAdvisory*Pre`` constants, and where `stream.go`, `consumer.go`, `jetstream_cluster.go` append
the stream and consumer names). A kind the schemas add without an entry here fails a unit test.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._exceptions import InvalidArgumentError
from .._generated.advisories import EVENT_TYPES, JetStreamEvent
from .._validate import check_name, check_subject

DEFAULT_EVENT_PREFIX = "$JS.EVENT"

_S, _C = "{stream}", "{consumer}"
# Event type -> its subjects after the event prefix; {stream}/{consumer} are the tokens the server
# fills. The domain, server and API-limit advisories go to the system account only.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "io.nats.jetstream.advisory.v1.api_audit": ("ADVISORY.API",),
    "io.nats.jetstream.advisory.v1.api_limit_reached": ("ADVISORY.API.LIMIT_REACHED",),
    "io.nats.jetstream.advisory.v1.stream_action": (
        f"ADVISORY.STREAM.CREATED.{_S}",
        f"ADVISORY.STREAM.DELETED.{_S}",
        f"ADVISORY.STREAM.UPDATED.{_S}",
    ),
    "io.nats.jetstream.advisory.v1.consumer_action": (
        f"ADVISORY.CONSUMER.CREATED.{_S}.{_C}",
        f"ADVISORY.CONSUMER.DELETED.{_S}.{_C}",
    ),
    "io.nats.jetstream.advisory.v1.consumer_pause": (f"ADVISORY.CONSUMER.PAUSE.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.consumer_group_pinned": (f"ADVISORY.CONSUMER.PINNED.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.consumer_group_unpinned": (f"ADVISORY.CONSUMER.UNPINNED.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.max_deliver": (f"ADVISORY.CONSUMER.MAX_DELIVERIES.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.nak": (f"ADVISORY.CONSUMER.MSG_NAKED.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.terminated": (f"ADVISORY.CONSUMER.MSG_TERMINATED.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.snapshot_create": (f"ADVISORY.STREAM.SNAPSHOT_CREATE.{_S}",),
    "io.nats.jetstream.advisory.v1.snapshot_complete": (f"ADVISORY.STREAM.SNAPSHOT_COMPLETE.{_S}",),
    "io.nats.jetstream.advisory.v1.restore_create": (f"ADVISORY.STREAM.RESTORE_CREATE.{_S}",),
    "io.nats.jetstream.advisory.v1.restore_complete": (f"ADVISORY.STREAM.RESTORE_COMPLETE.{_S}",),
    "io.nats.jetstream.advisory.v1.stream_leader_elected": (f"ADVISORY.STREAM.LEADER_ELECTED.{_S}",),
    "io.nats.jetstream.advisory.v1.stream_quorum_lost": (f"ADVISORY.STREAM.QUORUM_LOST.{_S}",),
    "io.nats.jetstream.advisory.v1.stream_batch_abandoned": (f"ADVISORY.STREAM.BATCH_ABANDONED.{_S}",),
    "io.nats.jetstream.advisory.v1.consumer_leader_elected": (f"ADVISORY.CONSUMER.LEADER_ELECTED.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.consumer_quorum_lost": (f"ADVISORY.CONSUMER.QUORUM_LOST.{_S}.{_C}",),
    "io.nats.jetstream.advisory.v1.domain_leader_elected": ("ADVISORY.DOMAIN.LEADER_ELECTED",),
    "io.nats.jetstream.advisory.v1.server_out_of_space": ("ADVISORY.SERVER.OUT_OF_STORAGE",),
    "io.nats.jetstream.advisory.v1.server_removed": ("ADVISORY.SERVER.REMOVED",),
    "io.nats.jetstream.metric.v1.consumer_ack": (f"METRIC.CONSUMER.ACK.{_S}.{_C}",),
}

Kind = type[JetStreamEvent] | str
"""An event kind as `js.advisories(kinds=...)` takes it: its class (`ConsumerActionAdvisory`), its
``type`` (``io.nats.jetstream.advisory.v1.consumer_action``) or the last part of it
(``consumer_action``)."""

_BY_SHORT_NAME = {kind.rsplit(".", 1)[-1]: kind for kind in EVENT_TYPES}


def kind_of(kind: object) -> str:
    """The event type a `Kind` stands for."""
    if isinstance(kind, type) and issubclass(kind, JetStreamEvent) and kind.type in EVENT_TYPES:
        return kind.type
    if isinstance(kind, str):
        found = kind if kind in EVENT_TYPES else _BY_SHORT_NAME.get(kind)
        if found is not None:
            return found
    known = ", ".join(sorted(_BY_SHORT_NAME))
    raise InvalidArgumentError(f"unknown advisory kind {kind!r}: a JetStreamEvent class or one of {known}")


def subscriptions(
    kinds: Iterable[Kind] | Kind | None = None,
    *,
    stream: str | None = None,
    consumer: str | None = None,
    prefix: str = DEFAULT_EVENT_PREFIX,
) -> list[str]:
    """The subjects to subscribe to for these kinds of one stream / consumer (None: any).

    Without kinds: every advisory (new kinds too), narrowed to those whose subject names the stream
    (and consumer). With kinds: their subjects; a kind whose subject does not name a stream (or a
    consumer) cannot be narrowed to one and is refused.
    """
    check_subject("event prefix", prefix, wildcards=False)
    s = "*" if stream is None else check_name("stream", stream)
    c = "*" if consumer is None else check_name("consumer", consumer)
    if kinds is None:
        if consumer is not None:
            return [f"{prefix}.ADVISORY.CONSUMER.*.{s}.{c}"]
        if stream is not None:
            return [f"{prefix}.ADVISORY.STREAM.*.{s}", f"{prefix}.ADVISORY.CONSUMER.*.{s}.*"]
        return [f"{prefix}.ADVISORY.>"]
    if isinstance(kinds, (str, type)):
        kinds = [kinds]
    out: list[str] = []
    for kind in map(kind_of, kinds):
        for template in SUBJECTS[kind]:
            for name, value, token in (("stream", stream, _S), ("consumer", consumer, _C)):
                if value is not None and token not in template:
                    raise InvalidArgumentError(
                        f"{kind} events do not name a {name}: drop {name}= or the kind"
                    )
            subject = f"{prefix}.{template.format(stream=s, consumer=c)}"
            if subject not in out:
                out.append(subject)
    if not out:
        raise InvalidArgumentError("kinds is empty: pass None for every advisory")
    return out
