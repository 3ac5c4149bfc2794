"""The architecture, held by tests: who may import Twilio's library, what validate loads,
how large a module may grow, and that the reviewed TaskRouter workflow is the deployed one.

The import contracts between packages are import-linter's (``[tool.importlinter]`` in
pyproject.toml, run by ``script/test``); these tests cover what it cannot express.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.program import StackSettings
from infra.render.bindings import Bindings
from infra.render.taskrouter import render_taskrouter
from infra.twilio.values import canonical_json
from tests.harness.program_engine import ProgramEngine
from tests.test_scenarios import lines, seed_account

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
TWILIO_LIBRARY = ("twilio.rest", "twilio.http", "twilio.base")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_infra_twilio_imports_the_twilio_rest_library() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted(INFRA.rglob("*.py"))
        if INFRA / "twilio" not in path.parents
        for name in sorted(_imports(path))
        if name.startswith(TWILIO_LIBRARY)
    ]
    assert offenders == []


def test_no_module_in_infra_is_over_400_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in INFRA.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > 400} == {}


def test_validate_loads_neither_pulumi_nor_grpc_nor_the_twilio_client() -> None:
    """Every pre-commit run pays for what `failover validate` imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "infra", "validate", "lines.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    heavy = sorted(
        name
        for name in loaded
        if name.split(".")[0] in ("pulumi", "grpc") or name.startswith(TWILIO_LIBRARY)
    )
    assert heavy == []
    # Subcommands load lazily: validate brings in no other subcommand or account reads.
    others = sorted(
        n for n in loaded if n.startswith(("infra.account", "infra.cli.drift", "infra.cli.diff"))
    )
    assert others == []


def test_the_deployed_taskrouter_workflow_is_the_reviewed_one(twilio_double: Any) -> None:
    """What `plan --out` writes (taskrouter/workflow.json) is what `pulumi up` deploys, byte
    for byte once the queue SIDs are filled in."""
    config = lines()
    seed_account(twilio_double, config)
    ProgramEngine.for_double(twilio_double).up(config, StackSettings(stack="dev"))
    queues = {q["friendly_name"]: q["sid"] for q in twilio_double.state.task_queues.values()}
    (deployed,) = twilio_double.state.workflows.values()
    reviewed = render_taskrouter(config, Bindings(queue_sids=queues))["workflow"]
    assert deployed["configuration"] == canonical_json(reviewed["configuration"])
    assert json.loads(deployed["configuration"])["task_routing"]["filters"]
    assert deployed["friendly_name"] == reviewed["friendly_name"]
