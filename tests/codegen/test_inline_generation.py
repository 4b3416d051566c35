"""A tiny schema set in the jsm.go dialect, generated, imported and round-tripped for real.

The set (codegen_support.DEFINITIONS / FILES) holds one instance of every shape the resolver
supports; each test here checks what the rendered Python does with that shape.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import codegen_support as support
import msgspec
import pytest

import jetstream
from codegen.build import build
from codegen.model import API
from codegen.render import render
from jetstream import Duration, Timestamp
from jetstream._core import Core
from jetstream._core._codec import decode, decoder, encode
from jetstream._transport import MockTransport


class Generated:
    def __init__(self, api: API, files: dict[str, str], package: str) -> None:
        self.api = api
        self.files = files
        self.package = package
        self.models = support.module(package, "models")
        self.errors = support.module(package, "errors")
        self.endpoints = support.module(package, "api")
        self.init: ModuleType = sys.modules[package]


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    root = tmp_path_factory.mktemp("tiny")
    inputs = support.write_inputs(root)
    api = build(inputs.schemas, inputs.errors, **inputs.build_kwargs())
    files = render(api)
    with support.imported(files, root) as package:
        yield Generated(api, files, package)


WIDGET_REPLY: dict[str, Any] = {
    "type": "io.nats.jetstream.api.v1.widget_info_response",
    "config": {
        "name": "w1",
        "kind": "small",
        "color": "green",
        "max_age": 1_500_000_001,
        "backoff": [1, 2_000_000_000],
        "start_time": "2024-05-06T07:08:09.123456789Z",
        "tags": None,
        "metadata": {"owner": "ops"},
        "limits": {"max_parts": -1, "max_weight": 2.5},
        "in": True,
        "added_by_a_newer_server": {"x": [1, 2]},
    },
    "created": "0001-01-01T00:00:00Z",
    "state": {
        "parts": 2**64 - 1,
        "bytes": 10,
        "first_ts": "2024-05-06T07:08:09.000000001+02:00",
        "lost": None,
        "counters": {"a.b": 3},
    },
    "parts": [{"id": "p1", "weight": 1.0}, {"id": "p2"}],
    "payload": "aGVsbG8=",
    "uptime": 0,
    "cluster": {"leader": "n1", "leader_since": "2024-05-06T07:08:09.5Z"},
    "future_root_field": 1,
}


def _data(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply).encode()


def test_build_reports_no_problems(gen: Generated) -> None:
    assert gen.api.problems == ()
    assert [m.class_name for m in gen.api.models][:3] == ["ApiError", "IterableRequest", "IterableResponse"]


def test_reply_decodes_exactly(gen: Generated) -> None:
    reply = decoder(gen.models.WidgetInfoResponse).decode(_data(WIDGET_REPLY))
    assert reply.config.name == "w1"
    assert reply.config.in_ is True
    assert reply.config.tags is None  # ["array", "null"] accepts null
    assert reply.config.metadata == {"owner": "ops"}  # additionalProperties -> dict
    assert reply.state.counters == {"a.b": 3}  # patternProperties -> dict
    assert reply.state.parts == 2**64 - 1
    assert reply.state.bytes == 10
    assert reply.config.limits == gen.models.WidgetLimits(max_parts=-1, max_weight=2.5)
    assert [p.id for p in reply.parts] == ["p1", "p2"]
    assert reply.parts[1].weight is None
    assert reply.payload == b"hello"  # field_types override: base64 -> bytes
    assert reply.cluster == gen.models.WidgetInfoCluster(
        leader="n1", leader_since=datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=timezone.utc)
    )


def test_durations_and_times_keep_nanoseconds(gen: Generated) -> None:
    reply = decoder(gen.models.WidgetInfoResponse).decode(_data(WIDGET_REPLY))
    max_age = reply.config.max_age
    assert type(max_age) is Duration
    assert max_age.nanoseconds == 1_500_000_001
    assert max_age != timedelta(seconds=1, microseconds=500000)  # equality counts the nanoseconds
    assert max_age == Duration(1_500_000_001)
    assert [type(b) for b in reply.config.backoff] == [Duration, Duration]
    assert [b.nanoseconds for b in reply.config.backoff] == [1, 2_000_000_000]
    assert type(reply.uptime) is Duration and reply.uptime.nanoseconds == 0

    start = reply.config.start_time
    assert type(start) is Timestamp
    assert (start.microsecond, start.nanosecond) == (123456, 789)
    first = reply.state.first_ts
    assert type(first) is Timestamp and first.nanosecond == 1
    assert first.utcoffset() == timedelta(hours=2)
    assert reply.created == datetime(1, 1, 1, tzinfo=timezone.utc)  # Go's zero time

    # Encoding a decoded reply gives back the server's exact text.
    again = json.loads(encode(reply.config))
    assert again["max_age"] == 1_500_000_001
    assert again["backoff"] == [1, 2_000_000_000]
    assert again["start_time"] == "2024-05-06T07:08:09.123456789Z"
    assert json.loads(encode(reply.state))["first_ts"] == "2024-05-06T07:08:09.000000001+02:00"


def test_round_trip_is_stable(gen: Generated) -> None:
    tp = gen.models.WidgetInfoResponse
    once = decoder(tp).decode(_data(WIDGET_REPLY))
    twice = decoder(tp).decode(encode(once))
    assert twice == once
    assert encode(twice) == encode(once)


def test_unknown_fields_are_ignored(gen: Generated) -> None:
    reply = decoder(gen.models.WidgetInfoResponse).decode(_data(WIDGET_REPLY))
    encoded = json.loads(encode(reply))
    assert "future_root_field" not in encoded
    assert "added_by_a_newer_server" not in encoded["config"]
    assert "type" not in encoded  # the `type` const of response roots is not a field


def test_enums_are_open(gen: Generated) -> None:
    reply = dict(WIDGET_REPLY, config=dict(WIDGET_REPLY["config"], kind="enormous", color=""))
    decoded = decoder(gen.models.WidgetInfoResponse).decode(_data(reply))
    assert decoded.config.kind == "enormous"
    assert decoded.config.color == ""  # the empty string is a legal enum value (persist_mode has one)
    source = gen.files["models.py"]
    assert 'WidgetKind = Literal["small", "large"]' in source
    assert 'Color = Literal["red", "green", ""]' in source  # named by [enum_names]
    assert gen.models.WidgetConfig.__annotations__["kind"] == "WidgetKind | str | None"


def test_required_fields_are_enforced_in_replies(gen: Generated) -> None:
    tp = gen.models.WidgetInfoResponse
    for missing in ("config", "created", "state"):
        reply = {k: v for k, v in WIDGET_REPLY.items() if k != missing}
        with pytest.raises(msgspec.ValidationError, match=f"missing required field `{missing}`"):
            decoder(tp).decode(_data(reply))
    state = {k: v for k, v in WIDGET_REPLY["state"].items() if k != "first_ts"}
    with pytest.raises(msgspec.ValidationError, match=r"missing required field `first_ts` - at `\$.state`"):
        decoder(tp).decode(_data(dict(WIDGET_REPLY, state=state)))


def test_optional_fields_default_to_none(gen: Generated) -> None:
    minimal = {
        "config": {"name": "w"},
        "created": "2024-01-01T00:00:00Z",
        "state": {"parts": 0, "bytes": 0, "first_ts": "2024-01-01T00:00:00Z"},
    }
    reply = decoder(gen.models.WidgetInfoResponse).decode(_data(minimal))
    assert (reply.parts, reply.payload, reply.uptime, reply.cluster) == (None, None, None, None)
    assert reply.config.kind is None  # required in the schema, optional by [required] (both directions)
    assert reply.state.lost is None and reply.state.counters is None


def test_nullable_required_field(gen: Generated) -> None:
    """required.toml `nullable`: the key must be present, but may be JSON null."""
    tp = gen.models.WidgetNamesResponse
    page = {"total": 0, "offset": 0, "limit": 10}
    assert decoder(tp).decode(_data(dict(page, widgets=None))).widgets is None
    assert decoder(tp).decode(_data(dict(page, widgets=["a"]))).widgets == ["a"]
    with pytest.raises(msgspec.ValidationError, match="missing required field `widgets`"):
        decoder(tp).decode(_data(page))
    assert gen.models.WidgetNamesResponse.__annotations__["widgets"] == "list[str] | None"
    required = {f.name for f in msgspec.structs.fields(tp) if f.required}
    assert required == {"total", "offset", "limit", "widgets"}


def test_requests_carry_only_what_was_set(gen: Generated) -> None:
    m = gen.models
    assert encode(m.WidgetCreateRequest(name="w")) == b'{"name":"w"}'
    body = m.WidgetCreateRequest(
        name="w",
        max_age=timedelta(seconds=2),
        backoff=[timedelta(milliseconds=1), Duration(7)],
        in_=False,
        pedantic=True,
        start_time=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
    )
    assert json.loads(encode(body)) == {
        "name": "w",
        "max_age": 2_000_000_000,
        "backoff": [1_000_000, 7],
        "in": False,
        "pedantic": True,
        "start_time": "2024-01-02T03:04:05.000006Z",
    }
    with pytest.raises(TypeError, match="Missing required argument 'offset'"):
        m.WidgetNamesRequest()
    assert encode(m.WidgetNamesRequest(offset=0)) == b'{"offset":0}'


def test_enforced_constraints_become_meta(gen: Generated) -> None:
    """constraints.toml enforces `iterable_request.offset >= 0`: the field carries `msgspec.Meta`,
    which decoding checks, and the request types that have it (inherited too) are listed."""
    m = gen.models
    assert "offset: Annotated[int, msgspec.Meta(ge=0)]" in gen.files["models.py"]
    assert frozenset({m.IterableRequest, m.WidgetNamesRequest}) == m.CONSTRAINED_REQUESTS
    assert decoder(m.WidgetNamesRequest).decode(b'{"offset":0}') == m.WidgetNamesRequest(offset=0)
    with pytest.raises(msgspec.ValidationError, match=r">= 0 - at `\$.offset`"):
        decoder(m.WidgetNamesRequest).decode(b'{"offset":-1}')
    # Replies keep every schema constraint out of their types: a reply decodes whatever the bounds.
    assert "Meta(" not in gen.files["models.py"].split("class IterableResponse", 1)[1].split("class ", 1)[0]


def test_one_of_success_ref_becomes_a_subclass(gen: Generated) -> None:
    m = gen.models
    assert m.WidgetCreateResponse.__bases__ == (m.Widget,)  # oneOf[ref, error_response]
    assert m.WidgetInfoResponse.__bases__ == (m.Widget,)  # oneOf[error_response, ref]
    assert m.WidgetNamesResponse.__bases__ == (m.IterableResponse,)  # allOf[ref] + oneOf[error, inline]
    assert m.WidgetNamesRequest.__bases__ == (m.IterableRequest,)
    assert m.Widget.__bases__ == (msgspec.Struct,)
    assert set(m.WidgetNamesResponse.__struct_fields__) == {"total", "offset", "limit", "widgets", "offline"}


def test_all_of_merges_fields(gen: Generated) -> None:
    m = gen.models
    assert m.WidgetCreateRequest.__bases__ == (m.WidgetConfig,)
    config_fields = {f.encode_name: f.name for f in msgspec.structs.fields(m.WidgetConfig)}
    assert config_fields == {
        "name": "name", "kind": "kind", "color": "color", "max_age": "max_age", "backoff": "backoff",
        "start_time": "start_time", "tags": "tags", "metadata": "metadata", "limits": "limits", "in": "in_",
    }  # fmt: skip
    request_fields = {f.encode_name: f.name for f in msgspec.structs.fields(m.WidgetCreateRequest)}
    assert request_fields == {**config_fields, "pedantic": "pedantic"}


def test_struct_options(gen: Generated) -> None:
    structs = [getattr(gen.models, name) for name in gen.models.__all__]
    structs = [c for c in structs if isinstance(c, type) and issubclass(c, msgspec.Struct)]
    assert len(structs) == 16  # with WidgetConfigReply, the reply variant of the shared WidgetConfig
    for cls in structs:
        assert cls.__struct_config__.omit_defaults, cls
        assert not cls.__struct_config__.forbid_unknown_fields, cls
        if cls.__bases__ == (msgspec.Struct,):
            # msgspec's kw_only covers only the fields of the class that declares it; the
            # subclass case is checked on the real tree (test_generated_tree).
            params = inspect.signature(cls).parameters.values()
            assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params), cls


def test_generated_errors(gen: Generated) -> None:
    e = gen.errors
    assert e.ErrorCode.WIDGET_NOT_FOUND == 10059
    assert e.ErrorCode.WIDGET_NAME_EXIST == 10058
    by_code = e.ERRORS
    assert by_code == {10058: e.WidgetNameExistError, 10059: e.WidgetNotFoundError}
    err = e.api_error(404, 10059, "widget not found")
    assert type(err) is e.WidgetNotFoundError
    assert isinstance(err, jetstream.errors.APIError)
    assert (err.code, err.err_code, err.description) == (404, 10059, "widget not found")
    unknown = e.api_error(500, 99999, "from a newer server")
    assert type(unknown) is jetstream.errors.APIError


def test_headers_name_the_inputs(gen: Generated) -> None:
    pkg = gen.init
    assert pkg.SCHEMA_REF == "tinyref"
    assert pkg.ERRORS_REF == "errref"
    assert pkg.ENDPOINT_COUNT == 4
    for name, text in gen.files.items():
        first = text.splitlines()[0]
        assert first.startswith("# Generated by `python -m codegen`"), name
        assert first.endswith("DO NOT EDIT."), name
    assert "tinyref" in gen.files["models.py"].splitlines()[0]
    assert "errref" in gen.files["errors.py"].splitlines()[0]


def _client(gen: Generated, replies: list[dict[str, Any]]) -> tuple[Any, MockTransport]:
    answers = iter(replies)
    transport = MockTransport(lambda subject, payload, headers: _data(next(answers)))
    client = gen.endpoints.GeneratedAPI()
    client._core = Core(transport)
    return client, transport


async def test_generated_method_sends_and_decodes(gen: Generated) -> None:
    client, transport = _client(
        gen, [dict(WIDGET_REPLY, type="io.nats.jetstream.api.v1.widget_create_response")]
    )
    reply = await client.widget_create("w1", kind="large", max_age=timedelta(seconds=1))
    assert type(reply) is gen.models.WidgetCreateResponse
    assert reply.config.max_age.nanoseconds == 1_500_000_001
    ((subject, payload, _headers),) = transport.requests
    assert subject == "$JS.API.WIDGET.CREATE.w1"
    assert json.loads(payload) == {"name": "w1", "kind": "large", "max_age": 1_000_000_000}


async def test_generated_paged_and_result_methods(gen: Generated) -> None:
    pages = [
        {"total": 3, "offset": 0, "limit": 2, "widgets": ["a", "b"]},
        {"total": 3, "offset": 2, "limit": 2, "widgets": ["c"]},
        {"type": "io.nats.jetstream.api.v1.widget_delete_response", "success": True},
    ]
    client, transport = _client(gen, pages)
    assert await client.widget_names(subject="x.>") == ["a", "b", "c"]
    assert await client.widget_delete("a") is True
    sent = [(s, json.loads(p) if p else None) for s, p, _h in transport.requests]
    assert sent == [
        ("$JS.API.WIDGET.NAMES", {"offset": 0, "subject": "x.>"}),
        ("$JS.API.WIDGET.NAMES", {"offset": 2, "subject": "x.>"}),
        ("$JS.API.WIDGET.DELETE.a", None),
    ]


async def test_error_reply_raises_before_typed_decode(gen: Generated) -> None:
    error = {"type": "x", "error": {"code": 404, "err_code": 10059, "description": "stream not found"}}
    client, _transport = _client(gen, [error])
    with pytest.raises(jetstream.errors.StreamNotFoundError):
        await client.widget_info("w1")
    # The core's error probe also runs for the direct decode path.
    with pytest.raises(jetstream.errors.APIError):
        decode("s", _data(error), gen.models.WidgetInfoResponse)


async def test_config_keyword_named_after_a_python_keyword(gen: Generated) -> None:
    client, transport = _client(gen, [dict(WIDGET_REPLY)])
    await client.widget_create("w1", in_=True)
    assert json.loads(transport.requests[0][1]) == {"name": "w1", "in": True}


def test_render_is_deterministic(gen: Generated, tmp_path: Path) -> None:
    inputs = support.write_inputs(tmp_path)
    assert render(build(inputs.schemas, inputs.errors, **inputs.build_kwargs())) == gen.files
