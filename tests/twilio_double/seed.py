"""Seed a double from a file (YAML or JSON), for ``python -m tests.twilio_double --seed FILE``.

Four keys are accepted, alone or together::

    numbers:                         # explicit records, snake_case fields as Twilio returns
      - phone_number: "+14155550100"
        voice_url: https://voice.acme.example/main
        voice_application_sid: AP…   # or trunk_sid: TK…; no voice_url: 21405 on a fallback
    lines:                           # a lines.yaml: each line's number, primary as voice_url
      - id: sales
        number: "+14155550101"
        primary: https://voice.acme.example/sales
    calls:                           # call history (``failover drift`` / by hand)
      - {from: "+15005550006", to: "+14155550101", duration: 42,
         start_time: "2026-01-05T09:30:00Z", status: completed}
    recordings:                      # voicemails: a completed call from → to, and its recording
      - {from: "+15005550006", to: "+14155550101", duration: 17,
         date_created: "2026-01-05T09:31:00Z"}     # or call_sid: CA… of a seeded call

A seeded lines.yaml must be deployable as it is: on Twilio every number already answers
calls somewhere, and a fallback URL on a number without a voice URL is refused (21405). So a
line without ``primary`` gets the plausible primary ``https://voice.<account>.example/<id>``
(``<account>`` from ``account.name``, ``example`` when absent; ``<id>`` the line's ``id``, or its
number's digits). To reproduce 21405, seed that number under ``numbers`` without a voice URL.
Times are ISO 8601 (``Z`` or an offset); absent, they are "now".
Must not import: infra.*
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from .double import TwilioDouble
from .state import Record

_CALL_FIELDS = ("status", "direction", "duration")


def read_seed(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with numbers, lines, calls or recordings")
    return data


def default_primary(data: dict[str, Any], line: dict[str, Any]) -> str:
    """The voice URL seeded for a line without ``primary`` (see module doc)."""
    account = (data.get("account") or {}).get("name")
    host = f"voice.{account}.example" if account else "voice.example"
    ident = line.get("id") or "".join(ch for ch in str(line["number"]) if ch.isdigit())
    return f"https://{host}/{ident}"


def _moment(value: Any) -> datetime | None:
    """A seed time: YAML gives datetimes (or dates), JSON gives ISO 8601 text."""
    if value is None or isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC) if moment else None


def _call(double: TwilioDouble, entry: dict[str, Any]) -> Record:
    fields = {key: entry[key] for key in _CALL_FIELDS if key in entry}
    return double.seed_call(
        from_=str(entry["from"]), to=str(entry["to"]),
        start_time=_moment(entry.get("start_time")), **fields,
    )  # fmt: skip


def _recording(double: TwilioDouble, entry: dict[str, Any]) -> Record:
    return double.seed_recording(
        call_sid=entry.get("call_sid"),
        from_=str(entry["from"]) if "from" in entry else None,
        to=str(entry["to"]) if "to" in entry else None,
        duration=int(entry.get("duration", 30)),
        date_created=_moment(entry.get("date_created")),
    )


def seed_from(double: TwilioDouble, data: dict[str, Any]) -> list[Record]:
    """Seed everything the data describes; returns the stored records, numbers first."""
    seeded = []
    for entry in data.get("numbers") or []:
        fields = dict(entry)
        seeded.append(double.seed_number(fields.pop("phone_number"), **fields))
    for line in data.get("lines") or []:
        if "number" in line:
            primary = line.get("primary") or default_primary(data, line)
            seeded.append(double.seed_number(str(line["number"]), voice_url=primary))
    seeded += [_call(double, entry) for entry in data.get("calls") or []]
    seeded += [_recording(double, entry) for entry in data.get("recordings") or []]
    return seeded
