"""The docs site's generated parts (docs/hooks.py), checked without building the site.

`make docs` builds the site with ``mkdocs build --strict``; these tests catch in the ordinary test run
what would make that build fail or show wrong things: a public name without a reference entry, an
error code missing from the table, an include whose file or section is gone.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import jetstream.errors as errors

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def _load_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jetstream_docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _load_hooks()


def test_every_public_name_has_a_reference_entry() -> None:
    missing: list[str] = hooks.undocumented_names()
    assert missing == [], f"add `::: <name>` blocks to a page of docs/reference/ for: {missing}"


def test_reference_blocks_name_public_objects() -> None:
    """A `:::` block for a name that is gone (renamed, made private) fails here, not only in mkdocs."""
    public = {f"{module}.{name}" for module, names in hooks.public_names().items() for name in names}
    public |= {"jetstream._exceptions", "jetstream.testing.pytest_plugin"}
    pages = [(p.relative_to(DOCS).as_posix(), p.read_text(encoding="utf-8")) for p in DOCS.rglob("*.md")]
    unknown = sorted(hooks.documented_identifiers(pages) - public)
    assert unknown == []


def test_generated_sets_follow_the_generated_modules() -> None:
    from jetstream._generated import errors as generated_errors
    from jetstream._generated import models

    assert hooks.generated_set("models") == [f"jetstream.models.{n}" for n in models.__all__]
    assert hooks.generated_set("api-errors") == [f"jetstream.errors.{n}" for n in generated_errors.__all__]
    with pytest.raises(ValueError):
        hooks.generated_set("nothing")


def test_error_code_table_has_every_code() -> None:
    rows: list[tuple[int, str, str, str, int, str]] = hooks.error_code_rows()
    assert [row[0] for row in rows] == sorted(errors.ERRORS)
    assert len(rows) == len(errors.ErrorCode)
    for err_code, constant, member, cls, status, description in rows:
        assert getattr(errors, cls) is errors.ERRORS[err_code]
        assert errors.ErrorCode[member] == err_code
        assert re.fullmatch(r"JS\w+", constant), (err_code, constant)
        assert 400 <= status < 600, (err_code, status)
        assert description, err_code
    table: str = hooks.error_code_table()
    assert table.count("\n") == len(rows) + 2
    not_found = next(line for line in table.splitlines() if line.startswith("| 10059 |"))
    assert "[`StreamNotFoundError`][jetstream.errors.StreamNotFoundError]" in not_found
    assert "`JSStreamNotFoundErr`" in not_found and "| 404 |" in not_found


def test_error_table_cells_are_escaped() -> None:
    assert hooks._cell("a | b {err} <x>") == "a \\| b &#123;err&#125; &lt;x&gt;"


def test_markers_of_the_docs_expand() -> None:
    """Every marker of every page expands: included files and sections exist, sets are known."""
    marker = re.compile(r"^<!--\s*(reference|include|error-codes|schema-diffs)\b", re.MULTILINE)
    expanded = 0
    for path in DOCS.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        if marker.search(text):
            page = path.relative_to(DOCS).as_posix()
            result: str = hooks.expand(text, page)
            assert not marker.search(result), page
            expanded += 1
    assert expanded >= 5


def test_include_takes_a_section_and_rewrites_links() -> None:
    text = "\n".join(
        [
            "# Title",
            "## Setup",
            "```sh",
            "## not a heading",
            "```",
            "See [the guide](docs/guides/errors.md#connecting), [lock](schemas/lock.toml),",
            "[site](https://example.com) and ![chart](bench/ratios.png).",
            "Steps:",
            "1. one",
            "### Detail",
            "kept",
            "## Next",
            "dropped",
        ]
    )
    body = hooks.section(text, "setup")
    assert "## not a heading" in body and "### Detail" in body and "dropped" not in body
    linked: str = hooks.rewrite_links(hooks.blank_before_lists(body), "README.md", "guides/x.md")
    assert "[the guide](../guides/errors.md#connecting)" in linked
    assert "lock," in linked and "(schemas/lock.toml)" not in linked
    assert "[site](https://example.com)" in linked
    assert "![chart](../assets/bench/ratios.png)" in linked
    assert "Steps:\n\n1. one" in linked
    assert hooks.section("# Title\n\ntext\n", None) == "text\n"
    with pytest.raises(LookupError):
        hooks.section(text, "missing")


def test_schema_diff_list_links_every_diff() -> None:
    listing: str = hooks.schema_diff_list("guides/schema-bumps.md")
    diffs = sorted((DOCS / "schema-diffs").glob("*.md"))
    assert listing.count("\n- ") + listing.startswith("- ") == len(diffs)
    for path in diffs:
        assert f"(../schema-diffs/{path.name})" in listing


def test_names_the_guides_mention_exist() -> None:
    """`errors.X` and `jetstream.X` written in the guides (and README) are real public names."""
    import jetstream

    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md") if "schema-diffs" not in p.parts]
    mentioned = {m for text in texts for m in re.findall(r"\b(errors|jetstream)\.([A-Z]\w*)", text)}
    missing = sorted(
        f"{module}.{name}"
        for module, name in mentioned
        if name not in (errors.__all__ if module == "errors" else jetstream.__all__)
    )
    assert missing == []


def test_reference_pages_are_in_the_nav() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for path in sorted((DOCS / "reference").glob("*.md")) + sorted((DOCS / "guides").glob("*.md")):
        assert path.relative_to(DOCS).as_posix() in config, path


def test_sphinx_roles_become_markdown() -> None:
    pytest.importorskip("griffe", reason="the docs dependency group is not installed (make docs installs it)")
    spec = importlib.util.spec_from_file_location("jetstream_docs_griffe_roles", DOCS / "griffe_roles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    doc = "\n".join(
        [
            "Start a :class:`~jetstream.testing.NatsServer` (see :meth:`start`).",
            "",
            "Example::",
            "",
            "    async with NatsServer() as s: ...",
            "",
            "Args:",
            "    name: the name.",
            "    port, http_port: fixed ports",
            "        (random otherwise).",
            "",
            "Authorization (keyword options):",
            "",
            "    users: the users.",
        ]
    )
    converted: str = module.convert(doc)
    assert "`NatsServer` (see `start`)" in converted
    assert "Example:\n" in converted
    assert "    port: fixed ports\n        (random otherwise).\n    http_port: fixed ports\n" in converted
    assert "Authorization (keyword options).\n\nOther Parameters:\n    users: the users." in converted
