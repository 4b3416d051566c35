"""Every ```python block of README.md and of the docs guides runs, against a real server.

A block is a complete program unless the line before its fence says otherwise:

- ``<!-- no-run -->`` (text may follow: ``<!-- no-run: a fragment -->``): not run (fragments,
  signatures, code that needs what a test cannot give);
- ``<!-- run: pytest -->``: a test module for the user's own suite, run with pytest (and the
  project's pytest plugin, as a user's project would load it) in an empty folder, with
  ``asyncio_mode=auto`` as the Testing guide configures it.

Programs run in their own interpreter, in an empty temporary folder, each with a fresh
``nats-server`` when it connects to one: ``nats://127.0.0.1:4222`` in the block is replaced by the
server's URL. Blocks are found wherever they are in the files, so a rewritten README is tested as
it stands.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from jetstream.testing import NatsServer

# The value of the plugin's `nats_server_factory` fixture.
NatsServerFactory = Callable[..., Awaitable[NatsServer]]

ROOT = Path(__file__).resolve().parents[2]
URL = "nats://127.0.0.1:4222"
# Generated pages (codegen diffs) hold no examples.
SKIPPED_DIRS = ("docs/schema-diffs",)
LANGUAGES = {"python", "py", "python3"}
BLOCK_TIMEOUT = 60.0

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
_NO_RUN = re.compile(r"^<!--\s*no-run\b.*-->$")
_RUN_PYTEST = re.compile(r"^<!--\s*run:\s*pytest\s*-->$")


@dataclass(frozen=True)
class CodeBlock:
    path: str  # relative to the repository root
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    mode: str  # "script", "pytest" or "no-run"

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def markdown_files(root: Path = ROOT) -> list[Path]:
    """README.md and every page under docs/ (generated pages left out)."""
    files = [root / "README.md"] if (root / "README.md").is_file() else []
    for path in sorted((root / "docs").rglob("*.md")):
        relative = path.relative_to(root).as_posix()
        if not relative.startswith(SKIPPED_DIRS):
            files.append(path)
    return files


def code_blocks(text: str, path: str) -> list[CodeBlock]:
    """The fenced code blocks of a Markdown text, with the mode their preceding line gives them."""
    lines = text.splitlines()
    blocks: list[CodeBlock] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening.group("indent"), opening.group("fence")
        info = opening.group("info").strip()
        language = info.split()[0].lstrip(".{").lower() if info else ""
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            closing = lines[i].strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                break
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        i += 1
        previous = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        mode = "no-run" if _NO_RUN.match(previous) else "pytest" if _RUN_PYTEST.match(previous) else "script"
        blocks.append(CodeBlock(path, start + 1, language, "\n".join(body) + "\n", mode))
    return blocks


def python_blocks(root: Path = ROOT) -> list[CodeBlock]:
    """Every ```python block of the Markdown files, runnable or not."""
    found: list[CodeBlock] = []
    for path in markdown_files(root):
        relative = path.relative_to(root).as_posix()
        blocks = code_blocks(path.read_text(encoding="utf-8"), relative)
        found.extend(b for b in blocks if b.language in LANGUAGES)
    return found


BLOCKS = python_blocks()
SCRIPTS = [pytest.param(b, id=b.id) for b in BLOCKS if b.mode == "script"]
TEST_MODULES = [pytest.param(b, id=b.id) for b in BLOCKS if b.mode == "pytest"]


async def _run(args: list[str], cwd: Path, block: CodeBlock) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), BLOCK_TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        output, _ = await proc.communicate()
        pytest.fail(
            f"{block.id}: still running after {BLOCK_TIMEOUT:.0f}s\n{output.decode(errors='replace')}"
        )
    if proc.returncode != 0:
        numbered = "\n".join(
            f"{n:4} {line}" for n, line in enumerate(block.code.splitlines(), block.line + 1)
        )
        pytest.fail(
            f"{block.id} exited with {proc.returncode}\n--- output\n{output.decode(errors='replace')}"
            f"--- block (numbered as in {block.path})\n{numbered}",
            pytrace=False,
        )


@pytest.mark.parametrize("block", SCRIPTS)
async def test_block_runs(block: CodeBlock, nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    code = block.code
    if URL in code:
        server = await nats_server_factory()
        code = code.replace(URL, server.url)
    script = tmp_path / "block.py"
    script.write_text(code, encoding="utf-8")
    await _run([sys.executable, str(script)], tmp_path, block)


@pytest.mark.parametrize("block", TEST_MODULES)
async def test_test_module_passes(block: CodeBlock, tmp_path: Path) -> None:
    module = tmp_path / "test_from_docs.py"
    module.write_text(block.code, encoding="utf-8")
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=auto"]
    await _run([*args, "--rootdir", str(tmp_path), str(module)], tmp_path, block)


async def test_blocks_type_check(tmp_path: Path) -> None:
    """What users copy type-checks: every runnable block passes ``mypy --strict`` (one run for all)."""
    pytest.importorskip("mypy", reason="mypy is not installed")
    runnable = [b for b in BLOCKS if b.mode != "no-run"]
    for n, block in enumerate(runnable):
        name = f"test_block_{n}" if block.mode == "pytest" else f"block_{n}"
        (tmp_path / f"{name}.py").write_text(f"# {block.id}\n{block.code}", encoding="utf-8")
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    proc = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.10", "."],
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, _locate(output.decode(errors="replace"), runnable)


def _locate(mypy_output: str, blocks: list[CodeBlock]) -> str:
    """mypy's ``[test_]block_<n>.py:<line>`` as the block's ``path:line`` in its Markdown file."""

    def replace(match: re.Match[str]) -> str:
        block = blocks[int(match.group(1))]
        return f"{block.path}:{block.line + int(match.group(2)) - 1}"

    return re.sub(r"^(?:test_)?block_(\d+)\.py:(\d+)", replace, mypy_output, flags=re.MULTILINE)


# ----------------------------------------------------------------------------- the extractor


def test_blocks_are_found() -> None:
    runnable = [b for b in BLOCKS if b.mode != "no-run"]
    assert any(b.path == "README.md" for b in BLOCKS), "no python block in README.md"
    assert len(runnable) >= 10, [b.id for b in runnable]


def test_extractor_reads_markers_and_indented_fences() -> None:
    text = "\n".join(
        [
            "# T",
            "```python",
            "print(1)",
            "```",
            "<!-- no-run: a fragment -->",
            "",
            "```py",
            "await x",
            "```",
            "<!-- run: pytest -->",
            '```python title="test_x.py"',
            "def test_x() -> None: ...",
            "```",
            "- a list item:",
            "",
            "    ```python",
            "    if True:",
            "        print(2)",
            "    ```",
            "````markdown",
            "```python",
            "inner",
            "```",
            "````",
            "```",
            "plain",
            "```",
        ]
    )
    blocks = code_blocks(text, "x.md")
    assert [(b.line, b.language, b.mode) for b in blocks] == [
        (2, "python", "script"),
        (7, "py", "no-run"),
        (11, "python", "pytest"),
        (16, "python", "script"),
        (20, "markdown", "script"),
        (25, "", "script"),
    ]
    assert blocks[3].code == "if True:\n    print(2)\n"
    assert blocks[4].code == "```python\ninner\n```\n"
