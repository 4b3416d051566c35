"""The public surface: `__all__` is exactly what is exported, and the DESIGN.md contract names exist."""

from __future__ import annotations

import builtins
import inspect
import sys
import types
from importlib import resources
from pathlib import Path

import msgspec
import pytest
from unit_support import always, mock_js

import jetstream
from jetstream import JetStream, advisories, errors, models
from jetstream._generated import ENDPOINT_COUNT
from jetstream._generated.api import GeneratedAPI

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# The endpoint manifest: one method per entry, however many the server's API has today.
MANIFEST = Path(__file__).resolve().parents[3] / "schemas" / "endpoints.toml"


def public_names(module: types.ModuleType) -> set[str]:
    """Public attributes that are not submodules."""
    return {
        name
        for name in vars(module)
        if not name.startswith("_") and not isinstance(getattr(module, name), types.ModuleType)
    }


@pytest.mark.parametrize("module", [jetstream, advisories, errors, models], ids=lambda m: m.__name__)
def test_all_is_exactly_the_public_surface(module: types.ModuleType) -> None:
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
    submodules = {name for name in exported if isinstance(getattr(module, name), types.ModuleType)}
    plain = {name for name in exported if not name.startswith("_")} - submodules
    assert plain == public_names(module)


def test_star_import_gives_the_surface() -> None:
    namespace: dict[str, object] = {}
    exec("from jetstream import *", namespace)
    assert {name for name in namespace if name != "__builtins__"} == set(jetstream.__all__)


def test_only_advisories_errors_and_models_are_public_submodules() -> None:
    exported_modules = [n for n in jetstream.__all__ if isinstance(getattr(jetstream, n), types.ModuleType)]
    assert exported_modules == ["advisories", "errors", "models"]


CONTRACT = [
    "JetStream",
    "connect",
    "StreamConfig",
    "ConsumerConfig",
    "PubAck",
    "StreamInfo",
    "ConsumerInfo",
    "StoredMessage",
    "AccountInfo",
    "errors",
    "DEFAULT",
    "Timeout",
    "Duration",
    "Timestamp",
    "nanos",
    "RawMessage",
    "MockTransport",
    "Transport",
    "__version__",
    "KeyValue",
    "KeyValueConfig",
    "KeyValueEntry",
    "KeyValueOp",
    "KeyValueStatus",
    "KeyWatcher",
    "InitialValuesDone",
    "ObjectStore",
    "ObjectStoreConfig",
    "ObjectStoreStatus",
    "ObjectInfo",
    "ObjectMeta",
    "ObjectLink",
    "ObjectReader",
    "ObjectWatcher",
]

ERROR_CONTRACT = [
    "JetStreamError",
    "APIError",
    "StreamNotFoundError",
    "ConsumerNotFoundError",
    "StreamWrongLastSequenceError",
    "NoMessageFoundError",
    "InvalidNameError",
    "TimeoutError",
    "JetStreamNotEnabledError",
    "NoStreamResponseError",
    "InvalidReplyError",
    "MalformedReplyError",
    "UnexpectedReplyError",
    "ConnectionClosedError",
    "KeyValueError",
    "BucketNotFoundError",
    "BucketExistsError",
    "KeyNotFoundError",
    "KeyDeletedError",
    "WrongLastRevisionError",
    "KeyExistsError",
    "InvalidKeyError",
    "HistoryTooLargeError",
    "LimitMarkersNotSupportedError",
    "ObjectStoreError",
    "ObjectStoreNotFoundError",
    "ObjectStoreExistsError",
    "ObjectStoreSealedError",
    "ObjectNotFoundError",
    "ObjectExistsError",
    "ObjectLinkError",
    "InvalidObjectNameError",
    "BadObjectMetaError",
    "IncompleteObjectError",
    "DigestMismatchError",
]


@pytest.mark.parametrize("name", CONTRACT)
def test_contract_names_are_exported(name: str) -> None:
    assert name in jetstream.__all__
    assert hasattr(jetstream, name)


@pytest.mark.parametrize("name", ERROR_CONTRACT)
def test_contract_errors_are_exported(name: str) -> None:
    assert name in errors.__all__
    cls = getattr(errors, name)
    assert issubclass(cls, errors.JetStreamError)


def test_error_tree() -> None:
    assert issubclass(errors.APIError, errors.JetStreamError)
    assert issubclass(errors.StreamNotFoundError, errors.APIError)
    assert issubclass(errors.MalformedReplyError, errors.InvalidReplyError)
    assert issubclass(errors.UnexpectedReplyError, errors.InvalidReplyError)
    assert issubclass(errors.InvalidNameError, ValueError)
    assert issubclass(errors.TimeoutError, builtins.TimeoutError)
    assert errors.TimeoutError is not builtins.TimeoutError
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, errors.JetStreamError), name


