"""Phone numbers compared as numbers, not strings: one normalisation for every check.

``+4402012345678`` (a national trunk ``0`` after the country code) and ``+442012345678`` are
the same line; both are read by phonenumbers and compared in E.164. Emergency numbers (911,
112, 999, ...) are recognised with phonenumbers' short-number data.
Must not import: anything from infra.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import PhoneNumberFormat


@functools.lru_cache(maxsize=65536)
def parsed(number: str) -> phonenumbers.PhoneNumber | None:
    """The number as phonenumbers reads it (international form only), or None."""
    if not number.startswith("+"):
        return None
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


def canonical(number: str) -> str:
    """E.164 form of ``number`` (``number`` itself when it cannot be read)."""
    found = parsed(number)
    return number if found is None else phonenumbers.format_number(found, PhoneNumberFormat.E164)


def written_problem(number: str) -> str | None:
    """Why ``number`` is not written the way Twilio stores it (a trunk prefix after +CC)."""
    found = parsed(number)
    if found is None:
        return None
    if not phonenumbers.is_valid_number(found):
        return None  # the validity check says what is wrong
    shown = canonical(number)
    if shown == number:
        return None
    return (
        f"{number} has the national trunk prefix after the country code; "
        f"write it as {shown}, the E.164 form Twilio uses"
    )


def emergency(number: str) -> str | None:
    """``"112 in DE"`` when dialing ``number`` reaches emergency services, else None."""
    found = parsed(number)
    if found is None:
        return None
    national = phonenumbers.national_significant_number(found)
    regions = phonenumbers.region_codes_for_country_code(found.country_code or 0)
    valid = phonenumbers.is_valid_number(found)
    for region in regions:
        if phonenumbers.is_emergency_number(national, region) or (
            not valid and phonenumbers.connects_to_emergency_number(national, region)
        ):
            short = next(
                (
                    national[:size]
                    for size in range(2, len(national))
                    if phonenumbers.is_emergency_number(national[:size], region)
                ),
                national,
            )
            return f"{short} in {region}"
    return None
