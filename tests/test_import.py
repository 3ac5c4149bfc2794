"""``failover import`` in-process against the Twilio double: the draft, exactly; and that it validates.

Two accounts: a small one holding one example of every case the draft distinguishes (this
tool's flow and document, someone else's flow and server, http URLs, GET methods, an
Application-bound number, no voice URL, duplicate and default friendly names), compared
line for line; and the shipped stack deployed by the real program next to 243 other
numbers, whose draft must pass ``failover validate`` and give every deployed line whose entry
names it its id back (a line on a shared voicemail or message document is flagged instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infra.cli.status import ExitCode
from tests.harness.cli_runner import failover
from tests.test_drift import APP, EXTRA, credentials, deploy, shipped

TRIGGER_ONLY = {
    "description": "x",
    "flags": {"allow_concurrent_calls": True},
    "initial_state": "Trigger",
    "states": [{"name": "Trigger", "type": "trigger", "properties": {}, "transitions": []}],
}
DOCUMENT = "https://shop-failover-dev-1234-failover.twil.io/lines/sales-desk/voicemail.xml"


def flow(d: Any, name: str) -> str:
    created = d.client().studio.v2.flows.create(
        friendly_name=name, status="published", definition=TRIGGER_ONLY
    )
    return str(created.webhook_url)


def small_account(d: Any) -> dict[str, str]:
    ours, eli, ivr = (
        flow(d, "shop-failover-main"),
        flow(d, "shop-failover-eli"),
        flow(d, "IVR main"),
    )
    seed = d.seed_number
    seed("+14155550100", friendly_name="Main line", voice_url="https://voice.shop.example/main",
         voice_fallback_url=ours)  # fmt: skip
    seed("+14155550101", friendly_name="Sales", voice_url="https://voice.shop.example/sales",
         voice_fallback_url=DOCUMENT, voice_fallback_method="GET")  # fmt: skip
    seed("+14155550102", friendly_name="Sales", voice_url="https://voice.shop.example/s2",
         voice_method="GET", voice_fallback_url="https://backup.shop.example/s2",
         voice_fallback_method="GET")  # fmt: skip
    seed("+14155550103")
    seed("+14155550104", friendly_name="Kiosk", voice_application_sid=APP)
    seed("+14155550105", friendly_name="Partner line", voice_url="https://voice.shop.example/p",
         voice_fallback_url=ivr)  # fmt: skip
    seed("+14155550106", friendly_name="Old PBX", voice_url="http://pbx.shop.example/in",
         voice_fallback_url="http://pbx.shop.example/fallback")  # fmt: skip
    seed("+14155550107", friendly_name="Eli", voice_url=eli, voice_fallback_url=eli)
    return {"ours": ours, "eli": eli, "ivr": ivr}


def expected_draft(urls: dict[str, str]) -> str:
    return f"""\
# yaml-language-server: $schema=schemas/lines.schema.json
#
# Draft written by `failover import` from the 8 numbers of a Twilio account.
# Review every line before the first `pulumi up`:
# - each line starts as type department: set main_line, department, contact_center or user;
# - ids are the deployed line ids, else made from the friendly names; keep them once deployed;
# - a line without `failover` falls over to voicemail with the default greeting.
# Then run `failover validate` and `failover plan`.
version: 1

account:
  name: shop   # taken from this tool's Studio flows; it prefixes every Twilio resource this tool creates

lines:
  - id: main
    name: "Main line"
    type: department   # a guess
    number: "+14155550100"
    primary: "https://voice.shop.example/main"   # the number's voice URL today
    # fallback today: this tool's Studio flow shop-failover-main; copy its failover from the file that deployed it
  - id: sales-desk
    name: "Sales"
    type: department   # a guess
    number: "+14155550101"
    primary: "https://voice.shop.example/sales"   # the number's voice URL today
    # fallback today: this tool's TwiML document /lines/sales-desk/voicemail.xml; copy its failover from the file that deployed it
  - id: sales
    name: "Sales"
    type: department   # a guess
    number: "+14155550102"
    # primary: "https://voice.shop.example/s2"   # requested with GET today; a primary gets POST
    failover:
      url: "https://backup.shop.example/s2"   # requested with GET today (a failover url gets POST), the number's fallback today
  - id: line-415-555-0103
    name: "(415) 555-0103"
    type: department   # a guess
    number: "+14155550103"
    # no voice URL: declare primary before the first apply (Twilio error 21405)
    # no fallback today
  # +14155550104 is left out: bound to TwiML Application {APP}, Twilio ignores a number-level fallback
  # - id: kiosk
  #   name: "Kiosk"
  #   type: department   # a guess
  #   number: "+14155550104"
  #   # no voice URL: declare primary before the first apply (Twilio error 21405)
  #   # no fallback today
  - id: partner-line
    name: "Partner line"
    type: department   # a guess
    number: "+14155550105"
    primary: "https://voice.shop.example/p"   # the number's voice URL today
    failover:
      url: "{urls["ivr"]}"   # Studio flow IVR main, the number's fallback today
  - id: old-pbx
    name: "Old PBX"
    type: department   # a guess
    number: "+14155550106"
    # voice URL "http://pbx.shop.example/in" is not https, so it is not declared as primary (left alone)
    # fallback today: "http://pbx.shop.example/fallback" (not https, so not kept)
  - id: eli
    name: "Eli"
    type: department   # a guess
    number: "+14155550107"
    # the voice URL is this tool's Studio flow shop-failover-eli: in test mode; declare primary and test: true
    # fallback today: this tool's Studio flow shop-failover-eli; copy its failover from the file that deployed it
