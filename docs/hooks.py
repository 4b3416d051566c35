"""MkDocs hooks of the jetstream-py docs site (see mkdocs.yml).

Pages carry HTML-comment markers that this hook expands at build time, so what the site shows
comes from the code and the repository as they are, never from a copy that can go stale:

``<!-- reference: NAME -->``
    one mkdocstrings block (``::: jetstream.X``) per public name of a generated set: ``models``
    (every model of ``jetstream.models``, which ``jetstream`` re-exports but the request bodies),
    ``advisories`` (every name of ``jetstream.advisories``) or ``api-errors`` (every generated ``jetstream.errors`` name: the error classes, ``ErrorCode``,
    ``ERRORS``, ``api_error``).
``<!-- error-codes -->``
    the table of every server error code: err_code, status, server constant, class and
    description, built from ``jetstream.errors``.
``<!-- schema-diffs -->``
    a list of the pages under docs/schema-diffs/ (written by ``make diff``), by title.
``<!-- include: PATH[#heading] -->``
    a repository file (or one section of it, e.g. ``README.md#codegen``) without its heading;
    links that leave the docs are made plain text and images are served from the site.

The build also checks that every public name (``jetstream.__all__``, ``jetstream.errors.__all__``,
``jetstream.models.__all__``, ``jetstream.testing.__all__`` and the pytest plugin's fixtures) has a
block in the API reference, and fails (``--strict``) naming the ones that have none; a model that
``jetstream`` re-exports is documented once, as ``jetstream.models.X``. The functions here import neither mkdocs nor griffe: the tests in tests/docs
use them too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"

log = logging.getLogger("mkdocs.hooks.jetstream")

# Repository files the site serves, and where: included pages point their images at these.
ASSETS = {"bench/ratios.png": "assets/bench/ratios.png"}

_MARKER = re.compile(
    r"^<!--\s*(reference|include|error-codes|schema-diffs)\s*:?\s*(\S*)\s*-->[ \t]*$", re.MULTILINE
)
_DIRECTIVE = re.compile(r"^:::\s+(\S+)", re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
_CONSTANT = re.compile(r"Server constant ``(\w+)``: code (\d+), err_code (\d+)")


# --------------------------------------------------------------------------- public names


def public_names() -> dict[str, list[str]]:
    """Every public name, by module: what the API reference must cover."""
    import jetstream
    import jetstream.advisories
    import jetstream.errors
    import jetstream.models
    import jetstream.testing
    import jetstream.testing.pytest_plugin

    return {
        "jetstream": list(jetstream.__all__),
        "jetstream.advisories": list(jetstream.advisories.__all__),
        "jetstream.errors": list(jetstream.errors.__all__),
        "jetstream.models": list(jetstream.models.__all__),
        "jetstream.testing": list(jetstream.testing.__all__),
        "jetstream.testing.pytest_plugin": list(jetstream.testing.pytest_plugin.__all__),
    }


def generated_set(name: str) -> list[str]:
    """The identifiers a ``<!-- reference: NAME -->`` marker expands to."""
    if name == "models":
        import jetstream.models

        return [f"jetstream.models.{n}" for n in jetstream.models.__all__]
    if name == "advisories":
        import jetstream.advisories

        return [f"jetstream.advisories.{n}" for n in jetstream.advisories.__all__]
    if name == "api-errors":
        import jetstream.errors
        from jetstream._generated import errors

        exported = set(jetstream.errors.__all__)
        return [f"jetstream.errors.{n}" for n in errors.__all__ if n in exported]
    raise ValueError(f"unknown generated reference set {name!r} (models, advisories, api-errors)")


def _reference_block(identifier: str) -> str:
    # Without separate signatures: formatting hundreds of them is most of the build time, and
    # these classes have none worth reading apart (fields are listed one by one).
    return f"::: {identifier}\n    options:\n      separate_signature: false\n"


def expand_reference(name: str) -> str:
    """The mkdocstrings blocks of a generated set, one per name, in the order of its ``__all__``."""
    return "\n".join(_reference_block(identifier) for identifier in generated_set(name))


def documented_identifiers(pages: Iterable[tuple[str, str]]) -> set[str]:
    """Every identifier with a ``:::`` block in the given (path, markdown) pages, markers expanded."""
    found: set[str] = set()
    for _, text in pages:
        for match in _MARKER.finditer(text):
            if match.group(1) == "reference":
                found.update(generated_set(match.group(2)))
        found.update(_DIRECTIVE.findall(text))
    return found


def reference_pages() -> list[tuple[str, str]]:
    """The markdown sources of the API reference, as (path relative to docs/, text)."""
    return [
        (path.relative_to(DOCS).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(REFERENCE.rglob("*.md"))
    ]


def undocumented_names(pages: Iterable[tuple[str, str]] | None = None) -> list[str]:
    """Public names without a block in the API reference (``module.name``)."""
    import jetstream
    import jetstream.models

    found = documented_identifiers(reference_pages() if pages is None else pages)
    missing = []
    for module, names in public_names().items():
        for name in names:
            if f"{module}.{name}" in found:
                continue
            # `jetstream.advisories`, `jetstream.errors` and `jetstream.models` (the modules) are
            # documented by their own pages' blocks, and a model by its `jetstream.models` block.
            if module == "jetstream" and (
                name in ("advisories", "errors", "models")
                or (
                    getattr(jetstream, name) is getattr(jetstream.models, name, None)
                    and f"jetstream.models.{name}" in found
                )
            ):
                continue
            missing.append(f"{module}.{name}")
    return missing


# ------------------------------------------------------------------------------ error codes


def error_code_rows() -> list[tuple[int, str, str, str, int, str]]:
    """(err_code, server constant, ErrorCode member, class name, status code, description) per code."""
    import jetstream.errors as errors

    rows = []
    public = set(errors.__all__)
    for err_code, cls in sorted(errors.ERRORS.items()):
        member = errors.ErrorCode(err_code)
        doc = cls.__doc__ or ""
        constant, status = "", 0
        match = _CONSTANT.search(doc)
        if match and int(match.group(3)) == err_code:
            constant, status = match.group(1), int(match.group(2))
        if cls.__name__ not in public:
            raise ValueError(f"ERRORS[{err_code}] is {cls.__name__}, which jetstream.errors does not export")
        # The description: the server's text (a template with {placeholders}) heads the docstring.
        description = doc.strip().splitlines()[0] if doc.strip() else ""
        rows.append((err_code, constant, member.name, cls.__name__, status, description))
    return rows


def _cell(text: str) -> str:
    # `{placeholder}` could be read as an attribute list: the braces are written as entities.
    for raw, entity in (("|", "\\|"), ("<", "&lt;"), (">", "&gt;"), ("{", "&#123;"), ("}", "&#125;")):
        text = text.replace(raw, entity)
    return text


def error_code_table() -> str:
    """The markdown table of every server error code, each class linked to its reference entry."""
    lines = [
        "| err_code | status | server constant | class | description |",
        "|---:|---:|---|---|---|",
    ]
    for err_code, constant, _, cls, status, description in error_code_rows():
        lines.append(
            f"| {err_code} | {status or ''} | `{constant}` "
            f"| [`{cls}`][jetstream.errors.{cls}] | {_cell(description)} |"
        )
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------- includes


def _lines_outside_fences(lines: list[str]) -> Iterator[tuple[int, str]]:
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield i, line


def slug(text: str) -> str:
    """A heading's anchor as GitHub (and the README's own links) write it."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def section(markdown: str, anchor: str | None) -> str:
    """The text under the heading whose anchor is ``anchor`` (to the next heading of its level or
    above), or the whole text without a leading level-1 heading; the heading itself is dropped."""
    lines = markdown.splitlines()
    if anchor is None:
        for i, line in _lines_outside_fences(lines):
            if line.strip():
                if line.startswith("# "):
                    return "\n".join(lines[i + 1 :]).strip() + "\n"
                break
        return markdown.strip() + "\n"
    start: int | None = None
    level = 0
    for i, line in _lines_outside_fences(lines):
        match = _HEADING.match(line)
        if not match:
            continue
        if start is None:
            if slug(match.group(2)) == anchor:
                start, level = i, len(match.group(1))
        elif len(match.group(1)) <= level:
            return "\n".join(lines[start + 1 : i]).strip() + "\n"
    if start is None:
        raise LookupError(f"no heading with the anchor #{anchor}")
    return "\n".join(lines[start + 1 :]).strip() + "\n"


