"""Is each line ready to fail over? Walk the path Twilio would take when the primary fails.

Read-only. The account is read once, as ``failover drift`` reads it (``read_snapshot``), and
compared as drift compares it (``compare``): a line's drift findings (number, fallback URL and
method, managed primary, Studio flow, queue) are its first hops. Then, per line, the checks of
``LINE_CHECKS`` run in order; each is a function ``(line, account) -> list[Hop]``, so another
feature adds what it must verify by appending one (``register``):

- ``drift_hops``: what drift finds for the line (the fallback URL and method are this stack's
  and current, flows exist, are published and match, the queue and its agents);
- ``path_hops``: from the number's live fallback URL, each document requested as Twilio
  requests it (signed, ``infra.twilio.webhooks``), parsed as TwiML and followed
  (``infra.account.hops``): every redirect and action resolves, every dialled number is not the
  account's own and may be dialled (``why_not_dialable``), the ``<Enqueue>`` workflow is the
  stack's and its wait Function answers;
- ``secondary_hops``: a ``failover.url`` line's secondary server, requested (POST, signed,
  ``ErrorCode``/``ErrorUrl`` as after a failed primary) only with ``probe_secondary``: it
  calls the customer's server;
- ``queue_hops``: each agent's phone of a queued line must be dialable, and at severity
  severe somebody must be On Duty;
- ``test_mode_hops``: a line in test mode (a notice, not a break) and since when.

Voice Dialing Geographic Permissions come from Twilio's Voice v1 API, one fetch per country
(https://www.twilio.com/docs/voice/api/dialingpermissions-country-resource); a number's country
is phonenumbers' region. Unconfirmed: that a forward of an inbound call is refused by the same
permissions as an outbound call (the docs speak of "outbound voice calls"; a ``<Dial>`` is an
outbound leg), and that ``low_risk_numbers_enabled`` covers ordinary numbers.
Must not import: pulumi, twilio, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import phonenumbers

from infra.account.agents import Roster, on_duty
from infra.account.drift import Finding, Snapshot
from infra.account.hops import Hop, Walk, parse_answer, shown
from infra.account.live import LiveNumber
from infra.expiry import expired_tests, is_expired
from infra.model import Line, LinesConfig, Severity
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.concurrency import bounded_map, values
from infra.twilio.webhooks import TWILIO_TIMEOUT_S, Answer, Webhooks

CHECK_CALL_SID = "CA" + "0" * 32
"""The CallSid the check's requests carry: no real call has it."""
CHECK_CALLER = "+15005550006"
"""Twilio's magic test number (a valid caller ID; https://www.twilio.com/docs/iam/test-credentials)
as the calling party: no real caller has it."""

_DRIFT_HOPS = {
    "number": "number",
    "trunk_sid": "number",
    "voice_application_sid": "number",
    "voice_fallback_url": "fallback URL",
    "voice_fallback_method": "fallback method",
    "voice_url": "primary URL",
    "voice_method": "primary method",
    "studio_flow": "Studio flow",
    "studio_flow_status": "Studio flow",
    "task_queue": "queue",
    "queue_agents": "queue",
    "sms_url": "SMS URL",
    "sms_application_sid": "SMS URL",
    "sms_fallback_url": "SMS fallback URL",
    "sms_fallback_method": "SMS fallback method",
}
"""Drift fields that are a hop of the line's path; the rest (forward numbers) the walk checks."""


