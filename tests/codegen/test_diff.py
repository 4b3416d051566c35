"""`python -m codegen diff`: the structured diff on hand-built API models, its Markdown, and one real bump."""

from __future__ import annotations

import codegen_support as support
import pytest

from codegen.cli import main
from codegen.diff import Change, SchemaDiff, diff_apis, diff_sets, render_markdown, signature
from codegen.model import API, Body, Direction, Endpoint, Enum, Field, Kind, Model, Token, TokenKind, TypeRef
from codegen.resolve import camel


def fld(
    wire: str,
    kind: str = "str",
    *,
    required: bool = False,
    nullable: bool = False,
    name: str = "",
    item: str = "",
) -> Field:
    """A field; `name` is the model a "model" field refers to, `item` the kind of list items."""
    t = TypeRef(Kind(kind), item=TypeRef(Kind(item)) if item else None, name=name)
    return Field(wire, wire, t, required, nullable=nullable)


def mdl(name: str, *fields: Field, direction: str = "response", base: str = "", cls: str = "") -> Model:
    return Model(name, cls or camel(name), "", tuple(fields), base=base, direction=Direction(direction))


def api(*models: Model, enums: tuple[Enum, ...] = (), endpoints: tuple[Endpoint, ...] = ()) -> API:
    return API(ref="test", models=models, enums=enums, endpoints=endpoints, errors=())


def changes(d: SchemaDiff, class_name: str) -> dict[str, list[Change]]:
    out: dict[str, list[Change]] = {}
    for tc in d.types_changed:
        if tc.class_name == class_name:
            for c in tc.changes:
                out.setdefault(c.subject, []).append(c)
    return out


def test_types_added_and_removed_by_class_name() -> None:
    old = api(mdl("gone"), mdl("kept_old_schema_name", cls="Kept"))
    new = api(mdl("kept_new_schema_name", cls="Kept"), mdl("fresh", fld("a"), fld("b", required=True)))
    d = diff_apis(old, new)
    assert [(t.class_name, t.fields) for t in d.types_added] == [("Fresh", 2)]
    assert [t.class_name for t in d.types_removed] == ["Gone"]
    assert d.types_changed == ()  # a schema rename that keeps the Python class is invisible
    assert ("`Gone`", "type removed") in d.breaking
    assert all("Fresh" not in where for where, _ in d.breaking)


def test_fields_added_removed_and_retyped_by_annotation() -> None:
    old = api(
        mdl(
            "info",
            fld("ts", "str", required=True),
            fld("count", "int"),
            fld("old", "bool"),
            fld("sub", "model", name="sub_v1"),
        ),
        mdl("sub_v1", cls="Sub"),
    )
    new = api(
        mdl(
            "info",
            fld("ts", "time", required=True),
            fld("count", "int"),  # e.g. int64 -> uint64 upstream: still `int`
            fld("tags", "list", item="str"),
            fld("sub", "model", name="sub_v2"),
        ),
        mdl("sub_v2", cls="Sub"),
    )
    got = changes(diff_apis(old, new), "Info")
    assert set(got) == {"ts", "old", "tags"}
    (ts,) = got["ts"]
    assert (ts.kind, ts.old, ts.new) == ("retyped", "str", "datetime")
    assert ts.breaking
    (tags,) = got["tags"]
    assert (tags.kind, tags.new, tags.breaking) == ("added", "list[str] | None = None", "")
    (removed,) = got["old"]
    assert (removed.kind, removed.old) == ("removed", "bool | None = None")
    assert removed.breaking


@pytest.mark.parametrize(
    ("direction", "before", "after", "kind", "breaks"),
    [
        ("request", False, True, "required", True),  # callers must now pass it
        ("response", False, True, "required", False),  # readers get a stronger guarantee
        ("request", True, False, "optional", False),
        ("response", True, False, "optional", True),  # readers must now handle None
        ("both", True, False, "optional", True),
        ("both", False, True, "required", True),
    ],
)
def test_required_flips_break_by_direction(
    direction: str, before: bool, after: bool, kind: str, breaks: bool
) -> None:
    old = api(mdl("t", fld("x", "int", required=before), direction=direction))
    new = api(mdl("t", fld("x", "int", required=after), direction=direction))
    (c,) = changes(diff_apis(old, new), "T")["x"]
    assert c.kind == kind
    assert bool(c.breaking) is breaks
    assert {c.old, c.new} == {"int", "int | None = None"}


