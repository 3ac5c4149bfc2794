"""Which entry each line's number gets, at each severity, the documents it reaches, and the
route fingerprint.

Entry choice (one rule, docs/design/scale.md): every failover is served by a static TwiML
document (protected Serverless Asset, requested with GET) or, for ``failover.url``, by the
secondary server itself (POST). No Studio flow and no Function sits between a failed primary
and the caller, because Studio accepts 100 new inbound executions per second per account and
past that Twilio requests the number's *fallback* URL again, i.e. the flow
(https://support.twilio.com/hc/en-us/articles/39605338385051-Twilio-Studio-Limitation), and
Functions run at most 30 at once per account (https://www.twilio.com/docs/runtime/functions-assets-api).
Assets are served from Twilio's CDN with no documented rate limit
(https://www.twilio.com/docs/serverless/functions-assets/assets).

- voicemail only: the voicemail document, shared by every line with the same voicemail
  settings (``/v/default.xml`` for ``defaults.voicemail``, else content-addressed);
- message: a shared, content-addressed message document;
- forward → voicemail: the line's forwarding document ``/f/<id>.xml`` (``<Dial>`` without
  ``action``, then ``<Redirect>`` to the voicemail: Twilio "will continue to render the original
  TwiML document" when the dialed call ends, https://www.twilio.com/docs/voice/twiml/dial);
- queue → voicemail (severe): the line's queue entry document ``/q/<id>.xml``.
``failover.url`` is requested with ``failover.method`` (GET or POST, default POST): "the Fallback
URL's method is GET or POST" (``VoiceFallbackMethod``,
https://www.twilio.com/docs/phone-numbers/api/incomingphonenumber-resource).

SMS (``sms``, ``sms_fallback_entry``): the number's ``SmsFallbackUrl`` is what Twilio requests
when its SMS URL fails ("Under both the Voice Configuration and Messaging Configuration
sections, there is a field called 'Primary handler fails'",
https://www.twilio.com/docs/usage/security/availability-reliability). ``sms.reply`` is a shared,
content-addressed ``<Message>`` document (``/s/<hash>.xml`` in ``shared``, GET);
``sms.url`` is the secondary messaging server with ``sms.method``.

This holds with ``alerts.webhook`` too: alerts are sent by a scheduled ``failover status
--notify`` from Twilio's own records (``infra.alerts``, docs/design/alerts.md), not by a step
on the call. Stacks that had alerts enter through Studio flows until their next ``pulumi up``:
the numbers move to the documents first, and Pulumi deletes the flows that left the program at
the end of the update (``StudioFlow.delete`` refuses while a number still points at one).

Severity only changes the entry of lines with a queue, and both documents are deployed up
front, so switching severity during an outage only re-points numbers.
The plan, the Pulumi program and the drift check all call ``fallback_entry``.

Pure. Must not import: pulumi, twilio, infra.lines, infra.providers, infra.render, infra.cli.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from infra.model import (
    DEFAULT_GOODBYE,
    AudioFile,
    Line,
    LinesConfig,
    Severity,
    TargetKind,
    Voicemail,
)
from infra.naming import (
    CONFIRM_ACCEPT_PATH,
    DEFAULT_VOICEMAIL_PATH,
    ENVIRONMENT_DOCUMENT_CAP,
    QUEUE_ENV,
    SHARED_ENV,
    asset_url,
    audio_asset_path,
    flow_name,
    forward_env,
    forward_path,
    queue_entry_path,
    shared_path,
)


class EntryKind(enum.Enum):
    """What a number's voice URL points at."""

    URL = "url"
    """A secondary call server (``failover.url``), requested with POST like a primary."""
    DOCUMENT = "document"
    """A static TwiML document on the Serverless domain, requested with GET."""
    FLOW = "flow"
    """A Studio flow's webhook, requested with POST."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A voice entry point, known before deployment: kind, reference and HTTP method.

    ``ref`` is an https URL (URL), an asset path (DOCUMENT) or a Studio flow name (FLOW);
    ``env`` is the Serverless environment serving a DOCUMENT ("" otherwise).
    """

    kind: EntryKind
    ref: str
    method: str
    """``POST`` or ``GET``. Documents use GET: whether Assets answer POST is unconfirmed."""
    env: str = ""

    def resolve(self, domains: Mapping[str, str], flow_webhook_urls: Mapping[str, str]) -> str:
        """Return the URL to set on the number once domains and flow webhooks are known.

        ``domains`` maps environment names to their ``domain_name``; ``flow_webhook_urls``
        maps flow names to the flows' ``webhook_url``. A missing one raises KeyError naming it.
        """
        if self.kind is EntryKind.URL:
            return self.ref
        if self.kind is EntryKind.DOCUMENT:
            try:
                return asset_url(domains[self.env], self.ref)
            except KeyError:
                raise KeyError(f"no domain known for Serverless environment {self.env!r}") from None
        try:
            return flow_webhook_urls[self.ref]
        except KeyError:
            raise KeyError(f"no webhook URL known for Studio flow {self.ref!r}") from None

    def as_dict(self) -> dict[str, str]:
        """JSON-able form, as written to ``entries.json``."""
        out = {"kind": self.kind.value, "method": self.method, "ref": self.ref}
        if self.env:
            out["env"] = self.env
        return out