def _page_dir(page: str) -> str:
    parent = Path(page).parent.as_posix()
    return "" if parent == "." else parent


def _relative(target: str, page_dir: str) -> str:
    depth = len([p for p in page_dir.split("/") if p])
    return "../" * depth + target


def rewrite_links(markdown: str, source: str, page: str) -> str:
    """Links of an included file (repository path ``source``) made right for the page ``page``
    (path relative to docs/): files under docs/ and known assets are linked, other repository
    files become plain text, absolute URLs and anchors stay."""
    source_dir = Path(source).parent
    page_dir = _page_dir(page)

    def replace(match: re.Match[str]) -> str:
        bang, text, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            return match.group(0)
        path, _, fragment = target.partition("#")
        repo_path = (source_dir / path).as_posix() if path else source
        repo_path = str(Path(repo_path)).replace("\\", "/")
        if repo_path in ASSETS:
            return f"{bang}[{text}]({_relative(ASSETS[repo_path], page_dir)})"
        if repo_path.startswith("docs/") and (ROOT / repo_path).is_file():
            inner = repo_path[len("docs/") :]
            return f"{bang}[{text}]({_relative(inner, page_dir)}{'#' + fragment if fragment else ''})"
        if bang:
            raise LookupError(f"image {target!r} of {source} is not served by the site (add it to ASSETS)")
        return text

    return _LINK.sub(replace, markdown)