def test_nullable_flip_and_new_required_request_field() -> None:
    old = api(
        mdl("reply", fld("names", "list", item="str", required=True)),
        mdl("req", fld("a")),
        mdl("reply_then_request", fld("a"), direction="response"),
    )
    new = api(
        mdl("reply", fld("names", "list", item="str", required=True, nullable=True)),
        mdl("req", fld("a"), fld("b", required=True), direction="request"),
        mdl("reply_then_request", fld("a", required=True), direction="request"),
    )
    d = diff_apis(old, new)
    (null,) = changes(d, "Reply")["names"]
    assert (null.kind, null.old, null.new) == ("nullable", "list[str]", "list[str] | None")
    assert null.breaking
    (added,) = changes(d, "Req")["b"]
    assert added.kind == "added" and "required" in added.breaking
    # A type that moved from replies to requests is judged in both roles.
    (moved,) = [tc for tc in d.types_changed if tc.class_name == "ReplyThenRequest"]
    assert moved.direction is Direction.BOTH
    assert moved.changes[0].breaking


def test_subclass_lists_only_changes_its_base_does_not_explain() -> None:
    old = api(mdl("info", fld("a")), mdl("info_response", fld("own"), base="info"))
    new = api(mdl("info", fld("a", "int"), fld("b")), mdl("info_response", fld("own"), fld("c"), base="info"))
    d = diff_apis(old, new)
    by_class = {tc.class_name: tc for tc in d.types_changed}
    assert [c.subject for c in by_class["Info"].changes] == ["a", "b"]
    assert by_class["InfoResponse"].inherits == "Info"
    assert [c.subject for c in by_class["InfoResponse"].changes] == ["c"]
    # The inherited retype is one breaking change, not one per subclass.
    assert [w for w, _ in d.breaking] == ["`Info.a`"]


def test_base_class_change_is_reported() -> None:
    old = api(mdl("a", fld("x")), mdl("b", fld("x")), mdl("sub", base="a"))
    new = api(mdl("a", fld("x")), mdl("b", fld("x")), mdl("sub", base="b"))
    d = diff_apis(old, new)
    (c,) = next(tc for tc in d.types_changed if tc.class_name == "Sub").changes
    assert (c.kind, c.subject, c.old, c.new) == ("base", "", "A", "B")
    assert d.breaking == (("`Sub`", "no longer a subclass of A (`A` → `B`)"),)
    assert "- base class: `A` → `B` — **BREAKING**: no longer a subclass of A" in render_markdown(d)


def test_enums_added_removed_and_values() -> None:
    old_enums = (Enum("ack", "AckPolicy", ("none", "all")), Enum("gone", "Gone", ("x",)))
    new_enums = (Enum("ack", "AckPolicy", ("all", "explicit")), Enum("fresh", "Fresh", ("b", "a")))
    d = diff_apis(api(enums=old_enums), api(enums=new_enums))
    assert [(e.class_name, e.values) for e in d.enums_added] == [("Fresh", ("a", "b"))]
    assert [e.class_name for e in d.enums_removed] == ["Gone"]
    (ack,) = d.enums_changed
    assert (ack.added, ack.removed) == (("explicit",), ("none",))
    assert ("`AckPolicy`", "value `'none'` removed") in d.breaking
    assert ("`Gone`", "enum removed") in d.breaking


def endpoint(name: str, request: str, response: str, *, paged: str = "", result: str = "") -> Endpoint:
    tokens = (Token("stream", TokenKind.NAME),)
    subject = f"{name.upper()}.{{stream}}"
    return Endpoint(name, subject, tokens, "C", request, Body.OPTIONAL, response, paged=paged, result=result)


ENDPOINTS = (
    endpoint("thing_reset", "thing_reset_request", "thing_reset_response"),
    endpoint("thing_list", "thing_list_request", "thing_list_response", paged="things"),
    endpoint("thing_get", "", "thing_get_response", result="thing"),
    endpoint("thing_raw", "", "raw"),
)


def test_endpoint_availability() -> None:
    common = (mdl("thing_get_response", fld("thing", "model", name="thing")), mdl("thing", fld("a")))
    reset = (mdl("thing_reset_request", fld("seq", "int")), mdl("thing_reset_response"))
    listing = (
        mdl("thing_list_request", fld("filter"), direction="request"),
        mdl("thing_list_response", fld("things", "list", item="str")),
    )
    d = diff_apis(api(*common, *listing, endpoints=ENDPOINTS), api(*common, *reset, endpoints=ENDPOINTS))
    (gained,) = d.endpoints_available
    assert gained.name == "thing_reset"
    assert gained.signature == "(stream, /, *, 1 keyword argument) -> ThingResetResponse"
    assert "thing_reset_request" in gained.reason
    (lost,) = d.endpoints_unavailable
    assert lost.name == "thing_list"
    assert lost.signature == "(stream, /, *, 1 keyword argument) -> list[str]"
    assert ("`thing_list()`", f"endpoint unavailable: {lost.reason}") in d.breaking
    assert d.endpoints_changed == ()  # thing_get and thing_raw are the same on both sides


