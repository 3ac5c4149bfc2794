"""Golden-file comparison: whole files, a unified diff on mismatch, ``--update-golden`` rewrites.

Also the golden cases: one small config per kind of line, built from the model directly.
A case is a folder under ``tests/golden/``; its files are exactly the rendered artifacts
(relative paths as in ``render_all``). Missing, extra and differing files all fail.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from infra.model import (
    Agent,
    AudioFile,
    Line,
    LinesConfig,
    LineType,
    Queue,
    Severity,
    SmsFallback,
    Voicemail,
)

GOLDEN_ROOT = Path(__file__).parent.parent / "golden"


def _on_disk(case_dir: Path) -> dict[str, str]:
    if not case_dir.is_dir():
        return {}
    return {
        path.relative_to(case_dir).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(case_dir.rglob("*"))
        if path.is_file()
    }


def _rewrite(case_dir: Path, files: dict[str, str]) -> None:
    for relative in _on_disk(case_dir):
        if relative not in files:
            (case_dir / relative).unlink()
    for relative, text in files.items():
        path = case_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    for folder in sorted(case_dir.rglob("*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def assert_golden(case: str, files: dict[str, str], update: bool) -> None:
    """Compare ``files`` with ``tests/golden/<case>/``; rewrite the folder when ``update``."""
    case_dir = GOLDEN_ROOT / case
    if update:
        _rewrite(case_dir, files)
        return
    expected = _on_disk(case_dir)
    problems: list[str] = []
    for relative in sorted(set(expected) - set(files)):
        problems.append(f"{relative}: in the golden folder but no longer rendered")
    for relative in sorted(set(files) - set(expected)):
        problems.append(f"{relative}: rendered but missing from the golden folder")
    for relative in sorted(set(files) & set(expected)):
        if files[relative] != expected[relative]:
            diff = difflib.unified_diff(
                expected[relative].splitlines(keepends=True),
                files[relative].splitlines(keepends=True),
                fromfile=f"golden/{case}/{relative}",
                tofile=f"rendered/{relative}",
            )
            problems.append("".join(diff))
    if problems:
        pytest.fail(
            f"golden case {case!r} differs (review, then rerun with --update-golden):\n"
            + "\n".join(problems),
            pytrace=False,
        )


# --- Golden cases: one small config per kind of line, built from the model directly -------

ACCOUNT = "acme"
AGENTS = (
    Agent(id="alice", name="Alice Ng", phone="+14155550111"),
    Agent(id="bob", name="Bob Okafor", phone="+14155550112"),
    Agent(id="carol", name="Carol Diaz", phone="+14155550113"),
)


def config(*lines: Line, agents: tuple[Agent, ...] = (), alerts: str | None = None) -> LinesConfig:
    """A LinesConfig for account ``acme`` holding ``lines``."""
    return LinesConfig(
        version=1, account=ACCOUNT, lines=lines, agents=agents, alerts_webhook=alerts
    )


def forward_line() -> Line:
    return Line(
        id="sales",
        name="Sales",
        type=LineType.DEPARTMENT,
        number="+14155550101",
        primary="https://voice.acme.example/sales",
        forward="+14155550188",
        forward_timeout_s=25,
        voicemail=Voicemail(greeting="Thanks for calling Acme sales. Leave your name & number."),
    )


def voicemail_line() -> Line:
    return Line(id="fay", name="Fay Moreau", type=LineType.USER, number="+14155550107")


def url_line() -> Line:
    return Line(
        id="billing",
        name="Billing",
        type=LineType.DEPARTMENT,
        number="+14155550102",
        url="https://backup-voice.acme.example/billing",
    )


def message_line() -> Line:
    return Line(
        id="press",
        name="Press office",
        type=LineType.DEPARTMENT,
        number="+14155550104",
        message="Our phone system is unavailable. Please email press@acme.example <today>.",
    )


def queue_line() -> Line:
    return Line(
        id="support",
        name="Customer support",
        type=LineType.CONTACT_CENTER,
        number="+14155550103",
        primary="https://voice.acme.example/support",
        voicemail=Voicemail(
            greeting="All agents are unavailable; leave a message.", max_length_s=180
        ),
        queue=Queue(agents=("alice", "bob"), timeout_s=150),
    )


def forward_queue_line() -> Line:
    return Line(
        id="main",
        name="Main line",
        type=LineType.MAIN_LINE,
        number="+14155550100",
        primary="https://voice.acme.example/main",
        forward="+14155550199",
        queue=Queue(agents=("alice", "carol"), timeout_s=180),
    )


def user_forwarding_line() -> Line:
    forwarding = ("+14155550120", "+14155550121", "+442079460022")
    return Line(
        id="gus",
        name="Gus Lindqvist",
        type=LineType.USER,
        number="+14155550108",
        forwarding=forwarding,
        forward=forwarding[-1],
        voicemail=Voicemail(
            greeting="Hej, this is Gus. Leave a message and I'll get back to you.",
            voice="Polly.Brian",
            language="en-GB",
            recording_callback="https://hooks.acme.example/recordings",
        ),
    )


def line_in_test_mode() -> Line:
    return Line(
        id="eli",
        name="Eli Brandt",
        type=LineType.USER,
        number="+14155550106",
        primary="https://voice.acme.example/users/eli",
        forwarding=("+14155550130",),
        forward="+14155550130",
        test=True,
    )


SMS_REPLY = SmsFallback(reply="We're offline right now & will text you back <soon>.")


def sms_lines() -> tuple[Line, ...]:
    """Two lines with the same SMS reply (one shared document) and a secondary messaging
    server requested with GET behind a secondary call server requested with GET."""
    return (
        Line(**{**_fields(voicemail_line()), "sms": SMS_REPLY}),
        Line(**{**_fields(forward_line()), "sms": SMS_REPLY}),
        Line(
            **{
                **_fields(url_line()),
                "url_method": "GET",
                "sms": SmsFallback(url="https://sms-backup.acme.example/billing", method="GET"),
            }
        ),
    )


def french_queue_line() -> Line:
    """A French contact centre: its goodbye and hold prompts are French (the prompts table)."""
    from infra.lines.prompts import resolve

    return Line(
        id="paris",
        name="Support Paris",
        type=LineType.CONTACT_CENTER,
        number="+33142685300",
        voicemail=Voicemail(
            greeting="Tous nos agents sont occupés. Laissez un message après le bip.",
            voice="Polly.Celine",
            language="fr-FR",
        ),
        prompts=resolve("fr-FR"),
        queue=Queue(agents=("alice",), timeout_s=120),
    )


def french_message_line() -> Line:
    """An English line whose message has its own French voice and language."""
    return Line(
        id="presse",
        name="Presse",
        type=LineType.DEPARTMENT,
        number="+33142685301",
        message="Notre standard est indisponible. Écrivez à presse@acme.example.",
        message_voice="Polly.Lea",
        message_language="fr-FR",
    )


def audio_greeting_line() -> Line:
    return Line(
        id="studio",
        name="Studio",
        type=LineType.DEPARTMENT,
        number="+14155550109",
        voicemail=Voicemail(greeting_audio="https://media.acme.example/studio-greeting.mp3"),
    )


def audio_message_line() -> Line:
    return Line(
        id="closed",
        name="Closed line",
        type=LineType.DEPARTMENT,
        number="+14155550110",
        message_audio="https://media.acme.example/closed.wav",
    )


REPOSITORY_RECORDING = AudioFile(
    source="greetings/night.mp3",
    location="greetings/night.mp3",
    sha256="5f2b8f6c0f1e4d7a9b3c2e1d0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f10",
    suffix=".mp3",
)


def repository_audio_line() -> Line:
    """A greeting from the repository: played from its content-addressed asset ``/a/…``."""
    return Line(
        id="night",
        name="Night desk",
        type=LineType.DEPARTMENT,
        number="+14155550111",
        voicemail=Voicemail(
            greeting_audio=REPOSITORY_RECORDING.source,
            greeting_audio_sha256=REPOSITORY_RECORDING.sha256,
        ),
    )


def _fields(line: Line) -> dict[str, object]:
    return {name: getattr(line, name) for name in Line.__dataclass_fields__}


GOLDEN_CASES: dict[str, tuple[LinesConfig, Severity]] = {
    "prompts-fr": (
        config(french_queue_line(), french_message_line(), agents=AGENTS[:1]),
        Severity.SEVERE,
    ),
    "audio": (
        LinesConfig(
            version=1,
            account=ACCOUNT,
            lines=(audio_greeting_line(), audio_message_line(), repository_audio_line()),
            audio_files=(REPOSITORY_RECORDING,),
        ),
        Severity.MINOR,
    ),
    "forward": (config(forward_line()), Severity.MINOR),
    "voicemail-only": (config(voicemail_line()), Severity.MINOR),
    "url": (config(url_line()), Severity.MINOR),
    "message": (config(message_line()), Severity.MINOR),
    "queue-severe": (config(queue_line(), agents=AGENTS), Severity.SEVERE),
    "user-with-forwarding": (config(user_forwarding_line()), Severity.MINOR),
    "test-mode": (config(line_in_test_mode()), Severity.MINOR),
    "sms": (config(*sms_lines()), Severity.MINOR),
    "alerts-webhook": (
        config(
            forward_queue_line(),
            voicemail_line(),
            url_line(),
            agents=AGENTS,
            alerts="https://hooks.acme.example/failover",
        ),
        Severity.MINOR,
    ),
}
"""Case folder name → (config, severity) rendered by ``render_all``."""


def every_kind_config(alerts: str | None = None) -> LinesConfig:
    """One config with every kind of line, for checks that range over all of them."""
    return config(
        forward_line(),
        voicemail_line(),
        url_line(),
        message_line(),
        queue_line(),
        forward_queue_line(),
        user_forwarding_line(),
        line_in_test_mode(),
        agents=AGENTS,
        alerts=alerts,
    )
