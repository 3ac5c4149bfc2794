"""API v2010 IncomingPhoneNumbers: list (paged, filtered), fetch, partial update, delete.

Behaviour modelled (reference §2):
- ``PhoneNumber`` filter is a partial match, ``*`` standing for any single digit;
  ``FriendlyName`` is an exact match (unconfirmed).
- Update is partial; an empty value clears a field (stored as ``""``, unconfirmed whether
  Twilio answers ``""`` or ``null`` afterwards).
- 21402 for a URL field that is not an absolute http(s) URL; 21405 when the number would end up
  with a ``voice_fallback_url`` but no ``voice_url``; 21406 likewise for ``SmsFallbackUrl`` without
  an ``sms_url`` ("Cannot set SmsFallbackUrl without setting SmsUrl",
  https://www.twilio.com/docs/api/errors/21406); setting ``VoiceApplicationSid`` clears
  ``trunk_sid`` and vice versa. Invalid methods (21403) are caught by the spec check.
- DELETE releases the number (204). The suite asserts it never happens.
Unset fields follow the spec example: ``voice_url``/``voice_fallback_url``/``trunk_sid`` are
``null``, ``voice_application_sid``/``sms_*``/``status_callback`` are ``""``.
Must not import: infra.*
"""

from __future__ import annotations

import re
from typing import Any

from .errors import FALLBACK_WITHOUT_SMS_URL, FALLBACK_WITHOUT_VOICE_URL, INVALID_URL, invalid
from .fields import assign, boolean, is_valid_url, lookup, text
from .paging import page_v2010
from .routing import Call, Reply, RouteTable, no_content, ok
from .state import AccountState, Record, now, rfc2822

HOST = "api.twilio.com"
LIST = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json"
ITEM = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json"

routes = RouteTable()

FIELDS = {
    "FriendlyName": ("friendly_name", text),
    "ApiVersion": ("api_version", text),
    "VoiceUrl": ("voice_url", text),
    "VoiceMethod": ("voice_method", text),
    "VoiceFallbackUrl": ("voice_fallback_url", text),
    "VoiceFallbackMethod": ("voice_fallback_method", text),
    "StatusCallback": ("status_callback", text),
    "StatusCallbackMethod": ("status_callback_method", text),
    "VoiceApplicationSid": ("voice_application_sid", text),
    "TrunkSid": ("trunk_sid", text),
    "VoiceCallerIdLookup": ("voice_caller_id_lookup", boolean),
    "VoiceReceiveMode": ("voice_receive_mode", text),
    "SmsUrl": ("sms_url", text),
    "SmsMethod": ("sms_method", text),
    "SmsFallbackUrl": ("sms_fallback_url", text),
    "SmsFallbackMethod": ("sms_fallback_method", text),
    "SmsApplicationSid": ("sms_application_sid", text),
    "AddressSid": ("address_sid", text),
    "IdentitySid": ("identity_sid", text),
    "BundleSid": ("bundle_sid", text),
    "EmergencyStatus": ("emergency_status", text),
    "EmergencyAddressSid": ("emergency_address_sid", text),
}
E164 = re.compile(r"\+[1-9]\d{1,14}")
URL_PARAMS = ("VoiceUrl", "VoiceFallbackUrl", "StatusCallback", "SmsUrl", "SmsFallbackUrl")
EDITABLE = frozenset(key for key, _ in FIELDS.values())


def friendly_format(e164: str) -> str:
    """Twilio's default friendly name: ``(415) 555-0100`` for NANP numbers, else the number."""
    digits = e164[2:]
    if e164.startswith("+1") and len(digits) == 10 and digits.isdigit():
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return e164