@dataclass
class Account:
    """What every line's check shares: the account read once, and the ways to ask more."""

    config: LinesConfig
    severity: Severity
    snapshot: Snapshot
    findings: list[Finding]
    web: Webhooks
    countries: Callable[[str], bool | None]
    """ISO region -> may the account dial its ordinary numbers (None: Twilio knows none)."""
    account_sid: str = ""
    roster: Roster | None = None
    probe_secondary: bool = False
    probe_timeout_s: float = TWILIO_TIMEOUT_S
    _answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    _pending: dict[tuple[str, str], threading.Lock] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def numbers(self) -> dict[str, LiveNumber]:
        """The account's numbers by E.164 (built once: every line asks)."""
        return {n.phone_number: n for n in self.snapshot.numbers}

    @cached_property
    def _findings(self) -> dict[str, list[Finding]]:
        by_subject: dict[str, list[Finding]] = {}
        for f in self.findings:
            by_subject.setdefault(f.subject, []).append(f)
        return by_subject

    def findings_of(self, subject: str) -> list[Finding]:
        """Drift's findings about ``subject`` (a line id, ``agent <id>`` or ``stack``)."""
        return self._findings.get(subject, [])

    def request(self, url: str, method: str, line: Line) -> Answer:
        """A signed request as Twilio makes it after ``line``'s primary failed; one per URL
        and method per run (shared documents are requested once)."""
        key = (url, method)
        with self._lock:
            once = self._pending.setdefault(key, threading.Lock())
        with once:  # a second line asking meanwhile waits for this answer
            if key not in self._answers:
                params = call_params(line, self.account_sid)
                self._answers[key] = self.web.request(url, method, params)
            return self._answers[key]

    def why_not_dialable(self, number: str) -> str:
        """ "" when a call to ``number`` may be placed from this account, else why not."""
        if number in self.numbers:
            return f"{number} is a number of this Twilio account, not an outside PSTN number"
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(number))
        except phonenumbers.NumberParseException:
            region = None
        if not region or region == "001":
            return f"{number} is not a number of any country"
        allowed = self.countries(region)
        if allowed is None:
            return f"{number}: Twilio lists no dialing permissions for {region}"
        if not allowed:
            return (
                f"{number} is in {region}, which this account may not call (Voice Dialing "
                "Geographic Permissions: allow it in the Console, Voice > Settings)"
            )
        return ""


def call_params(line: Line, account_sid: str) -> dict[str, str]:
    """The parameters Twilio sends with a voice request
    (https://www.twilio.com/docs/usage/webhooks/voice-webhooks), plus ``ErrorCode`` and
    ``ErrorUrl``, which the fallback request adds (README, "How a line fails over"); 11200:
    the primary answered an HTTP error (https://www.twilio.com/docs/api/errors/11200)."""
    return {
        "AccountSid": account_sid,
        "CallSid": CHECK_CALL_SID,
        "From": CHECK_CALLER,
        "To": line.number,
        "Caller": CHECK_CALLER,
        "Called": line.number,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "ErrorCode": "11200",
        "ErrorUrl": line.primary or "",
    }


LineCheck = Callable[[Line, Account], list[Hop]]


def drift_hops(line: Line, account: Account) -> list[Hop]:
    """The line's drift findings, as hops (``infra.account.drift.compare``)."""
    hops = []
    for f in account.findings_of(line.id):
        if f.field in _DRIFT_HOPS:
            detail = f" (wants {shown(f.wanted)}, live {shown(f.live or '')})" if f.wanted else ""
            hops.append(Hop(line.id, _DRIFT_HOPS[f.field], f.message + detail))
    for agent in line.queue.agents if line.queue else ():
        for f in account.findings_of(f"agent {agent}"):
            if f.field != "phone":  # queue_hops checks the phone
                hops.append(Hop(line.id, f.subject, f.message))
    return hops


def path_hops(line: Line, account: Account) -> list[Hop]:
    """From the number's live fallback URL, each document as Twilio requests and follows it."""
    number = account.numbers.get(line.number)
    if number is None or number.binding:
        return []  # drift_hops names it: Twilio never requests this number's fallback
    url, method = number.voice_fallback_url, number.voice_fallback_method or "POST"
    if not url:
        return [Hop(line.id, "fallback URL", "the number has no fallback URL")]
    if line.url and url == line.url:
        return []  # the secondary server itself: secondary_hops
    tr = account.snapshot.taskrouter
    walk = Walk(
        line.id,
        lambda u, m: account.request(u, m, line),
        account.why_not_dialable,
        workflow_sid=tr.workflow_sid if tr else "",
    )
    flow = next((f for f in account.snapshot.flows.values() if f.webhook_url == url), None)
    if flow is not None:  # Studio answers the webhook itself; drift_hops compared the flow
        walk.flow(flow.friendly_name, flow.definition or {}, skip=line.url or "")
        return walk.hops
    walk.document(url, method, "fallback")
    return walk.hops


def secondary_hops(line: Line, account: Account) -> list[Hop]:
    """``failover.url``: the secondary server answers TwiML within Twilio's timeout (only
    when asked: it is the customer's server and the request looks like a failed call)."""
    if not line.url:
        return []
    hop = f"secondary POST {shown(line.url)}"
    if not account.probe_secondary:
        return [Hop(line.id, hop, notice="not requested (--probe-secondary requests it)")]
    answer = account.web.request(
        line.url, "POST", call_params(line, account.account_sid), account.probe_timeout_s
    )
    _root, problem = parse_answer(answer)
    return [Hop(line.id, hop, problem)]


