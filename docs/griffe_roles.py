"""A griffe extension for the docs site: docstrings written for Sphinx read well as Markdown.

mkdocstrings renders docstrings as Markdown with Google-style sections. Some docstrings
(jetstream.testing) are written the Sphinx way; before griffe parses them:

- ``Example::`` (a Sphinx literal block follows) loses a colon;
- roles (``:class:`NatsServer```, ``:meth:`~NatsServer.start```) become code spans of the name as
  Sphinx shows it (``~`` keeps the last component);
- an ``Args:`` entry naming several parameters (``port, http_port: ...``) becomes one entry per
  parameter, each with the description;
- in a docstring with an ``Args:`` section, a prose line ending in ``:`` that introduces a further
  indented list of parameters (``Authorization and TLS (...):``) becomes a sentence followed by an
  ``Other Parameters:`` section, instead of a block that Markdown would show as code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|const):`(~?)([^`]+)`")
_ARGS = re.compile(r"^(Args|Arguments|Parameters|Other Parameters|Keyword Args|Keyword Arguments):\s*$")
_ENTRY = re.compile(r"^(\s+)(\w+(?:\s*,\s*\w+)*)(\s*(?:\([^)]*\))?\s*:\s.*)$")
_MULTI = re.compile(r"^(\s+)(\w+(?:\s*,\s*\w+)+)(\s*:\s.*)$")


def _name(match: re.Match[str]) -> str:
    short, target = match.groups()
    shown = target.rsplit(".", 1)[-1] if short else target
    return f"`{shown}`"


def convert_roles(text: str) -> str:
    """``:role:`target``` -> ```target``` (``~a.b.c`` -> ``c``)."""
    return _ROLE.sub(_name, text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def split_multi_params(text: str) -> str:
    """``a, b: text`` entries of parameter sections -> one entry per name (continuations too)."""
    lines = text.splitlines()
    out: list[str] = []
    in_section = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _ARGS.match(line.strip()) and _indent(line) == 0:
            in_section = True
        elif line.strip() and _indent(line) == 0:
            in_section = False
        match = _MULTI.match(line) if in_section else None
        if match is None:
            out.append(line)
            i += 1
            continue
        indent, names, rest = match.groups()
        body = [rest]
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            if not lines[i].strip() and (i + 1 >= len(lines) or _indent(lines[i + 1]) <= len(indent)):
                break
            body.append("\n" + lines[i])
            i += 1
        for name in (n.strip() for n in names.split(",")):
            out.append(indent + name + "".join(body))
    return "\n".join(out)


def parameter_groups_as_sections(text: str) -> str:
    """A prose line ending in ``:`` followed by indented parameter entries -> ``Other Parameters:``."""
    lines = text.splitlines()
    if not any(_ARGS.match(line) for line in lines):
        return text
    out: list[str] = []
    skip_blank = False
    for i, line in enumerate(lines):
        if skip_blank and not line.strip():
            continue
        skip_blank = False
        following = next((later for later in lines[i + 1 :] if later.strip()), "")
        if (
            line.strip()
            and _indent(line) == 0
            and line.rstrip().endswith(":")
            and not line.rstrip().endswith("::")
            and not _ARGS.match(line.strip())
            and _indent(following) > 0
            and _ENTRY.match(following)
        ):
            out.extend([line.rstrip()[:-1] + ".", "", "Other Parameters:"])
            skip_blank = True
            continue
        out.append(line)
    return "\n".join(out)


def literal_markers(text: str) -> str:
    """``Example::`` (a Sphinx literal block follows) -> ``Example:``."""
    return re.sub(r"(?<=\S)::[ \t]*$", ":", text, flags=re.MULTILINE)


def convert(text: str) -> str:
    """Every rewrite of this extension."""
    return split_multi_params(parameter_groups_as_sections(literal_markers(convert_roles(text))))


class SphinxRoles(griffe.Extension):
    """Rewrites the docstrings of every loaded object (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = convert(obj.docstring.value)
