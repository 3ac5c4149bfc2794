"""The README's first-hour guide and outage runbook, run step by step against the Twilio double.

The engine model (``tests/harness/program_engine.py``) stands in for ``pulumi up``; every other
step is the command the README shows. If a step stops working, the guide is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.cli.status import ExitCode
from infra.lines.load import load_config
from infra.model import Severity
from infra.naming import number_batch
from infra.program import StackSettings
from tests.harness.cli_runner import failover
from tests.harness.program_engine import ProgramEngine
from tests.test_drift import credentials
from tests.test_scenarios import ROOT, Stack, lines, seed_account
from tests.twilio_double.internet import PrimaryOutcome

CALLER = "+16285550199"
SALES_FORWARD = "+16285550188"


def test_first_hour_adopts_an_existing_account(twilio_double: Any, tmp_path: Path) -> None:
    d = twilio_double
    d.seed_number(
        "+14155550100", friendly_name="Main line", voice_url="https://voice.acme.example/main"
    )
    d.seed_number(
        "+14155550101", friendly_name="Sales", voice_url="https://voice.acme.example/sales"
    )
    d.seed_number(
        "+14155550102", friendly_name="Support", voice_url="https://voice.acme.example/support"
    )
    env = credentials(d)

    # 1. Draft lines.yaml from the account.
    drafted = failover(
        "import", "--out", "lines.yaml", "--account", "acme", cwd=tmp_path, environ=env
    )
    assert drafted.code == ExitCode.OK, drafted.stderr
    draft = (tmp_path / "lines.yaml").read_text()
    assert draft.count("number: ") == 3
    assert 'primary: "https://voice.acme.example/sales"' in draft

    # 2. Edit: sales forwards to the answering service, then voicemail.
    edited = draft.replace(
        'primary: "https://voice.acme.example/sales"',
        f'primary: "https://voice.acme.example/sales"\n    failover: {{forward: "{SALES_FORWARD}"}}',
    )
    assert edited != draft
    (tmp_path / "lines.yaml").write_text(edited)

    # 3. Check.
    assert failover("validate", cwd=tmp_path).code == ExitCode.OK
    plan = failover("plan", cwd=tmp_path)
    assert plan.code == ExitCode.OK and "+1 628-555-0188" in plan.stdout

    # 4. Deploy: drift first names what the first up changes on each number, then pulumi up.
    before = failover("drift", "--stack", "dev", "--format", "json", cwd=tmp_path, environ=env)
    assert before.code == ExitCode.CHANGES, before.stderr
    fallbacks = [
        f for f in json.loads(before.stdout)["differences"] if f["field"] == "voice_fallback_url"
    ]
    assert len(fallbacks) == 3 and {f["live"] for f in fallbacks} == {"(none)"}
    config, _ = load_config(tmp_path / "lines.yaml")
    ProgramEngine.for_double(d).up(config, StackSettings(stack="dev"))

    # 5. Confirm: no drift, and a caller whose primary fails reaches the forward.
    drift = failover("drift", "--stack", "dev", cwd=tmp_path, environ=env)
    assert drift.code == ExitCode.OK, drift.stdout
    journey = d.place_call(
        "+14155550101", CALLER, primary=PrimaryOutcome.http_500, callees={SALES_FORWARD: "answer"}
    )
    assert (journey.outcome, journey.answered_by) == ("answered", SALES_FORWARD)


def test_outage_runbook_declares_watches_and_ends_a_severe_outage(
    twilio_double: Any, tmp_path: Path
) -> None:
    d = twilio_double
    seed_account(d, lines())
    stack = Stack(d)
    stack.up(lines())  # the stack as it runs every day: severity minor
    (tmp_path / "lines.yaml").write_text((ROOT / "lines.yaml").read_text())
    env = credentials(d)

    # 1. Declare it: only the queued lines' numbers move (each in its number batch); nothing is
    # rebuilt or republished: their queue entry documents were deployed up front.
    queued_batches = sorted({number_batch("main"), number_batch("support")})
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  failover:severity: severe\n")
    run = stack.up(lines(), severity=Severity.SEVERE)
    assert sorted(run.kinds("update")) == queued_batches
    assert stack.writes == {"IncomingPhoneNumber.update": 2}

    # 2. Agents answer the queued line.
    main = next(line for line in lines().lines if line.id == "main")
    agents = {a.id: a.phone for a in lines().agents}
    queued = d.place_call(
        main.number,
        CALLER,
        primary=PrimaryOutcome.http_500,
        callees={agents[a]: "answer" for a in main.queue.agents},  # type: ignore[union-attr]
    )
    assert any(step.kind == "enqueue" for step in queued.steps)
    assert queued.outcome == "answered"
    assert queued.answered_by in {f"agent {a} ({agents[a]})" for a in agents}

    # ... and see who is On Duty (every agent starts On Duty: no line is left unserved).
    duty = failover("agents", "--stack", "dev", cwd=tmp_path, environ=env)
    assert (duty.code, duty.stderr) == (ExitCode.OK, ""), duty.stderr
    assert "alice" in duty.stdout and "On Duty" in duty.stdout

    # 3. Watch: the stack file gives the severity; voicemails left through failover are listed.
    drift = failover("drift", "--stack", "dev", cwd=tmp_path, environ=env)
    assert drift.code == ExitCode.OK, drift.stdout
    sales = next(line for line in lines().lines if line.id == "sales")
    left = d.place_call(
        sales.number, CALLER, primary=PrimaryOutcome.http_500, callees={sales.forward: "no-answer"}
    )
    assert left.recording_sid
    listed = failover("voicemails", "--line", "sales", cwd=tmp_path, environ=env)
    assert listed.code == ExitCode.OK and "+1 628-555-0199" in listed.stdout
    # Every answered call's task was completed: nothing for the sweep to do.
    swept = failover("agents", "sweep", "--dry-run", "--stack", "dev", cwd=tmp_path, environ=env)
    assert (swept.code, swept.stdout) == (ExitCode.OK, "0 open tasks; would complete 0\n")

    # 4. End it.
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  failover:severity: minor\n")
    run = stack.up(lines(), severity=Severity.MINOR)
    assert sorted(run.kinds("update")) == queued_batches
    assert stack.writes == {"IncomingPhoneNumber.update": 2}
    assert failover("drift", "--stack", "dev", cwd=tmp_path, environ=env).code == ExitCode.OK
