"""Whole-account listings, read once per process and shared by every resource that needs one.

Why: Twilio has no lookup for two questions providers must ask. Studio flows cannot be
filtered by name (the list takes only ``PageSize``/``PageToken``:
https://www.twilio.com/docs/studio/rest-api/v2/flow, "Read multiple Flow resources"; Twilio's
OpenAPI file agrees), and IncomingPhoneNumbers cannot be filtered by voice URL (only
``PhoneNumber``, ``FriendlyName``, ``Beta``, ``Origin``:
https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource, "Read multiple
IncomingPhoneNumber resources"). Listing per resource made a first apply quadratic (10,000
flows: 12 requests and 8.7 MB per create). The provider host is one process per ``pulumi
up`` (pulumi-dynamic-providers.md §2.1), so one listing per process is one per run.

- Flows by friendly name (``flow_sids_named``: the lookup before a create, so an
  interrupted earlier run is adopted rather than duplicated). Listed at the first create of
  the run; our own creates, renames and deletes are added to it. Staleness: a flow someone
  else creates *during* the run is not seen; if it has one of our names we create a second
  one, and the next run refuses with "2 Studio flows are named ..." (nothing is lost or
  misrouted). A create that fails drops the listing (the request may have reached Twilio);
  answers that lead to an adoption or a refusal are confirmed (fetch by SID, fresh list).
- Numbers by voice URLs (``numbers_pointing_at`` in ``infra.twilio.numbers``: deletes of
  flows and documents refuse while a number still sends calls to them). Listed at the first
  such delete, refreshed when older than ``NUMBERS_MAX_AGE_S``; every number this process
  writes or fetches replaces its listed value, so the number restores Pulumi runs before
  the deletes they unblock are seen. A number that appears to still point is fetched again
  before a refusal. Staleness: a number pointed at the resource by someone else after the
  listing (at most ``NUMBERS_MAX_AGE_S`` before the delete) is not seen, and the delete goes
  ahead; that number's calls would then fail over to nothing. Before, the same race existed
  for the span of one list.

Thread-safe (the provider host runs 4 calls at once): one listing at a time per account;
other callers wait for it and share it. Must not import: pulumi, infra.providers, infra.cli.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from infra.twilio.client import Twilio
from infra.twilio.values import text

PAGE_SIZE = 1000
"""Largest page Twilio serves (twilio.md §1.6)."""
NUMBERS_MAX_AGE_S = 60.0
"""How old the shared number listing may be when a delete consults it (see module doc)."""

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class NumberUrls:
    """What a delete needs to know of a number: where its calls go."""

    phone_number: str
    voice_url: str
    voice_fallback_url: str


class Listing(Generic[V]):
    """One account's listing (SID -> value) plus this process's own writes on top."""

    def __init__(self, load: Callable[[Twilio], dict[str, V]], max_age_s: float | None) -> None:
        self._load, self._max_age_s = load, max_age_s
        self._load_lock = threading.Lock()  # one listing at a time; others wait and share it
        self._lock = threading.Lock()  # the data below; never held across a request
        self._listed: dict[str, V] | None = None
        self._listed_at = 0.0
        self._written: dict[str, tuple[float, V | None]] = {}
        self.loads = 0
        """How many listings were made (tests and benchmarks read it)."""

    def get(self, tw: Twilio, *, fresh: bool = False) -> dict[str, V]:
        """SID -> value: the listing (made now if missing, stale or ``fresh``) with this
        process's writes applied (a write made after the listing started wins)."""
        with self._load_lock:
            age = time.monotonic() - self._listed_at
            stale = self._max_age_s is not None and age > self._max_age_s
            if self._listed is None or fresh or stale:
                started = time.monotonic()
                listed = self._load(tw)
                with self._lock:
                    self._listed, self._listed_at = listed, started
                    self.loads += 1
                    self._written = {k: w for k, w in self._written.items() if w[0] >= started}
        with self._lock:
            merged = dict(self._listed or {})
            for sid, (_, value) in self._written.items():
                if value is None:
                    merged.pop(sid, None)
                else:
                    merged[sid] = value
            return merged

    def remember(self, sid: str, value: V | None) -> None:
        """Our own write: ``value`` is now true of ``sid`` (None: it is gone)."""
        with self._lock:
            self._written[sid] = (time.monotonic(), value)

    def drop(self) -> None:
        """Forget the listing (not our writes): the next ``get`` lists again."""
        with self._lock:
            self._listed = None


_LISTINGS: dict[tuple[str, str, str], Listing[Any]] = {}
_LISTINGS_LOCK = threading.Lock()


def _listing(tw: Twilio, kind: str) -> Listing[Any]:
    key = (kind, tw.account_sid, tw.base_url)
    with _LISTINGS_LOCK:
        found = _LISTINGS.get(key)
        if found is None:
            load, max_age = _KINDS[kind]
            found = _LISTINGS[key] = Listing(load, max_age)
        return found


def _load_flows(tw: Twilio) -> dict[str, str]:
    with tw.errors("stack", "list Studio flows"):
        return {
            text(f.sid): text(f.friendly_name)
            for f in tw.rest.studio.v2.flows.list(page_size=PAGE_SIZE)
        }


def _load_numbers(tw: Twilio) -> dict[str, NumberUrls]:
    with tw.errors("stack", "list incoming phone numbers"):
        listed = tw.rest.api.v2010.account.incoming_phone_numbers.list(page_size=PAGE_SIZE)
    return {text(n.sid): number_urls(n) for n in listed}


_KINDS: dict[str, tuple[Callable[[Twilio], dict[str, Any]], float | None]] = {
    "flows": (_load_flows, None),
    "numbers": (_load_numbers, NUMBERS_MAX_AGE_S),
}


def number_urls(number: Any) -> NumberUrls:
    return NumberUrls(
        text(number.phone_number), text(number.voice_url), text(number.voice_fallback_url)
    )


def flows(tw: Twilio) -> Listing[str]:
    """The shared flow listing of ``tw``'s account: SID -> friendly name."""
    return _listing(tw, "flows")


def numbers(tw: Twilio) -> Listing[NumberUrls]:
    """The shared number listing of ``tw``'s account: SID -> ``NumberUrls``."""
    return _listing(tw, "numbers")


def flow_sids_named(tw: Twilio, name: str, *, fresh: bool = False) -> list[str]:
    """SIDs of the flows named ``name``, sorted, from the shared listing."""
    return sorted(sid for sid, named in flows(tw).get(tw, fresh=fresh).items() if named == name)