_LIST_ITEM = re.compile(r"^(\d+[.)]|[-*+])\s")


def blank_before_lists(markdown: str) -> str:
    """A blank line before a list that follows a paragraph line: GitHub starts the list without
    one, Python-Markdown would run it into the paragraph."""
    lines = markdown.splitlines()
    out: list[str] = []
    fenced = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _LIST_ITEM.match(line) and out:
            previous = out[-1]
            if previous.strip() and not previous[0].isspace() and not _LIST_ITEM.match(previous):
                out.append("")
        out.append(line)
    return "\n".join(out) + ("\n" if markdown.endswith("\n") else "")


def include(spec: str, page: str) -> str:
    """The text of a ``<!-- include: PATH[#anchor] -->`` marker on the page ``page``."""
    path, _, anchor = spec.partition("#")
    text = (ROOT / path).read_text(encoding="utf-8")
    return rewrite_links(blank_before_lists(section(text, anchor or None)), path, page)


# ---------------------------------------------------------------------------- schema diffs


def schema_diff_list(page: str) -> str:
    """A bullet list linking every docs/schema-diffs/ page by its title, in reverse file-name order."""
    items = []
    for path in sorted((DOCS / "schema-diffs").glob("*.md"), reverse=True):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        title = first.lstrip("#").strip() if first.startswith("#") else path.stem
        items.append(f"- [{title}]({_relative('schema-diffs/' + path.name, _page_dir(page))})")
    return "\n".join(items) + "\n" if items else "No schema diffs yet.\n"


# ----------------------------------------------------------------------------- expansion


def expand(markdown: str, page: str) -> str:
    """Every marker of a page replaced by its text."""

    def replace(match: re.Match[str]) -> str:
        kind, arg = match.groups()
        if kind == "reference":
            return expand_reference(arg)
        if kind == "include":
            return include(arg, page)
        if kind == "schema-diffs":
            return schema_diff_list(page)
        return error_code_table()

    return _MARKER.sub(replace, markdown)


# ------------------------------------------------------------------------- mkdocs events
# The arguments are mkdocs objects; they are typed Any so that this module needs no mkdocs.


def on_files(files: Any, config: Any) -> Any:
    """Serve the repository assets that included pages show (ASSETS)."""
    from mkdocs.structure.files import File

    for source, target in ASSETS.items():
        files.append(File.generated(config, target, abs_src_path=str(ROOT / source)))
    return files


def on_pre_build(config: Any) -> None:
    """Refuse a build whose API reference misses a public name."""
    missing = undocumented_names()
    if missing:
        log.warning(
            "the API reference has no block for %d public name(s): %s - add `::: <name>` to a page "
            "of docs/reference/",
            len(missing),
            ", ".join(missing),
        )


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Expand the markers of a page."""
    try:
        return expand(markdown, page.file.src_uri)
    except (LookupError, OSError, ValueError) as exc:
        log.warning("%s: %s", page.file.src_uri, exc)
        return markdown
