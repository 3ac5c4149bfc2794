"""``failover agents`` against the double after a real apply of the shipped lines.yaml."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.agent_links import link_token
from infra.cli.status import ExitCode
from infra.model import Severity
from tests.harness.cli_runner import failover
from tests.test_agents_page import SECRET, open_link, with_secret
from tests.test_drift import ROOT, credentials
from tests.test_journeys import Applied, applied_double
from tests.test_journeys_queue import activity, on_duty
from tests.twilio_double import TwilioDouble


@pytest.fixture(scope="module")
def severe(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.SEVERE)


@pytest.fixture
def d(severe: Applied) -> Iterator[TwilioDouble]:
    yield from with_secret(severe)


def agents(d: TwilioDouble, *args: str) -> tuple[ExitCode, str, str]:
    result = failover("agents", *args, cwd=ROOT, environ=credentials(d))
    return result.code, result.stdout, result.stderr


def test_list_shows_each_agents_activity_per_queued_line_and_since_when(d: TwilioDouble) -> None:
    on_duty(d, "alice", "carol")
    code, out, err = agents(d, "--format", "json")
    assert code == ExitCode.OK and err == ""
    rows = {(r["line"], r["agent"]): r for r in json.loads(out)["agents"]}
    assert set(rows) == {("main", "alice"), ("main", "bob")} | {
        ("support", a) for a in ("alice", "bob", "carol", "dev", "erin")
    }
    assert rows[("main", "alice")]["activity"] == "On Duty" and rows[("main", "alice")]["on_duty"]
    assert rows[("main", "bob")]["activity"] == "Off Duty"
    assert rows[("support", "carol")]["on_duty"] is True
    (alice,) = [w for w in d.state.workers.values() if w["friendly_name"] == "alice"]
    assert rows[("main", "alice")]["since"] == alice["date_status_changed"]
    code, text, _ = agents(d)
    assert re.search(r"^main  Main line\n  alice\s+On Duty\s+since 20", text, re.M)


def test_severe_with_nobody_on_duty_for_a_line_warns_but_minor_does_not(d: TwilioDouble) -> None:
    on_duty(d, "carol")  # support has carol; main (alice, bob) has nobody
    code, out, err = agents(d, "--severity", "severe", "--format", "json")
    assert code == ExitCode.OK
    (warning,) = json.loads(out)["warnings"]
    assert warning.startswith("line main: no agent is On Duty (alice, bob)")
    assert err == f"warning: {warning}\n"
    _, out, err = agents(d, "--severity", "minor", "--format", "json")
    assert json.loads(out)["warnings"] == [] and err == ""


def test_admins_set_agents_on_and_off_duty(d: TwilioDouble) -> None:
    on_duty(d)
    code, out, _ = agents(d, "on", "alice", "bob")
    assert code == ExitCode.OK
    assert (activity(d, "alice"), activity(d, "bob")) == ("On Duty", "On Duty")
    assert re.search(r"alice\s+On Duty", out)
    assert agents(d, "off", "bob")[0] == ExitCode.OK
    assert (activity(d, "alice"), activity(d, "bob")) == ("On Duty", "Off Duty")


def test_an_unknown_agent_changes_nothing_and_exits_2(d: TwilioDouble) -> None:
    on_duty(d)
    before = d.writes()["Worker.update"]
    code, _, err = agents(d, "on", "alice", "mallory")
    assert code == ExitCode.USAGE and "unknown agent mallory" in err
    assert activity(d, "alice") == "Off Duty"
    assert agents(d, "on")[0] == ExitCode.USAGE  # on/off need agent ids
    assert d.writes()["Worker.update"] == before


def test_links_are_signed_with_the_deployed_secret_and_open_the_page(d: TwilioDouble) -> None:
    code, out, _ = agents(d, "links", "--format", "json")
    assert code == ExitCode.OK
    links = json.loads(out)["links"]
    assert set(links) == {"alice", "bob", "carol", "dev", "erin"}
    assert links["bob"].endswith(f"/agents?a=bob&t={link_token(SECRET, 'bob')}")
    assert SECRET not in out
    assert open_link(d, links["bob"]).status == 200
    _, text, _ = agents(d, "links", "alice")
    assert text.split() == ["alice", links["alice"]]


def test_links_without_a_secret_say_how_to_set_one(d: TwilioDouble) -> None:
    d.state.variables.clear()
    code, out, err = agents(d, "links")
    assert code == ExitCode.ERROR and out == ""
    assert "failover:agentLinkSecret" in err and "Traceback" not in err


def test_drift_warns_when_a_queued_line_has_nobody_on_duty_at_severity_severe(
    d: TwilioDouble,
) -> None:
    on_duty(d, "carol")
    result = failover("drift", "--severity", "severe", cwd=ROOT, environ=credentials(d))
    assert result.code == ExitCode.OK, result.stdout
    assert result.stderr.splitlines() == [
        "warning: line main: no agent is On Duty (alice, bob) while the stack is severe; "
        "its queued callers go straight to voicemail"
    ]
    on_duty(d, "bob", "carol")
    result = failover("drift", "--severity", "severe", cwd=ROOT, environ=credentials(d))
    assert (result.code, result.stderr) == (ExitCode.OK, "")


def test_listing_costs_three_requests_whatever_the_number_of_agents(d: TwilioDouble) -> None:
    """One workspace lookup, one page of workers (up to 1,000), one page of activities."""
    before = len(d.requests)
    assert agents(d)[0] == ExitCode.OK
    made = d.requests[before:]
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in made] == [
        ("GET", "Workspaces"),
        ("GET", "Workers"),
        ("GET", "Activities"),
    ]
