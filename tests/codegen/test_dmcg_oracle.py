"""An independent oracle: datamodel-code-generator's reading of the same patched schemas must give
every type the same set of wire field names as our resolver.

Its msgspec output is unusable as the product (research/schemas.md §3: untagged success|error
unions, closed enums, defaults on the wire), but its $ref / allOf / oneOf resolution is
independent of ours. It fails on the unpatched `schema_source` (B4: "incompatible layouts from
generated bases 'AllDeliverPolicy' and 'ConsumerConfiguration1'"), so it reads the documents after
`codegen.patches.apply`, which also makes this a check that the patches yield valid JSON Schema.

Name mapping (their class -> our model):
- a definition `foo_bar` -> `definitions.FooBar` (`FooBarModel` when a type alias took the name:
  `subject_transform`);
- a file `foo.json` -> the Struct(s) in module `foo` named after the file's title
  (`IoNatsJetstreamApiV1Foo`, numbered `...1`/`...2` per oneOf branch) or `Model` (our local files
  have no title); of a oneOf root, the branch that is not an `ErrorResponse` subclass.
Fields are compared by wire name (`__struct_encode_fields__`, inherited ones included) against our
fields including those of base models.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import codegen_support as support
import msgspec
import pytest

from codegen import patches
from codegen.build import build
from codegen.load import load
from codegen.model import API, Model
from codegen.render import View
from codegen.resolve import camel

pytestmark = support.needs_locked

PACKAGE = "dmcg_oracle_output"
FLAGS = [
    "--input-file-type", "jsonschema",
    "--output-model-type", "msgspec.Struct",
    "--keyword-only",
    "--use-standard-collections",
    "--use-union-operator",
    "--target-python-version", "3.10",
    "--disable-timestamp",
    "--formatters", "builtin",  # black/isort would only cost time
]  # fmt: skip

# Root members our resolver drops on purpose (ROOT_SKIPPED_PROPS): the `type` const of every
# reply, and pub_ack_response's flat `error`, which the core's error probe reads before the typed
# decode. Every other difference is a failure.
THEIRS_ONLY_ON_ROOTS = {"type"}
EXCEPTIONS: dict[str, set[str]] = {
    "pub_ack_response": {"error"},
    # schemas/overrides/types.toml [removed_fields]: the server refuses it (10025 unknown field)
    "consumer_names_request": {"subject"},
}
# Their Structs with no counterpart in our model, and why.
UNMATCHED = {
    "ErrorResponse": "error replies are decoded by the core's probe, never as a type",
    "AllDeliverPolicy": "the deliver_policy oneOf variants are folded by patch B4",
    "LastDeliverPolicy": "B4",
    "NewDeliverPolicy": "B4",
    "StartSequenceDeliverPolicy": "B4",
    "StartTimeDeliverPolicy": "B4",
    "LastPerSubjectDeliverPolicy": "B4",
}


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("dmcg")
    s = load(support.LOCKED)
    patches.apply(s)
    schemas = root / "schemas"
    schemas.mkdir()
    for stem, doc in s.docs.items():
        (schemas / f"{stem}.json").write_text(json.dumps(doc), encoding="utf-8")
    (schemas / "definitions.json").write_text(json.dumps({"definitions": s.definitions}), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "datamodel_code_generator", "--input", str(schemas),
         "--output", str(root / PACKAGE), *FLAGS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    sys.path.insert(0, str(root))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(root))
        for key in [k for k in sys.modules if k == PACKAGE or k.startswith(PACKAGE + ".")]:
            del sys.modules[key]


def _structs(module: ModuleType) -> dict[str, type[msgspec.Struct]]:
    return {
        name: value
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__module__ == module.__name__
    }


def _theirs(package: str, model: Model) -> type[msgspec.Struct]:
    definitions = importlib.import_module(f"{package}.definitions")
    if model.source.startswith("jetstream/api/v1/definitions.json#"):
        structs = _structs(definitions)
        found = structs.get(camel(model.name)) or structs.get(camel(model.name) + "Model")
        assert found is not None, model.name
        return found
    module = importlib.import_module(f"{package}.{model.name}")
    error = definitions.ErrorResponse
    roots = [
        cls
        for name, cls in _structs(module).items()
        if re.fullmatch(r"(IoNatsJetstreamApiV1\w+?|Model)\d*", name) and not issubclass(cls, error)
    ]
    assert len(roots) == 1, (model.name, roots)
    return roots[0]


@pytest.fixture(scope="module")
def ours() -> API:
    return build(support.LOCKED, None)


def shared_and_own(api: API) -> list[Model]:
    """Our API models without the reply variants (subclasses of shared types, no schema type of their
    own). The events (advisories.py) come from other folders, which this oracle is not given."""
    return [m for m in api.models if not m.reply_of and m.module == "models"]


def test_field_sets_agree(oracle: str, ours: API) -> None:
    view = View(ours)
    differences = {}
    for model in shared_and_own(ours):
        mine = {f.wire_name for f in view.all_fields(model)}
        theirs = set(_theirs(oracle, model).__struct_encode_fields__)
        if model.response_root:
            theirs -= THEIRS_ONLY_ON_ROOTS
        theirs -= EXCEPTIONS.get(model.name, set())
        if mine != theirs:
            differences[model.name] = {
                "ours only": sorted(mine - theirs),
                "theirs only": sorted(theirs - mine),
            }
    assert differences == {}
    assert len(shared_and_own(ours)) == 82  # so a resolver that silently drops types cannot pass vacuously


def test_every_exception_is_still_needed(oracle: str, ours: API) -> None:
    for name, fields in EXCEPTIONS.items():
        model = ours.model(name)
        assert fields <= set(_theirs(oracle, model).__struct_encode_fields__)
        assert not fields & {f.wire_name for f in model.fields}


def test_their_other_types_are_accounted_for(oracle: str, ours: API) -> None:
    matched = {_theirs(oracle, m) for m in shared_and_own(ours)}
    definitions = importlib.import_module(f"{oracle}.definitions")
    unmatched = {name for name, cls in _structs(definitions).items() if cls not in matched}
    assert unmatched == set(UNMATCHED)
