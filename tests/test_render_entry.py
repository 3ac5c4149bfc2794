"""Entry points and names: which URL each number gets, stable names, resolution after deploy."""

from __future__ import annotations

import pytest

from infra.model import Line, Severity
from infra.naming import flow_name, service_unique_name
from infra.render.artifacts import render_assets
from infra.render.studio import flow_specs
from infra.routing import Entry, EntryKind, fallback_entries, fallback_entry, primary_entry
from tests.harness.golden import (
    AGENTS,
    config,
    every_kind_config,
    forward_line,
    forward_queue_line,
    line_in_test_mode,
    message_line,
    queue_line,
    url_line,
    user_forwarding_line,
    voicemail_line,
)

ALERTS = "https://hooks.acme.example/failover"
FLOW, DOCUMENT, URL = EntryKind.FLOW, EntryKind.DOCUMENT, EntryKind.URL


@pytest.mark.parametrize(
    ("line", "severity", "expected"),
    [
        (forward_line(), Severity.MINOR, Entry(FLOW, "acme-failover-sales", "POST")),
        (user_forwarding_line(), Severity.MINOR, Entry(FLOW, "acme-failover-gus", "POST")),
        (voicemail_line(), Severity.MINOR, Entry(DOCUMENT, "/lines/fay/voicemail.xml", "GET")),
        (message_line(), Severity.MINOR, Entry(DOCUMENT, "/lines/press/message.xml", "GET")),
        (
            url_line(),
            Severity.MINOR,
            Entry(URL, "https://backup-voice.acme.example/billing", "POST"),
        ),
        (queue_line(), Severity.MINOR, Entry(DOCUMENT, "/lines/support/voicemail.xml", "GET")),
        (queue_line(), Severity.SEVERE, Entry(FLOW, "acme-failover-support.queue", "POST")),
        (forward_queue_line(), Severity.MINOR, Entry(FLOW, "acme-failover-main", "POST")),
        (forward_queue_line(), Severity.SEVERE, Entry(FLOW, "acme-failover-main.queue", "POST")),
    ],
    ids=lambda value: value.id if isinstance(value, Line) else str(getattr(value, "value", "")),
)
def test_fallback_entry_without_alerts(line: Line, severity: Severity, expected: Entry) -> None:
    assert fallback_entry(line, severity, config=config(line, agents=AGENTS)) == expected


def test_severity_changes_the_entry_only_for_lines_with_a_queue() -> None:
    for alerts in (None, ALERTS):
        cfg = every_kind_config(alerts)
        minor = fallback_entries(cfg, Severity.MINOR)
        severe = fallback_entries(cfg, Severity.SEVERE)
        changed = {line_id for line_id in minor if minor[line_id] != severe[line_id]}
        assert changed == {line.id for line in cfg.queued_lines}


def test_with_an_alerts_webhook_every_line_enters_through_a_flow() -> None:
    cfg = every_kind_config(ALERTS)
    for severity in Severity:
        entries = fallback_entries(cfg, severity)
        assert {entry.kind for entry in entries.values()} == {FLOW}
        assert all(entry.method == "POST" for entry in entries.values())


@pytest.mark.parametrize("alerts", [None, ALERTS])
def test_every_entry_refers_to_something_that_is_rendered(alerts: str | None) -> None:
    cfg = every_kind_config(alerts)
    flows = {spec.name for spec in flow_specs(cfg)}
    assets = set(render_assets(cfg))
    for severity in Severity:
        for line_id, entry in fallback_entries(cfg, severity).items():
            if entry.kind is FLOW:
                assert entry.ref in flows, line_id
            elif entry.kind is DOCUMENT:
                assert entry.ref in assets, line_id
                assert entry.method == "GET"  # Asset POST support is unconfirmed
            else:
                assert entry.ref.startswith("https://"), line_id


def test_test_mode_points_the_primary_at_the_fallback_entry() -> None:
    for alerts in (None, ALERTS):
        line = line_in_test_mode()
        cfg = config(line, alerts=alerts)
        for severity in Severity:
            primary = primary_entry(line, severity, config=cfg)
            assert primary == fallback_entry(line, severity, config=cfg)


def test_primary_is_managed_only_when_declared() -> None:
    declared, undeclared = forward_line(), voicemail_line()
    cfg = config(declared, undeclared)
    assert primary_entry(declared, Severity.MINOR, config=cfg) == Entry(
        URL, "https://voice.acme.example/sales", "POST"
    )
    assert primary_entry(undeclared, Severity.MINOR, config=cfg) is None


def test_resolve_after_deployment() -> None:
    flows = {"acme-failover-sales": "https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1"}
    domain = "acme-failover-prod-1234.twil.io"
    assert Entry(URL, "https://b.example/x", "POST").resolve(domain, flows) == "https://b.example/x"
    assert (
        Entry(DOCUMENT, "/lines/fay/voicemail.xml", "GET").resolve(domain, flows)
        == "https://acme-failover-prod-1234.twil.io/lines/fay/voicemail.xml"
    )
    assert (
        Entry(FLOW, "acme-failover-sales", "POST").resolve(domain, flows)
        == flows["acme-failover-sales"]
    )
    with pytest.raises(KeyError, match="acme-failover-gus"):
        Entry(FLOW, "acme-failover-gus", "POST").resolve(domain, flows)


def test_flow_names_derive_from_account_and_line() -> None:
    assert flow_name("acme", "sales") == "acme-failover-sales"
    assert flow_name("acme", "support", queued=True) == "acme-failover-support.queue"


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("prod", "acme-failover-prod"),
        ("Prod_EU.1", "acme-failover-prod-eu-1"),
        ("org/project/dev", "acme-failover-org-project-dev"),
    ],
)
def test_service_unique_name_is_a_valid_serverless_name(stack: str, expected: str) -> None:
    assert service_unique_name("acme", stack) == expected


@pytest.mark.parametrize("stack", ["___", "a-very-long-stack-name-for-staging-eu"])
def test_service_unique_name_refuses_what_twilio_would(stack: str) -> None:
    with pytest.raises(ValueError, match="stack|characters"):
        service_unique_name("acme-robotics", stack)