def queue_hops(line: Line, account: Account) -> list[Hop]:
    """A queued line: each agent's phone is dialable whatever the severity (the queue is what
    a severe outage switches to, no time to find out then); at severity severe, somebody is
    On Duty to answer."""
    if line.queue is None:
        return []
    hops = []
    if account.severity is Severity.SEVERE and account.roster is not None:
        if not on_duty(line, account.roster):
            names = ", ".join(line.queue.agents)
            problem = f"no agent is On Duty ({names}): queued callers go straight to voicemail"
            hops.append(Hop(line.id, "queue", problem))
    for agent_id in line.queue.agents:
        phone = account.config.agent(agent_id).phone
        hops.append(Hop(line.id, f"agent {agent_id} {phone}", account.why_not_dialable(phone)))
    return hops


def test_mode_hops(line: Line, account: Account) -> list[Hop]:
    """Test mode is a notice: every call, not only failed ones, goes to the failover."""
    if not line.test:
        return []
    number = account.numbers.get(line.number)
    since = f" since {number.date_updated} (the number's last change)" if number else ""
    if is_expired(line, datetime.now(UTC)):  # `test: {until: …}` has passed: remove `test`
        (expired,) = expired_tests(dataclasses.replace(account.config, lines=(line,)))
        return [Hop(line.id, "test mode", expired.sentence().split(": ", 1)[1])]
    notice = f"test mode{since}: every call goes to the failover"
    return [Hop(line.id, "test mode", notice=notice)]


def sms_hops(line: Line, account: Account) -> list[Hop]:
    """``sms.reply``: the number's live SMS fallback answers TwiML when requested as Twilio
    requests it (signed, with its method); URL and method themselves are drift's findings.
    ``sms.url`` is the customer's server: like ``failover.url``, not requested."""
    number = account.numbers.get(line.number)
    if line.sms is None or line.sms.reply is None or number is None:
        return []
    url, method = number.sms_fallback_url, number.sms_fallback_method or "POST"
    if not url:
        return []  # drift_hops names it
    _root, problem = parse_answer(account.request(url, method, line))
    return [Hop(line.id, f"SMS reply {method} {shown(url)}", problem)]


LINE_CHECKS: list[LineCheck] = [
    drift_hops,
    path_hops,
    secondary_hops,
    queue_hops,
    test_mode_hops,
    sms_hops,
]
"""Run in this order for each line; append with ``register``."""


def register(check: LineCheck) -> LineCheck:
    """Add a per-line check (usable as a decorator); it runs after the ones above."""
    LINE_CHECKS.append(check)
    return check


def check_line(line: Line, account: Account) -> list[Hop]:
    """Every hop of ``line``, in the order of ``LINE_CHECKS``."""
    return [hop for check in LINE_CHECKS for hop in check(line, account)]


def check_lines(account: Account, lines: Iterable[Line], concurrency: int) -> list[list[Hop]]:
    """``check_line`` for each line, ``concurrency`` lines at a time, in the lines' order."""
    checked = bounded_map(
        lambda line: check_line(line, account), list(lines), limit=concurrency, name="check"
    )
    return values(checked)


def stack_hops(account: Account) -> list[Hop]:
    """Problems of the whole stack (nothing deployed, no workspace): every line is affected."""
    return [Hop("stack", f.field, f.message) for f in account.findings_of("stack")]


def country_reader(tw: Twilio) -> Callable[[str], bool | None]:
    """``low_risk_numbers_enabled`` of a country, fetched once per country per run."""
    cache: dict[str, bool | None] = {}
    lock = threading.Lock()

    def allowed(iso: str) -> bool | None:
        with lock:  # held while fetching: one request per country, however many lines ask
            if iso not in cache:
                countries = tw.rest.voice.v1.dialing_permissions.countries
                try:
                    with tw.errors("account", f"fetch dialing permissions of {iso}", writes=False):
                        cache[iso] = bool(countries(iso).fetch().low_risk_numbers_enabled)
                except NotFoundError:
                    cache[iso] = None
            return cache[iso]

    return allowed
