"""The header hook's own parser for blocks without a status line gives what nats-py's parser gives,
line for line (names with spaces or non-ASCII skipped, the last of repeated names, values stripped
and decoded leniently)."""

from __future__ import annotations

import pytest
from nats.aio.client import Client

from jetstream._transport._header_hook import parse_plain, wrap_parser

BLOCKS = [
    b"NATS/1.0\r\n\r\n",
    b"NATS/1.0\r\nNats-Stream: KV_b\r\nNats-Subject: $KV.b.k\r\nNats-Sequence: 7\r\n\r\n",
    b"NATS/1.0\r\nA:1\r\nA: 2\r\nB:\t three \r\n\r\n",
    b"NATS/1.0\r\n Spaced : v\r\nIn ner: v\r\nTab\tbed: v\r\nSep\x1cX: v\r\nOk: v\r\n\r\n",
    b"NATS/1.0\r\nN\xc3\xa4me: v\r\nX: \xff\xfe bad utf-8\r\nY: caf\xc3\xa9\r\n\r\n",
    b"NATS/1.0\r\nNoColon\r\n: empty name\r\nZ:\r\nK: a: b: c\r\n\r\n",
    b"NATS/1.0\r\nStatus: 204\r\nDescription: EOB\r\n\r\n",
    b"NATS/1.0\r\nOnly: line",
]


@pytest.mark.parametrize("block", BLOCKS)
async def test_same_as_nats_py(block: bytes) -> None:
    assert parse_plain(block) == await Client()._process_headers(block)


async def test_the_hook_takes_status_lines_to_nats_py() -> None:
    seen: list[bytes] = []

    async def original(headers: bytes | None) -> dict[str, str] | None:
        assert headers is not None
        seen.append(headers)
        return {"Status": "204"}

    hook = wrap_parser(original)
    assert await hook(b"NATS/1.0\r\nA: 1\r\n\r\n") == {"A": "1"}
    assert seen == []
    status = await hook(b"NATS/1.0 204 EOB\r\n\r\n")
    assert status == {"Status": "204"} and seen == [b"NATS/1.0 204 EOB\r\n\r\n"]
