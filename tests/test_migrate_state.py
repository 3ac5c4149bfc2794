"""``infra.migrate`` on hand-made 0.2 checkpoints, and ``failover migrate-state`` with a fake
``pulumi`` on PATH (the Pulumi CLI is not needed, and nothing reaches the network).

The engine-model scenario of a whole upgrade is ``tests/test_migration.py``.
"""

from __future__ import annotations

import base64
import copy
import json
import sys
from pathlib import Path
from typing import Any

import dill  # type: ignore[import-untyped]
import pytest

from infra.cli.status import ExitCode
from infra.migrate import BATCH_PROVIDER, BATCH_TYPE, OLD_TYPE, MigrationError, migrate
from infra.naming import number_batch
from infra.providers.phone_number_batch import PhoneNumberBatchProvider
from tests.harness.cli_runner import failover
from tests.harness.host import provider_string

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "state"
P = "urn:pulumi:dev::failover::"
STACK = f"{P}pulumi:pulumi:Stack::failover-dev"
PROVIDER = f"{P}pulumi:providers:pulumi-python::default"
REF = f"{PROVIDER}::0b1c2d3e"
DOCS = f"{P}pulumi-python:dynamic/twilio:TwimlDocuments::documents"
FLOW = f"{P}pulumi-python:dynamic/twilio:StudioFlow::sales"
LINES = {"sales": "FW" + "1" * 32, "fay": "", "main": "FW" + "2" * 32}


def _number(line: str, flow: str) -> dict[str, Any]:
    url = (
        f"https://webhooks.twilio.com/v1/Accounts/AC1/Flows/{flow}"
        if flow
        else f"https://x-1-failover.twil.io/lines/{line}/voicemail.xml"
    )
    applied = {"line": line, "phone_number": f"+1415555{len(line):04d}", "fallback_url": url}
    return {
        "urn": f"{P}{OLD_TYPE}::{line}",
        "custom": True,
        "id": f"PN{line}",
        "type": OLD_TYPE,
        "inputs": {"__provider": "old", **applied, "fallback_method": "POST", "test_mode": False},
        "outputs": {
            "__provider": "old",
            "line": line,
            "sid": f"PN{line}",
            "voice_fallback_url": url,
            "adopted": {"voice_fallback_url": f"https://pbx.example/{line}"},
            "applied_inputs": applied,
        },
        "parent": STACK,
        "provider": REF,
        "dependencies": [DOCS, *([FLOW] if flow else [])],
    }


def checkpoint() -> dict[str, Any]:
    resources = [
        {"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {"x": 1}},
        {"urn": PROVIDER, "custom": True, "id": "0b1c2d3e", "type": "pulumi:providers:pulumi-python"},
        {"urn": DOCS, "custom": True, "id": "ZS1", "type": DOCS.split("::")[2], "parent": STACK},
        {"urn": FLOW, "custom": True, "id": "FW1", "type": FLOW.split("::")[2], "dependencies": [DOCS]},
        *(_number(line, flow) for line, flow in LINES.items()),
        {"urn": f"{P}acme:index:Report::r", "custom": False, "type": "acme:index:Report",
         "dependencies": [f"{P}{OLD_TYPE}::fay"]},
    ]  # fmt: skip
    return {"version": 3, "deployment": {"manifest": {"version": "v3"}, "resources": resources}}


def by_urn(cp: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in cp["deployment"]["resources"]}


def test_the_stored_batch_provider_is_the_one_pulumi_would_pickle() -> None:
    assert BATCH_PROVIDER == provider_string(PhoneNumberBatchProvider())
    recorded = json.loads((FIXTURES / "provider-strings-0.3.0.json").read_text())
    assert BATCH_PROVIDER == recorded["providers"]["PhoneNumberBatch"]
    assert type(dill.loads(base64.b64decode(BATCH_PROVIDER))) is PhoneNumberBatchProvider


def test_each_line_moves_verbatim_into_its_batch_and_nothing_else_changes() -> None:
    before = checkpoint()
    original = copy.deepcopy(before)
    result = migrate(before)
    assert before == original  # the input is left alone
    after = by_urn(result.checkpoint)
    assert not [u for u, r in after.items() if r["type"] == OLD_TYPE]
    assert result.batches == {
        name: sorted(line for line in LINES if number_batch(line) == name)
        for name in {number_batch(line) for line in LINES}
    }
    for line in LINES:
        old = by_urn(original)[f"{P}{OLD_TYPE}::{line}"]
        batch = after[f"{P}{BATCH_TYPE}::{number_batch(line)}"]
        kept = {k: v for k, v in old["outputs"].items() if k not in ("__provider", "line")}
        assert batch["outputs"]["lines"][line] == kept
        assert batch["inputs"]["lines"][line] == {
            k: v for k, v in old["inputs"].items() if k not in ("__provider", "line")
        }
        assert batch["inputs"]["__provider"] == batch["outputs"]["__provider"] == BATCH_PROVIDER
        assert set(old["dependencies"]) <= set(batch["dependencies"])
        assert (batch["parent"], batch["provider"]) == (STACK, REF)
        assert batch["id"] == f"numbers:{min(result.batches[number_batch(line)])}"
    untouched = [r for r in original["deployment"]["resources"] if r["type"] != OLD_TYPE]
    for resource in untouched[:-1]:
        assert after[resource["urn"]] == resource
    report = after[f"{P}acme:index:Report::r"]  # a dependent follows the line to its batch
    assert report["dependencies"] == [f"{P}{BATCH_TYPE}::{number_batch('fay')}"]
    order = [r["urn"] for r in result.checkpoint["deployment"]["resources"]]
    assert order.index(report["urn"]) > order.index(report["dependencies"][0])
    assert result.kept == len(untouched) and result.lines == len(LINES)


def _refused(cp: dict[str, Any], match: str) -> None:
    with pytest.raises(MigrationError, match=match):
        migrate(cp)


def test_refuses_what_is_not_a_0_2_checkpoint() -> None:
    _refused({"version": 2, "deployment": {"resources": []}}, "deployment version 3")
    cp = checkpoint()
    cp["deployment"]["resources"] = [
        r for r in cp["deployment"]["resources"] if r["type"] != OLD_TYPE
    ]
    _refused(cp, "not a 0.2 stack")
    _refused(migrate(checkpoint()).checkpoint, "already migrated")


def test_refuses_pending_operations_and_interrupted_or_unknown_numbers() -> None:
    cp = checkpoint()
    op = {"type": "updating", "resource": cp["deployment"]["resources"][4]}
    cp["deployment"]["pending_operations"] = [op]
    _refused(cp, f"pending operations \\(updating {P}")
    for change, match in (
        ({"delete": True}, "pending deletion"),
        ({"protect": True}, "is protected"),
        ({"outputs": {"sid": "PN1"}}, "no 'adopted' output"),
    ):
        cp = checkpoint()
        cp["deployment"]["resources"][5].update(change)
        _refused(cp, match)


# -- the command, with a fake `pulumi` ------------------------------------------------------

FAKE = """#!{python}
import json, os, pathlib, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:2] == ["stack", "export"]:
    sys.stdout.write(pathlib.Path(os.environ["FAKE_EXPORT"]).read_text())
elif args[:2] == ["stack", "import"]:
    source = pathlib.Path(args[args.index("--file") + 1])
    pathlib.Path(os.environ["FAKE_IMPORTED"]).write_text(source.read_text())
else:
    sys.exit("unexpected pulumi " + " ".join(args))
"""


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Any]:
    bin_dir, work = tmp_path / "bin", tmp_path / "project"
    bin_dir.mkdir()
    work.mkdir()
    (work / "Pulumi.yaml").write_text("name: failover\nruntime: python\n")
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(FAKE.format(python=sys.executable))
    pulumi.chmod(0o755)
    export = tmp_path / "export.json"
    export.write_text(json.dumps(checkpoint(), indent=2))
    environ = {
        "PATH": str(bin_dir),
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "FAKE_EXPORT": str(export),
        "FAKE_IMPORTED": str(tmp_path / "imported.json"),
    }
    return {"cwd": work, "environ": environ, "tmp": tmp_path}