@dataclass(frozen=True, slots=True)
class LinePaths:
    """Shared documents a line's calls can reach (all in the ``shared`` environment)."""

    voicemail: str
    goodbye: str
    message: str
    confirm: str = ""
    """The forward confirm whisper (``failover.confirm``), in the line's voice; empty when the
    line does not confirm its forward. Its key press lands on ``CONFIRM_ACCEPT_PATH``."""


def line_paths(line: Line, config: LinesConfig | None) -> LinePaths:
    """The shared document paths of ``line``: equal settings give equal paths. Without a
    config (some unit tests) the voicemail path is always content-addressed."""
    vm = line.voicemail
    goodbye = line.prompts.goodbye
    default = (
        config is not None
        and vm == config.default_voicemail
        and goodbye == config.default_prompts.goodbye
    )
    if line.message_audio is not None:
        message = _audio_message_path(line.message_audio, line.message_audio_sha256)
    else:
        message = _message_path(line.message or "", *line.message_speech)
    return LinePaths(
        voicemail=DEFAULT_VOICEMAIL_PATH if default else _voicemail_path(vm, goodbye),
        goodbye=_goodbye_path(vm.voice, vm.language, goodbye),
        message=message,
        confirm=_confirm_path(vm.voice, vm.language, line.prompts.confirm)
        if line.forward_confirm
        else "",
    )


# Cached: at 10,000 lines every line asks for the same few paths many times, and each is a
# sha256 of JSON.
# Paths of documents whose words existed before recorded audio and translated prompts keep
# their formula (the new values join the hash only when set), so an upgrade moves no number.
@functools.lru_cache(maxsize=4096)
def _voicemail_path(vm: Voicemail, goodbye: str = DEFAULT_GOODBYE) -> str:
    """The goodbye joins the hash: its document is the ``<Record action>``, so two lines with
    the same voicemail but different goodbyes need two voicemail documents."""
    audio: tuple[str, ...] = ()
    if vm.greeting_audio is not None:
        audio = ("audio", vm.greeting_audio, vm.greeting_audio_sha256)
    thanks = () if goodbye == DEFAULT_GOODBYE else ("goodbye", goodbye)
    return shared_path(
        "v",
        vm.greeting,
        vm.voice,
        vm.language,
        vm.max_length_s,
        vm.recording_callback,
        *audio,
        *thanks,
    )


@functools.lru_cache(maxsize=1024)
def _goodbye_path(voice: str, language: str, text: str = DEFAULT_GOODBYE) -> str:
    if text == DEFAULT_GOODBYE:
        return shared_path("b", voice, language)
    return shared_path("b", voice, language, text)


@functools.lru_cache(maxsize=1024)
def _audio_message_path(source: str, sha256: str) -> str:
    return shared_path("m", "audio", source, sha256)


