"""Types of the declared state: what lines.yaml means, after loading and validation.

Every object is immutable and hashable. Positions (``where``) are kept for error messages
but excluded from equality, so two files that differ only in layout compare equal.

The failover decision has one home: ``Line.failover_chain()``. Renderers, the plan, the
Pulumi program and the drift check all consume it; none reorders, filters or adds defaults.

Must not import: anything else in infra except errors; yaml, jsonschema, twilio, pulumi.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from infra.errors import NOWHERE, SourceRef

DEFAULT_GREETING = "No one is available to take your call. Please leave a message after the tone."
DEFAULT_VOICE = "Polly.Joanna"
DEFAULT_LANGUAGE = "en-US"
DEFAULT_MAX_LENGTH_S = 120
DEFAULT_FORWARD_TIMEOUT_S = 20
DEFAULT_QUEUE_TIMEOUT_S = 300
DEFAULT_GOODBYE = "Thank you for your message. Goodbye."
DEFAULT_HOLD = "Please hold for the next available agent."
DEFAULT_STILL_HOLDING = "Please continue to hold."
DEFAULT_NOBODY = "Nobody can take your call right now."
DEFAULT_POSITION = "You are number {n} in line."
DEFAULT_CONFIRM = "This is a forwarded call. Press any key to take it."
DEFAULT_AGENT_CALL = "Call for {line} from {caller}. Press 1 to accept."
DEFAULT_WITHHELD = "a withheld number"
DEFAULT_QUEUE_RING_S = 30
MAX_QUEUE_RING_S = 30
"""An agent's phone rings at most this long: with the whisper (prompt and key press, about
15 s) it stays below the workflow's 45 s reservation timeout (``infra.render.taskrouter``)."""
MAX_FORWARDING_NUMBERS = 5


class LineType(enum.Enum):
    """What kind of line a number serves; all but ``user`` are shared lines."""

    MAIN_LINE = "main_line"
    DEPARTMENT = "department"
    CONTACT_CENTER = "contact_center"
    USER = "user"

    @property
    def shared(self) -> bool:
        """Shared lines may declare a call queue; user lines may not."""
        return self is not LineType.USER


class Severity(enum.Enum):
    """Stack-wide outage severity: ``severe`` routes shared lines with a queue into it."""

    MINOR = "minor"
    SEVERE = "severe"


