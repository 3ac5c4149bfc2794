"""``failover import [--out FILE] [--account NAME]``: a draft lines.yaml from an existing account.

So a team can adopt the tool without retyping its phone estate. Reads every number (one
request per 1,000) and the Studio flow list (one request, names and webhook URLs only) and
writes one line per number: the friendly name as ``name``, an id made from it, type
``department`` (a guess, said so in a comment), the voice URL as ``primary`` when it is
https and requested with POST, and the fallback:

- empty: no ``failover`` key (the line falls over to voicemail, default greeting);
- one of this tool's entries (a Studio flow named ``<account>-failover-<line>``, or a TwiML
  document ``https://*.twil.io/lines/<line>/…``, ``/f/<line>.xml``, ``/q/<line>.xml``): a
  comment naming it, since its behaviour lives in the lines.yaml that deployed it; a shared
  document (``/v/…``, ``/m/…``) names no line, so the comment asks for the line's id as well;
- any other https URL (a secondary server, someone else's Studio flow): ``failover: {url}``;
- anything else: a comment.

Numbers Twilio would route without their own fallback (bound to a TwiML Application or SIP
Trunk) and numbers the validator rejects are written commented out, with the reason, so
the draft validates as it is. The output is deterministic: no dates, Twilio's order.
Must not import: twilio, yaml (the account is read through infra.account.live; YAML is written as
text with JSON-quoted scalars, so ``infra.lines.load`` stays the only YAML reader).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import NamedTuple

import phonenumbers

from infra.account.live import LiveFlow, LiveNumber, read_flows, read_numbers
from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.errors import InfraError
from infra.lines.load import schema_pattern
from infra.lines.text import FORBIDDEN, quoted
from infra.lines.urls import problem as url_problem
from infra.lines.urls import redact
from infra.naming import document_account, document_in, flow_sid_in, parse_flow_name
from infra.twilio.client import connect

HELP = "write a draft lines.yaml from the numbers already in the Twilio account"
ACCOUNT_NAME = re.compile(schema_pattern("accountName"))
"""``account.name`` as the schema defines it."""
ID = re.compile(schema_pattern("id"))
"""A line id as the schema defines it."""
DEFAULT_ACCOUNT = "imported"
ID_MAX = 40
NAME_MAX = 64

EXAMPLES = """  failover import --out lines.yaml --account acme"""


Recognise = Callable[[str], "Seen"]
"""What a voice URL points at."""


class Seen(NamedTuple):
    """What a URL is: made by this tool or not, in words ("" for a plain URL), for which line."""

    ours: bool
    words: str = ""
    line: str = ""


def _account_name(value: str) -> str:
    if not ACCOUNT_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            "must be 2-30 characters: lowercase letters, digits and dashes, starting with a letter"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="FILE", help="write the draft here (default: stdout)")
    parser.add_argument(
        "--account",
        type=_account_name,
        metavar="NAME",
        help="account.name of the draft (default: taken from this tool's flows or documents, "
        "else imported)",
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    out = env.path(args.out) if args.out else None
    if out is not None and out.exists():
        raise InfraError(f"{args.out} already exists; choose another --out or move it away first")
    tw = connect(env.environ)
    numbers = read_numbers(tw)
    flows = read_flows(tw)
    if not numbers:
        raise InfraError("the Twilio account has no phone numbers to import")
    guess, source = _guess_account(flows, numbers)
    account = args.account or guess
    draft, usable = render_draft(
        numbers, flows, account, guessed=args.account is None, source=source
    )
    if not usable:
        raise InfraError(
            f"none of the {len(numbers)} numbers can fail over by number (all are bound to an "
            "Application or Trunk, or invalid); nothing to import"
        )
    if out is None:
        env.out(draft.rstrip("\n"))
        return ExitCode.OK
    out.write_text(draft, encoding="utf-8")
    skipped = len(numbers) - usable
    env.err(
        f"wrote {args.out}: {usable} lines, {skipped} numbers commented out; review it, then run "
        f"`failover validate {args.out}`"
    )
    return ExitCode.OK


def _guess_account(flows: dict[str, LiveFlow], numbers: list[LiveNumber]) -> tuple[str, str]:
    """The account name of this tool's Studio flows, else of the Serverless domains of its
    TwiML documents (a stack without ``alerts.webhook`` has no flows), when they all agree;
    else the default. Also says where it was taken from ("" for the default)."""
    parsed = (parse_flow_name(n) for n in flows)
    names = {p[0] for p in parsed if p is not None and ACCOUNT_NAME.fullmatch(p[0])}
    if len(names) == 1:
        return names.pop(), "Studio flows"
    if not names:
        urls = (u for n in numbers for u in (n.voice_fallback_url, n.voice_url) if u)
        found = (document_account(u) for u in urls)
        names = {name for name in found if name is not None and ACCOUNT_NAME.fullmatch(name)}
        if len(names) == 1:
            return names.pop(), "TwiML documents"
    return DEFAULT_ACCOUNT, ""


def _recogniser(flows: dict[str, LiveFlow]) -> Recognise:
    by_sid = {flow.sid: flow for flow in flows.values()}

    def recognise(url: str) -> Seen:
        flow_sid = flow_sid_in(url)
        if flow_sid:
            flow = by_sid.get(flow_sid)
            if flow is None:
                return Seen(False, f"Studio flow {flow_sid}, not in this account")
            ours = parse_flow_name(flow.friendly_name)
            if ours:
                return Seen(True, f"this tool's Studio flow {flow.friendly_name}", ours[1])
            return Seen(False, f"Studio flow {flow.friendly_name}")
        document = document_in(url)
        if document:
            path, line = document
            return Seen(True, f"this tool's TwiML document {path}", line)
        return Seen(False)

    return recognise


def render_draft(
    numbers: list[LiveNumber],
    flows: dict[str, LiveFlow],
    account: str,
    *,
    guessed: bool,
    source: str,
) -> tuple[str, int]:
    """The draft text and how many lines it declares (the rest are commented out).

    ``source`` says where a guessed account name was taken from."""
    why = "as given"
    if guessed:
        found = account != DEFAULT_ACCOUNT
        why = f"taken from this tool's {source}" if found else "pick a short name"
    out = [
        "# yaml-language-server: $schema=schemas/lines.schema.json",
        "#",
        f"# Draft written by `failover import` from the {len(numbers)} numbers of a Twilio account.",
        "# Review every line before the first `pulumi up`:",
        "# - each line starts as type department: set main_line, department, contact_center or user;",
        "# - ids are the deployed line ids, else made from the friendly names; keep them once deployed;",
        "# - a line without `failover` falls over to voicemail with the default greeting.",
        "# Then run `failover validate` and `failover plan`.",
        "version: 1",
        "",
        "account:",
        f"  name: {account}   # {why}; it prefixes every Twilio resource this tool creates",
        "",
        "lines:",
    ]
    recognise, usable = _recogniser(flows), 0
    for number, ident in zip(numbers, _ids(numbers, recognise), strict=True):
        block, problem = _line(number, ident, recognise)
        if problem:
            out.append(f"  # {number.phone_number} is left out: {problem}")
            out += ["  # " + text[2:] for text in block]
        else:
            out += block
            usable += 1
    return "\n".join(out) + "\n", usable


def _ids(numbers: list[LiveNumber], recognise: Recognise) -> list[str]:
    """One unique, valid id per number: the line id this tool deployed it as (so its flows and
    documents keep their names), else one made from the friendly name (else the digits)."""
    deployed: list[str] = []
    for number in numbers:
        urls = [u for u in (number.voice_fallback_url, number.voice_url) if u]
        lines = [recognise(u).line for u in urls if ID.fullmatch(recognise(u).line)]
        deployed.append(next((line for line in lines if line not in deployed), ""))
    taken = {ident for ident in deployed if ident}
    return [ident or _slug(number, taken) for number, ident in zip(numbers, deployed, strict=True)]


def _slug(number: LiveNumber, taken: set[str]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", number.friendly_name.lower()).strip("-")
    if not slug[:1].isalpha():
        slug = f"line-{slug or number.phone_number.lstrip('+')}"
    base = slug[:ID_MAX].rstrip("-")
    ident, counter = base, 1
    while ident in taken:
        counter += 1
        ident = f"{base[: ID_MAX - len(str(counter)) - 1].rstrip('-')}-{counter}"
    taken.add(ident)
    return ident


def _problem(number: LiveNumber) -> str:
    if number.binding:
        return f"{number.binding}, Twilio ignores a number-level fallback"
    try:
        valid = phonenumbers.is_valid_number(phonenumbers.parse(number.phone_number, None))
    except phonenumbers.NumberParseException:
        valid = False
    return "" if valid else "not a phone number the validator accepts"


def _line(number: LiveNumber, ident: str, recognise: Recognise) -> tuple[list[str], str]:
    """The YAML of one line (two-space indented list item) and why it cannot be used."""
    block = [f"  - id: {ident}"]
    if number.friendly_name.strip():
        block.append(f"    name: {_quote(number.friendly_name.strip()[:NAME_MAX])}")
    block.append("    type: department   # a guess")
    block.append(f"    number: {_quote(number.phone_number)}")
    block += _primary(number, recognise)
    block += _failover(number, recognise)
    return block, _problem(number)


def _primary(number: LiveNumber, recognise: Recognise) -> list[str]:
    url = number.voice_url
    if not url:
        return ["    # no voice URL: declare primary before the first apply (Twilio error 21405)"]
    seen = recognise(url)
    if seen.ours:
        return [
            f"    # the voice URL is {seen.words}: in test mode; declare primary and test: true"
        ]
    if not url.startswith("https://"):
        return [
            f"    # voice URL {_quote(redact(url))} is not https, so it is not declared as primary (left alone)"
        ]
    problem = url_problem(url)
    if problem:
        return [f"    # voice URL {_quote(redact(url))} {problem}; not declared as primary"]
    if number.voice_method == "GET":
        return [f"    # primary: {_quote(url)}   # requested with GET today; a primary gets POST"]
    return [f"    primary: {_quote(url)}   # the number's voice URL today"]


def _failover(number: LiveNumber, recognise: Recognise) -> list[str]:
    url = number.voice_fallback_url
    if not url:
        return ["    # no fallback today"]
    seen = recognise(url)
    if seen.ours and not seen.line:
        # A shared document (voicemail, message) names no line, so the id above was made from
        # the friendly name; a changed id makes the next apply treat the line as a new one.
        return [
            f"    # fallback today: {seen.words}, shared, so it does not name the line; copy the "
            "line's id and failover from the file that deployed it"
        ]
    if seen.ours:
        return [
            f"    # fallback today: {seen.words}; copy its failover from the file that deployed it"
        ]
    if not url.startswith("https://"):
        return [f"    # fallback today: {_quote(redact(url))} (not https, so not kept)"]
    problem = url_problem(url)
    if problem:
        return [f"    # fallback today: {_quote(redact(url))} {problem}; not kept"]
    note = f"{seen.words}, " if seen.words else ""
    if number.voice_fallback_method == "GET":
        note += "requested with GET today (a failover url gets POST), "
    return ["    failover:", f"      url: {_quote(url)}   # {note}the number's fallback today"]


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML); safe for any text.

    Line separators and invisible characters are escaped too, so a comment or value
    always stays on its one line.
    """
    return quoted(FORBIDDEN.sub("", text), limit=len(text))
