"""Read what a Twilio account holds, with the fewest requests, as plain values for reports.

Used by ``failover drift``, ``import`` and ``voicemails``. Why here and not under
``infra/providers``: a provider manages one resource; this reads several kinds at once for a
report and writes nothing. It goes through ``infra.twilio`` (the one importer of
``twilio.rest``), so it shares the providers' retries (429 and connection failures; GETs are
safe to repeat) and error translation into ``ProviderError``.

Request budget (twilio.md §12), N numbers, F of our flows, W of our workers:
- numbers: ⌈N/1000⌉ list pages (PageSize=1000, following ``next_page_uri``);
- flows: one list (``definition`` is null in lists) + one fetch per flow we deploy;
- Serverless: the service by unique name (or the list when no stack is given) + its
  environments, for ``domain_name``;
- TaskRouter: workspace (by FriendlyName), activities, task queues, workflows, workers lists
  + one fetch per worker we declare (``attributes`` is null in lists).

The per-flow and per-worker fetches run ``tw.concurrency`` at a time
(``infra.twilio.concurrency``: ``failover:concurrency``, ``--concurrency``); list pages
follow one another (each needs the previous page's token). A failed fetch fails the read
with the first failure in name order, whatever order the fetches finished in.

Credentials come from ``infra.stack`` (``infra.twilio.client.connect``) and appear in no
message. Must not import: pulumi, twilio, infra.lines, infra.program, infra.cli.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from infra.errors import InfraError
from infra.naming import ON_DUTY, service_unique_name
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.concurrency import bounded_map, values
from infra.twilio.values import text

PAGE_SIZE = 1000
"""Largest page Twilio serves (twilio.md §1.6): one request per 1,000 numbers."""


class Progress(Protocol):
    """Called as ``progress("numbers", records_so_far)`` after each page, or with a stage alone."""

    def __call__(self, stage: str, count: int | None = None, /) -> None: ...


def _no_progress(_stage: str, _count: int | None = None, /) -> None:
    pass


@dataclass(frozen=True, slots=True)
class LiveNumber:
    """An IncomingPhoneNumber's voice settings; unset fields are "" (None and "" are equal)."""

    sid: str
    phone_number: str
    friendly_name: str
    voice_url: str
    voice_method: str
    voice_fallback_url: str
    voice_fallback_method: str
    voice_application_sid: str
    trunk_sid: str
    sms_url: str = ""
    sms_fallback_url: str = ""
    sms_fallback_method: str = ""
    sms_application_sid: str = ""
    """SMS settings, compared only for lines with ``sms`` (infra.account.drift)."""
    date_updated: str = ""
    """When the number was last changed (as Twilio gives it); "" when unknown."""

    @property
    def binding(self) -> str:
        """``bound to SIP Trunk TK…`` / ``bound to TwiML Application AP…``, or "" when neither.

        Either one makes Twilio ignore the number's own voice URLs, fallback included.
        """
        if self.trunk_sid:
            return f"bound to SIP Trunk {self.trunk_sid}"
        if self.voice_application_sid:
            return f"bound to TwiML Application {self.voice_application_sid}"
        return ""