class TargetKind(enum.Enum):
    """One step of a failover chain."""

    FORWARD = "forward"
    """Ring an outside PSTN number; unanswered falls through to the next step."""
    QUEUE = "queue"
    """Enqueue into the line's TaskRouter call queue; leaving the queue falls through."""
    VOICEMAIL = "voicemail"
    """Play the greeting and record a message. Always last when present."""
    URL = "url"
    """Hand the call to a secondary web server; nothing follows (that server decides)."""
    MESSAGE = "message"
    """Say a custom error message and hang up; nothing follows."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Voicemail:
    """The voicemail a line falls through to, with defaults already applied."""

    greeting: str = DEFAULT_GREETING
    """Spoken with ``<Say>`` before the tone (unless ``greeting_audio`` is set)."""
    greeting_audio: str | None = None
    """A recorded greeting played with ``<Play>`` instead of saying ``greeting``: an https URL,
    or a file path relative to lines.yaml (deployed as an asset, ``greeting_audio_sha256``)."""
    greeting_audio_sha256: str = ""
    """sha256 of the greeting's file; empty for a URL (or a file not read, e.g. at a git ref)."""
    voice: str = DEFAULT_VOICE
    """Twilio ``<Say>`` voice, e.g. ``Polly.Joanna`` or ``alice``."""
    language: str = DEFAULT_LANGUAGE
    """BCP-47 language tag passed to ``<Say>``."""
    max_length_s: int = DEFAULT_MAX_LENGTH_S
    """``<Record maxLength>``: longest message in seconds."""
    recording_callback: str | None = None
    """Optional https URL Twilio notifies when a recording is ready."""
    where: SourceRef = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsFallback:
    """What a sender gets when the number's SMS URL fails (``sms:``): exactly one of ``reply``
    (a static ``<Message>`` document) or ``url`` (a secondary messaging server)."""

    reply: str | None = None
    """Text sent back to the sender."""
    url: str | None = None
    """Secondary messaging server's https URL."""
    method: str = "POST"
    """``SmsFallbackMethod`` for ``url`` (GET or POST); a ``reply`` document is always GET."""
    where: SourceRef = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class FailoverTarget:
    """One step of a line's failover: where a call goes when the previous step does not answer."""

    kind: TargetKind
    to: str = ""
    """E.164 number (FORWARD), https URL (URL), line id (QUEUE); empty otherwise."""
    timeout_s: int = 0
    """Seconds to ring (FORWARD) or to wait in the queue (QUEUE); 0 where it does not apply."""
    text: str = ""
    """What is said: the greeting (VOICEMAIL) or the error message (MESSAGE)."""
    audio: str = ""
    """https URL played instead of ``text`` (a recorded greeting or message); empty otherwise."""
    confirm: bool = False
    """FORWARD only: the callee hears that this is a forwarded call and must press a key
    before the caller is connected (``failover.confirm``)."""
    where: SourceRef = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioFile:
    """A recording from the repository, deployed as a Serverless asset with the documents."""

    source: str
    """The path as written in lines.yaml (relative to it)."""
    location: str
    """Where it was read: the lines file's folder joined with ``source``."""
    sha256: str
    suffix: str
    """``.mp3``, ``.wav``, …: names the asset and its Content-Type."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompts:
    """The sentences the tool itself adds to a line's calls, in the line's language (the
    translation table and ``prompts:`` overrides are applied when loading)."""

    goodbye: str = DEFAULT_GOODBYE
    """Said after a voicemail was left, before hanging up."""
    hold: str = DEFAULT_HOLD
    """Said when a caller enters the call queue."""
    still_holding: str = DEFAULT_STILL_HOLDING
    """Said at each later hold cycle."""
    nobody: str = DEFAULT_NOBODY
    """Said when nobody On Duty serves the queue, before voicemail."""
    position: str = DEFAULT_POSITION
    """Said after the hold prompt each cycle, ``{n}`` replaced by the caller's place in line."""
    confirm: str = DEFAULT_CONFIRM
    """Said to whoever answers a confirmed forward (``failover.confirm``) before a key press."""
    agent_call: str = DEFAULT_AGENT_CALL
    """The whisper an agent hears on picking up a queued call, ``{line}`` replaced by the line's
    name and ``{caller}`` by the caller's digits (or ``withheld``). Only 1 takes the call."""
    withheld: str = DEFAULT_WITHHELD
    """Said for ``{caller}`` in ``agent_call`` when the caller withheld their number."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    """A person who answers queued calls on their own phone."""

    id: str
    """Stable identifier, also the TaskRouter worker's friendly name."""
    name: str
    """Display name."""
    phone: str
    """E.164 PSTN number TaskRouter dials (the worker's ``contact_uri``)."""
    on_duty: bool = True
    """``duty``: the activity the worker starts in when it is created (On Duty unless
    ``off``); never applied again afterwards, so an agent's own choice is kept."""
    where: SourceRef = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    """Call-queue failover for a shared line, used only when severity is ``severe``."""

    agents: tuple[str, ...]
    """Agent ids, in file order; TaskRouter picks the longest-idle available agent."""
    timeout_s: int = DEFAULT_QUEUE_TIMEOUT_S
    """Longest a caller waits in the queue before falling through to voicemail."""
    ring_s: int = DEFAULT_QUEUE_RING_S
    """How long an agent's phone rings for one queued call (``queue.ring``)."""
    test: bool = False
    """Queue test mode (``queue.test``): the primary points at the queue entry (the severe
    entry of this line) whatever the stack's severity, until switched off."""
    where: SourceRef = field(default=NOWHERE, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One Twilio number and what happens to its calls when the primary server fails."""

    id: str
    """Stable identifier: Pulumi logical names, asset paths and flow names derive from it."""
    type: LineType
    number: str
    """E.164 Twilio number of this line (already owned by the account; never bought)."""
    name: str = ""
    """Optional display name; defaults to the id in output."""
    primary: str | None = None
    """Primary voice URL; when set, the tool also manages the number's ``VoiceUrl``."""
    forward: str | None = None
    """Failover PSTN number: ``failover.forward``, or a user line's last forwarding number."""
    forward_timeout_s: int = DEFAULT_FORWARD_TIMEOUT_S
    """Seconds to ring ``forward`` before voicemail."""
    forward_confirm: bool = False
    """``failover.confirm``: the forward's callee must press a key to take the call, so their
    voicemail never does and the caller reaches the line's voicemail instead."""
    forwarding: tuple[str, ...] = ()
    """A user line's forwarding numbers in the order added (the last is the failover)."""
    url: str | None = None
    """Secondary web server that takes over (``failover.url``)."""
    url_method: str = "POST"
    """HTTP method Twilio requests ``url`` with (``failover.method``; ``VoiceFallbackMethod``)."""
    message: str | None = None
    """Custom error message said before hanging up (``failover.message``)."""
    message_audio: str | None = None
    """A recorded error message played before hanging up (``failover.message.audio``): an
    https URL or a file path relative to lines.yaml."""
    message_audio_sha256: str = ""
    """sha256 of the message's file; empty for a URL."""
    message_voice: str | None = None
    """``failover.message.voice``; None: the line's voicemail voice."""
    message_language: str | None = None
    """``failover.message.language``; None: the line's voicemail language."""
    prompts: Prompts = field(default_factory=Prompts)
    """What the tool adds (goodbye, hold), spoken with the voicemail's voice and language."""
    voicemail: Voicemail = field(default_factory=Voicemail)
    """Final voicemail, defaults applied."""
    queue: Queue | None = None
    """Call-queue failover (shared lines only), used when severity is ``severe``."""
    test: bool = False
    """Failover test mode: the primary points at the failover entry until switched off."""
    sms: SmsFallback | None = None
    """SMS fallback (the line's ``sms`` or ``defaults.sms``); None leaves the number's SMS
    settings alone."""
    renamed_from: tuple[str, ...] = ()
    """Earlier ids of this line, oldest first (``renamed_from``): its number is carried over
    in place, never restored and adopted again."""
    test_until: str | None = None
    """``test.until``: when the test is meant to end (RFC 3339 UTC, ``YYYY-MM-DDTHH:MM:SSZ``).
    Reported once past; the test stays deployed until ``test`` is removed."""
    test_early: bool = False
    """``test.early``: the test may start less than 24 h after the failover was deployed."""
    where: SourceRef = field(default=NOWHERE, compare=False, repr=False)

    @property
    def number_key(self) -> str:
        """The id that chooses the resource managing this line's number: the oldest id, so a
        renamed line stays where its number's record is (``infra.naming.number_batch``)."""
        return self.renamed_from[0] if self.renamed_from else self.id

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @property
    def message_speech(self) -> tuple[str, str]:
        """Voice and language the message is said with: its own, else the voicemail's."""
        return (
            self.message_voice or self.voicemail.voice,
            self.message_language or self.voicemail.language,
        )

    def failover_chain(self, severity: Severity = Severity.MINOR) -> tuple[FailoverTarget, ...]:
        """Return the ordered failover steps for this line at the given severity.

        Contract: the result is non-empty; URL and MESSAGE stand alone; otherwise VOICEMAIL
        is last. PSTN forward takes priority over voicemail. In a ``severe`` outage a shared
        line with a queue uses queue-then-voicemail instead of its standard failover.
        """
        voicemail = FailoverTarget(
            kind=TargetKind.VOICEMAIL,
            text=self.voicemail.greeting,
            audio=self.voicemail.greeting_audio or "",
            where=self.voicemail.where,
        )
        if severity is Severity.SEVERE and self.queue is not None:
            queued = FailoverTarget(
                kind=TargetKind.QUEUE,
                to=self.id,
                timeout_s=self.queue.timeout_s,
                where=self.queue.where,
            )
            return (queued, voicemail)
        if self.url is not None:
            return (FailoverTarget(kind=TargetKind.URL, to=self.url, where=self.where),)
        if self.message is not None or self.message_audio is not None:
            said = FailoverTarget(
                kind=TargetKind.MESSAGE,
                text=self.message or "",
                audio=self.message_audio or "",
                where=self.where,
            )
            return (said,)
        if self.forward is not None:
            ring = FailoverTarget(
                kind=TargetKind.FORWARD,
                to=self.forward,
                timeout_s=self.forward_timeout_s,
                confirm=self.forward_confirm,
                where=self.where,
            )
            return (ring, voicemail)
        return (voicemail,)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinesConfig:
    """The whole declared state of one lines.yaml."""

    version: int
    account: str
    """``account.name``: prefixes every Twilio-side resource name (Serverless service, flows)."""
    lines: tuple[Line, ...]
    agents: tuple[Agent, ...] = ()
    alerts_webhook: str | None = None
    """Optional https URL that ``failover status --notify`` sends signed alerts to (``infra.alerts``)."""
    alerts_payload: str = "plain"
    """``alerts.payload``: ``plain`` JSON or ``slack`` (``{"text": …}``)."""
    alerts_summary_every: int = 15
    """``alerts.summary_every``: minutes between summaries while a line keeps failing over."""
    default_voicemail: Voicemail = field(default_factory=Voicemail)
    """``defaults.voicemail`` with the built-in defaults applied: lines whose voicemail equals it
    share one document at a stable path, so changing it changes one document (``infra.routing``)."""
    default_sms: SmsFallback | None = None
    """``defaults.sms``: every line without its own ``sms`` gets it (already applied to lines)."""
    audio_files: tuple[AudioFile, ...] = ()
    """Recordings from the repository that greetings and messages play, once each."""
    default_prompts: Prompts = field(default_factory=Prompts)
    """The prompts of a line that sets no ``prompts`` and uses ``defaults.voicemail``'s language:
    only lines with these share the stable default voicemail path."""
    source: str = "lines.yaml"
    """Path of the file this was loaded from, for messages."""

    def line(self, line_id: str) -> Line:
        """Return the line with this id; KeyError if there is none."""
        for candidate in self.lines:
            if candidate.id == line_id:
                return candidate
        raise KeyError(line_id)

    def agent(self, agent_id: str) -> Agent:
        """Return the agent with this id; KeyError if there is none."""
        for candidate in self.agents:
            if candidate.id == agent_id:
                return candidate
        raise KeyError(agent_id)

    @property
    def queued_lines(self) -> tuple[Line, ...]:
        """Shared lines that declare a call queue, in file order."""
        return tuple(line for line in self.lines if line.queue is not None)