"""


def test_small_account_draft_is_exact_and_validates(twilio_double: Any, tmp_path: Path) -> None:
    urls = small_account(twilio_double)
    result = failover("import", cwd=tmp_path, environ=credentials(twilio_double))
    assert (result.code, result.stderr) == (ExitCode.OK, "")
    assert result.stdout == expected_draft(urls)
    (tmp_path / "lines.yaml").write_text(result.stdout)
    checked = failover("validate", cwd=tmp_path)
    assert checked.stdout == "lines.yaml: ok, 7 lines, 0 agents (0 errors, 0 warnings)\n"


def test_deployed_stack_imports_with_its_line_ids_and_validates(
    twilio_double: Any, tmp_path: Path
) -> None:
    deploy(twilio_double, shipped())
    result = failover(
        "import", "--out", "draft.yaml", cwd=tmp_path, environ=credentials(twilio_double)
    )
    assert (result.code, result.stdout) == (ExitCode.OK, "")
    assert result.stderr == (
        "wrote draft.yaml: 250 lines, 2 numbers commented out; review it, then run "
        "`failover validate draft.yaml`\n"
    )
    checked = failover("validate", "draft.yaml", cwd=tmp_path)
    assert (checked.code, checked.stdout) == (
        ExitCode.OK,
        "draft.yaml: ok, 250 lines, 0 agents (0 errors, 0 warnings)\n",
    )
    text = (tmp_path / "draft.yaml").read_text()
    draft = yaml.safe_load(text)
    # The shipped stack has no alerts, hence no Studio flows: the account name comes from the
    # Serverless domains (acme-failover-<stack>-…) of the documents its numbers point at.
    assert draft["account"] == {"name": "acme"}
    assert "  name: acme   # taken from this tool's TwiML documents; it prefixes" in text
    ids = {line["number"]: line["id"] for line in draft["lines"]}
    # A line whose entry names it (forward /f/<id>.xml, queue /q/<id>.xml, a flow) gets its
    # deployed id back. A line on a shared document (/v/…, /m/…) cannot: the document names no
    # line, so its id is made from the friendly name and the draft asks for the deployed one.
    shared_entry = {"fay", "press", "support"}
    deployed = {line.number: line.id for line in shipped().lines}
    for number, ident in deployed.items():
        block = text[text.index(f'number: "{number}"') :].split("  - id:", 1)[0]
        asks_for_id = "copy the line's id and failover from the file that deployed it" in block
        assert asks_for_id == (ident in shared_entry), ident
        if ident not in shared_entry:
            assert ids[number] == ident
    assert ids["+14155550107"] == "fay-moreau"
    assert (
        '    number: "+14155550107"\n'
        '    primary: "https://legacy-pbx.acme.example/voice/fay"   # the number\'s voice URL today\n'
        "    # fallback today: this tool's TwiML document /v/default.xml, shared, so it does not "
        "name the line; copy the line's id and failover from the file that deployed it\n"
    ) in text
    assert ids[EXTRA[0]] == "line-628-555-0000"
    partner = next(line for line in draft["lines"] if line["number"] == "+16285559003")
    assert partner["failover"] == {"url": "https://ivr.partner.example/fallback"}


def test_account_name_can_be_given_and_is_checked(twilio_double: Any, tmp_path: Path) -> None:
    twilio_double.seed_number("+14155550100", voice_url="https://voice.shop.example/main")
    environ = credentials(twilio_double)
    given = failover("import", "--account", "retail-eu", cwd=tmp_path, environ=environ)
    assert "  name: retail-eu   # as given; it prefixes" in given.stdout
    guessed = failover("import", cwd=tmp_path, environ=environ)
    assert "  name: imported   # pick a short name; it prefixes" in guessed.stdout
    bad = failover("import", "--account", "Retail EU", cwd=tmp_path, environ=environ)
    assert bad.code == ExitCode.USAGE
    assert "argument --account: must be 2-30 characters" in bad.stderr


def test_never_overwrites_and_needs_numbers(twilio_double: Any, tmp_path: Path) -> None:
    (tmp_path / "lines.yaml").write_text("precious\n")
    environ = credentials(twilio_double)
    result = failover("import", "--out", "lines.yaml", cwd=tmp_path, environ=environ)
    assert (result.code, result.stderr) == (
        ExitCode.ERROR,
        "failover: error: lines.yaml already exists; choose another --out or move it away first\n",
    )
    assert (tmp_path / "lines.yaml").read_text() == "precious\n"
    empty = failover("import", cwd=tmp_path, environ=environ)
    assert empty.stderr == "failover: error: the Twilio account has no phone numbers to import\n"
    assert len(twilio_double.requests) == 2  # one numbers page, one flows page


def test_import_without_credentials_names_the_variables(tmp_path: Path) -> None:
    result = failover("import", cwd=tmp_path, environ={"TWILIO_ACCOUNT_SID": "AC" + "0" * 32})
    assert (result.code, result.stderr) == (
        ExitCode.ERROR,
        "failover: error: missing Twilio secret: set TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
        "TWILIO_API_SECRET) for TWILIO_ACCOUNT_SID\n",
    )
