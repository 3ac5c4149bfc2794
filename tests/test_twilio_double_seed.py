"""Seeding the standalone double: the shipped lines.yaml deploys as it is; calls and recordings.

``python -m tests.twilio_double --seed lines.yaml`` must give a double that a first deploy of
that same file succeeds against (on Twilio every number already answers somewhere), and a
seed file can hold call history and voicemails so ``failover drift`` / ``failover
voicemails`` can be tried by hand.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.lines.load import load_config
from infra.program import StackSettings
from tests.harness.program_engine import ProgramEngine
from tests.harness.standalone import run_standalone
from tests.test_program import ROOT
from tests.twilio_double import TwilioDouble
from tests.twilio_double.seed import read_seed, seed_from

HISTORY = """
account: {name: acme}
lines:
  - {id: sales, number: "+14155550101", primary: https://voice.acme.example/sales}
  - {id: press, number: "+14155550104"}
  - {number: "+14155550109"}
calls:
  - {from: "+15005550006", to: "+14155550101", duration: 42, start_time: 2026-01-05T09:30:00Z}
  - {from: "+15005550007", to: "+14155550104", status: no-answer}
recordings:
  - {from: "+15005550008", to: "+14155550104", duration: 17, date_created: 2026-01-06T08:00:00Z}
  - {from: "+15005550009", to: "+14155550101", duration: 9, date_created: "2026-01-07T12:00:00+02:00"}
"""


def test_lines_without_primary_get_a_documented_plausible_voice_url(twilio_spec_dir: Path) -> None:
    double = TwilioDouble(spec_dir=twilio_spec_dir)
    lines = yaml.safe_load((ROOT / "lines.yaml").read_text())["lines"]

    seed_from(double, read_seed(ROOT / "lines.yaml"))

    urls = {n["phone_number"]: n["voice_url"] for n in double.state.numbers.values()}
    expected = {
        line["number"]: line.get("primary") or f"https://voice.acme.example/{line['id']}"
        for line in lines
    }
    assert urls == expected
    assert len(urls) == 9 and sum("primary" not in line for line in lines) == 5
    assert urls["+14155550102"] == "https://voice.acme.example/billing"


def test_the_shipped_lines_yaml_deploys_onto_a_double_seeded_from_it(twilio_spec_dir: Path) -> None:
    config, _ = load_config(ROOT / "lines.yaml")
    with TwilioDouble(spec_dir=twilio_spec_dir) as double:
        seed_from(double, read_seed(ROOT / "lines.yaml"))

        ProgramEngine.for_double(double).up(config, StackSettings(stack="dev"))

        numbers = list(double.state.numbers.values())
        assert double.violations == [], double.explain()
    assert all(n["voice_url"] and n["voice_fallback_url"] for n in numbers)
    assert double.writes()["IncomingPhoneNumber.update"] == 9


def test_seed_file_holds_calls_and_recordings_listed_through_the_api(
    twilio_double: TwilioDouble, twilio_client, tmp_path: Path
) -> None:
    (tmp_path / "history.yaml").write_text(HISTORY)

    seed_from(twilio_double, read_seed(tmp_path / "history.yaml"))

    api = twilio_client.api.v2010.account
    numbers = {n.phone_number: n.voice_url for n in api.incoming_phone_numbers.list()}
    assert numbers == {
        "+14155550101": "https://voice.acme.example/sales",
        "+14155550104": "https://voice.acme.example/press",
        "+14155550109": "https://voice.acme.example/14155550109",
    }
    calls = api.calls.list()
    assert sorted((c._from, c.to, c.status) for c in calls) == [
        ("+15005550006", "+14155550101", "completed"),
        ("+15005550007", "+14155550104", "no-answer"),
        ("+15005550008", "+14155550104", "completed"),
        ("+15005550009", "+14155550101", "completed"),
    ]
    recordings = api.recordings.list(date_created_after="2026-01-07T00:00:00Z")
    assert [(r.duration, r.date_created.isoformat()) for r in recordings] == [
        ("9", "2026-01-07T10:00:00+00:00")
    ]
    voicemail = api.calls(recordings[0].call_sid).fetch()
    assert (voicemail._from, voicemail.to) == ("+15005550009", "+14155550101")
    assert len(api.recordings.list()) == 2


def test_command_line_seeded_with_lines_yaml_serves_voice_urls(twilio_spec_dir: Path) -> None:
    ran = run_standalone(ROOT / "lines.yaml")
    assert "9 numbers, 0 calls, 0 recordings" in ran.banner
    assert "limits       Twilio defaults" in ran.banner
    assert all(n["voice_url"] for n in ran.numbers)
    assert "violations: 0" in ran.output
