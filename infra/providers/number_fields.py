"""Which voice and SMS fields of a number this tool owns, the values a line wants in them, and
what removing a line puts back (``infra.providers.phone_number`` applies them).

Pure functions of a line's inputs, its state and the live number's values: no Twilio call, no
Pulumi. Split from ``phone_number`` to keep each module readable (under 400 lines); the names
are imported back there, so nothing that imports them from ``phone_number`` changes.
"""

from __future__ import annotations

from typing import Any

from infra.errors import ProviderError
from infra.twilio.values import text

FALLBACK = ("voice_fallback_url", "voice_fallback_method")
PRIMARY = ("voice_url", "voice_method")
SMS_FALLBACK = ("sms_fallback_url", "sms_fallback_method")


def shown(value: object) -> str:
    """A URL as said in a warning: without ``user:password@`` (someone may have put
    credentials into a number's URL in the console; they never go into logs)."""
    url = text(value)
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if not sep or "@" not in host:
        return url
    return f"{scheme}://***@{host.rsplit('@', 1)[1]}{slash}{path}"


def _not_ours(applied: dict[str, Any], number: Any, restore: dict[str, str]) -> dict[str, str]:
    """Fields of ``restore`` whose live value is no longer what this tool set (by pair: a URL
    and its method go together), mapped to the value this tool had set.

    What this tool set is recomputed from ``applied_inputs`` (the inputs it last applied),
    not read from the outputs: a refresh copies live values into the outputs, and would make
    a console edit look like ours. State without ``applied_inputs`` (none is known to exist)
    keeps the earlier behaviour: everything is restored.
    """
    if not applied.get("fallback_url"):
        return {}
    ours = _desired(applied)
    left: dict[str, str] = {}
    for url, method in (FALLBACK, PRIMARY, SMS_FALLBACK):
        if (
            url in restore
            and url in ours
            and _norm(url, getattr(number, url)) != _norm(url, ours[url])
        ):
            left[url] = ours[url]
            if method in restore:
                left[method] = ours.get(method, "")
    return left


def _desired(inputs: dict[str, Any]) -> dict[str, str]:
    """Owned fields and the values the line wants in them."""
    fallback = (text(inputs.get("fallback_url")), text(inputs.get("fallback_method") or "POST"))
    desired = dict(zip(FALLBACK, fallback, strict=True))
    if inputs.get("test_mode"):
        desired.update(zip(PRIMARY, fallback, strict=True))
    elif inputs.get("primary_url"):
        primary = (text(inputs["primary_url"]), text(inputs.get("primary_method") or "POST"))
        desired.update(zip(PRIMARY, primary, strict=True))
    if inputs.get("sms_fallback_url"):
        sms = (text(inputs["sms_fallback_url"]), text(inputs.get("sms_fallback_method") or "POST"))
        desired.update(zip(SMS_FALLBACK, sms, strict=True))
    return desired


def _owned(desired: dict[str, str]) -> tuple[str, ...]:
    return (
        FALLBACK
        + (PRIMARY if PRIMARY[0] in desired else ())
        + (SMS_FALLBACK if SMS_FALLBACK[0] in desired else ())
    )


def _restore_sms(applied: dict[str, Any], adopted: dict[str, str]) -> dict[str, str]:
    """SMS fallback fields to put back when the line stops managing them; cleared instead when
    the value "adopted" was our own entry (an interrupted first run)."""
    if _same_value(adopted.get(SMS_FALLBACK[0]), applied.get("sms_fallback_url")):
        return {SMS_FALLBACK[0]: "", SMS_FALLBACK[1]: "POST"}
    restore = {k: adopted.get(k, "") for k in SMS_FALLBACK}
    return {k: v for k, v in restore.items() if v or k == SMS_FALLBACK[0]}


def _norm(key: str, value: object) -> str:
    return text(value).upper() if key.endswith("_method") else text(value)


def _same_value(a: object, b: object) -> bool:
    return bool(text(a)) and text(a) == text(b)


def _restore_primary(
    line: str, applied: dict[str, Any], adopted: dict[str, str], strict: bool = True
) -> dict[str, str]:
    """Voice fields to put back when the tool stops managing the primary."""
    if not _same_value(adopted.get(PRIMARY[0]), applied.get("fallback_url")):
        return {k: adopted[k] for k in PRIMARY}
    # The primary found at adoption was the failover entry itself (interrupted test run).
    if applied.get("primary_url"):
        return {
            PRIMARY[0]: text(applied["primary_url"]),
            PRIMARY[1]: text(applied.get("primary_method") or "POST"),
        }
    if strict:
        raise ProviderError(
            line,
            (
                "test mode ended but the voice URL found at adoption was the failover entry "
                "itself (an interrupted earlier run?), so there is no primary to restore: declare "
                "`primary:` for this line or set the number's voice URL in the Twilio console"
            ),
        )
    return {}
