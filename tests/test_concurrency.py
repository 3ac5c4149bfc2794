"""infra/twilio/concurrency.py and its settings: bounded maps, per-account gate, 429 retries.

No timings are asserted: overlap is forced with barriers (which prove that ``limit`` calls
ran at once) and in-flight counters (which prove that no more did).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from urllib3.util.retry import Retry

from infra.errors import InfraError
from infra.stack import (
    DEFAULT_CONCURRENCY,
    Settings,
    read_concurrency,
    stack_settings,
    twilio_settings,
)
from infra.twilio.client import Twilio
from infra.twilio.concurrency import Skipped, account_gate, bounded_map, values

NUMBERS = [f"+1415555{i:04d}" for i in range(12)]


class InFlight:
    """Counts calls running at once; the most seen is ``peak``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = self.peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.now -= 1


def test_results_come_in_item_order_with_exactly_limit_calls_at_once() -> None:
    limit, counter = 4, InFlight()
    together = threading.Barrier(limit, timeout=30)  # only passes when `limit` are in at once

    def square(i: int) -> int:
        with counter:
            together.wait()
            return i * i

    outcomes = bounded_map(square, range(20), limit=limit)
    assert [o.item for o in outcomes] == list(range(20))
    assert values(outcomes) == [i * i for i in range(20)]
    assert counter.peak == limit


def test_errors_are_kept_per_item_and_the_first_in_item_order_is_raised() -> None:
    def odd_fails(i: int) -> int:
        if i % 2:
            raise ValueError(f"item {i}")
        return i

    outcomes = bounded_map(odd_fails, range(8), limit=3)
    assert [o.ok for o in outcomes] == [True, False] * 4
    assert [str(o.error) for o in outcomes if not o.ok] == ["item 1", "item 3", "item 5", "item 7"]
    with pytest.raises(ValueError, match="item 1"):
        values(outcomes)


def test_stop_on_error_starts_nothing_after_a_failure_and_raises_the_cause() -> None:
    started: list[int] = []

    def fails_at_two(i: int) -> int:
        started.append(i)
        if i == 2:
            raise RuntimeError("bad credentials")
        return i

    outcomes = bounded_map(fails_at_two, range(6), limit=1, stop_on_error=True)
    assert started == [0, 1, 2]
    assert [type(o.error) for o in outcomes[3:]] == [Skipped] * 3
    with pytest.raises(RuntimeError, match="bad credentials"):
        values(outcomes)


def test_limit_one_runs_in_the_calling_thread_and_zero_is_refused() -> None:
    outcomes = bounded_map(lambda _: threading.current_thread(), [1, 2], limit=1)
    assert values(outcomes) == [threading.current_thread()] * 2
    with pytest.raises(ValueError, match="at least 1"):
        bounded_map(str, [1], limit=0)


# ---- settings ------------------------------------------------------------------------------


def test_concurrency_comes_from_the_stack_key_then_the_environment_then_the_default() -> None:
    config = {"failover:concurrency": "25"}
    assert read_concurrency(config.get, {"FAILOVER_CONCURRENCY": "5"}) == 25
    assert read_concurrency({}.get, {"FAILOVER_CONCURRENCY": "5"}) == 5
    assert read_concurrency({}.get, {}) == DEFAULT_CONCURRENCY == 10
    assert stack_settings("dev", {"failover:concurrency": 40}.get).concurrency == 40
    assert stack_settings("dev", {}.get).concurrency is None


@pytest.mark.parametrize("bad", ["0", "101", "ten", "2.5", True, "-3"])
def test_a_bad_concurrency_names_the_key_and_the_range(bad: object) -> None:
    with pytest.raises(
        InfraError, match=r"failover:concurrency must be a whole number from 1 to 100"
    ):
        read_concurrency({"failover:concurrency": bad}.get, {})
    env = {
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "t",
        "FAILOVER_CONCURRENCY": str(bad),
    }
    reason = twilio_settings(lambda _key: None, env)
    assert isinstance(reason, str) and reason.startswith("FAILOVER_CONCURRENCY must be")


# ---- the account gate and 429 against the double's concurrency limit ---------------------


@pytest.fixture
def double(twilio_double: Any) -> Any:
    return twilio_double


def _client(d: Any, concurrency: int) -> Twilio:
    return Twilio(
        Settings(d.account_sid, d.account_sid, d.auth_token, d.base_url, 10.0, concurrency)
    )


def _fetch_all(tw: Twilio, sids: list[str], threads: int) -> list[str]:
    def fetch(sid: str) -> str:
        with tw.errors("account", f"fetch {sid}", writes=False):
            return str(tw.rest.api.v2010.account.incoming_phone_numbers(sid).fetch().phone_number)

    return values(bounded_map(fetch, sids, limit=threads))


def test_the_gate_keeps_requests_within_the_account_limit(double: Any) -> None:
    """12 threads, concurrency 3, the account allows 3: Twilio never has to say 429."""
    sids = [double.seed_number(n, voice_url="https://voice.example.com/in")["sid"] for n in NUMBERS]
    double.limits.set(concurrent_requests=3)
    double.faults.add(latency=0.05)
    tw = _client(double, 3)
    assert _fetch_all(tw, sids, threads=12) == NUMBERS
    assert [r.status for r in double.requests] == [200] * 12
    assert account_gate(tw._settings) is account_gate(_client(double, 3)._settings)  # noqa: SLF001


def test_429_past_the_account_limit_is_retried_after_retry_after(
    double: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Concurrency 8 against an account that allows 2: Twilio answers 20429 with Retry-After;
    every request is retried after the time Twilio asked for and all succeed."""
    sids = [
        double.seed_number(n, voice_url="https://voice.example.com/in")["sid"] for n in NUMBERS[:6]
    ]
    double.limits.set(concurrent_requests=2, retry_after=0.3)
    double.faults.add(latency=0.2)
    waits: list[float | None] = []
    sleep = Retry.sleep_for_retry

    def recorded(self: Retry, response: Any = None) -> bool:
        waits.append(self.get_retry_after(response))
        return sleep(self, response)

    monkeypatch.setattr(Retry, "sleep_for_retry", recorded)
    assert _fetch_all(_client(double, 8), sids, threads=6) == NUMBERS[:6]
    throttled = [r for r in double.requests if r.status == 429]
    assert throttled, "the account limit was never reached: the test proves nothing"
    assert {r.response_body["code"] for r in throttled} == {20429}
    assert len(waits) == len(throttled) and set(waits) == {0.3}
    assert sum(r.status == 200 for r in double.requests) == 6
