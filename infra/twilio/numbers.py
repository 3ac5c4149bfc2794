"""IncomingPhoneNumbers operations shared by providers and account reads.

Never releases a number: nothing here (or anywhere in this tool) sends DELETE to
IncomingPhoneNumbers.
Must not import: pulumi, infra.providers, infra.cli.
"""

from __future__ import annotations

import threading
from typing import Any

from infra.errors import ProviderError
from infra.twilio import listings
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.concurrency import bounded_map, values
from infra.twilio.values import text


def numbers_pointing_at(tw: Twilio, subject: str, match: Any) -> list[str]:
    """E.164 numbers whose voice URL or voice fallback URL satisfies ``match(url)``.

    From the account's number listing shared by the whole run (``infra.twilio.listings``:
    why, and how stale it may be); the numbers it names are fetched again, so a refusal
    never rests on a stale value.
    """

    def points(n: listings.NumberUrls) -> bool:
        return any(u and match(u) for u in (n.voice_url, n.voice_fallback_url))

    listing = listings.numbers(tw)
    suspects = sorted(sid for sid, n in listing.get(tw).items() if points(n))

    def confirm(sid: str) -> listings.NumberUrls | None:
        try:
            return listings.number_urls(fetch_number(tw, subject, sid))
        except NotFoundError:
            listing.remember(sid, None)
            return None

    confirmed = values(bounded_map(confirm, suspects, limit=tw.concurrency))
    return sorted(n.phone_number for n in confirmed if n is not None and points(n))


_LISTED: dict[str, dict[str, Any]] = {}
"""The account's numbers by E.164, listed once per provider-host process (one ``pulumi up``)
for adoption: 1,000 per request instead of one lookup per line. Only SIDs and the values
found at adoption come from it; every write goes to the number's own URL."""
_LISTED_LOCK = threading.Lock()


def find_number(tw: Twilio, line: str, e164: str) -> Any | None:
    """The account's number ``e164`` (None when the account has none), from one listing of
    every number shared by all lines of the run; a number missing from it (bought since, or
    already used once in this run) is looked up on its own."""
    account = tw.account_sid
    with _LISTED_LOCK:
        if account not in _LISTED:
            with tw.errors(line, "list incoming phone numbers"):
                listed = tw.rest.api.v2010.account.incoming_phone_numbers.list(page_size=1000)
            _LISTED[account] = {n.phone_number: n for n in listed}
        # Each listed number is used once: after our own write the listed values are stale.
        found = _LISTED[account].pop(e164, None)
    if found is not None:
        return found
    with tw.errors(line, f"look up number {e164}"):
        matches = tw.rest.api.v2010.account.incoming_phone_numbers.list(
            phone_number=e164, page_size=1000
        )
    return next((n for n in matches if n.phone_number == e164), None)  # the filter is partial


_READ: dict[str, dict[str, Any]] = {}
"""The account's numbers by SID, listed once per provider-host process for ``read`` (a
``pulumi refresh``, which ``options.refresh: always`` runs before every ``up``): 1,000 per
request instead of one GET per line (10,000 GETs at 10,000 lines). Reads only; every write
fetches the number first (``fetch_number_for_change``)."""


def read_number(tw: Twilio, line: str, sid: str) -> Any:
    """The number ``sid`` as a refresh sees it: from one listing of every number shared by
    all lines of the process; a SID missing from it (bought since the listing) is fetched on
    its own, and NotFoundError when the account no longer has it."""
    account = tw.account_sid
    with _LISTED_LOCK:
        if account not in _READ:
            with tw.errors(line, "list incoming phone numbers"):
                listed = tw.rest.api.v2010.account.incoming_phone_numbers.list(page_size=1000)
            _READ[account] = {text(n.sid): n for n in listed}
        found = _READ[account].get(sid)
    return found if found is not None else fetch_number(tw, line, sid)


def fetch_number(tw: Twilio, line: str, sid: str) -> Any:
    with tw.errors(line, f"fetch number {sid}"):
        number = tw.rest.api.v2010.account.incoming_phone_numbers(sid).fetch()
    listings.numbers(tw).remember(text(number.sid), listings.number_urls(number))
    return number


def fetch_number_for_change(tw: Twilio, line: str, sid: str) -> Any:
    try:
        return fetch_number(tw, line, sid)
    except NotFoundError:
        raise ProviderError(
            line,
            (
                f"number {sid} is no longer in this Twilio account; run `pulumi refresh` so the "
                "line adopts its number again"
            ),
        ) from None


def update_number(tw: Twilio, line: str, number: Any, changes: dict[str, str]) -> Any:
    """POST only ``changes`` (a partial update; unsent fields stay as they are); return the live
    number. Sends nothing when there is nothing to change."""
    if not changes:
        return number
    with tw.errors(line, f"update voice settings of {number.phone_number}"):
        updated = tw.rest.api.v2010.account.incoming_phone_numbers(number.sid).update(**changes)
    # The run's shared listing sees this write (a later delete must not refuse on old URLs).
    listings.numbers(tw).remember(text(updated.sid), listings.number_urls(updated))
    return updated


def refuse_unusable(line: str, number: Any, primary_after: str) -> None:
    """ProviderError when a number-level fallback cannot work: the number is bound to a SIP
    Trunk or a TwiML Application (Twilio then ignores the number's own voice URLs), or it
    would have no primary voice URL (Twilio refuses that, 21405; twilio.md §2.3)."""
    e164 = number.phone_number
    if text(number.trunk_sid):
        raise ProviderError(
            line,
            (
                f"number {e164} is bound to SIP Trunk {number.trunk_sid}; Twilio ignores a "
                "number-level voice fallback for it. Remove the number from the trunk or remove "
                "the line from lines.yaml"
            ),
        )
    if text(number.voice_application_sid):
        raise ProviderError(
            line,
            (
                f"number {e164} is bound to TwiML Application {number.voice_application_sid}; "
                "Twilio uses the application's fallback, not the number's. Configure the number "
                "with a voice webhook instead, or remove the line from lines.yaml"
            ),
        )
    if not primary_after:
        raise ProviderError(
            line,
            (
                f"number {e164} has no voice URL (primary handler) and the line declares no "
                "`primary:`; Twilio rejects a fallback without a primary (error 21405). Declare "
                "`primary:` for the line or set the number's voice URL"
            ),
            code=21405,
        )


def refuse_sms_unusable(line: str, number: Any) -> None:
    """ProviderError when a number-level SMS fallback cannot work: the number is bound to an
    application for SMS ("If an sms_application_sid is present, we ignore all sms_*_url values
    and use those of the application", IncomingPhoneNumber resource,
    https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource), or it has no
    SMS URL ("Cannot set SmsFallbackUrl without setting SmsUrl",
    https://www.twilio.com/docs/api/errors/21406). Handled as 21405 is for voice: this tool
    does not manage the SMS URL, so the owner sets it first."""
    e164 = number.phone_number
    if text(number.sms_application_sid):
        raise ProviderError(
            line,
            (
                f"number {e164} handles SMS with TwiML Application {number.sms_application_sid}; "
                "Twilio uses the application's SMS fallback, not the number's. Configure the "
                "number's messaging with a webhook instead, or give the line `sms: {off: true}`"
            ),
        )
    if not text(number.sms_url):
        raise ProviderError(
            line,
            (
                f"number {e164} has no SMS URL (the 'A message comes in' handler) and the line "
                "declares `sms`; Twilio rejects an SMS fallback without one (error 21406). Set "
                "the number's SMS URL, or give the line `sms: {off: true}`"
            ),
            code=21406,
        )
