"""Meaning checks the schema cannot express, each reporting every problem it finds.

Each check is ``(Context) -> Iterator[Diagnostic]`` and looks only at lines and agents that
passed the schema (``Context.lines()`` skips the rest), so one run reports structural and
semantic problems together without tripping over wrongly typed values.
Must not import: twilio, pulumi, jsonschema, infra.render, infra.providers, infra.cli.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from infra.errors import Diagnostic, Level, SourceRef
from infra.lines import voices
from infra.lines.source import Document, JsonPath, format_path
from infra.model import DEFAULT_GREETING, DEFAULT_LANGUAGE, DEFAULT_VOICE

_NOT_DIALABLE = {
    PhoneNumberType.PREMIUM_RATE: "a premium-rate number",
    PhoneNumberType.SHARED_COST: "a shared-cost number",
    PhoneNumberType.UAN: "a universal access number",
    PhoneNumberType.VOICEMAIL: "a voicemail access number",
    PhoneNumberType.PAGER: "a pager number",
}
_SHARED_TYPES = {"main_line", "department", "contact_center"}


@dataclass(slots=True)
class Context:
    """The parsed document plus the subtrees the schema already rejected."""

    document: Document
    broken: set[tuple[str | int, ...]]

    def usable(self, *path: str | int) -> bool:
        return not any(path[: len(b)] == b for b in self.broken if len(b) <= len(path))

    def items(self, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
        data = self.document.data
        if (
            not isinstance(data, dict)
            or not self.usable(key)
            or not isinstance(data.get(key), list)
        ):
            return
        for index, item in enumerate(data[key]):
            if isinstance(item, dict) and self.usable(key, index):
                yield index, item

    def lines(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return self.items("lines")

    def mapping(self, *path: str) -> dict[str, Any]:
        """The mapping at ``path`` when it passed the schema; ``{}`` when absent or broken."""
        value: Any = self.document.data
        for depth, key in enumerate(path, 1):
            if not isinstance(value, dict) or not self.usable(*path[:depth]):
                return {}
            value = value.get(key)
        return value if isinstance(value, dict) else {}

    def error(self, path: JsonPath, message: str, *, key: bool = False) -> Diagnostic:
        return Diagnostic(
            self.document.where(path, key=key), Level.ERROR, message, format_path(path)
        )

    def warning(self, path: JsonPath, message: str, *, key: bool = False) -> Diagnostic:
        return Diagnostic(
            self.document.where(path, key=key), Level.WARNING, message, format_path(path)
        )

    def at(self, path: JsonPath) -> SourceRef:
        return self.document.where(path)


Check = Callable[[Context], Iterator[Diagnostic]]


def run_all(document: Document, broken: set[tuple[str | int, ...]]) -> list[Diagnostic]:
    """Run every check; never raises on data the schema accepted."""
    if not isinstance(document.data, dict) or () in broken:
        return []
    context = Context(document, broken)
    return [diagnostic for check in CHECKS for diagnostic in check(context)]


def check_unique_ids(ctx: Context) -> Iterator[Diagnostic]:
    for section, noun in (("lines", "line"), ("agents", "agent")):
        seen: dict[str, int] = {}
        for index, item in ctx.items(section):
            ident = item["id"]
            if ident in seen:
                first = ctx.at((section, seen[ident], "id"))
                yield ctx.error(
                    (section, index, "id"),
                    f'{noun} id "{ident}" is already used at line {first.line}; ids must be unique',
                )
            else:
                seen[ident] = index


def check_unique_numbers(ctx: Context) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for index, line in ctx.lines():
        number = line["number"]
        if number in seen:
            message = f'number {number} is already the number of line "{seen[number]}"; each Twilio number belongs to one line'
            yield ctx.error(("lines", index, "number"), message)
        else:
            seen[number] = line["id"]


@functools.lru_cache(maxsize=65536)
def _number_type(number: str) -> tuple[int, int]:
    """(country code, phonenumbers type); type UNKNOWN means not a valid number.

    One ``number_type`` call decides both validity and kind: ``is_valid_number`` is exactly
    ``number_type != UNKNOWN`` for the number's region, and the region lookup (25 regions
    share +1) is the expensive part, so it is done once per distinct number.
    """
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return 0, PhoneNumberType.UNKNOWN
    return parsed.country_code or 0, phonenumbers.number_type(parsed)


def _validity(number: str) -> str | None:
    country, kind = _number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        region = phonenumbers.region_code_for_country_code(country) if country else "ZZ"
        where = f" for region {region}" if region not in ("ZZ", "001") else ""
        return (
            f"{number} is not a valid phone number{where} (check the digits and the country code)"
        )
    return None


def check_line_numbers(ctx: Context) -> Iterator[Diagnostic]:
    for index, line in ctx.lines():
        problem = _validity(line["number"])
        if problem:
            yield ctx.error(("lines", index, "number"), problem)


def _outside_numbers(ctx: Context) -> Iterator[tuple[JsonPath, str, str]]:
    """(path, number, what) for every number the tool would dial out to."""
    for index, line in ctx.lines():
        forward = line.get("failover", {}).get("forward")
        if forward:
            yield ("lines", index, "failover", "forward"), forward, "failover number"
        for position, number in enumerate(line.get("forwarding", [])):
            yield ("lines", index, "forwarding", position), number, "forwarding number"
    for index, agent in ctx.items("agents"):
        yield ("agents", index, "phone"), agent["phone"], "agent phone"


def check_outside_numbers(ctx: Context) -> Iterator[Diagnostic]:
    ours = {line["number"]: line["id"] for _, line in ctx.lines()}
    for path, number, what in _outside_numbers(ctx):
        problem = _validity(number)
        if problem:
            yield ctx.error(path, f"{what} {problem}")
            continue
        kind = _number_type(number)[1]
        if kind in _NOT_DIALABLE:
            yield ctx.error(
                path,
                f"{what} {number} is {_NOT_DIALABLE[kind]}; failover must dial an ordinary PSTN number",
            )
        elif number in ours:
            yield ctx.error(
                path,
                f'{what} {number} is the Twilio number of line "{ours[number]}"; '
                "it must be an outside PSTN number, not one of this account's numbers",
            )


def check_failover_shape(ctx: Context) -> Iterator[Diagnostic]:
    for index, line in ctx.lines():
        failover = line.get("failover", {})
        base = ("lines", index, "failover")
        for alone in ("url", "message"):
            if alone in failover and len(failover) > 1:
                others = ", ".join(sorted(k for k in failover if k != alone))
                yield ctx.error(
                    (*base, alone),
                    f"failover.{alone} stands alone, but {others} is also set; keep one",
                )
        has_forward = "forward" in failover or bool(line.get("forwarding"))
        if "timeout" in failover and not has_forward:
            yield ctx.error(
                (*base, "timeout"),
                "failover.timeout applies to forwarding; add failover.forward or remove the timeout",
                key=True,
            )
        if line["type"] == "user" and "forward" in failover and line.get("forwarding"):
            yield ctx.error(
                (*base, "forward"),
                "a user line's failover number is the last of its forwarding numbers; "
                "remove failover.forward or add it to forwarding",
            )
        if line["type"] != "user" and "forwarding" in line:
            yield ctx.error(
                ("lines", index, "forwarding"),
                f"forwarding is for user lines only; use failover.forward on a {line['type']} line",
                key=True,
            )


def check_queues(ctx: Context) -> Iterator[Diagnostic]:
    agents = {agent["id"] for _, agent in ctx.items("agents")}
    queued: set[str] = set()
    for index, line in ctx.lines():
        queue = line.get("queue")
        if queue is None:
            continue
        if line["type"] not in _SHARED_TYPES:
            yield ctx.error(
                ("lines", index, "queue"),
                "a call queue is for shared lines only (main_line, department, contact_center), not user lines",
                key=True,
            )
        for position, agent in enumerate(queue["agents"]):
            queued.add(agent)
            if ctx.usable("agents") and agent not in agents:
                yield ctx.error(
                    ("lines", index, "queue", "agents", position),
                    f'agent "{agent}" is not defined; add it under agents or remove it from this queue',
                )
    for index, agent in ctx.items("agents"):
        if agent["id"] not in queued:
            yield ctx.warning(
                ("agents", index, "id"),
                f'agent "{agent["id"]}" answers no queue; add it to a line\'s queue.agents or remove it',
            )


def check_test_mode(ctx: Context) -> Iterator[Diagnostic]:
    for index, line in ctx.lines():
        if line.get("test") and "primary" not in line:
            yield ctx.error(
                ("lines", index, "test"),
                "test mode needs primary: the tool points the primary at the failover and must know "
                "what to restore; add primary or remove test",
                key=True,
            )
        failover_url = line.get("failover", {}).get("url")
        if failover_url and failover_url == line.get("primary"):
            yield ctx.warning(
                ("lines", index, "failover", "url"),
                "failover.url is the primary URL itself; when the primary fails this fails too",
            )


def _voicemails(ctx: Context) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    base = ctx.mapping("defaults", "voicemail")
    if base:
        yield ("defaults", "voicemail"), base
    for index, line in ctx.lines():
        own = line.get("failover", {}).get("voicemail")
        if own is not None:
            yield ("lines", index, "failover", "voicemail"), {**base, **own, "_own": own}


def check_speech(ctx: Context) -> Iterator[Diagnostic]:
    for path, settings in _voicemails(ctx):
        own = settings.pop("_own", settings)
        voice = settings.get("voice", DEFAULT_VOICE)
        language = settings.get("language", DEFAULT_LANGUAGE)
        greeting = settings.get("greeting", DEFAULT_GREETING)
        if "greeting" in own:
            yield from _say_text(ctx, (*path, "greeting"), greeting, voice, "greeting")
        if "voice" in own or "language" in own:
            problem = voices.voice_problem(voice, language)
            if problem:
                yield ctx.warning((*path, "voice" if "voice" in own else "language"), problem)
    default_voice = ctx.mapping("defaults", "voicemail").get("voice", DEFAULT_VOICE)
    for index, line in ctx.lines():
        message = line.get("failover", {}).get("message")
        if message is not None:
            yield from _say_text(
                ctx, ("lines", index, "failover", "message"), message, default_voice, "message"
            )


def _say_text(
    ctx: Context, path: JsonPath, text: str, voice: str, what: str
) -> Iterator[Diagnostic]:
    if not text.strip():
        yield ctx.error(path, f"{what} is blank; write what callers should hear")
        return
    size, limit = len(text.encode("utf-8")), voices.say_limit(voice)
    if size > limit:
        yield ctx.error(
            path,
            f"{what} is {size} bytes; Twilio's <Say> with {voice} speaks at most {limit} (error 13521): shorten it",
        )


CHECKS: tuple[Check, ...] = (
    check_unique_ids,
    check_unique_numbers,
    check_line_numbers,
    check_outside_numbers,
    check_failover_shape,
    check_queues,
    check_test_mode,
    check_speech,
)
