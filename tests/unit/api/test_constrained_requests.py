"""Requests whose schema constraints are enforced (schemas/overrides/constraints.toml) are checked
before anything is sent; other requests are sent as they are. The live server's view of the same
values is in tests/integration/test_api_request_constraints.py."""

from __future__ import annotations

import pytest
from unit_support import always, dumps, mock_js, stream_info

from jetstream import errors

DELETED = dumps({"type": "io.nats.jetstream.api.v1.stream_msg_delete_response", "success": True})


async def test_a_value_outside_a_constraint_is_refused_before_sending() -> None:
    js, transport = mock_js(always(DELETED))
    with pytest.raises(
        errors.InvalidArgumentError, match=r"StreamMsgDeleteRequest: Expected `int` >= 0 - at `\$.seq`"
    ):
        await js.stream_msg_delete("S", seq=-1)
    with pytest.raises(errors.InvalidArgumentError, match="priority"):
        await js.consumer_msg_next("S", "C", priority=10)
    assert transport.requests == []


async def test_values_inside_are_sent_unchanged() -> None:
    js, transport = mock_js(always(DELETED))
    await js.stream_msg_delete("S", seq=0)
    await js.stream_msg_delete("S", seq=2**64 - 1)
    assert transport.bodies() == [{"seq": 0}, {"seq": 2**64 - 1}]


async def test_unconstrained_requests_are_not_checked() -> None:
    # The server reads a negative offset as 0: the SDK sends it as given.
    info = dumps(stream_info("S"))
    js, transport = mock_js(always(info))
    await js.stream_info("S", offset=-1)
    assert transport.bodies() == [{"offset": -1}]
