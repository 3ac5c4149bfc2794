"""Phone numbers compared as numbers, not strings: one normalisation for every check.

``+4402012345678`` (a national trunk ``0`` after the country code) and ``+442012345678`` are
the same line; both are read by phonenumbers and compared in E.164. Emergency numbers (911,
112, 999, ...) are recognised with phonenumbers' short-number data.

Every answer is a pure function of the text, so each is cached: a 10,000-line file asks
about the same number from several checks. ``emergency`` first asks one pattern that joins
every emergency number of the country code (``_emergency_start``): asking phonenumbers
region by region cost 25 calls per +1 number and was most of ``validate``'s time. A number
is valid exactly when phonenumbers gives it a type (``kind``), so validity costs no second
look-up; phonenumbers keeps every metadata pattern it compiles (``enable_pattern_cache``).
Must not import: anything from infra.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

phonenumbers.enable_pattern_cache()  # its own advice for programs reading many numbers


@functools.lru_cache(maxsize=65536)
def parsed(number: str) -> phonenumbers.PhoneNumber | None:
    """The number as phonenumbers reads it (international form only), or None."""
    if not number.startswith("+"):
        return None
    try:
        return phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None


@functools.lru_cache(maxsize=65536)
def canonical(number: str) -> str:
    """E.164 form of ``number`` (``number`` itself when it cannot be read)."""
    found = parsed(number)
    return number if found is None else phonenumbers.format_number(found, PhoneNumberFormat.E164)


def written_problem(number: str) -> str | None:
    """Why ``number`` is not written the way Twilio stores it (a trunk prefix after +CC)."""
    if not _valid(number):
        return None  # the validity check says what is wrong (or it cannot be read)
    shown = canonical(number)
    if shown == number:
        return None
    return (
        f"{number} has the national trunk prefix after the country code; "
        f"write it as {shown}, the E.164 form Twilio uses"
    )


@functools.lru_cache(maxsize=65536)
def kind(number: str) -> tuple[int, int]:
    """(country code, phonenumbers type); type UNKNOWN means not a valid number."""
    found = parsed(number)
    if found is None:
        return 0, PhoneNumberType.UNKNOWN
    return found.country_code or 0, phonenumbers.number_type(found)


def _valid(number: str) -> bool:
    """``phonenumbers.is_valid_number``: both it and ``number_type`` find the number's region
    from its country code and match the same metadata, so a type other than UNKNOWN is a valid
    number (tests/test_fast_validate.py holds them equal on every region's examples)."""
    return kind(number)[1] != PhoneNumberType.UNKNOWN


@functools.cache
def _emergency_start(country_code: int) -> re.Pattern[str] | None:
    """A pattern that matches the start of a national number exactly when the emergency
    pattern of at least one region of ``country_code`` does; None when no region has one.

    phonenumbers' ``is_emergency_number`` and ``connects_to_emergency_number`` both answer
    False unless that region's pattern matches at the start, so a number this pattern does
    not match is no emergency number anywhere in the country code; the rest are asked region
    by region, exactly as before.
    """
    patterns = []
    for region in phonenumbers.region_codes_for_country_code(country_code):
        metadata = PhoneMetadata.short_metadata_for_region(region.upper(), None)
        desc = None if metadata is None else metadata.emergency
        if desc is not None and desc.national_number_pattern:
            patterns.append(f"(?:{desc.national_number_pattern})")
    return re.compile("|".join(patterns)) if patterns else None


@functools.lru_cache(maxsize=65536)
def emergency(number: str) -> str | None:
    """``"112 in DE"`` when dialing ``number`` reaches emergency services, else None."""
    found = parsed(number)
    if found is None:
        return None
    national = phonenumbers.national_significant_number(found)
    start = _emergency_start(found.country_code or 0)
    if start is None or not start.match(national):
        return None
    regions = phonenumbers.region_codes_for_country_code(found.country_code or 0)
    valid = _valid(number)
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
