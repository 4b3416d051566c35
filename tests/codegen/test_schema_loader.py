"""The load stage: tolerant of upstream bug B6 (trailing commas), and only of that."""

from __future__ import annotations

import json

import codegen_support as support
import pytest

from codegen.load import API_DIR, load, strip_trailing_commas

B6_V041 = [
    "consumer_getnext_request",
    "consumer_names_request",
    "definitions",
    "meta_server_remove_request",
    "stream_purge_request",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1,}', '{"a": 1}'),
        ("[1, 2,]", "[1, 2]"),
        ('{"a": [1, [2, 3,],], "b": {"c": {"d": 1,},},}', '{"a": [1, [2, 3]], "b": {"c": {"d": 1}}}'),
        ('{\n  "a": 1,\n  "b": 2,\n}\n', '{\n  "a": 1,\n  "b": 2\n}\n'),
        ("[1,\t\r\n ]", "[1\t\r\n ]"),
        # Commas and brackets inside strings are data, never touched.
        ('{"s": "a,}", "t": ",]",}', '{"s": "a,}", "t": ",]"}'),
        ('{"s": "quote \\",]", "u": "\\\\",}', '{"s": "quote \\",]", "u": "\\\\"}'),
        ('["\\\\", ",",]', '["\\\\", ","]'),
        # A comma followed by something other than a closer stays, whatever whitespace follows.
        ('{"a": 1 , "b": [1 ,2]}', '{"a": 1 , "b": [1 ,2]}'),
        ("", ""),
    ],
)
def test_strip_trailing_commas(text: str, expected: str) -> None:
    assert strip_trailing_commas(text) == expected
    json.loads(expected or "0")


@support.needs_locked
def test_valid_json_is_unchanged() -> None:
    for path in sorted((support.LOCKED / API_DIR).glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert strip_trailing_commas(text) == text, path.name


@support.needs("v0.4.1")
def test_v041_loads_with_b6_warnings() -> None:
    s = load(support.V041, with_local=False)
    assert [w.file for w in s.warnings] == [str(API_DIR / f"{stem}.json") for stem in B6_V041]
    for w in s.warnings:
        assert w.message.endswith("read after removing trailing commas (B6)")
        assert w.message.startswith("invalid JSON (")
    # every file but definitions.json, whose definitions are split out
    assert len(s.docs) == len(list((support.V041 / API_DIR).glob("*.json"))) - 1
    assert "consumer_configuration" in s.definitions


@support.needs("v0.4.1", "caea3c5")
def test_b6_repair_matches_upstreams_own_fix() -> None:
    """caea3c5 (jsm.go main after v0.4.1) fixed these files by hand; the repaired v0.4.1 documents equal them."""
    old = load(support.V041, with_local=False)
    new = load(support.CAEA3C5, with_local=False)
    for stem in B6_V041:
        if stem != "definitions":  # changed for other reasons between the tags
            assert old.docs[stem] == new.docs[stem], stem


@support.needs_locked
def test_locked_set_loads_clean() -> None:
    s = load(support.LOCKED)
    assert s.warnings == []
    assert s.ref == support.LOCK.schemas.ref
    assert s.local == {
        "account_stream_move_request",
        "direct_get_request",
        "meta_rescue_request",
        "meta_rescue_response",
    }
    assert s.local <= set(s.docs)
    assert "definitions" not in s.docs
    assert len(s.definitions) == 44