def play_url(source: str, sha256: str) -> str:
    """What ``<Play>`` fetches: an https URL as written, or the asset path of a recording from
    the repository (``/a/<hash>.mp3``), relative to the document, which is in the same
    ``shared`` environment. That Twilio resolves a relative ``<Play>`` URL against the
    document's URL, as it documents for ``<Redirect>``
    (https://www.twilio.com/docs/voice/twiml/redirect), is *unconfirmed*."""
    if source.startswith("https://"):
        return source
    return audio_asset_path(sha256, "." + source.rsplit(".", 1)[-1])


def audio_assets(config: LinesConfig) -> dict[str, AudioFile]:
    """The recordings from the repository by asset path (deployed in ``shared``)."""
    return {audio_asset_path(f.sha256, f.suffix): f for f in config.audio_files}


@functools.lru_cache(maxsize=1024)
def _confirm_path(voice: str, language: str, text: str) -> str:
    return shared_path("c", text, voice, language)


@functools.lru_cache(maxsize=4096)
def _message_path(text: str, voice: str, language: str) -> str:
    return shared_path("m", text, voice, language)


def needs_flow(line: Line, severity: Severity, *, alerts: bool) -> bool:
    """True when the line's failover at this severity is served by a Studio flow: never since
    alerts left the caller's path (see the module docstring); ``alerts`` is kept for callers."""
    return False


def is_queued(line: Line, severity: Severity) -> bool:
    """True when the chain at this severity starts in the line's call queue."""
    return line.failover_chain(severity)[0].kind is TargetKind.QUEUE


def fallback_entry(line: Line, severity: Severity, *, config: LinesConfig) -> Entry:
    """Return the entry a number gets as its voice fallback (``VoiceFallbackUrl``/``Method``).

    ``config`` supplies the account (flow names), ``alerts.webhook`` and the default
    voicemail. The plan, the Pulumi program and the drift check must all call this one function.
    """
    if needs_flow(line, severity, alerts=config.alerts_webhook is not None):
        name = flow_name(config.account, line.id, queued=is_queued(line, severity))
        return Entry(EntryKind.FLOW, name, "POST")
    first = line.failover_chain(severity)[0]
    if first.kind is TargetKind.URL:
        return Entry(EntryKind.URL, first.to, line.url_method)
    if first.kind is TargetKind.QUEUE:
        return Entry(EntryKind.DOCUMENT, queue_entry_path(line.id), "GET", QUEUE_ENV)
    if first.kind is TargetKind.FORWARD:
        return Entry(EntryKind.DOCUMENT, forward_path(line.id), "GET", forward_env(line.id))
    paths = line_paths(line, config)
    if first.kind is TargetKind.MESSAGE:
        return Entry(EntryKind.DOCUMENT, paths.message, "GET", SHARED_ENV)
    return Entry(EntryKind.DOCUMENT, paths.voicemail, "GET", SHARED_ENV)


def sms_reply_path(reply: str) -> str:
    """Path of the ``<Message>`` document answering with ``reply`` (shared by equal replies)."""
    return shared_path("s", reply)


def sms_fallback_entry(line: Line) -> Entry | None:
    """The entry a number gets as its SMS fallback (``SmsFallbackUrl``/``SmsFallbackMethod``),
    or None when the line declares no ``sms`` (its SMS settings are left alone).

    One answer for the program, the plan, drift and the readiness check: a line with an SMS
    fallback is ready when its number has an SMS URL (else Twilio refuses the fallback, error
    21406, https://www.twilio.com/docs/api/errors/21406), no ``SmsApplicationSid`` (then the
    application's URLs are used instead), and ``SmsFallbackUrl``/``Method`` equal to this
    entry resolved (``Entry.resolve``)."""
    sms = line.sms
    if sms is None:
        return None
    if sms.url is not None:
        return Entry(EntryKind.URL, sms.url, sms.method)
    return Entry(EntryKind.DOCUMENT, sms_reply_path(sms.reply or ""), "GET", SHARED_ENV)


