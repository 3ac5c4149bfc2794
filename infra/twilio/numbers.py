"""IncomingPhoneNumbers operations shared by providers and account reads.

Never releases a number: nothing here (or anywhere in this tool) sends DELETE to
IncomingPhoneNumbers.
Must not import: pulumi, infra.providers, infra.cli.
"""

from __future__ import annotations

from typing import Any

from infra.twilio.client import Twilio


def numbers_pointing_at(tw: Twilio, subject: str, match: Any) -> list[str]:
    """E.164 numbers whose voice URL or voice fallback URL satisfies ``match(url)``."""
    with tw.errors(subject, "list incoming phone numbers"):
        numbers = tw.rest.api.v2010.account.incoming_phone_numbers.list(page_size=1000)
    return sorted(
        n.phone_number
        for n in numbers
        if any(u and match(u) for u in (n.voice_url, n.voice_fallback_url))
    )
