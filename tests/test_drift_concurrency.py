"""``failover drift`` reads with bounded concurrency and reports the same thing at any setting.

Against the shipped lines.yaml deployed by the real program (``tests.test_drift.deploy``):
the per-flow and per-worker fetches overlap, never beyond ``--concurrency`` (the double's
account limit is set to the same number and must never answer 429), and the report, or the
error when fetches fail, is byte for byte the one a one-at-a-time read gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra import routing
from infra.cli.status import ExitCode
from infra.lines.load import load_config
from infra.render import studio
from infra.render.studio import flow_specs
from tests.harness.cli_runner import failover
from tests.test_drift import ALERTS, ROOT, credentials, deploy
from tests.twilio_double import RecordedRequest


@pytest.fixture
def alerted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped lines with ``alerts.webhook`` under the earlier releases' rule (every line had
    a Studio flow; alerts now come from `failover status --notify`): drift still fetches the
    flows of a stack not yet upgraded, so there are flows to fetch."""
    old_rule = lambda line, severity, *, alerts: alerts  # noqa: E731
    monkeypatch.setattr(routing, "needs_flow", old_rule)
    monkeypatch.setattr(studio, "needs_flow", old_rule)
    text = (
        (ROOT / "lines.yaml")
        .read_text()
        .replace("# alerts:\n#   webhook: https://hooks.acme.example/failover\n", ALERTS)
    )
    assert ALERTS in text
    (tmp_path / "lines.yaml").write_text(text)
    return tmp_path


@pytest.fixture
def account(twilio_double: Any, alerted: Path) -> Any:
    deploy(twilio_double, load_config(alerted / "lines.yaml")[0])
    return twilio_double


def since(d: Any, start: int) -> list[RecordedRequest]:
    return d.requests[start:]


def peak_in_flight(requests: list[RecordedRequest]) -> int:
    """The most requests the double was answering at one moment."""
    edges = sorted(
        [(r.received + (r.elapsed_s or 0.0), -1) for r in requests]
        + [(r.received, 1) for r in requests]
    )
    now = peak = 0
    for _, delta in edges:
        now += delta
        peak = max(peak, now)
    return peak


def test_fetches_overlap_up_to_the_concurrency_and_the_report_does_not_change(
    account: Any, alerted: Path
) -> None:
    d, start = account, len(account.requests)
    one = failover("drift", "--concurrency", "1", cwd=alerted, environ=credentials(d))
    assert one.code == ExitCode.OK, one.stderr
    assert peak_in_flight(since(d, start)) == 1
    start = len(d.requests)
    d.limits.set(concurrent_requests=4)
    d.faults.add(latency=0.1, match="GET")
    four = failover("drift", "--concurrency", "4", cwd=alerted, environ=credentials(d))
    assert (four.code, four.stdout, four.stderr) == (one.code, one.stdout, one.stderr)
    read = since(d, start)
    fetches = [r for r in read if r.path.startswith(("/v2/Flows/FW", "/v1/Workspaces/WS"))]
    assert len(fetches) >= 11 + 5  # every flow and every agent's worker
    assert 2 <= peak_in_flight(read) <= 4
    assert [r for r in read if r.status == 429] == []


def test_the_stack_setting_gives_the_concurrency_and_the_flag_wins(
    account: Any, tmp_path: Any
) -> None:
    # tmp_path is where the alerted lines.yaml was written (the same test's directory)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  failover:concurrency: '1'\n")
    d, start = account, len(account.requests)
    d.faults.add(latency=0.05, match="GET")
    env = credentials(d) | {"FAILOVER_CONCURRENCY": "6"}
    assert failover("drift", "--stack", "dev", cwd=tmp_path, environ=env).code == ExitCode.OK
    assert peak_in_flight(since(d, start)) == 1  # the stack's key wins over the environment
    start = len(d.requests)
    flag = failover("drift", "--stack", "dev", "--concurrency", "6", cwd=tmp_path, environ=env)
    assert flag.code == ExitCode.OK
    assert peak_in_flight(since(d, start)) > 1


def test_the_first_failure_in_flow_order_is_reported_whatever_finishes_first(
    account: Any, alerted: Path
) -> None:
    """The first flow's fetch fails slowly, the last one's at once: the report names the
    first, as a one-at-a-time read does."""
    d = account
    specs = flow_specs(load_config(alerted / "lines.yaml")[0])
    sid = {f["friendly_name"]: f["sid"] for f in d.state.flows.values()}
    first, last = specs[0], specs[-1]
    d.faults.add(
        status=403, latency=0.3, match=f"GET studio.twilio.com /v2/Flows/{sid[first.name]}"
    )
    d.faults.add(status=404, match=f"GET studio.twilio.com /v2/Flows/{sid[last.name]}")
    results = [
        failover("drift", "--concurrency", n, cwd=alerted, environ=credentials(d))
        for n in ("1", "8")
    ]
    assert [r.code for r in results] == [ExitCode.ERROR] * 2
    assert results[0].stderr == results[1].stderr
    assert f"{first.line.id}: fetch Studio flow {first.name!r} failed" in results[1].stderr
    assert "Traceback" not in results[1].stderr


@pytest.mark.parametrize("value", ["0", "101", "many"])
def test_a_bad_concurrency_is_a_usage_error_naming_the_range(value: str) -> None:
    result = failover("drift", "--concurrency", value, cwd=ROOT, environ={})
    assert result.code == ExitCode.USAGE
    assert f"--concurrency: must be a whole number from 1 to 100, not '{value}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_stack_setting_names_the_key(tmp_path: Any) -> None:
    # tmp_path is where the alerted lines.yaml was written (the same test's directory)
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  failover:concurrency: lots\n")
    result = failover("drift", "--stack", "dev", cwd=tmp_path, environ={})
    assert result.code == ExitCode.ERROR
    assert "failover:concurrency must be a whole number from 1 to 100, not 'lots'" in result.stderr
