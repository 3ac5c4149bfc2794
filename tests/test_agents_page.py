"""The agents' failover page (``/agents``) after a real apply of the shipped lines.yaml.

The Function runs under node in the double, reads and writes TaskRouter through the double's
contract-checked API, and gets ``AGENT_LINK_SECRET`` from the environment's Variables, put
there the way the ``AgentLinkSecret`` provider does (``infra.twilio.variables``). Links are
signed by ``infra.agent_links``: the Python and JavaScript HMACs must agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from infra.agent_links import agent_link, link_token
from infra.model import Severity
from infra.naming import AGENT_LINK_SECRET_VARIABLE, SHARED_ENV
from infra.stack import Settings
from infra.twilio.client import Twilio
from infra.twilio.variables import put_variable
from tests.test_journeys import Applied, applied_double, checked
from tests.test_journeys_queue import ALICE, BOB, activity, callers, on_duty
from tests.twilio_double import TwilioDouble
from tests.twilio_double.internet import Fetched

SECRET = "k3Jt9v0QmXc2b7YwZ1r8Lp4NsA6dE5fGhU0iO9pTq=="
ROTATED = "Zq8wX3vB6nM1kJ4hG7fD2sA5pO0iU9yT8rE3wQ6zL="


@pytest.fixture(scope="module")
def severe(twilio_spec_dir: Path) -> Iterator[Applied]:
    yield from applied_double(twilio_spec_dir, Severity.SEVERE)


def with_secret(severe: Applied) -> Iterator[TwilioDouble]:
    """The applied account, restored, with the link secret installed as the provider does."""
    double = next(gen := checked(severe))
    install_secret(double, SECRET)
    yield double
    next(gen, None)


@pytest.fixture
def d(severe: Applied) -> Iterator[TwilioDouble]:
    yield from with_secret(severe)


def twilio(d: TwilioDouble) -> Twilio:
    return Twilio(Settings(d.account_sid, d.account_sid, d.auth_token, d.base_url, 10.0))


def environment(d: TwilioDouble) -> dict[str, str]:
    """The ``shared`` environment: the one serving the Functions, the agents' page among them."""
    (env,) = [e for e in d.state.environments.values() if e["unique_name"] == SHARED_ENV]
    return env


def install_secret(d: TwilioDouble, secret: str) -> None:
    env = environment(d)
    put_variable(
        twilio(d), "test", env["service_sid"], env["sid"], AGENT_LINK_SECRET_VARIABLE, secret
    )


def link(d: TwilioDouble, agent: str, secret: str = SECRET) -> str:
    return agent_link(environment(d)["domain_name"], agent, secret)


def open_link(d: TwilioDouble, url: str, method: str = "GET", **form: str) -> Fetched:
    """What a phone browser does: an unsigned request (query for GET, form for POST)."""
    if method == "POST":
        query = dict(parse_qsl(urlsplit(url).query))
        base = url.split("?")[0]
        return d.voice.request(base, "POST", {**query, **form}, signed=False)
    return d.voice.request(url, "GET", {}, signed=False)


def api_reads(d: TwilioDouble) -> list[str]:
    return [r["url"] for r in d.voice.internet.log if r.get("from") == "function" and r.get("api")]


def waiting(page: str, line: str) -> int:
    found = re.search(rf'id="waiting-{line}">[^<]*: <b>(\d+)</b>', page)
    assert found, page
    return int(found.group(1))


def test_the_link_shows_the_agents_state_and_both_buttons(d: TwilioDouble) -> None:
    on_duty(d, "alice")
    page = open_link(d, link(d, "alice"))
    assert page.status == 200 and page.content_type.startswith("text/html")
    assert "<h1>Alice Ng</h1>" in page.body
    assert re.search(r'id="state">On Duty<', page.body)
    assert 'value="on" class="current"' in page.body and 'value="off">' in page.body
    assert (waiting(page.body, "main"), waiting(page.body, "support")) == (0, 0)
    assert 'name="viewport"' in page.body  # phone-sized
    (worker,) = [w for w in d.state.workers.values() if w["friendly_name"] == "alice"]
    assert f'datetime="{worker["date_status_changed"]}"' in page.body


def test_an_agent_sees_only_the_lines_they_serve(d: TwilioDouble) -> None:
    page = open_link(d, link(d, "carol")).body
    assert waiting(page, "support") == 0
    assert 'id="waiting-main"' not in page


