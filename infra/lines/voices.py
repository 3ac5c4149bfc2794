"""Known Twilio <Say> voices, their languages and text limits, for warnings only.

The table is incomplete on purpose: an unknown voice is warned about, never rejected,
because Twilio adds voices faster than this file changes. Sources: Twilio's TTS voice
list and error 13521 (Say character limits: basic 4096, Polly 3000, Google 5000 bytes).
Must not import: anything from infra.
"""

from __future__ import annotations

BASIC_VOICES = frozenset({"man", "woman", "alice"})

# Amazon Polly voices Twilio offers (standard/neural); suffixes like -Neural are stripped.
POLLY_LANGUAGES: dict[str, str] = {
    **dict.fromkeys(
        [
            "Joanna",
            "Matthew",
            "Ivy",
            "Justin",
            "Kendra",
            "Kimberly",
            "Salli",
            "Joey",
            "Kevin",
            "Ruth",
            "Stephen",
            "Danielle",
            "Gregory",
            "Patrick",
        ],
        "en-US",
    ),
    **dict.fromkeys(["Amy", "Brian", "Emma", "Arthur"], "en-GB"),
    **dict.fromkeys(["Nicole", "Olivia", "Russell"], "en-AU"),
    **dict.fromkeys(["Aditi", "Raveena", "Kajal"], "en-IN"),
    "Geraint": "en-GB-WLS",
    "Aria": "en-NZ",
    "Ayanda": "en-ZA",
    "Niamh": "en-IE",
    **dict.fromkeys(["Marlene", "Vicki", "Hans", "Daniel"], "de-DE"),
    "Hannah": "de-AT",
    **dict.fromkeys(["Celine", "Lea", "Mathieu", "Remi"], "fr-FR"),
    **dict.fromkeys(["Chantal", "Gabrielle", "Liam"], "fr-CA"),
    **dict.fromkeys(["Conchita", "Lucia", "Enrique", "Sergio"], "es-ES"),
    **dict.fromkeys(["Mia", "Andres"], "es-MX"),
    **dict.fromkeys(["Lupe", "Penelope", "Miguel", "Pedro"], "es-US"),
    **dict.fromkeys(["Carla", "Bianca", "Giorgio", "Adriano"], "it-IT"),
    **dict.fromkeys(["Camila", "Vitoria", "Ricardo", "Thiago"], "pt-BR"),
    **dict.fromkeys(["Ines", "Cristiano"], "pt-PT"),
    **dict.fromkeys(["Mizuki", "Takumi", "Kazuha", "Tomoko"], "ja-JP"),
    "Seoyeon": "ko-KR",
    "Zhiyu": "cmn-CN",
    **dict.fromkeys(["Lotte", "Ruben", "Laura"], "nl-NL"),
    **dict.fromkeys(["Liv", "Ida"], "nb-NO"),
    **dict.fromkeys(["Naja", "Mads", "Sofie"], "da-DK"),
    **dict.fromkeys(["Astrid", "Elin"], "sv-SE"),
    **dict.fromkeys(["Ewa", "Maja", "Jacek", "Jan", "Ola"], "pl-PL"),
    **dict.fromkeys(["Tatyana", "Maxim"], "ru-RU"),
    **dict.fromkeys(["Filiz", "Burcu"], "tr-TR"),
    "Carmen": "ro-RO",
    "Gwyneth": "cy-GB",
    "Suvi": "fi-FI",
    **dict.fromkeys(["Dora", "Karl"], "is-IS"),
}

SAY_LIMIT_BYTES = {"basic": 4096, "polly": 3000, "google": 5000}


def family(voice: str) -> str:
    """``polly``, ``google``, ``basic`` or ``unknown``."""
    if voice.startswith("Polly."):
        return "polly"
    if voice.startswith("Google."):
        return "google"
    return "basic" if voice in BASIC_VOICES else "unknown"


def say_limit(voice: str) -> int:
    """Most UTF-8 bytes Twilio says in one <Say> with this voice (unknown: the strictest)."""
    return SAY_LIMIT_BYTES.get(family(voice), min(SAY_LIMIT_BYTES.values()))


def voice_problem(voice: str, language: str) -> str | None:
    """A warning text when ``voice`` is unknown or does not speak ``language``; else None."""
    kind = family(voice)
    if kind == "basic":
        return None
    if kind == "polly":
        name = voice.removeprefix("Polly.").split("-")[0]
        spoken = POLLY_LANGUAGES.get(name)
        if spoken is None:
            return (
                f'voice "{voice}" is not a Polly voice this tool knows; check Twilio\'s voice list'
            )
        if spoken != language:
            return f'voice "{voice}" speaks {spoken}, but language is {language}; Twilio may refuse the <Say>'
        return None
    if kind == "google":
        parts = voice.removeprefix("Google.").split("-")
        spoken = "-".join(parts[:2]) if len(parts) >= 2 else ""
        if spoken.lower() != language.lower():
            return f'voice "{voice}" speaks {spoken or "an unknown language"}, but language is {language}'
        return None
    return f'unknown voice "{voice}"; use man, woman, alice, Polly.<Name> or Google.<voice>'
