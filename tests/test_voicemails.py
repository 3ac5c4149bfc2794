"""``failover voicemails`` in-process against the Twilio double, with seeded call history.

The account holds voicemails on several lines, one on a number no line declares, a
``<Dial record>`` recording (not a voicemail) and a few hundred calls that left no message;
only the voicemails on declared lines are listed, per line, newest first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.cli.status import ExitCode
from tests.harness.cli_runner import Result, failover
from tests.test_drift import ROOT, credentials

SALES, SUPPORT = "+14155550101", "+14155550103"


def at(day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def history(twilio_double: Any) -> dict[str, str]:
    """Recording SIDs by name; calls without a message to every line around them."""
    d = twilio_double
    for i in range(300):
        d.seed_call(from_=f"+1628555{i:04d}", to=SALES if i % 2 else SUPPORT, duration=30)
    seeded = {
        "sales_old": d.seed_recording(from_="+16285550001", to=SALES, duration=42, date_created=at(5, 14, 3)),
        "sales_new": d.seed_recording(from_="+442079460099", to=SALES, duration=65, date_created=at(6, 9, 30)),
        "support": d.seed_recording(from_="+16285550002", to=SUPPORT, duration=7, date_created=at(4, 23, 59)),
        "undeclared": d.seed_recording(from_="+16285550003", to="+16285550500", duration=9, date_created=at(6, 1, 0)),
        "dialled": d.seed_recording(from_="+16285550004", to=SALES, duration=300, date_created=at(6, 10, 0)),
    }  # fmt: skip
    d.state.recordings[seeded["dialled"]["sid"]]["source"] = "DialVerb"  # before any request
    return {name: record["sid"] for name, record in seeded.items()}


def voicemails(d: Any, *args: str) -> Result:
    return failover("voicemails", *args, cwd=ROOT, environ=credentials(d))


def media(d: Any, sid: str) -> str:
    return f"https://api.twilio.com/2010-04-01/Accounts/{d.account_sid}/Recordings/{sid}"


def test_voicemails_per_line_newest_first(twilio_double: Any, history: dict[str, str]) -> None:
    d = twilio_double
    result = voicemails(d)
    assert (result.code, result.stderr) == (ExitCode.OK, "")
    assert result.stdout == (
        "3 voicemails left through failover\n"
        "sales  Sales · +1 415-555-0101: 2\n"
        f"  2026-01-06 09:30 UTC  from +44 20 7946 0099  1:05  {media(d, history['sales_new'])}\n"
        f"  2026-01-05 14:03 UTC  from +1 628-555-0001  0:42  {media(d, history['sales_old'])}\n"
        "support  Customer support · +1 415-555-0103: 1\n"
        f"  2026-01-04 23:59 UTC  from +1 628-555-0002  0:07  {media(d, history['support'])}\n"
    )


def test_one_line_since_a_day_as_json(twilio_double: Any, history: dict[str, str]) -> None:
    d = twilio_double
    result = voicemails(d, "--line", "sales", "--since", "2026-01-06", "--format", "json")
    assert result.code == ExitCode.OK
    (sales,) = json.loads(result.stdout)["lines"]
    call_sid = d.state.recordings[history["sales_new"]]["call_sid"]
    assert sales == {
        "id": "sales",
        "number": SALES,
        "voicemails": [
            {
                "recording_sid": history["sales_new"],
                "call_sid": call_sid,
                "caller": "+442079460099",
                "time": "2026-01-06T09:30:00+00:00",
                "duration_s": 65,
                "url": media(d, history["sales_new"]),
            }
        ],
    }
    # Two recordings since that day (one on an undeclared number) but one line: one Calls
    # list for the line's number costs less than a fetch per recording.
    assert [(r.path.rsplit("/", 1)[-1], r.query) for r in d.requests] == [
        ("Recordings.json", {"DateCreated>": ["2026-01-06T00:00:00Z"], "PageSize": ["1000"]}),
        (
            "Calls.json",
            {"To": [SALES], "StartTime>": ["2026-01-05T00:00:00Z"], "PageSize": ["1000"]},
        ),
    ]


def test_fewer_voicemails_than_lines_fetch_each_call(
    twilio_double: Any, history: dict[str, str]
) -> None:
    d = twilio_double
    result = voicemails(d, "--since", "2026-01-06")
    assert result.stdout.splitlines()[:3] == [
        "1 voicemail left through failover since 2026-01-06",
        "sales  Sales · +1 415-555-0101: 1",
        f"  2026-01-06 09:30 UTC  from +44 20 7946 0099  1:05  {media(d, history['sales_new'])}",
    ]
    calls = sorted(d.state.recordings[history[k]]["call_sid"] for k in ("sales_new", "undeclared"))
    assert [r.path.rsplit("/", 1)[-1] for r in d.requests] == [
        "Recordings.json",
        *[f"{sid}.json" for sid in calls],
    ]


def test_more_voicemails_than_lines_lists_calls_per_line(
    twilio_double: Any, history: dict[str, str]
) -> None:
    d = twilio_double
    result = voicemails(d, "--line", "support", "--since", "2026-01-03", "--format", "markdown")
    assert result.stdout == (
        "### 1 voicemail left through failover since 2026-01-03\n"
        "\n"
        "**Customer support** (`support`, +1 415-555-0103)\n"
        "\n"
        "| Time | Caller | Duration | Recording |\n"
        "| --- | --- | --- | --- |\n"
        f"| 2026-01-04 23:59 UTC | +1 628-555-0002 | 0:07 | [{history['support']}]({media(d, history['support'])}) |\n"
    )
    calls = [r.query for r in d.requests if r.path.endswith("/Calls.json")]
    assert calls == [
        {"To": [SUPPORT], "StartTime>": ["2026-01-02T00:00:00Z"], "PageSize": ["1000"]}
    ]


def test_nothing_left(twilio_double: Any) -> None:
    result = voicemails(twilio_double, "--format", "markdown")
    assert result.stdout == "### 0 voicemails left through failover\n"


@pytest.mark.parametrize(
    ("args", "code", "stderr"),
    [
        (
            ["--line", "nobody"],
            ExitCode.ERROR,
            "failover: error: --line nobody: no such line in lines.yaml "
            "(main, sales, billing, press, support, dana, eli, fay, gus)\n",
        ),
        (["--since", "last week"], ExitCode.USAGE, "must be a date as YYYY-MM-DD, e.g. 2026-01-31"),
    ],
)
def test_bad_arguments(twilio_double: Any, args: list[str], code: ExitCode, stderr: str) -> None:
    result = voicemails(twilio_double, *args)
    assert result.code == code
    assert stderr in result.stderr
    assert twilio_double.requests == []


def test_voicemails_need_credentials() -> None:
    result = failover("voicemails", cwd=ROOT, environ={"TWILIO_AUTH_TOKEN": "x"})
    assert result.code == ExitCode.ERROR
    assert "set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN" in result.stderr