def new_number(state: AccountState, e164: str, **fields: Any) -> Record:
    """A number record as Twilio returns it; ``fields`` are snake_case overrides."""
    unknown = set(fields) - EDITABLE
    if unknown:
        raise TypeError(f"unknown IncomingPhoneNumber fields: {sorted(unknown)}")
    if not E164.fullmatch(e164):
        raise ValueError(f"{e164!r} is not an E.164 number (+ and up to 15 digits)")
    sid = state.new_sid("PN")
    path = f"/2010-04-01/Accounts/{state.account_sid}/IncomingPhoneNumbers/{sid}"
    stamp = rfc2822(now())
    record: Record = {
        "account_sid": state.account_sid, "address_requirements": "none", "address_sid": None,
        "api_version": "2010-04-01", "beta": False,
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "date_created": stamp, "date_updated": stamp, "emergency_status": "Inactive",
        "emergency_address_sid": None, "emergency_address_status": "unregistered",
        "friendly_name": friendly_format(e164), "identity_sid": None, "origin": "twilio",
        "phone_number": e164, "sid": sid, "sms_application_sid": "",
        "sms_fallback_method": "POST", "sms_fallback_url": "", "sms_method": "POST",
        "sms_url": "", "status_callback": "", "status_callback_method": "POST",
        "trunk_sid": None, "uri": f"{path}.json", "voice_application_sid": "",
        "voice_caller_id_lookup": False, "voice_fallback_method": "POST",
        "voice_fallback_url": None, "voice_method": "POST", "voice_url": None,
        "voice_receive_mode": "voice", "status": "in-use", "bundle_sid": None,
        "subresource_uris": {"assigned_add_ons": f"{path}/AssignedAddOns.json"},
    }  # fmt: skip
    record.update({key: value for key, value in fields.items() if value is not None})
    state.numbers[sid] = record
    return record


def phone_number_matcher(pattern: str) -> re.Pattern[str]:
    """Partial match; ``*`` is any single digit (reference §2.2)."""
    return re.compile("".join(r"\d" if char == "*" else re.escape(char) for char in pattern))


def _filtered(call: Call) -> list[Record]:
    numbers = list(call.state.numbers.values())
    partial = call.query_arg("PhoneNumber")
    if partial:
        matcher = phone_number_matcher(partial)
        numbers = [n for n in numbers if matcher.search(n["phone_number"])]
    name = call.query_arg("FriendlyName")
    if name is not None:
        numbers = [n for n in numbers if n["friendly_name"] == name]
    origin = call.query_arg("Origin")
    if origin:
        numbers = [n for n in numbers if n["origin"] == origin]
    if call.query_flag("Beta") is False:
        numbers = [n for n in numbers if not n["beta"]]
    return numbers


@routes.route("GET", HOST, LIST)
def list_numbers(call: Call) -> Reply:
    return ok(page_v2010(call, _filtered(call), "incoming_phone_numbers"))


@routes.route("GET", HOST, ITEM)
def fetch_number(call: Call) -> Reply:
    return ok(lookup(call.state.numbers, call.params["Sid"], call))


def _check_urls(call: Call) -> None:
    for param in URL_PARAMS:
        value = call.arg(param)
        if value and not is_valid_url(value):
            raise invalid(f"{param} is not valid: {value!r}", INVALID_URL)


def _check_fallback(call: Call, updated: Record) -> None:
    if call.arg("VoiceFallbackUrl") and not updated.get("voice_url"):
        raise invalid(
            "VoiceFallbackUrl cannot be set without a VoiceUrl", FALLBACK_WITHOUT_VOICE_URL
        )
    if call.arg("SmsFallbackUrl") and not updated.get("sms_url"):
        raise invalid("Cannot set SmsFallbackUrl without setting SmsUrl", FALLBACK_WITHOUT_SMS_URL)


@routes.route("POST", HOST, ITEM, kind="IncomingPhoneNumber.update")
def update_number(call: Call) -> Reply:
    record = lookup(call.state.numbers, call.params["Sid"], call)
    if call.has("AccountSid"):
        # Moving a number to another (sub)account is real Twilio behaviour the double does not
        # model; the tool must never send it (reference §2.3).
        raise invalid("AccountSid (moving a number between accounts) is not supported")
    _check_urls(call)
    updated = dict(record)
    changed = assign(updated, call, FIELDS)
    if call.arg("VoiceApplicationSid"):
        updated["trunk_sid"] = None
    if call.arg("TrunkSid"):
        updated["voice_application_sid"] = ""
    _check_fallback(call, updated)
    if changed:
        updated["date_updated"] = rfc2822(now())
    record.update(updated)
    return ok(record)


@routes.route("DELETE", HOST, ITEM, kind="IncomingPhoneNumber.delete")
def delete_number(call: Call) -> Reply:
    lookup(call.state.numbers, call.params["Sid"], call)
    del call.state.numbers[call.params["Sid"]]
    return no_content()


def find_number(state: AccountState, sid_or_e164: str) -> Record:
    """A number by SID or E.164, for the seeding/editing helpers."""
    if sid_or_e164 in state.numbers:
        return state.numbers[sid_or_e164]
    for record in state.numbers.values():
        if record["phone_number"] == sid_or_e164:
            return record
    raise KeyError(f"no number {sid_or_e164!r} in the double")
