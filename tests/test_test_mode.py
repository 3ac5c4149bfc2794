"""Tests that expire (issue 17 item 5): plan, diff and drift wording, the 24-hour rule, the
ledger's deploy times, and ``expired_tests`` for the readiness check.

The clock is injected (``Env.clock``); nothing here waits.
"""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.cli.env import Env
from infra.cli.main import main
from infra.cli.status import ExitCode
from infra.compare import compare
from infra.expiry import early_test_warning, early_test_warnings, expired_tests
from infra.expiry import mode_state as state_of
from infra.lines.load import load_bytes, load_config
from infra.model import LinesConfig
from infra.program import StackSettings
from infra.providers.line_ledger import LineLedgerProvider
from infra.routing import failover_fingerprint
from tests.harness.cli_runner import Result
from tests.harness.program_engine import ProgramEngine

ROOT = Path(__file__).resolve().parent.parent
BEFORE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
AFTER = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
UNTIL = "2026-12-01T06:00:00Z"

BASE = """\
version: 1
account: {name: acme}
lines:
  - id: main
    type: main_line
    number: "+14155550100"
    primary: https://voice.acme.example/main
    failover: {forward: "+14155550199"}
  - id: sales
    type: department
    number: "+14155550101"
    primary: https://voice.acme.example/sales
"""


def with_test(text: str, line: str, test: str) -> str:
    marker = f"    primary: https://voice.acme.example/{line}\n"
    assert marker in text
    return text.replace(marker, marker + f"    test: {test}\n")


def run(*args: str, cwd: Path, now: datetime, environ: dict[str, str] | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    env = Env(stdout=out, stderr=err, cwd=cwd, environ=environ or {}, clock=lambda: now)
    code = main(["--traceback", *args], env)
    return Result(code, out.getvalue(), err.getvalue())


def loaded(text: str) -> LinesConfig:
    return load_bytes(text.encode(), "lines.yaml")[0]


# -- the model and the function the readiness check calls --------------------------------------
def test_test_true_stays_valid_and_never_expires() -> None:
    config = loaded(with_test(BASE, "main", "true"))
    (main,) = [line for line in config.lines if line.test]
    assert main.test_until is None
    assert state_of(main, AFTER) == "test mode"
    assert expired_tests(config, AFTER) == []


def test_expired_tests_names_each_line_past_its_until_with_its_position() -> None:
    config = loaded(with_test(with_test(BASE, "main", f"{{until: {UNTIL}}}"), "sales", "true"))
    assert expired_tests(config, BEFORE) == []
    (expired,) = expired_tests(config, AFTER)
    assert expired.line_id == "main"
    assert expired.until == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert (expired.where.line, expired.where.column) == (4, 5)
    assert "remove `test`" in expired.sentence()


def test_until_does_not_change_the_route_fingerprint() -> None:
    """Setting or moving until is not a reroute for the safety brake."""
    plain, until = (
        loaded(with_test(BASE, "main", "true")),
        loaded(with_test(BASE, "main", f"{{until: {UNTIL}}}")),
    )
    from infra.routing import route_fingerprint

    assert route_fingerprint(plain.lines[0], plain) == route_fingerprint(until.lines[0], until)


# -- plan ------------------------------------------------------------------------------------
@pytest.fixture
def planned(tmp_path: Path) -> Path:
    (tmp_path / "lines.yaml").write_text(with_test(BASE, "main", f"{{until: {UNTIL}}}"))
    return tmp_path


def test_plan_says_until_when_before_and_expired_after(planned: Path) -> None:
    before = run("plan", cwd=planned, now=BEFORE)
    assert before.code == ExitCode.OK
    assert "✗ TEST MODE (test mode until 2026-12-01 06:00 UTC)" in before.stdout
    assert before.stderr == ""
    after = run("plan", cwd=planned, now=AFTER)
    assert after.code == ExitCode.OK
    assert "✗ TEST MODE (test mode expired at 2026-12-01 06:00 UTC)" in after.stdout
    assert after.stderr.startswith("lines.yaml:4:5: warning: main: test mode expired at")


def test_plan_markdown_says_when_the_test_expired(planned: Path) -> None:
    markdown = run("plan", "--format", "markdown", cwd=planned, now=AFTER).stdout
    assert "| ❌ test mode expired at 2026-12-01 06:00 UTC |" in markdown


def test_plan_json_carries_until_and_state(planned: Path) -> None:
    record = json.loads(run("plan", "--format", "json", cwd=planned, now=AFTER).stdout)["lines"][0]
    assert record["test_until"] == UNTIL
    assert record["test_state"] == "test mode expired at 2026-12-01 06:00 UTC"


# -- diff --------------------------------------------------------------------------------------
def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "lines.yaml").write_text(BASE)
    _git(tmp_path, "add", "lines.yaml")
    _git(tmp_path, "commit", "-qm", "base")
    return tmp_path


