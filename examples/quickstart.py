"""The README quickstart: manage a stream and a consumer, publish, read the message back.

Run against any JetStream server:  python examples/quickstart.py nats://127.0.0.1:4222
(`make demo` runs it on an embedded server.)
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

import jetstream
from jetstream import errors


async def main(url: str) -> None:
    async with await jetstream.connect(url, timeout=5.0) as js:
        account = await js.account_info()
        print(
            f"account: {account.streams} streams, {account.consumers} consumers, API level {account.api.level}"
        )

        info = await js.stream_create(
            "TEST", subjects=["test.>"], max_age=timedelta(hours=1), allow_direct=True
        )
        print(
            f"stream created: {info.config.name} subjects={info.config.subjects} max_age={info.config.max_age}"
        )
        print(f"stream names: {await js.stream_names()}")
        print(f"stream list: {[(s.config.name, s.state.messages) for s in await js.stream_list()]}")

        consumer = await js.consumer_create("TEST", "test-app-01")  # durable pull, explicit ack
        print(f"consumer created: {consumer.name} ack_policy={consumer.config.ack_policy}")

        ack = await js.publish("test.demo", b"hola", headers={"foo": "bar"}, msg_id="demo-1")
        print(f"published: stream={ack.stream} seq={ack.seq}")

        stored = await js.stream_msg_get("TEST", seq=ack.seq)
        print(
            f"read back: subject={stored.subject} data={stored.data!r} headers={stored.hdrs!r} at {stored.time}"
        )

        handle = await js.consumer("TEST", "test-app-01")
        async for msg in handle.fetch(10, expires=1.0):  # ends when the pull completes
            meta = msg.metadata
            print(
                f"consumed: {msg.subject} {msg.data!r} stream seq {meta.sequence.stream}, delivered {meta.num_delivered}x"
            )
            await msg.ack()

        direct = await js.direct_get_last_for_subject("TEST", "test.demo")
        print(f"direct get: seq={direct.seq} data={direct.data!r} foo={direct.headers.get('foo')}")

        try:
            await js.stream_info("MISSING")
        except errors.StreamNotFoundError as exc:
            print(f"typed error: {type(exc).__name__} code={exc.code} err_code={exc.err_code}")

        await js.stream_delete("TEST")
        print("stream deleted")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "nats://127.0.0.1:4222"))
