"""The sentences the tool adds to a line's calls (goodbye, hold), per language.

A line's prompts follow its voicemail ``language`` (they are spoken with the voicemail's
voice): the table below has a text for each prompt in a few languages, keyed by the primary
language subtag (``fr-CA`` and ``fr-FR`` both use ``fr``). A language without a row falls
back to English, and ``failover validate``/``plan`` warn about it; ``prompts:`` in
``defaults`` or on a line overrides any text. The translations are ours, not Twilio's: have
a native speaker read them before relying on them (README "Prompts in the line's language").

Must not import: anything from infra except infra.model.
"""

from __future__ import annotations

import functools
from typing import Any

from infra.model import Prompts

KEYS = (
    "goodbye",
    "hold",
    "still_holding",
    "nobody",
    "position",
    "confirm",
    "agent_call",
    "withheld",
)

TRANSLATIONS: dict[str, dict[str, str]] = {
    "en": {
        "goodbye": Prompts().goodbye,
        "hold": Prompts().hold,
        "still_holding": Prompts().still_holding,
        "nobody": Prompts().nobody,
        "position": Prompts().position,
        "confirm": Prompts().confirm,
        "agent_call": Prompts().agent_call,
        "withheld": Prompts().withheld,
    },
    "fr": {
        "goodbye": "Merci pour votre message. Au revoir.",
        "hold": "Veuillez patienter, le prochain agent disponible va vous répondre.",
        "still_holding": "Merci de continuer à patienter.",
        "nobody": "Personne ne peut prendre votre appel pour le moment.",
        "position": "Vous êtes le numéro {n} dans la file d'attente.",
        "confirm": "Ceci est un appel transféré. Appuyez sur une touche pour le prendre.",
        "agent_call": "Appel pour {line} de {caller}. Appuyez sur 1 pour répondre.",
        "withheld": "un numéro masqué",
    },
    "de": {
        "goodbye": "Vielen Dank für Ihre Nachricht. Auf Wiederhören.",
        "hold": "Bitte warten Sie auf den nächsten freien Mitarbeiter.",
        "still_holding": "Bitte bleiben Sie weiter in der Leitung.",
        "nobody": "Im Moment kann niemand Ihren Anruf entgegennehmen.",
        "position": "Sie sind Nummer {n} in der Warteschlange.",
        "confirm": "Dies ist ein weitergeleiteter Anruf. Drücken Sie eine beliebige Taste, um ihn anzunehmen.",
        "agent_call": "Anruf für {line} von {caller}. Drücken Sie die 1, um anzunehmen.",
        "withheld": "einer unterdrückten Nummer",
    },
    "es": {
        "goodbye": "Gracias por su mensaje. Adiós.",
        "hold": "Por favor, espere al próximo agente disponible.",
        "still_holding": "Por favor, siga esperando.",
        "nobody": "En este momento nadie puede atender su llamada.",
        "position": "Usted es el número {n} en la fila.",
        "confirm": "Esta es una llamada desviada. Pulse cualquier tecla para atenderla.",
        "agent_call": "Llamada para {line} de {caller}. Pulse 1 para atenderla.",
        "withheld": "un número oculto",
    },
    "it": {
        "goodbye": "Grazie per il suo messaggio. Arrivederci.",
        "hold": "Attenda in linea il primo operatore disponibile.",
        "still_holding": "La preghiamo di attendere ancora.",
        "nobody": "Al momento nessuno può rispondere alla sua chiamata.",
        "position": "Lei è il numero {n} in coda.",
        "confirm": "Questa è una chiamata inoltrata. Prema un tasto qualsiasi per rispondere.",
        "agent_call": "Chiamata per {line} da {caller}. Prema 1 per rispondere.",
        "withheld": "un numero nascosto",
    },
    "pt": {
        "goodbye": "Obrigado pela sua mensagem. Até logo.",
        "hold": "Aguarde o próximo atendente disponível.",
        "still_holding": "Por favor, continue aguardando.",
        "nobody": "No momento ninguém pode atender a sua chamada.",
        "position": "Você é o número {n} na fila.",
        "confirm": "Esta é uma chamada encaminhada. Pressione qualquer tecla para atendê-la.",
        "agent_call": "Chamada para {line} de {caller}. Pressione 1 para atender.",
        "withheld": "um número oculto",
    },
    "nl": {
        "goodbye": "Bedankt voor uw bericht. Tot ziens.",
        "hold": "Een ogenblik geduld, de eerstvolgende medewerker helpt u zo.",
        "still_holding": "Blijft u alstublieft aan de lijn.",
        "nobody": "Op dit moment kan niemand uw oproep aannemen.",
        "position": "U bent nummer {n} in de wachtrij.",
        "confirm": "Dit is een doorgeschakelde oproep. Druk op een toets om hem aan te nemen.",
        "agent_call": "Oproep voor {line} van {caller}. Druk op 1 om aan te nemen.",
        "withheld": "een afgeschermd nummer",
    },
}


def base_language(language: str) -> str:
    """``fr-CA`` → ``fr``: the table's key."""
    return language.split("-", 1)[0].lower()


def translated(language: str) -> bool:
    """True when the table has this language's prompts (else they are English)."""
    return base_language(language) in TRANSLATIONS


def resolve(language: str, *overrides: dict[str, Any]) -> Prompts:
    """The prompts for ``language`` (English without a row), then each override in turn
    (``defaults.prompts``, then the line's ``prompts``), key by key."""
    if not any(overrides):  # most lines: the table's texts, one object per language
        return _for_language(language)
    merged: dict[str, str] = {}
    for override in overrides:
        merged.update({key: value for key, value in override.items() if key in KEYS})
    return _resolved(base_language(language), tuple(sorted(merged.items())))


@functools.lru_cache(maxsize=256)
def _for_language(language: str) -> Prompts:
    return _resolved(base_language(language), ())


@functools.lru_cache(maxsize=256)  # 10,000 lines ask for the same few combinations
def _resolved(base: str, merged: tuple[tuple[str, str], ...]) -> Prompts:
    return Prompts(**{**TRANSLATIONS.get(base, TRANSLATIONS["en"]), **dict(merged)})
