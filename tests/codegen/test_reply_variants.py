"""Reply variants of the types shared by requests and replies, on a small schema set of our own:
required.toml `always` (minus `newer`) makes fields required in the subclass replies decode into,
while requests keep the shared type with everything the server defaults optional."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import codegen_support as support
import msgspec
import pytest

from codegen.build import build
from codegen.render import render
from jetstream import Timestamp
from jetstream._core._codec import decoder, encode

REQUIRED = (
    support.REQUIRED_TOML
    + """
[widget_config]
always = ["name", "kind", "color", "max_age", "limits"]
newer = ["limits"]
"""
)
CONFIG = {
    "name": "w1",
    "kind": "small",
    "color": "green",
    "max_age": 1_500_000_001,
    "start_time": "2024-05-06T07:08:09.123456789Z",
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root: Path = tmp_path_factory.mktemp("variants")
    inputs = support.write_inputs(root, required_toml=REQUIRED)
    files = render(build(inputs.schemas, inputs.errors, **inputs.build_kwargs()))
    with support.imported(files, root) as package:
        yield support.module(package, "models")


def _required(tp: type[msgspec.Struct]) -> set[str]:
    return {f.name for f in msgspec.structs.fields(tp) if f.required}


def test_requests_keep_the_shared_type_and_replies_get_the_subclass(models: ModuleType) -> None:
    shared, reply = models.WidgetConfig, models.WidgetConfigReply
    assert issubclass(reply, shared)
    assert _required(shared) == {"name"}  # types.toml [required]
    assert _required(reply) == {"name", "kind", "color", "max_age"}  # always minus newer
    assert msgspec.structs.fields(models.WidgetInfoResponse)[0].type is not None
    info_config = {f.name: f.type for f in msgspec.structs.fields(models.WidgetInfoResponse)}["config"]
    assert info_config is reply


def test_a_reply_round_trips_and_reads_as_what_it_is(models: ModuleType) -> None:
    reply = models.WidgetConfigReply
    cfg = decoder(reply).decode(msgspec.json.encode(CONFIG))
    assert isinstance(cfg.start_time, Timestamp)
    assert msgspec.json.decode(encode(cfg)) == CONFIG  # nothing lost, nothing added
    with pytest.raises(msgspec.ValidationError, match="missing required field `max_age`"):
        decoder(reply).decode(msgspec.json.encode({k: v for k, v in CONFIG.items() if k != "max_age"}))


def test_enum_values_newer_than_the_schemas_still_decode(models: ModuleType) -> None:
    reply = models.WidgetConfigReply
    cfg = decoder(reply).decode(msgspec.json.encode(dict(CONFIG, kind="enormous", color="ultraviolet")))
    assert (cfg.kind, cfg.color) == ("enormous", "ultraviolet")


def test_the_variant_spells_its_enums_as_literals_for_type_checkers(models: ModuleType) -> None:
    assert models.__file__ is not None
    source = Path(models.__file__).read_text()
    assert "    _ReadWidgetKind = WidgetKind\n" in source  # under TYPE_CHECKING
    assert "    _ReadWidgetKind = str\n" in source  # at run time
    assert "    kind: _ReadWidgetKind  # pyright: ignore[" in source