def calls(project: dict[str, Any]) -> list[list[str]]:
    log = project["tmp"] / "calls.log"
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def test_dry_run_backs_up_and_shows_the_moves_without_importing(project: dict[str, Any]) -> None:
    result = failover("migrate-state", "--stack", "dev", "--dry-run", **project_args(project))
    assert result.code == ExitCode.OK, result.stderr
    assert calls(project) == [["stack", "export", "--stack", "dev"]]
    (backup,) = project["cwd"].glob(".failover-backup-dev-*.json")
    assert backup.read_text() == (project["tmp"] / "export.json").read_text()
    assert "3 line(s) move from PhoneNumberFailover" in result.stdout
    assert f"  {number_batch('sales')}: 1 line(s) (sales)" in result.stdout
    assert "dry run: nothing imported" in result.stdout
    assert not (project["tmp"] / "imported.json").exists()


def test_import_gets_the_migrated_state_and_backups_are_never_overwritten(
    project: dict[str, Any],
) -> None:
    for _ in range(2):
        result = failover(
            "migrate-state", "--stack", "dev", "--format", "json", **project_args(project)
        )
        assert result.code == ExitCode.OK, result.stderr
    report = json.loads(result.stdout)
    assert report["imported"] is True and report["lines"] == 3 and report["format_version"] == 1
    assert len(list(project["cwd"].glob(".failover-backup-dev-*.json"))) == 2
    imports = [c for c in calls(project) if c[:2] == ["stack", "import"]]
    assert imports[-1][:4] == ["stack", "import", "--stack", "dev"]
    assert Path(imports[-1][-1]).name == report["migrated"]
    imported = json.loads((project["tmp"] / "imported.json").read_text())
    assert imported == migrate(checkpoint()).checkpoint


def test_a_refused_checkpoint_imports_nothing_and_says_why(project: dict[str, Any]) -> None:
    export = project["tmp"] / "export.json"
    export.write_text(json.dumps(migrate(checkpoint()).checkpoint))
    result = failover("migrate-state", **project_args(project))
    assert result.code == ExitCode.ERROR
    assert "already migrated" in result.stderr
    assert [c[:2] for c in calls(project)] == [["stack", "export"]]
    assert list(project["cwd"].glob(".failover-backup-current-*.json"))


def test_without_pulumi_on_path_it_says_so(project: dict[str, Any]) -> None:
    environ = {**project["environ"], "PATH": str(project["tmp"] / "empty")}
    result = failover("migrate-state", cwd=project["cwd"], environ=environ)
    assert result.code == ExitCode.ERROR and "Pulumi CLI (`pulumi`) is not on PATH" in result.stderr


def project_args(project: dict[str, Any]) -> dict[str, Any]:
    return {"cwd": project["cwd"], "environ": project["environ"]}
