"""Python conventions over the whole public surface (issue 11, item 5).

Every exception pickles and unpickles equal; exported names report their public module (and pickle
from there); `typing.get_type_hints` resolves every public callable and class; public methods have
docstrings; `errors.TimeoutError` is an `asyncio.TimeoutError` on every supported Python; the
library logger has a `NullHandler`, and consume events the user handles are not logged at WARNING.
Names `jetstream` re-exports from `jetstream._transport` are held to the same rules.
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import inspect
import logging
import pickle
import re
import sys
import traceback
import types
import typing
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

import jetstream
import jetstream.models
import jetstream.testing
from jetstream import MissedHeartbeat, PullWarning, Reconnected, errors
from jetstream._consume._status import emit
from jetstream._generated.errors import api_error

PUBLIC_MODULES: dict[str, types.ModuleType] = {
    "jetstream": jetstream,
    "jetstream.errors": errors,
    "jetstream.models": jetstream.models,
    "jetstream.testing": jetstream.testing,
}


# Dunder methods that are part of a class's public protocol (the rest, e.g. __eq__, are not checked).
PROTOCOL_DUNDERS = frozenset(
    {
        "__init__",
        "__call__",
        "__aenter__",
        "__aexit__",
        "__aiter__",
        "__anext__",
        "__await__",
        "__enter__",
        "__exit__",
        "__iter__",
        "__next__",
        "__getitem__",
        "__contains__",
        "__len__",
    }
)


# ------------------------------------------------------------------------------------ helpers


def public_classes() -> Iterator[tuple[str, type]]:
    """(public name, class) of every class exported by `jetstream` and `jetstream.errors`."""
    for module_name, module in PUBLIC_MODULES.items():
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type):
                yield f"{module_name}.{name}", obj


def public_callables() -> Iterator[tuple[str, Callable[..., object]]]:
    """(qualified name, function) of every public function, and of every public method, property,
    classmethod and staticmethod that a public class has from this package (inherited ones too,
    each function once)."""
    seen: set[int] = set()
    for module_name, module in PUBLIC_MODULES.items():
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, types.FunctionType):
                seen.add(id(obj))
                yield f"{module_name}.{name}", obj
    for public_name, cls in public_classes():
        for klass in cls.__mro__:
            if not klass.__module__.startswith("jetstream"):
                continue
            for attr, value in vars(klass).items():
                if attr.startswith("_") and attr not in PROTOCOL_DUNDERS:
                    continue
                func = _function_of(value)
                if func is not None and id(func) not in seen:
                    seen.add(id(func))
                    yield f"{public_name}.{attr}", func


def _function_of(value: object) -> Callable[..., object] | None:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    elif isinstance(value, property):
        value = value.fget
    return value if isinstance(value, types.FunctionType) else None


def _from_transport(func: Callable[..., object]) -> bool:
    return func.__module__.startswith("jetstream._transport")


# ---------------------------------------------------------------------------------- pickling

_CODE = re.compile(r"code (\d+), err_code (\d+)")
_ENTRY = jetstream.KeyValueEntry(
    "cfg",
    "a.b",
    b"",
    7,
    jetstream.Timestamp.parse("2026-05-01T12:00:00.123456789Z"),
    0,
    jetstream.KeyValueOp.DEL,
)


def error_classes() -> list[type[BaseException]]:
    """Every exception class of `jetstream.errors`."""
    return [
        cls
        for name, cls in public_classes()
        if name.startswith("jetstream.errors.") and issubclass(cls, BaseException)
    ]


def _sample(name: str, hint: object, n: int) -> object:
    """A value of type ``hint`` for parameter ``name``, different for each parameter (``n``)."""
    if hint is jetstream.KeyValueEntry:
        return _ENTRY
    for option in (
        typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    ):
        origin = typing.get_origin(option) or option
        if origin is bool:
            return True
        if origin is int:
            return 400 + n
        if origin is float:
            return 1.5 + n
        if origin is str or option is object:
            return f"{name}-{n}"
        if origin is bytes:
            return b'{"partial": ' + str(n).encode()
        if origin is tuple:
            return ("nats://127.0.0.1:4222", f"nats://host-{n}:4222")
        if origin is list:
            return [f"{name}-{n}", "ack_wait"]
    raise AssertionError(f"no sample value for {name}: {hint!r}")


def make_error(cls: type[BaseException]) -> BaseException:
    """An instance built as the package builds it: server errors through `api_error` with their
    code and err_code, the others with a value for every parameter of their constructor."""
    if issubclass(cls, errors.APIError) and cls is not errors.APIError:
        match = _CODE.search(cls.__doc__ or "")
        assert match is not None, cls
        description = (cls.__doc__ or "").splitlines()[0]
        exc = api_error(int(match.group(1)), int(match.group(2)), description)
        assert type(exc) is cls
        return exc
    init = next((k.__dict__["__init__"] for k in cls.__mro__ if "__init__" in k.__dict__), None)
    if init is None or not isinstance(init, types.FunctionType):  # Exception's own __init__
        return cls(f"{cls.__name__} happened")
    hints = typing.get_type_hints(init)
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for n, (name, param) in enumerate(inspect.signature(init).parameters.items()):
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        value = _sample(name, hints.get(name, object), n)
        if param.kind is param.KEYWORD_ONLY:
            kwargs[name] = value
        else:
            args.append(value)
    return cls(*args, **kwargs)


def _same(a: BaseException, b: BaseException) -> bool:
    return (
        type(a) is type(b)
        and str(a) == str(b)
        and repr(a) == repr(b)
        and a.args == b.args
        and vars(a) == vars(b)
    )


def test_every_error_pickles_and_unpickles_equal() -> None:
    classes = error_classes()
    failed: list[str] = []
    for cls in classes:
        exc = make_error(cls)
        copies = [
            pickle.loads(pickle.dumps(exc, protocol)) for protocol in range(pickle.HIGHEST_PROTOCOL + 1)
        ]
        copies += [copy.copy(exc), copy.deepcopy(exc)]
        if not all(_same(exc, c) for c in copies):
            failed.append(cls.__name__)
    print(f"{len(classes) - len(failed)} of {len(classes)} exception classes pickle and unpickle equal")
    assert failed == []
    assert len(classes) > 270  # every generated server error is among them


def test_unpickled_errors_keep_their_attributes_and_notes() -> None:
    exc = api_error(404, 10059, "stream not found")
    back = pickle.loads(pickle.dumps(exc))
    assert isinstance(back, errors.StreamNotFoundError)
    assert (back.code, back.err_code, back.description) == (404, 10059, "stream not found")
    deleted = pickle.loads(pickle.dumps(errors.KeyDeletedError(_ENTRY)))
    assert deleted.entry == _ENTRY and (deleted.bucket, deleted.key) == ("cfg", "a.b")
    timeout = pickle.loads(pickle.dumps(errors.TimeoutError("$JS.API.INFO", 2.5)))
    assert (timeout.subject, timeout.timeout) == ("$JS.API.INFO", 2.5)
    if sys.version_info >= (3, 11):
        noted = errors.MalformedReplyError("s", b"{", "not JSON")
        noted.add_note("while listing streams")
        assert pickle.loads(pickle.dumps(noted)).__notes__ == ["while listing streams"]


def test_errors_unpickle_in_another_process() -> None:
    """What a process pool does: the child unpickles the class from its public module."""
    import subprocess

    exc = api_error(503, 10008, "JetStream cluster not assigned to this server")
    code = (
        "import pickle, sys; e = pickle.loads(sys.stdin.buffer.read()); "
        "print(type(e).__module__, type(e).__qualname__, e.code, e.err_code)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(exc), capture_output=True, check=True
    ).stdout.decode()
    assert out.split() == ["jetstream.errors", "ClusterNotAvailError", "503", "10008"]


# ---------------------------------------------------------------------------- public modules


def test_exported_names_report_their_public_module() -> None:
    checked = 0
    for module_name, module in PUBLIC_MODULES.items():
        for name in module.__all__:
            obj = getattr(module, name)
            if not isinstance(obj, (type, types.FunctionType)):
                continue
            assert obj.__module__ in PUBLIC_MODULES, f"{module_name}.{name} is from {obj.__module__}"
            # What pickle does: find the object by its module and qualified name.
            assert getattr(sys.modules[obj.__module__], obj.__qualname__) is obj, name
            assert pickle.loads(pickle.dumps(obj)) is obj
            assert "jetstream._" not in repr(obj)
            checked += 1
    assert checked > 370


def test_the_examples_of_the_issue() -> None:
    assert errors.StreamNotFoundError.__module__ == "jetstream.errors"
    assert errors.TimeoutError.__module__ == "jetstream.errors"
    assert jetstream.JetStream.__module__ == "jetstream"
    assert jetstream.StreamConfig.__module__ == "jetstream.models"
    assert jetstream.models.StreamInfoRequest.__module__ == "jetstream.models"
    assert jetstream.connect.__module__ == "jetstream"
    assert jetstream.testing.NatsServer.__module__ == "jetstream.testing"
    try:
        raise errors.TimeoutError("$JS.API.INFO", 5.0)
    except errors.TimeoutError as exc:
        line = traceback.format_exception_only(type(exc), exc)[-1]
    assert line.startswith("jetstream.errors.TimeoutError: no reply")


def test_values_of_public_classes_pickle() -> None:
    values: list[object] = [
        jetstream.StreamConfig(name="S", subjects=["s.>"], max_age=timedelta(seconds=90)),
        jetstream.ConsumerConfig(durable_name="d", ack_wait=jetstream.Duration(1_500_000_001)),
        _ENTRY,
        jetstream.KeyValueOp.PUT,
        errors.ErrorCode.STREAM_NOT_FOUND,
        jetstream.Timestamp.parse("2026-05-01T12:00:00.123456789Z"),
        jetstream.Duration(1),
        jetstream.MsgMetadata.parse("$JS.ACK.S.c.1.2.3.1700000000000000001.0"),
        jetstream.Headers.of({"a": "1"}),
    ]
    for value in values:
        assert pickle.loads(pickle.dumps(value)) == value, value


def test_structs_still_decode_after_the_move() -> None:
    """msgspec resolves a Struct's annotations in the module ``__module__`` names: they were
    resolved beforehand, so decoding (and nanosecond timestamps) work from the public module."""
    from unit_support import STREAM_INFO_FULL

    from jetstream._core._codec import decoder, encode

    info = decoder(jetstream.StreamInfo).decode(STREAM_INFO_FULL)
    assert isinstance(info.created, jetstream.Timestamp) and info.created.nanosecond == 913
    assert info.config.max_age == jetstream.Duration(3_600_000_000_000)
    config = jetstream.ConsumerConfig(durable_name="d", ack_wait=timedelta(seconds=30))
    assert decoder(jetstream.ConsumerConfig).decode(encode(config)) == config


# ------------------------------------------------------------------------ typing.get_type_hints


def _hint_failures(include_transport: bool) -> tuple[int, list[str]]:
    count = 0
    failures: list[str] = []
    for name, func in public_callables():
        if _from_transport(func) != include_transport:
            continue
        count += 1
        try:
            typing.get_type_hints(func, include_extras=True)
        except Exception as exc:
            failures.append(f"{name}: {exc!r}")
    return count, failures


def test_get_type_hints_works_on_every_public_callable() -> None:
    count, failures = _hint_failures(include_transport=False)
    print(f"typing.get_type_hints: {count - len(failures)} of {count} public callables")
    assert failures == []
    assert count > 380


def test_get_type_hints_works_on_every_public_transport_callable() -> None:
    _, failures = _hint_failures(include_transport=True)
    assert failures == []


def test_get_type_hints_works_on_every_public_class() -> None:
    """Struct and dataclass fields too (msgspec, pydantic and beartype read them this way)."""
    failures = []
    for name, cls in public_classes():
        try:
            typing.get_type_hints(cls, include_extras=True)
        except Exception as exc:
            failures.append(f"{name}: {exc!r}")
    assert failures == []


def test_signature_names_resolve_to_runtime_classes() -> None:
    hints = typing.get_type_hints(jetstream.Stream.consumer)
    assert hints["return"] is jetstream.Consumer
    assert typing.get_type_hints(errors.KeyDeletedError.__init__)["entry"] is jetstream.KeyValueEntry
    assert typing.get_type_hints(jetstream.JetStream.stream_create)["max_age"] == timedelta | None


# -------------------------------------------------------------------------------- docstrings


def _undocumented(include_transport: bool) -> list[str]:
    missing = []
    for name, func in public_callables():
        if func.__name__.startswith("_") or _from_transport(func) != include_transport:
            continue
        if not (func.__doc__ or "").strip():
            missing.append(name)
    return missing


def test_public_classes_and_methods_have_docstrings() -> None:
    assert [name for name, cls in public_classes() if not (cls.__doc__ or "").strip()] == []
    assert _undocumented(include_transport=False) == []


def test_public_transport_methods_have_docstrings() -> None:
    assert _undocumented(include_transport=True) == []


# ----------------------------------------------------------------------------------- timeouts


def test_timeout_error_is_caught_as_asyncio_and_builtin_timeout() -> None:
    for catch in (asyncio.TimeoutError, builtins.TimeoutError, errors.JetStreamError):
        try:
            raise errors.TimeoutError("$JS.API.INFO", 1.0)
        except catch as exc:
            assert isinstance(exc, errors.TimeoutError)
    assert issubclass(errors.TimeoutError, asyncio.TimeoutError)


async def test_asyncio_timeout_handlers_catch_a_client_timeout() -> None:
    async def call() -> None:
        raise errors.TimeoutError("$JS.API.STREAM.INFO.S", 0.1)

    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(call(), 5)


# ------------------------------------------------------------------------------------ logging


def test_the_library_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("jetstream").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


@pytest.mark.parametrize(
    "event",
    [MissedHeartbeat(heartbeat=5.0), PullWarning(status=409, description="Leadership Change")],
    ids=["missed-heartbeat", "warning-status"],
)
def test_events_are_logged_at_warning_only_when_nobody_handles_them(
    event: jetstream.ConsumeEvent, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="jetstream")
    handled: list[jetstream.ConsumeEvent] = []
    emit(handled.append, event)
    assert handled == [event]
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    caplog.clear()
    emit(None, event)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_other_events_are_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="jetstream")
    emit(None, Reconnected())
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
