"""Bounded concurrency for Twilio requests: one helper, one default, one per-account cap.

Why: a drift check of a large stack fetches thousands of flows, and batched writes (document
uploads, number updates) are as many requests; one at a time they take minutes of waiting on
the network. Twilio limits concurrent REST requests *per account* and answers 429 (error
20429, "Too many concurrent requests"; the request was not processed and is safe to retry:
https://www.twilio.com/docs/api/errors/20429). Twilio publishes no number; 100 is the
commonly cited default (unconfirmed).

- ``bounded_map(fn, items, limit=N)`` runs ``fn`` over ``items`` with at most ``N`` calls at
  once and returns one ``Outcome`` per item **in the items' order** (whatever order they
  finish in), each with its value or the exception it raised: errors are collected per item,
  never lost, and ``values()`` re-raises the first one in item order, so what a user sees does
  not depend on timing. ``stop_on_error=True`` starts no new item after a failure (writes:
  do not make 1,000 requests when the credentials are wrong); those get ``Skipped``.
- ``DEFAULT_CONCURRENCY`` (10) is deliberately far below 100: the limit is shared with
  everything else using the account, above all the customer's own call handling, which must
  not get 429s because a drift check runs. 10 is also what Twilio's own serverless toolkit
  uses (``TWILIO_SERVERLESS_API_CONCURRENCY``, twilio-labs/serverless-toolkit). Configure it
  with the stack key ``failover:concurrency`` (read by ``infra.stack``; providers get it in
  ``configure()``), ``FAILOVER_CONCURRENCY`` in the environment, or ``failover drift
  --concurrency N``; 1 to ``MAX_CONCURRENCY``.
- ``account_gate(settings)``: the one semaphore per account and API host of this process.
  ``infra.twilio.client`` holds it around every HTTP request (retries and ``Retry-After``
  waits included), so nested helpers and the provider host's 4 threads together never have
  more than ``concurrency`` requests in flight to one account.

Standard library only (``concurrent.futures``): threads suit requests that wait on the
network, and it is what the uploads already used. Must not import: pulumi, infra.providers,
infra.cli.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from infra.stack import DEFAULT_CONCURRENCY, MAX_CONCURRENCY, Settings

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_CONCURRENCY",
    "Outcome",
    "Skipped",
    "account_gate",
    "bounded_map",
    "values",
]

T = TypeVar("T")
R = TypeVar("R")


class Skipped(Exception):  # noqa: N818 - an outcome, not a failure of its own
    """The item was not started because an earlier one failed (``stop_on_error``)."""


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T, R]):
    """What one item gave: ``value`` when ``error`` is None."""

    item: T
    value: R | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def bounded_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    limit: int,
    stop_on_error: bool = False,
    name: str = "twilio",
) -> list[Outcome[T, R]]:
    """``fn(item)`` for every item, at most ``limit`` at once; outcomes in the items' order.

    ``limit`` 1 (or a single item) runs in the calling thread. An ``Exception`` raised by
    ``fn`` is kept in that item's outcome; ``BaseException`` (KeyboardInterrupt) propagates.
    """
    todo = list(items)
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    failed = threading.Event()

    def one(item: T) -> Outcome[T, R]:
        if stop_on_error and failed.is_set():
            return Outcome(item, error=Skipped("not started: an earlier item failed"))
        try:
            return Outcome(item, fn(item))
        except Exception as exc:  # noqa: BLE001 - kept per item, re-raised by values()
            failed.set()
            return Outcome(item, error=exc)

    workers = min(limit, len(todo))
    if workers <= 1:
        return [one(item) for item in todo]
    with ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        return list(pool.map(one, todo))


def values(outcomes: Iterable[Outcome[T, R]]) -> list[R]:
    """The values in order; the first error in item order is raised (a real failure before a
    ``Skipped``, so the cause is what surfaces)."""
    done = list(outcomes)
    errors = [o.error for o in done if o.error is not None]
    real = [e for e in errors if not isinstance(e, Skipped)]
    if real or errors:
        raise (real or errors)[0]
    return [cast(R, o.value) for o in done]


_GATES: dict[tuple[str, str, int], threading.BoundedSemaphore] = {}
_GATES_LOCK = threading.Lock()


def account_gate(settings: Settings) -> threading.BoundedSemaphore:
    """The process-wide semaphore of ``settings``' account, base URL and ``concurrency``: every
    client of one run shares it (one process serves one run with one configuration)."""
    key = (settings.account_sid, settings.base_url or "", settings.concurrency)
    with _GATES_LOCK:
        gate = _GATES.get(key)
        if gate is None:
            gate = _GATES[key] = threading.BoundedSemaphore(settings.concurrency)
        return gate