def test_diff_says_test_mode_until_and_warns_when_expired(repo: Path) -> None:
    (repo / "lines.yaml").write_text(with_test(BASE, "sales", f"{{until: {UNTIL}}}"))
    before = run("diff", "--base", "main", cwd=repo, now=BEFORE)
    assert before.code == ExitCode.CHANGES
    assert "    test mode until 2026-12-01 06:00 UTC" in before.stdout
    assert "expired" not in before.stdout
    after = run("diff", "--base", "main", "--format", "json", cwd=repo, now=AFTER)
    (warning,) = json.loads(after.stdout)["warnings"]
    assert warning.startswith("sales: test mode expired at 2026-12-01 06:00 UTC")


def test_diff_moving_until_is_described(repo: Path) -> None:
    (repo / "lines.yaml").write_text(with_test(BASE, "sales", f"{{until: {UNTIL}}}"))
    _git(repo, "commit", "-qam", "test")
    (repo / "lines.yaml").write_text(with_test(BASE, "sales", "{until: 2026-12-08T06:00:00Z}"))
    result = run("diff", "--base", "main", cwd=repo, now=BEFORE)
    assert "test mode until 2026-12-01 06:00 UTC → until 2026-12-08 06:00 UTC" in result.stdout, (
        result.stdout
    )


def _deployed(repo: Path, when: str) -> str:
    (repo / "deployed.json").write_text(json.dumps({"sales": when, "main": when}))
    return "deployed.json"


def test_a_test_starting_within_24_h_of_the_deployed_failover_warns(repo: Path) -> None:
    """The failover of sales went live at 03:00; a test starting at 12:00 is 9 h later."""
    (repo / "lines.yaml").write_text(with_test(BASE, "sales", "true"))
    deployed = _deployed(repo, "2026-11-30T03:00:00Z")
    result = run("diff", "--base", "main", "--deployed", deployed, cwd=repo, now=BEFORE)
    assert result.code == ExitCode.CHANGES
    assert (
        "warning: sales: test mode starts 9 h after its failover was deployed "
        "(2026-11-30 03:00 UTC); wait until 2026-12-01 03:00 UTC"
    ) in result.stdout
    assert "add early: true under test" in result.stdout
    markdown = run(
        "diff", "--base", "main", "--deployed", deployed, "--format", "markdown", cwd=repo,
        now=BEFORE,
    )  # fmt: skip
    assert "> [!WARNING]\n> sales: test mode starts 9 h after" in markdown.stdout


def test_the_24_h_rule_is_quiet_after_a_day_without_a_record_or_with_early(repo: Path) -> None:
    (repo / "lines.yaml").write_text(with_test(BASE, "sales", "true"))
    old = _deployed(repo, "2026-11-29T03:00:00Z")
    assert (
        "warning"
        not in run("diff", "--base", "main", "--deployed", old, cwd=repo, now=BEFORE).stdout
    )
    assert "warning" not in run("diff", "--base", "main", cwd=repo, now=BEFORE).stdout
    (repo / "lines.yaml").write_text(with_test(BASE, "sales", f"{{until: {UNTIL}, early: true}}"))
    recent = _deployed(repo, "2026-11-30T11:00:00Z")
    result = run("diff", "--base", "main", "--deployed", recent, cwd=repo, now=BEFORE)
    assert "warning" not in result.stdout, result.stdout


def test_early_true_also_silences_the_same_change_warning() -> None:
    old = loaded(BASE)
    new = loaded(
        with_test(
            BASE.replace("sales\n", 'sales\n    failover: {forward: "+14155550177"}\n', 1),
            "sales",
            "true",
        )
    )
    (change,) = [c for c in compare(old, new) if c.line_id == "sales"]
    assert change.warnings and "same change" in change.warnings[0]
    early = loaded(
        with_test(
            BASE.replace("sales\n", 'sales\n    failover: {forward: "+14155550177"}\n', 1),
            "sales",
            "{until: 2026-12-01T06:00:00Z, early: true}",
        )
    )
    (change,) = [c for c in compare(old, early) if c.line_id == "sales"]
    assert change.warnings == ()


def test_a_broken_deployed_file_is_an_error_saying_how_to_make_it(repo: Path) -> None:
    (repo / "deployed.json").write_text("[1, 2]")
    result = run("diff", "--base", "main", "--deployed", "deployed.json", cwd=repo, now=BEFORE)
    assert result.code == ExitCode.ERROR
    assert "pulumi stack output route_deployed_at --json" in result.stderr
    assert "Traceback" not in result.stderr


