"""What keeps a large run linear: one whole-account listing per run, shared by every resource
(infra/twilio/listings.py), and batched writes inside one provider call made
``failover:concurrency`` at a time (infra/twilio/concurrency.py).

Through Pulumi's real provider host (one process per run, as ``pulumi up`` starts), against
the Twilio double, counting the list requests that reach it; plus the listing's own rules
(our writes win over an older listing, a fresh listing forgets them).
"""

from __future__ import annotations

from typing import Any

from infra.providers.phone_number import PhoneNumberFailoverProvider
from infra.providers.studio_flow import StudioFlowProvider
from infra.twilio.listings import Listing
from tests.harness.host import ProviderHost
from tests.harness.support import Driven
from tests.providers.test_studio_flow import args

PRIMARY = "https://voice.acme.example/"


def flow_lists(d: Any) -> int:
    return sum(r.method == "GET" and r.path == "/v2/Flows" for r in d.requests)


def number_lists(d: Any) -> int:
    """Whole-account number listings (a lookup by E.164 carries ``PhoneNumber``)."""
    return sum(
        r.method == "GET" and r.path.endswith("/IncomingPhoneNumbers.json")
        and "PhoneNumber" not in r.query
        for r in d.requests
    )  # fmt: skip


def flows(host: ProviderHost, count: int) -> list[Driven]:
    made = []
    for i in range(count):
        res = Driven(host, StudioFlowProvider(), "StudioFlow", f"flow-{i}")
        res.create(args(line=f"line-{i}", friendly_name=f"acme-dev-failover-line-{i}"))
        made.append(res)
    return made


def test_creates_in_one_run_share_one_flow_listing(double: Any, host: ProviderHost) -> None:
    client = double.client(timeout=5)
    for i in range(30):  # flows of other teams in the same account
        client.studio.v2.flows.create(
            friendly_name=f"other-{i}", status="published", definition=args()["definition"]
        )
    made = flows(host, 6)
    assert flow_lists(double) == 1  # not one per create
    assert double.writes()["Flow.create"] == 30 + 6
    assert len({res.id for res in made}) == 6


def test_deletes_share_one_number_listing_and_see_the_runs_own_restores(
    double: Any, host: ProviderHost
) -> None:
    """Flow X is deleted first (the listing is made: B still sends calls to Y); then B is
    pointed elsewhere by its provider; deleting Y must see that write without listing
    again, and without fetching B to find out."""
    x, y = flows(host, 2)
    for i, number in enumerate(("+14155550101", "+14155550102")):
        double.seed_number(number, voice_url=f"{PRIMARY}{i}")
    a = Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "a")
    a.create(
        {"line": "a", "phone_number": "+14155550101", "fallback_url": x.outputs["webhook_url"]}
    )
    b = Driven(host, PhoneNumberFailoverProvider(), "PhoneNumberFailover", "b")
    b.create(
        {"line": "b", "phone_number": "+14155550102", "fallback_url": y.outputs["webhook_url"]}
    )
    adoptions = number_lists(double)  # adoption lists the numbers once too (find_number)
    a.delete()  # restores A: nothing points at X any more
    x.delete()
    assert number_lists(double) - adoptions == 1
    b.update({"line": "b", "phone_number": "+14155550102", "fallback_url": PRIMARY + "other"})
    fetches_before = len(double.requests)
    y.delete()
    assert double.state.flows == {}
    assert number_lists(double) - adoptions == 1
    after = double.requests[fetches_before:]
    assert [(r.method, r.host) for r in after] == [("DELETE", "studio.twilio.com")]


# ---- the listing's rules, without Twilio ---------------------------------------------------


class FakeTwilio:
    account_sid, base_url = "AC" + "0" * 32, ""


def test_our_writes_win_until_a_fresh_listing_and_a_drop_lists_again() -> None:
    account = {"N1": "old", "N2": "kept"}
    loads: list[dict[str, str]] = []

    def load(_tw: Any) -> dict[str, str]:
        loads.append(dict(account))
        return dict(account)

    listing: Listing[str] = Listing(load, max_age_s=None)
    tw: Any = FakeTwilio()
    assert listing.get(tw) == {"N1": "old", "N2": "kept"}
    listing.remember("N1", "ours")
    listing.remember("N2", None)  # deleted by us
    listing.remember("N3", "new")
    assert listing.get(tw) == {"N1": "ours", "N3": "new"}
    assert len(loads) == 1
    account.update(N1="console", N3="new")
    del account["N2"]
    assert listing.get(tw, fresh=True) == {"N1": "console", "N3": "new"}  # newer than ours
    listing.drop()
    listing.get(tw)
    assert len(loads) == 3 and listing.loads == 3


def test_a_listing_older_than_its_max_age_is_made_again() -> None:
    loads: list[int] = []

    def load(_tw: Any) -> dict[str, int]:
        loads.append(1)
        return {}

    tw: Any = FakeTwilio()
    always_stale: Listing[int] = Listing(load, max_age_s=-1.0)
    always_stale.get(tw)
    always_stale.get(tw)
    assert len(loads) == 2
    never_stale: Listing[int] = Listing(load, max_age_s=None)
    never_stale.get(tw)
    never_stale.get(tw)
    assert len(loads) == 3


# ---- batched writes inside one provider call -----------------------------------------------


def test_a_call_queues_workers_are_written_failover_concurrency_at_a_time(double: Any) -> None:
    """``failover:concurrency`` reaches the provider host through the stack config: 12 new
    workers are created 3 at a time (the account allows 3: no 429), not one by one."""
    from tests.harness.support import start_host
    from tests.providers.test_call_queue import agent, args, queue
    from tests.test_drift_concurrency import peak_in_flight

    host = start_host(double, **{"failover:concurrency": "3"})
    try:
        double.limits.set(concurrent_requests=3)
        double.faults.add(latency=0.1, match="POST taskrouter.twilio.com")
        workers = {f"agent-{i:02d}": agent(f"+141555502{i:02d}", "main") for i in range(12)}
        outs = queue(host).create(args(workers=workers))
    finally:
        host.close()
    assert sorted(outs["workers"]) == sorted(workers)
    creates = [r for r in double.requests if r.method == "POST" and r.path.endswith("/Workers")]
    assert len(creates) == 12 and {r.status for r in creates} == {201}
    assert 2 <= peak_in_flight(creates) <= 3
    assert [r for r in double.requests if r.status == 429] == []
