"""`sms` (SMS fallback) and `failover.method` from lines.yaml to the model, the entry, the plan
and the pull-request diff."""

from __future__ import annotations

import json
from pathlib import Path

from infra.compare import compare
from infra.lines.load import load_bytes
from infra.model import LinesConfig, Severity, SmsFallback
from infra.naming import SHARED_ENV
from infra.routing import (
    EntryKind,
    documents_per_environment,
    fallback_entry,
    sms_fallback_entry,
    sms_reply_path,
)
from tests.harness.cli_runner import failover

REPLY = "We're offline; we will text you back today."
FILE = f"""\
version: 1
account: {{name: acme}}
defaults:
  sms: {{reply: "{REPLY}"}}
lines:
  - id: sales
    type: department
    number: "+14155550101"
  - id: billing
    type: department
    number: "+14155550102"
    failover: {{url: https://backup.acme.example/billing, method: GET}}
    sms: {{url: https://sms-backup.acme.example/billing}}
  - id: press
    type: department
    number: "+14155550104"
    sms: {{reply: "{REPLY}"}}
"""

WITHOUT_DEFAULT = FILE.replace(f'defaults:\n  sms: {{reply: "{REPLY}"}}\n', "")


def load(text: str = FILE) -> LinesConfig:
    config, warnings = load_bytes(text.encode(), "lines.yaml")
    assert warnings == []
    return config


def test_defaults_sms_applies_to_lines_without_their_own_and_equal_replies_share_a_document() -> (
    None
):
    config = load()
    sales, billing, press = config.lines
    assert sales.sms == press.sms == config.default_sms == SmsFallback(reply=REPLY)
    assert billing.sms == SmsFallback(url="https://sms-backup.acme.example/billing", method="POST")
    entry = sms_fallback_entry(sales)
    assert entry is not None
    assert (entry.kind, entry.ref, entry.method, entry.env) == (
        EntryKind.DOCUMENT,
        sms_reply_path(REPLY),
        "GET",
        SHARED_ENV,
    )
    assert sms_fallback_entry(press) == entry
    billing_sms = sms_fallback_entry(billing)
    assert billing_sms is not None and (billing_sms.kind, billing_sms.method) == (
        EntryKind.URL,
        "POST",
    )
    # one reply document (plus the shared voicemail and goodbye)
    assert documents_per_environment(config)[SHARED_ENV] == 3


def test_a_file_without_sms_leaves_every_number_s_sms_alone() -> None:
    config = load(WITHOUT_DEFAULT.replace(f'    sms: {{reply: "{REPLY}"}}\n', ""))
    assert [line.id for line in config.lines if line.sms is None] == ["sales", "press"]
    assert config.default_sms is None


def test_failover_method_sets_the_voice_fallback_method_and_defaults_to_post() -> None:
    config = load()
    billing = config.line("billing")
    assert fallback_entry(billing, Severity.MINOR, config=config).method == "GET"
    other = load(FILE.replace(", method: GET}", "}"))
    assert fallback_entry(other.line("billing"), Severity.MINOR, config=other).method == "POST"


def test_plan_text_and_json_say_what_a_sender_gets(tmp_path: Path) -> None:
    (tmp_path / "lines.yaml").write_text(FILE)
    text = failover("plan", "lines.yaml", cwd=tmp_path)
    assert text.code == 0, text.stderr
    assert f'SMS fails   reply "{REPLY}"' in text.stdout
    assert "on failure  secondary server https://backup.acme.example/billing (GET)" in text.stdout
    assert (
        "SMS fails   secondary messaging server https://sms-backup.acme.example/billing (POST)"
        in text.stdout
    )
    plan = json.loads(failover("plan", "lines.yaml", "--format", "json", cwd=tmp_path).stdout)
    assert plan["lines"][0]["sms"] == f'reply "{REPLY}"'
    markdown = failover("plan", "lines.yaml", "--format", "markdown", cwd=tmp_path).stdout
    assert 'voicemail "No one is available' in markdown and f'; SMS: reply "{REPLY}"' in markdown


def test_diff_words_for_sms_added_changed_removed_and_the_method() -> None:
    old = load()
    new = load(
        FILE.replace(f'    sms: {{reply: "{REPLY}"}}\n', '    sms: {reply: "Back at 9."}\n')
        .replace("    sms: {url: https://sms-backup.acme.example/billing}\n", "")
        .replace(", method: GET}", ", method: POST}")
    )
    details = {change.line_id: change.details for change in compare(old, new)}
    assert details["press"] == (f'SMS reply changed: "{REPLY}" → "Back at 9."',)
    assert details["billing"] == (
        "failover.url method GET → POST",
        f'SMS fallback secondary messaging server https://sms-backup.acme.example/billing (POST) → reply "{REPLY}"',
    )
    assert "sales" not in details
    none = load(WITHOUT_DEFAULT)
    (sales,) = [c for c in compare(old, none) if c.line_id == "sales"]
    assert sales.details == (
        "SMS fallback removed: the number's SMS fallback from before this tool managed it is restored",
    )
    assert not sales.failover_changed  # calls are routed as before: the brake does not count it
    (added,) = [c for c in compare(none, old) if c.line_id == "sales"]
    assert added.details == (f'SMS fallback added: when the SMS URL fails, reply "{REPLY}"',)


def test_sms_off_keeps_a_line_out_of_defaults_sms() -> None:
    config = load(FILE.replace(f'    sms: {{reply: "{REPLY}"}}\n', "    sms: {off: true}\n"))
    assert config.line("press").sms is None
    assert sms_fallback_entry(config.line("press")) is None
    assert config.line("sales").sms == SmsFallback(reply=REPLY)