@pytest.mark.parametrize(
    "query",
    [
        "a=alice&t=" + "A" * 43,  # wrong token
        "a=alice",  # no token
        "a=mallory&t=TOKEN_OF_MALLORY",  # not an agent of lines.yaml
        "a=bob&t=TOKEN_OF_ALICE",  # another agent's token
    ],
)
def test_a_forged_link_is_refused_before_anything_is_read(d: TwilioDouble, query: str) -> None:
    query = query.replace("TOKEN_OF_MALLORY", link_token(SECRET, "mallory"))
    query = query.replace("TOKEN_OF_ALICE", link_token(SECRET, "alice"))
    url = f"https://{environment(d)['domain_name']}/agents?{query}"
    for page in (open_link(d, url), open_link(d, url, "POST", action="off")):
        assert page.status == 403
        assert "not valid" in page.body and "Alice" not in page.body
    assert api_reads(d) == []  # nothing read, so nothing written either


def test_rotating_the_secret_revokes_every_old_link_without_a_deploy(d: TwilioDouble) -> None:
    old = link(d, "alice")
    builds = len(d.state.builds)
    install_secret(d, ROTATED)
    assert open_link(d, old).status == 403
    assert open_link(d, link(d, "alice", ROTATED)).status == 200
    assert len(d.state.builds) == builds


def test_without_a_secret_every_link_is_refused(d: TwilioDouble) -> None:
    d.state.variables.clear()
    assert open_link(d, link(d, "alice")).status == 403


def test_off_duty_then_on_duty_buttons_change_the_worker_and_come_back_to_the_page(
    d: TwilioDouble,
) -> None:
    on_duty(d, "alice")
    url = link(d, "alice")
    off = open_link(d, url, "POST", action="off")
    assert off.status == 303
    assert off.headers["Location"] == "?" + urlsplit(url).query  # back to the page (PRG)
    assert activity(d, "alice") == "Off Duty"
    page = open_link(d, url).body
    assert re.search(r'id="state">Off Duty<', page) and 'value="off" class="current"' in page
    assert open_link(d, url, "POST", action="on").status == 303
    assert activity(d, "alice") == "On Duty"


def test_the_page_counts_the_callers_waiting_on_each_line(d: TwilioDouble) -> None:
    """Alice is On Duty but misses every ring, so callers hold on main; bob (Off Duty) opens
    his page 30 s in: two callers are waiting on main, none on support."""
    on_duty(d, "alice")
    seen: list[str] = []
    d.voice.sim.at(30, lambda: seen.append(open_link(d, link(d, "bob")).body))
    d.voice.place_calls(callers(2, every=5), callees={ALICE: "no-answer"})
    (page,) = seen
    assert (waiting(page, "main"), waiting(page, "support")) == (2, 0)


def test_an_agent_going_on_duty_from_the_page_takes_the_waiting_caller(d: TwilioDouble) -> None:
    """Nobody answers on main (alice misses); 25 s in bob taps On Duty on his page and the
    holding caller is put through to him."""
    on_duty(d, "alice")
    d.voice.sim.at(25, lambda: open_link(d, link(d, "bob"), "POST", action="on"))
    (journey,) = d.voice.place_calls(callers(1), callees={ALICE: "no-answer", BOB: "answer:3"})
    assert journey.answered_by == f"agent bob ({BOB})"
    bridged = journey.find("bridged")[0]
    assert bridged.at > 25


def test_a_page_view_costs_three_reads_and_a_tap_one_write_more(d: TwilioDouble) -> None:
    """Whatever the number of agents or callers: the workspace by name, the agent's worker by
    name, one list of the waiting tasks; a tap reads the activities instead of the tasks."""
    on_duty(d, "alice")
    open_link(d, link(d, "alice"))
    view = [r for r in d.voice.internet.log if r.get("from") == "function" and r.get("api")]
    assert [(r["method"], urlsplit(r["url"]).path.rsplit("/", 1)[-1]) for r in view] == [
        ("GET", "Workspaces"),
        ("GET", "Workers"),
        ("GET", "Tasks"),
    ]
    d.voice.internet.log.clear()
    open_link(d, link(d, "alice"), "POST", action="off")
    tap = [r for r in d.voice.internet.log if r.get("from") == "function" and r.get("api")]
    assert [r["method"] for r in tap] == ["GET", "GET", "GET", "POST"]
    assert "RejectPendingReservations=true" in tap[-1]["body"]
