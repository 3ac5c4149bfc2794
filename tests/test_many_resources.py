"""A program with more than ~980 dynamic resources must not die of a Pulumi SDK pickling leak.

``serialize_provider`` (run by every ``dynamic.Resource.__init__``) wraps
``pickle._Pickler._batch_setitems`` once more per resource and never unwraps it, so a
1,000-line stack (about 1,500 resources) died with ``RecursionError`` while the program
was still declaring resources. Found by the fault-convergence suite, whose many runs in one
process hit the same limit. See ``infra.providers._pickling``.
"""

from __future__ import annotations

import pickle
from typing import Any

import pulumi
from pulumi.dynamic.dynamic import serialize_provider

from infra.lines.load import load_config
from infra.providers._pickling import pickler_restored
from infra.providers.phone_number import PhoneNumberFailoverProvider
from tests.test_program import ROOT, FakeOutputs, run_program


def _pickler_state() -> dict[str, Any]:
    return dict(pickle._Pickler.__dict__)  # type: ignore[attr-defined]


def test_declaring_every_resource_kind_leaves_pickle_as_it_was() -> None:
    config, _ = load_config(ROOT / "lines.yaml")  # ledger, documents, queue, flows, numbers
    pulumi.runtime.set_mocks(FakeOutputs(), project="failover", stack="dev", preview=False)
    before = _pickler_state()
    run_program(config)
    assert _pickler_state() == before


def test_serializing_thousands_of_providers_neither_recurses_nor_changes_the_bytes() -> None:
    with pickler_restored():
        first = serialize_provider(PhoneNumberFailoverProvider())  # type: ignore[arg-type]
    for _ in range(2_000):  # > Python's recursion limit: unwrapped, this raised RecursionError
        with pickler_restored():
            assert serialize_provider(PhoneNumberFailoverProvider()) == first  # type: ignore[arg-type]