def test_models_are_structs_and_exported() -> None:
    for name in ("StreamConfig", "ConsumerConfig", "PubAck", "StreamInfo", "ConsumerInfo"):
        cls = getattr(jetstream, name)
        assert issubclass(cls, msgspec.Struct)
        assert cls is getattr(models, name)
        assert cls.__module__ == "jetstream.models"  # the public module (see jetstream._public)


def test_models_has_every_generated_model_and_the_top_level_all_but_request_bodies() -> None:
    from jetstream._generated import models as generated

    assert models.__all__ == generated.__all__
    requests = {name for name in models.__all__ if name.endswith("Request")}
    assert len(requests) == 27
    assert "StreamInfoRequest" in requests and "IterableRequest" in requests
    assert set(models.__all__) - set(jetstream.__all__) == requests
    for name in set(models.__all__) - requests:
        assert getattr(jetstream, name) is getattr(models, name), name


def test_py_typed_is_shipped() -> None:
    assert resources.files("jetstream").joinpath("py.typed").is_file()


def test_one_method_per_endpoint() -> None:
    methods = [
        name
        for name, fn in vars(GeneratedAPI).items()
        if not name.startswith("_") and inspect.iscoroutinefunction(fn)
    ]
    endpoints = tomllib.loads(MANIFEST.read_text())["endpoint"]
    assert len(methods) == ENDPOINT_COUNT == len(endpoints)
    assert set(methods) == {endpoint["name"] for endpoint in endpoints}
    for name in [
        "account_info",
        "stream_names",
        "stream_list",
        "stream_create",
        "stream_update",
        "stream_info",
        "stream_delete",
        "stream_purge",
        "stream_msg_get",
        "stream_msg_delete",
        "consumer_create",
        "consumer_info",
        "consumer_delete",
        "consumer_names",
        "consumer_list",
        "consumer_pause",
        "consumer_unpin",
        "direct_get",
        "meta_rescue",
        "account_purge",
    ]:
        assert name in methods, name
    assert issubclass(JetStream, GeneratedAPI)


def test_every_method_takes_a_keyword_timeout() -> None:
    for name, fn in vars(GeneratedAPI).items():
        if inspect.iscoroutinefunction(fn):
            param = inspect.signature(fn).parameters["timeout"]
            assert param.kind is inspect.Parameter.KEYWORD_ONLY, name
            assert param.default is jetstream.DEFAULT, name
    assert inspect.signature(JetStream.publish).parameters["timeout"].default is jetstream.DEFAULT


async def test_client_context_manager_and_idempotent_close() -> None:
    js, _ = mock_js(always(b"{}"))
    async with js as entered:
        assert entered is js
        assert js.nc is None
    await js.close()
    await js.close()


def test_key_value_management_methods() -> None:
    for name in (
        "create_key_value",
        "update_key_value",
        "create_or_update_key_value",
        "key_value",
        "delete_key_value",
        "key_value_bucket_names",
        "key_value_buckets",
    ):
        fn = getattr(JetStream, name)
        assert inspect.iscoroutinefunction(fn), name
        param = inspect.signature(fn).parameters["timeout"]
        assert (param.kind, param.default) == (inspect.Parameter.KEYWORD_ONLY, jetstream.DEFAULT), name


def test_object_store_management_methods() -> None:
    for name in (
        "create_object_store",
        "update_object_store",
        "create_or_update_object_store",
        "object_store",
        "delete_object_store",
        "object_store_names",
        "object_stores",
    ):
        fn = getattr(JetStream, name)
        assert inspect.iscoroutinefunction(fn), name
        param = inspect.signature(fn).parameters["timeout"]
        assert (param.kind, param.default) == (inspect.Parameter.KEYWORD_ONLY, jetstream.DEFAULT), name
    assert issubclass(errors.InvalidObjectNameError, errors.InvalidNameError)
    assert issubclass(errors.DigestMismatchError, errors.ObjectStoreError)


def test_advisories_are_a_public_module_of_typed_events() -> None:
    """DESIGN.md: ``async for adv in js.advisories()``; generated Structs, unknown kinds as a generic one."""
    assert not inspect.iscoroutinefunction(JetStream.advisories)  # an async iterator, not a coroutine
    assert all(getattr(advisories, cls.__name__) is cls for cls in advisories.EVENT_TYPES.values())
    assert all(cls.__module__ == "jetstream.advisories" for cls in advisories.EVENT_TYPES.values())
    for cls in advisories.EVENT_TYPES.values():
        assert issubclass(cls, advisories.JetStreamEvent) and issubclass(cls, msgspec.Struct)
    assert "UnknownAdvisory" in advisories.__all__ and "Advisories" in advisories.__all__
    assert issubclass(errors.InvalidAdvisoryError, errors.JetStreamError)