def test_endpoint_signature_changes() -> None:
    def build(item: str, result: str, filter_required: bool, extra: tuple[Field, ...]) -> API:
        return api(
            mdl("thing_get_response", fld("thing", "model", name=result)),
            mdl("thing", fld("a")),
            mdl("thing2", fld("a")),
            mdl("thing_reset_request", fld("seq", "int")),
            mdl("thing_reset_response"),
            mdl(
                "thing_list_request",
                fld("filter", required=filter_required),
                fld("offset", "int"),  # paging fills it: never a keyword argument
                *extra,
                direction="request",
            ),
            mdl("thing_list_response", fld("things", "list", item=item)),
            endpoints=ENDPOINTS,
        )

    old = build("str", "thing", False, (fld("gone", "bool"), fld("deleted", "bool")))
    new = build("time", "thing2", True, (fld("gone", "int"), fld("added", "bool")))
    assert [p.name for p in signature(old, ENDPOINTS[1]).kwargs] == ["filter", "gone", "deleted"]
    d = diff_apis(old, new)
    by_name = {ep.name: {c.subject: c for c in ep.changes} for ep in d.endpoints_changed}
    assert set(by_name) == {"thing_get", "thing_list"}
    assert by_name["thing_get"]["return"].key == ("returns", "return", "Thing", "Thing2")
    listing = by_name["thing_list"]
    assert listing["return"].key == ("returns", "return", "list[str]", "list[datetime]")
    assert listing["filter"].key == ("required", "filter", "str | None = None", "str")
    assert listing["gone"].key == ("retyped", "gone", "bool", "int")
    assert (listing["added"].kind, listing["added"].breaking) == ("added", "")
    assert listing["deleted"].kind == "removed" and listing["deleted"].breaking
    assert ("`thing_list()` keyword `filter`", "now required (`str | None = None` → `str`)") in d.breaking


def test_markdown_is_deterministic_and_marks_breaks() -> None:
    old = api(mdl("info", fld("ts", required=True)), mdl("gone"), enums=(Enum("e", "E", ("a", "b")),))
    new = api(mdl("info", fld("ts", "time", required=True)), enums=(Enum("e", "E", ("a", "c")),))
    text = render_markdown(diff_apis(old, new))
    assert text == render_markdown(diff_apis(old, new))
    lines = text.splitlines()
    assert lines[0] == "# Schema diff: jsm.go `test` → `test`"
    assert lines[2].startswith("**3 breaking changes** · types: 0 added, 1 removed, 1 changed")
    assert "- `Info.ts`: annotation changed (`str` → `datetime`)" in lines
    assert "- `ts` retyped: `str` → `datetime` — **BREAKING**: annotation changed" in lines
    assert "- `E` gains `'c'`" in lines
    assert "- `E` loses `'b'` — **BREAKING**" in lines
    assert not text.endswith("\n")
    assert "\n\n\n" not in text


@support.needs("v0.4.1", "caea3c5")
def test_real_bump_v041_to_caea3c5(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = support.V041, support.CAEA3C5
    assert main(["diff", str(old), str(new)]) == 0
    text = capsys.readouterr().out
    assert text == diff_sets(old, new) + "\n"
    for line in (
        "- `first_ts` retyped: `str` → `datetime` — **BREAKING**: annotation changed",
        "- `last_ts` retyped: `str` → `datetime` — **BREAKING**: annotation changed",
        "- `active` retyped: `float` → `timedelta` — **BREAKING**: annotation changed",
        "- `sourcing` added: `bool | None = None`",
        "- `did_create` added: `bool | None = None`",
        "- `reserved_memory` added: `int`",
    ):
        assert line in text.splitlines()
    # The consumer config gained a field, so every method taking its fields as keywords did too.
    for method in ("consumer_create", "consumer_create_legacy", "consumer_durable_create"):
        section = text.split(f"#### `{method}()`\n", 1)[1].split("\n\n#", 1)[0]
        assert section.strip() == "- `sourcing` added: `bool | None = None`"
    # int64 -> uint64 upstream (account_stats.memory, api_stats.total) keeps `int`: not listed.
    assert "`memory`" not in text and "`total`" not in text
    # Upstream makes consumer_info.config optional; required.toml keeps our type's field required.
    assert "`config` required → optional" not in text
    # v0.4.1 has trailing commas (B6): tolerated, and listed under the old side's build notes.
    notes = text.split("## Build notes", 1)[1]
    assert "(B6)" in notes.split("### `caea3c5`")[0]
    assert "(B6)" not in notes.split("### `caea3c5`")[1]