def test_early_warning_needs_a_recorded_time() -> None:
    config = loaded(with_test(BASE, "sales", "true"))
    line = config.lines[1]
    assert early_test_warning(line, None, BEFORE) is None
    assert early_test_warning(line, "2026-11-30T11:59:00Z", BEFORE) is not None
    # for the readiness check: every line in test mode, against the ledger's times
    (warning,) = early_test_warnings(
        config, {"main": "2026-11-30T11:00:00Z", "sales": "2026-11-30T11:00:00Z"}, BEFORE
    )
    assert warning.startswith("sales: test mode starts 1 h after its failover was deployed")


# -- the ledger records when each failover was deployed ----------------------------------------
def _ledger_props(config: LinesConfig) -> dict[str, Any]:
    return {
        "account": config.account,
        "routes": {line.id: "2:" + line.id for line in config.lines},
        "failovers": {line.id: failover_fingerprint(line) for line in config.lines},
    }


def test_the_ledger_keeps_a_lines_time_until_its_failover_changes() -> None:
    provider = LineLedgerProvider()
    first = _ledger_props(loaded(BASE))
    created = provider.create(first).outs
    assert set(created["deployed_at"]) == {"main", "sales"}
    # a test starting changes the route fingerprint but not the failover: the time stays
    started = {**_ledger_props(loaded(with_test(BASE, "sales", "true"))), "routes": {"main": "x"}}
    updated = provider.update("lines", created, started).outs
    assert updated["deployed_at"] == created["deployed_at"]
    rerouted = _ledger_props(loaded(BASE.replace("+14155550199", "+14155550177")))
    stamped = provider.update(
        "lines",
        {
            **created,
            "deployed_at": {"main": "2000-01-01T00:00:00Z", "sales": "2000-01-01T00:00:00Z"},
        },
        rerouted,
    ).outs
    assert stamped["deployed_at"]["sales"] == "2000-01-01T00:00:00Z"
    assert stamped["deployed_at"]["main"] != "2000-01-01T00:00:00Z"


def test_state_from_before_the_record_keeps_times_unknown_and_updates_once() -> None:
    provider = LineLedgerProvider()
    old_outputs = {"account": "acme", "routes": {"main": "2:a", "sales": "2:b"}}
    news = _ledger_props(loaded(BASE))
    news["routes"] = dict(old_outputs["routes"])
    assert provider.diff("lines", old_outputs, news).changes  # once, to store fingerprints
    updated = provider.update("lines", old_outputs, news).outs
    assert updated["deployed_at"] == {}  # unknown: no warning rather than a false one
    assert not provider.diff("lines", updated, news).changes


# -- the engine-model scenario: a real program run records the times; drift reports expiry ---
def test_a_real_run_records_deploy_times_and_drift_reports_an_expired_test(
    twilio_double: Any, tmp_path: Path
) -> None:
    text = with_test(BASE, "main", f"{{until: {UNTIL}}}")
    (tmp_path / "lines.yaml").write_text(text)
    config = load_config(tmp_path / "lines.yaml", "lines.yaml")[0]
    for line in config.lines:
        twilio_double.seed_number(line.number, voice_url="https://legacy.acme.example/" + line.id)
    engine = ProgramEngine.for_double(twilio_double)
    run_ = engine.up(config, StackSettings(stack="dev"), {})
    recorded = run_.outputs["route_deployed_at"]
    assert set(recorded) == {"main", "sales"}
    again = engine.up(config, StackSettings(stack="dev"), run_.state)
    assert again.outputs["route_deployed_at"] == recorded  # nothing rerouted: times kept
    # the journey: past until, a call still goes straight to the failover (main forwards),
    # because expiry is reported, never acted on by the clock
    journey = twilio_double.place_call(
        "+14155550100", "+16285550199", callees={"+14155550199": "answer"}
    )
    assert journey.find("error") == []  # the primary *is* the failover: nothing failed
    assert journey.find("dial")[0].text == "+14155550199 (timeout 20 s)"
    assert journey.outcome == "answered"
    environ = {
        "TWILIO_ACCOUNT_SID": twilio_double.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_double.auth_token,
        "TWILIO_API_BASE_URL": twilio_double.base_url,
    }
    before = run("drift", "--format", "json", cwd=tmp_path, now=BEFORE, environ=environ)
    assert before.code == ExitCode.OK, before.stdout + before.stderr
    after = run("drift", "--format", "json", cwd=tmp_path, now=AFTER, environ=environ)
    assert after.code == ExitCode.CHANGES
    (finding,) = json.loads(after.stdout)["differences"]
    assert finding["subject"] == "main" and finding["field"] == "test"
    assert finding["message"].startswith("test mode expired at 2026-12-01 06:00 UTC")