def documents_per_environment(config: LinesConfig) -> dict[str, int]:
    """How many documents each Serverless environment will hold (without rendering them)."""
    counts: dict[str, int] = {}
    shared: set[str] = set()
    for line in config.lines:
        kinds = {t.kind for severity in Severity for t in line.failover_chain(severity)}
        paths = line_paths(line, config)
        if TargetKind.VOICEMAIL in kinds:
            shared.update((paths.voicemail, paths.goodbye))
        if TargetKind.MESSAGE in kinds:
            shared.add(paths.message)
        if line.sms is not None and line.sms.reply is not None:
            shared.add(sms_reply_path(line.sms.reply))
        if TargetKind.FORWARD in kinds and paths.confirm:
            shared.update((paths.confirm, CONFIRM_ACCEPT_PATH))
        if TargetKind.FORWARD in kinds:
            env = forward_env(line.id)
            counts[env] = counts.get(env, 0) + 1
        if TargetKind.QUEUE in kinds:
            counts[QUEUE_ENV] = counts.get(QUEUE_ENV, 0) + 1
    counts[SHARED_ENV] = len(shared) + len(config.audio_files)
    return dict(sorted(counts.items()))


def capacity_problems(config: LinesConfig) -> list[str]:
    """Environments that would exceed ``ENVIRONMENT_DOCUMENT_CAP`` documents (Twilio allows
    1,000 asset versions per build), each as a sentence saying what to do."""
    return [
        f"Serverless environment {env} would hold {count} documents; at most "
        f"{ENVIRONMENT_DOCUMENT_CAP} fit one Twilio build with headroom (1,000 is Twilio's limit, "
        "https://www.twilio.com/docs/runtime/functions-assets-api). "
        + (
            "Use fewer distinct voicemail greetings, messages or SMS replies"
            if env == SHARED_ENV
            else "Split the organisation into two stacks"
        )
        for env, count in documents_per_environment(config).items()
        if count > ENVIRONMENT_DOCUMENT_CAP
    ]


def primary_entry(line: Line, severity: Severity, *, config: LinesConfig) -> Entry | None:
    """Return the entry for the number's primary ``VoiceUrl``, or None to leave it alone.

    Test mode points the primary at the same entry as the fallback, so every call goes
    straight to the failover. Otherwise a declared ``primary:`` is managed as given (POST),
    and a line without one keeps whatever primary its owner set.
    """
    if line.test:
        return fallback_entry(line, severity, config=config)
    if line.queue is not None and line.queue.test:
        # Queue test mode: this line's severe entry (queue, then voicemail), whatever the
        # stack's severity; every queue entry is deployed at every severity.
        return fallback_entry(line, Severity.SEVERE, config=config)
    if line.primary is not None:
        return Entry(EntryKind.URL, line.primary, "POST")
    return None


def fallback_entries(config: LinesConfig, severity: Severity) -> dict[str, Entry]:
    """``fallback_entry`` for every line, keyed by line id, in file order."""
    return {line.id: fallback_entry(line, severity, config=config) for line in config.lines}


FINGERPRINT_VERSION = "2"
"""Prefix of every fingerprint; the ledger does not count a change of formula as a route change
(0.2 fingerprints had no prefix and included the entry URL, which the 0.3 model moves)."""


def route_fingerprint(line: Line, config: LinesConfig) -> str:
    """Who answers when this line's primary fails, at either severity; not the words spoken,
    nor the mechanism (entry document or flow) that gets the caller there.

    The ledger compares these between runs; a greeting edit leaves it unchanged, as in
    ``failover diff``.
    """
    shape = {
        "number": line.number,
        "primary": line.primary,
        "test": line.test,
        **({"queue_test": True} if line.queue is not None and line.queue.test else {}),
        "routes": {
            severity.value: [
                [s.kind.value, s.to, s.timeout_s] for s in line.failover_chain(severity)
            ]
            for severity in Severity
        },
    }
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]
    return f"{FINGERPRINT_VERSION}:{digest}"


def failover_fingerprint(line: Line) -> str:
    """Who answers when this line's primary fails, at either severity, without test mode and
    the primary: the ledger records when this last changed (the 24-hour rule before a test,
    ``infra.expiry``)."""
    shape = {
        severity.value: [[s.kind.value, s.to, s.timeout_s] for s in line.failover_chain(severity)]
        for severity in Severity
    }
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()[:16]
    return f"{FINGERPRINT_VERSION}:{digest}"
