"""Voice v1 Dialing Permissions: which countries the account may call (read only).

``GET https://voice.twilio.com/v1/DialingPermissions/Countries/{IsoCode}`` answers one
country's Voice Dialing Geographic Permissions (source:
https://www.twilio.com/docs/voice/api/dialingpermissions-country-resource; the overview:
https://www.twilio.com/docs/voice/api/dialing-permissions-resources). The double knows every
region phonenumbers knows; by default the account may dial low-risk numbers of the US and
Canada only (``AccountState.dialing_permissions``), as a new account would in the default North-American setup
(assumed: Twilio's defaults depend on where the account signed up). Tests change a country
with :func:`set_permission` (``d.set_dialing_permission("GB", True)``); no write endpoint is
served (the product never changes permissions).
Must not import: infra.*
"""

from __future__ import annotations

import phonenumbers

from .errors import not_found
from .fields import https
from .routing import Call, Reply, RouteTable, ok
from .state import AccountState, Record

HOST = "voice.twilio.com"
_NAMES = {
    "US": ("United States", "North America"), "CA": ("Canada", "North America"),
    "GB": ("United Kingdom", "Europe"), "IE": ("Ireland", "Europe"), "DE": ("Germany", "Europe"),
    "FR": ("France", "Europe"), "MX": ("Mexico", "North America"),
    "AU": ("Australia", "Oceania"), "JP": ("Japan", "Asia"), "IN": ("India", "Asia"),
}  # fmt: skip

routes = RouteTable()


def set_permission(state: AccountState, iso_code: str, enabled: bool) -> None:
    """Allow (or forbid) dialing low-risk numbers of ``iso_code`` (as the Console does)."""
    if iso_code.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown ISO country code {iso_code!r}")
    state.dialing_permissions[iso_code.upper()] = enabled


def country(state: AccountState, iso_code: str) -> Record:
    iso = iso_code.upper()
    name, continent = _NAMES.get(iso, (None, None))
    enabled = state.dialing_permissions.get(iso, False)
    base = f"/v1/DialingPermissions/Countries/{iso}"
    return {
        "iso_code": iso, "name": name, "continent": continent,
        "country_codes": [f"+{phonenumbers.country_code_for_region(iso)}"],
        "low_risk_numbers_enabled": enabled,
        "high_risk_special_numbers_enabled": False,
        "high_risk_tollfraud_numbers_enabled": False,
        "url": https(HOST, base),
        "links": {"highrisk_special_prefixes": https(HOST, f"{base}/HighRiskSpecialPrefixes")},
    }  # fmt: skip


@routes.route("GET", HOST, "/v1/DialingPermissions/Countries/{IsoCode}")
def fetch_country(call: Call) -> Reply:
    iso = call.params["IsoCode"].upper()
    if iso not in phonenumbers.SUPPORTED_REGIONS:
        raise not_found(call.path)
    return ok(country(call.state, iso))
