"""Monitor v1 Alerts: the record Twilio keeps of each failed webhook request.

Twilio documents that an error while it makes a webhook request to your server (such as the
failed primary ``VoiceUrl`` that sends a call to its fallback) is published into its Debugging
System, "the system that powers the Monitor Alerts API, Alert Triggers and the Console
Debugger" (https://www.twilio.com/docs/usage/troubleshooting/debugging-event-webhooks), and
that an Alert is "a single log entry for an error or warning encountered when Twilio makes a
webhook request to your server" (https://www.twilio.com/docs/usage/monitor-alert). So the
double writes one alert per failed request of a placed call (:mod:`.voice`) with the
documented fields: ``error_code`` (11200 non-2xx, 11205 refused or timed out, 12100 not
TwiML: https://www.twilio.com/docs/api/errors/11200), ``request_url`` and ``request_method``
(what Twilio requested), ``resource_sid`` (the call's SID: *unconfirmed*, the field's own
description reads "the SID of the server"), ``more_info`` (the Error Dictionary page),
``log_level`` ``error``. ``alert_text`` is free text in Twilio's docs; the double's wording is
its own (nothing may parse it).

Lists are paged like every v1 list and filter on ``LogLevel``, ``StartDate`` and ``EndDate``
(inclusive, compared on ``date_created``, newest first as the Console shows them:
*unconfirmed* order). Tests seed alerts with ``TwilioDouble.seed_alert`` to set their time.
Must not import: infra.*
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from .fields import https, lookup
from .paging import page_v1
from .routing import Call, Reply, RouteTable, ok
from .state import AccountState, Record, iso, now

HOST = "monitor.twilio.com"
ERROR_DICTIONARY = "https://www.twilio.com/docs/errors/{code}"

routes = RouteTable()


def new_alert(
    state: AccountState,
    *,
    error_code: int,
    request_url: str,
    request_method: str = "POST",
    resource_sid: str | None = None,
    date_created: datetime | None = None,
) -> Record:
    """Record one alert (see module doc) and return it."""
    sid = state.new_sid("NO")
    created = iso(date_created or now())
    text = urlencode({"Msg": f"Error {error_code}", "url": request_url})
    record: Record = {
        "account_sid": state.account_sid, "alert_text": text, "api_version": "2010-04-01",
        "date_created": created, "date_generated": created, "date_updated": created,
        "error_code": str(error_code), "log_level": "error",
        "more_info": ERROR_DICTIONARY.format(code=error_code),
        "request_method": request_method, "request_url": request_url,
        "resource_sid": resource_sid, "service_sid": None, "sid": sid,
        "url": https(HOST, f"/v1/Alerts/{sid}"),
    }  # fmt: skip
    state.alerts[sid] = record
    return record


def _bound(value: str | None) -> str | None:
    # The spec's date-time; twilio-python sends ``2026-01-05T09:12:00Z``.
    return iso(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None


@routes.route("GET", HOST, "/v1/Alerts")
def list_alerts(call: Call) -> Reply:
    records = sorted(call.state.alerts.values(), key=lambda r: r["date_created"], reverse=True)
    level = call.query_arg("LogLevel")
    start, end = _bound(call.query_arg("StartDate")), _bound(call.query_arg("EndDate"))
    items = [
        {key: value for key, value in r.items() if key in LIST_FIELDS}
        for r in records
        if (not level or r["log_level"] == level)
        and (start is None or r["date_created"] >= start)
        and (end is None or r["date_created"] <= end)
    ]
    return ok(page_v1(call, items, "alerts"))


@routes.route("GET", HOST, "/v1/Alerts/{Sid}")
def fetch_alert(call: Call) -> Reply:
    record = dict(lookup(call.state.alerts, call.params["Sid"], call))
    record.update(request_variables=None, response_body=None, response_headers=None)
    record["request_headers"] = None
    return ok(record)


LIST_FIELDS = frozenset(
    {
        "account_sid", "alert_text", "api_version", "date_created", "date_generated",
        "date_updated", "error_code", "log_level", "more_info", "request_method",
        "request_url", "resource_sid", "sid", "url", "service_sid",
    }
)  # fmt: skip
"""The list representation (``monitor.v1.alert``); a fetch adds the request/response."""