NUMBER_FIELDS = tuple(LiveNumber.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class LiveFlow:
    """A Studio flow; ``definition`` only for flows fetched (lists answer null)."""

    sid: str
    friendly_name: str
    status: str
    webhook_url: str
    definition: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LiveTaskRouter:
    """The stack's TaskRouter workspace, as far as the drift check needs it."""

    workspace_sid: str
    workflow_sid: str = ""
    on_duty_activity_sid: str = ""
    queues: dict[str, str] = field(default_factory=dict)
    """Task queue FriendlyName -> TargetWorkers expression."""
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Worker FriendlyName (as declared) -> attributes, for the workers asked for only."""


def _pages(tw: Twilio, subject: str, action: str, first: Callable[[], Any]) -> Iterator[Any]:
    """Every record of a list, page by page, following the next-page link Twilio returns."""
    with tw.errors(subject, action, writes=False):
        page = first()
    while page is not None:
        yield from page
        with tw.errors(subject, action, writes=False):
            page = page.next_page()


def read_numbers(tw: Twilio, progress: Progress = _no_progress) -> list[LiveNumber]:
    """Every number of the account, in Twilio's order: one request per 1,000 numbers."""
    numbers = tw.rest.api.v2010.account.incoming_phone_numbers
    out: list[LiveNumber] = []
    for n in _pages(tw, "account", "list numbers", lambda: numbers.page(page_size=PAGE_SIZE)):
        out.append(LiveNumber(**{name: text(getattr(n, name)) for name in NUMBER_FIELDS}))
        if len(out) % PAGE_SIZE == 0:
            progress("numbers", len(out))
    progress("numbers", len(out))
    return out


def read_flows(tw: Twilio, definitions_of: Mapping[str, str] | None = None) -> dict[str, LiveFlow]:
    """Flows by FriendlyName (the first listed wins); fetch the definitions of the names in
    ``definitions_of`` (name -> line id, which names the line in errors) and of no others."""
    flows: dict[str, LiveFlow] = {}
    listing = tw.rest.studio.v2.flows
    for f in _pages(tw, "account", "list Studio flows", lambda: listing.page(page_size=PAGE_SIZE)):
        flows.setdefault(text(f.friendly_name), _flow(f, None))
    wanted = [(name, line) for name, line in (definitions_of or {}).items() if name in flows]

    def fetch(item: tuple[str, str]) -> LiveFlow:
        name, line_id = item
        with tw.errors(line_id, f"fetch Studio flow {name!r}", writes=False):
            fetched = tw.rest.studio.v2.flows(flows[name].sid).fetch()
        # Which revision a fetch returns when a draft was saved after the published one
        # is unconfirmed (twilio.md §3.2); we compare what the fetch answers.
        return _flow(fetched, dict(fetched.definition or {}))

    fetched = values(bounded_map(fetch, wanted, limit=tw.concurrency, name="drift"))
    for (name, _), flow in zip(wanted, fetched, strict=True):
        flows[name] = flow
    return flows


def _flow(f: Any, definition: dict[str, Any] | None) -> LiveFlow:
    return LiveFlow(
        text(f.sid), text(f.friendly_name), text(f.status), text(f.webhook_url), definition
    )


def find_services(tw: Twilio, unique_name: str, prefix: str = "") -> list[tuple[str, str]]:
    """(unique name, SID) of the Serverless service ``unique_name`` (empty when absent); with
    no name, of every service whose unique name starts with ``prefix`` (one list request)."""
    services = tw.rest.serverless.v1.services
    if unique_name:
        try:
            with tw.errors("stack", f"fetch Serverless service {unique_name!r}", writes=False):
                return [(unique_name, text(services(unique_name).fetch().sid))]
        except NotFoundError:
            return []
    listed = _pages(tw, "stack", "list Serverless services", lambda: services.page(page_size=100))
    return [(text(s.unique_name), text(s.sid)) for s in listed if s.unique_name.startswith(prefix)]


def stack_service(tw: Twilio, account: str, stack: str | None) -> tuple[str, str] | str:
    """``(unique name, SID)`` of the stack's Serverless service: by name when ``stack`` is
    given, else the only one of the account. The name searched for when there is none (to
    say what is missing); InfraError when ``stack`` is invalid or several stacks match."""
    prefix = f"{account}-failover-"
    try:
        name = service_unique_name(account, stack) if stack else ""
    except ValueError as exc:
        raise InfraError(f"--stack {stack}: {exc}") from None
    found = find_services(tw, name, prefix)
    if len(found) > 1:
        stacks = ", ".join(unique.removeprefix(prefix) for unique, _ in found)
        raise InfraError(
            f"the account holds several stacks of {account} ({stacks}); pass --stack NAME"
        )
    return found[0] if found else name or prefix + "<stack>"


def domains_of(tw: Twilio, service_sid: str) -> dict[str, str]:
    """``domain_name`` of each environment of the service, by unique name (one listing)."""
    environments = tw.rest.serverless.v1.services(service_sid).environments
    listed = _pages(tw, "stack", "list environments", lambda: environments.page(page_size=100))
    return {text(e.unique_name): text(e.domain_name) for e in listed}


def deployed_paths(tw: Twilio, service_sid: str, environment: str) -> set[str]:
    """Asset and Function paths of the live build of ``environment`` (empty: none deployed)."""
    from infra.twilio.serverless import live_versions

    environments = tw.rest.serverless.v1.services(service_sid).environments
    listed = _pages(tw, "stack", "list environments", lambda: environments.page(page_size=100))
    build = next((text(e.build_sid) for e in listed if text(e.unique_name) == environment), "")
    return set(live_versions(tw, "stack", service_sid, build))


def read_taskrouter(
    tw: Twilio, workspace_name: str, workflow_name: str, workers: Collection[str]
) -> LiveTaskRouter | None:
    """The workspace named ``workspace_name`` (None when absent), its workflow, On Duty
    activity and queues, and the attributes of the named workers (case-insensitive names)."""
    spaces = tw.rest.taskrouter.v1.workspaces
    found = [
        w
        for w in _pages(
            tw,
            "stack",
            f"look up TaskRouter workspace {workspace_name!r}",
            lambda: spaces.page(friendly_name=workspace_name, page_size=100),
        )
        if text(w.friendly_name) == workspace_name
    ]
    if not found:
        return None
    ws = tw.rest.taskrouter.v1.workspaces(found[0].sid)
    activities = _names(tw, "activities", lambda: ws.activities.page(page_size=100))
    workflows = _names(tw, "workflows", lambda: ws.workflows.page(page_size=100))
    queues = _pages(tw, "stack", "list task queues", lambda: ws.task_queues.page(page_size=1000))
    return LiveTaskRouter(
        workspace_sid=text(found[0].sid),
        workflow_sid=workflows.get(workflow_name, ""),
        on_duty_activity_sid=activities.get(ON_DUTY, ""),
        queues={text(q.friendly_name): text(q.target_workers) for q in queues},
        workers=_worker_attributes(tw, ws, workers),
    )


def _names(tw: Twilio, kind: str, first: Callable[[], Any]) -> dict[str, str]:
    """FriendlyName -> SID of one TaskRouter list (the first of equal names wins)."""
    named: dict[str, str] = {}
    for item in _pages(tw, "stack", f"list TaskRouter {kind}", first):
        named.setdefault(text(item.friendly_name), text(item.sid))
    return named


def _worker_attributes(tw: Twilio, ws: Any, wanted: Collection[str]) -> dict[str, dict[str, Any]]:
    by_lower = {name.lower(): name for name in wanted}
    listed = _pages(tw, "stack", "list workers", lambda: ws.workers.page(page_size=1000))
    sids = {
        by_lower[text(w.friendly_name).lower()]: text(w.sid)
        for w in listed
        if text(w.friendly_name).lower() in by_lower
    }

    def fetch(item: tuple[str, str]) -> dict[str, Any]:
        name, sid = item
        with tw.errors(f"agent {name}", f"fetch TaskRouter worker {sid}", writes=False):
            worker = ws.workers(sid).fetch()
        try:
            parsed = json.loads(text(worker.attributes) or "{}")
        except ValueError:
            parsed = {}
        return parsed if isinstance(parsed, dict) else {}

    items = list(sids.items())
    fetched = values(bounded_map(fetch, items, limit=tw.concurrency, name="drift"))
    return {name: attrs for (name, _), attrs in zip(items, fetched, strict=True)}


# ---- voicemails ---------------------------------------------------------------------------
# Fields relied on (v2010 spec; none checked against a live account):
# - Recording: ``sid``, ``call_sid``, ``date_created`` (RFC 2822, GMT), ``duration`` (seconds
#   as a string; "-1" while processing: unconfirmed), ``source`` (``RecordVerb`` for <Record>,
#   which is what our voicemail document uses), ``status`` (``completed``), ``media_url``
#   (the recording's address; fetching the audio may need Basic auth, depending on the
#   account's media setting: unconfirmed).
# - Call: ``sid``, ``to`` (the line's number for an inbound call), ``from`` (the caller).
# Unconfirmed: that a voicemail recorded after Twilio fell back still carries the inbound
# call's SID (we record on the same call, by TwiML redirect, so it should).


@dataclass(frozen=True, slots=True)
class LiveRecording:
    sid: str
    call_sid: str
    created: datetime | None
    duration_s: int
    url: str


def read_recordings(tw: Twilio, since: date | None) -> list[LiveRecording]:
    """Completed ``<Record>`` recordings created on or after ``since`` (all when None)."""
    listing = tw.rest.api.v2010.account.recordings
    kwargs: dict[str, Any] = {"page_size": PAGE_SIZE}
    if since is not None:
        # The library sends a datetime as ...T00:00:00Z (the spec's date-time); the docs show
        # YYYY-MM-DD. Which one Twilio compares on is unconfirmed: we filter again below.
        kwargs["date_created_after"] = _midnight(since)
    out = []
    for r in _pages(tw, "account", "list recordings", lambda: listing.page(**kwargs)):
        created = r.date_created
        if text(r.source) != "RecordVerb" or text(r.status) != "completed":
            continue
        if since is not None and created is not None and created.date() < since:
            continue  # whether DateCreated> is inclusive is unconfirmed: filter here too
        seconds = int(text(r.duration)) if text(r.duration).isdigit() else 0
        url = text(r.media_url) or f"https://api.twilio.com{text(r.uri).removesuffix('.json')}"
        out.append(LiveRecording(text(r.sid), text(r.call_sid), created, seconds, url))
    return out


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def read_calls(
    tw: Twilio, call_sids: Collection[str], numbers: Collection[str], since: date | None
) -> dict[str, tuple[str, str]]:
    """``call SID -> (to, from)`` for the given calls (a call deleted since is left out).

    One fetch per call, unless ``since`` bounds the history and there are more calls than
    line numbers: then one Calls list (``To`` filter) per number costs fewer requests.
    """
    calls = tw.rest.api.v2010.account.calls
    wanted = set(call_sids)
    if since is None or len(wanted) <= len(numbers):
        out = {}
        for sid in sorted(wanted):
            try:
                with tw.errors("account", f"fetch call {sid}", writes=False):
                    call = calls(sid).fetch()
            except NotFoundError:
                continue
            out[sid] = (text(call.to), text(call._from))
        return out
    # A day early: a call may start before midnight and leave its message after it.
    kwargs = {"page_size": PAGE_SIZE, "start_time_after": _midnight(since - timedelta(days=1))}
    found = {}
    for number in numbers:
        listed = _pages(
            tw, number, "list calls", functools.partial(calls.page, to=number, **kwargs)
        )
        found.update({text(c.sid): (text(c.to), text(c._from)) for c in listed if c.sid in wanted})
    return found
