"""API v2010 Calls and Recordings: seeded history that the tool lists to collect voicemails.

Nothing here places calls; tests seed them with ``TwilioDouble.seed_call`` /
``seed_recording``. Lists are paged like every v2010 list and filter on ``To``, ``From``,
``Status``, ``StartTime>`` (calls) and ``CallSid``, ``DateCreated``, ``DateCreated<``, ``DateCreated>``
(recordings; compared on the ``YYYY-MM-DD`` date, which is how twilio-python sends them too
after its ``…T00:00:00Z`` serialisation is cut). Recordings can be deleted (204).
Must not import: infra.*
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from .fields import https, lookup
from .numbers import friendly_format
from .paging import page_v2010
from .routing import Call, Reply, RouteTable, no_content, ok
from .state import AccountState, Record, now, rfc2822

HOST = "api.twilio.com"
ACCOUNT = "/2010-04-01/Accounts/{AccountSid}"

routes = RouteTable()


def new_call(
    state: AccountState,
    *,
    from_: str,
    to: str,
    status: str = "completed",
    direction: str = "inbound",
    duration: int = 0,
    start_time: datetime | None = None,
) -> Record:
    sid = state.new_sid("CA")
    started = start_time or now()
    base = f"/2010-04-01/Accounts/{state.account_sid}/Calls/{sid}"
    number_sid = next((n["sid"] for n in state.numbers.values() if n["phone_number"] == to), None)
    record: Record = {
        "sid": sid, "date_created": rfc2822(started), "date_updated": rfc2822(started),
        "parent_call_sid": None, "account_sid": state.account_sid, "to": to,
        "to_formatted": friendly_format(to), "from": from_,
        "from_formatted": friendly_format(from_), "phone_number_sid": number_sid,
        "status": status, "start_time": rfc2822(started), "end_time": rfc2822(started),
        "duration": str(duration), "price": None, "price_unit": "USD", "direction": direction,
        "answered_by": None, "api_version": "2010-04-01", "forwarded_from": None,
        "group_sid": None, "caller_name": None, "queue_time": "0", "trunk_sid": None,
        "uri": f"{base}.json",
        "subresource_uris": {"recordings": f"{base}/Recordings.json"},
    }  # fmt: skip
    state.calls[sid] = record
    return record


def new_recording(
    state: AccountState, *, call_sid: str, duration: int, date_created: datetime | None = None
) -> Record:
    sid = state.new_sid("RE")
    created = date_created or now()
    base = f"/2010-04-01/Accounts/{state.account_sid}/Recordings/{sid}"
    record: Record = {
        "account_sid": state.account_sid, "api_version": "2010-04-01", "call_sid": call_sid,
        "conference_sid": None, "date_created": rfc2822(created),
        "date_updated": rfc2822(created), "start_time": rfc2822(created),
        "duration": str(duration), "sid": sid, "price": None, "price_unit": "USD",
        "status": "completed", "channels": 1, "source": "RecordVerb", "error_code": None,
        "uri": f"{base}.json", "encryption_details": None,
        "subresource_uris": {
            "add_on_results": f"{base}/AddOnResults.json",
            "transcriptions": f"{base}/Transcriptions.json",
        },
        "media_url": https(HOST, base),
    }  # fmt: skip
    state.recordings[sid] = record
    return record


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def _created_on(record: Record) -> date:
    return datetime.strptime(record["date_created"], "%a, %d %b %Y %H:%M:%S %z").date()


_DATE_FILTERS: dict[str, Callable[[date, date], bool]] = {
    "DateCreated": lambda created, bound: created == bound,
    "DateCreated<": lambda created, bound: created <= bound,
    "DateCreated>": lambda created, bound: created >= bound,
}


def _recordings(call: Call, records: list[Record]) -> list[Record]:
    call_sid = call.query_arg("CallSid")
    if call_sid:
        records = [r for r in records if r["call_sid"] == call_sid]
    for name, keep in _DATE_FILTERS.items():
        value = call.query_arg(name)
        if value:
            bound = _day(value)
            records = [r for r in records if keep(_created_on(r), bound)]
    return records


@routes.route("GET", HOST, f"{ACCOUNT}/Recordings.json")
def list_recordings(call: Call) -> Reply:
    records = _recordings(call, list(call.state.recordings.values()))
    return ok(page_v2010(call, records, "recordings"))


@routes.route("GET", HOST, f"{ACCOUNT}/Calls/{{CallSid}}/Recordings.json")
def list_call_recordings(call: Call) -> Reply:
    lookup(call.state.calls, call.params["CallSid"], call)
    records = [r for r in call.state.recordings.values() if r["call_sid"] == call.params["CallSid"]]
    return ok(page_v2010(call, _recordings(call, records), "recordings"))


@routes.route("GET", HOST, f"{ACCOUNT}/Recordings/{{Sid}}.json")
def fetch_recording(call: Call) -> Reply:
    return ok(lookup(call.state.recordings, call.params["Sid"], call))


@routes.route("DELETE", HOST, f"{ACCOUNT}/Recordings/{{Sid}}.json", kind="Recording.delete")
def delete_recording(call: Call) -> Reply:
    lookup(call.state.recordings, call.params["Sid"], call)
    del call.state.recordings[call.params["Sid"]]
    return no_content()


@routes.route("GET", HOST, f"{ACCOUNT}/Calls.json")
def list_calls(call: Call) -> Reply:
    records = list(call.state.calls.values())
    for param, key in (("To", "to"), ("From", "from"), ("Status", "status")):
        value = call.query_arg(param)
        if value:
            records = [r for r in records if r[key] == value]
    started_after = call.query_arg("StartTime>")  # inclusive, like DateCreated> above
    if started_after:
        bound = datetime.fromisoformat(started_after.replace("Z", "+00:00"))
        if bound.tzinfo is None:  # a bare YYYY-MM-DD is midnight UTC
            bound = bound.replace(tzinfo=UTC)
        records = [r for r in records if _started(r) >= bound]
    return ok(page_v2010(call, records, "calls"))


def _started(record: Record) -> datetime:
    return datetime.strptime(record["start_time"], "%a, %d %b %Y %H:%M:%S %z")


@routes.route("GET", HOST, f"{ACCOUNT}/Calls/{{Sid}}.json")
def fetch_call(call: Call) -> Reply:
    return ok(lookup(call.state.calls, call.params["Sid"], call))
