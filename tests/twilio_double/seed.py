"""Seed a double's numbers from a file (YAML or JSON), for ``python -m tests.twilio_double``.

Two shapes are accepted, alone or together::

    numbers:                         # explicit records, snake_case fields as Twilio returns
      - phone_number: "+14155550100"
        voice_url: https://voice.acme.example/main
        voice_application_sid: AP…   # or trunk_sid: TK…
    lines:                           # a lines.yaml: each line's number, primary as voice_url
      - number: "+14155550101"
        primary: https://voice.acme.example/sales

A line without ``primary`` gets a number with no voice URL (a fallback update on it then
answers 21405, as on Twilio).
Must not import: infra.*
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .double import TwilioDouble
from .state import Record


def read_seed(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'numbers' and/or 'lines'")
    return data


def seed_from(double: TwilioDouble, data: dict[str, Any]) -> list[Record]:
    """Seed every number the data describes; returns the stored records."""
    seeded = []
    for entry in data.get("numbers") or []:
        fields = dict(entry)
        seeded.append(double.seed_number(fields.pop("phone_number"), **fields))
    for line in data.get("lines") or []:
        if "number" in line:
            seeded.append(double.seed_number(line["number"], voice_url=line.get("primary")))
    return seeded
