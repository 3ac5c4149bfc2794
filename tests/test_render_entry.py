"""Entry points and names: which URL each number gets, stable names, resolution after deploy."""

from __future__ import annotations

import dataclasses

import pytest

from infra.model import Line, Severity
from infra.naming import DEFAULT_VOICEMAIL_PATH, flow_name, service_unique_name
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


# Paths of shared documents are content-addressed (``/v/<sha12>.xml``, ``/m/<sha12>.xml``) and
# forward documents sit in a shard chosen by a hash of the line id: the literal values below pin
# both, because a change of either formula re-points every number.
@pytest.mark.parametrize(
    ("line", "severity", "expected"),
    [
        (forward_line(), Severity.MINOR, Entry(DOCUMENT, "/f/sales.xml", "GET", "fwd-00")),
        (forward_line(), Severity.SEVERE, Entry(DOCUMENT, "/f/sales.xml", "GET", "fwd-00")),
        (user_forwarding_line(), Severity.MINOR, Entry(DOCUMENT, "/f/gus.xml", "GET", "fwd-03")),
        (voicemail_line(), Severity.MINOR, Entry(DOCUMENT, "/v/default.xml", "GET", "shared")),
        (message_line(), Severity.MINOR, Entry(DOCUMENT, "/m/3f86e937cb9c.xml", "GET", "shared")),
        (
            url_line(),
            Severity.MINOR,
            Entry(URL, "https://backup-voice.acme.example/billing", "POST"),
        ),
        (queue_line(), Severity.MINOR, Entry(DOCUMENT, "/v/ee1dc937a699.xml", "GET", "shared")),
        (queue_line(), Severity.SEVERE, Entry(DOCUMENT, "/q/support.xml", "GET", "queues")),
        (forward_queue_line(), Severity.MINOR, Entry(DOCUMENT, "/f/main.xml", "GET", "fwd-09")),
        (forward_queue_line(), Severity.SEVERE, Entry(DOCUMENT, "/q/main.xml", "GET", "queues")),
    ],
    ids=lambda value: value.id if isinstance(value, Line) else str(getattr(value, "value", "")),
)
def test_fallback_entry_without_alerts(line: Line, severity: Severity, expected: Entry) -> None:
    assert fallback_entry(line, severity, config=config(line, agents=AGENTS)) == expected


def test_without_alerts_no_line_enters_through_a_flow() -> None:
    # Studio accepts 100 new executions/s per account; past that Twilio requests the fallback
    # URL again, so a flow as the fallback entry loses callers in a large outage.
    cfg = every_kind_config()
    assert not flow_specs(cfg)
    for severity in Severity:
        assert FLOW not in {entry.kind for entry in fallback_entries(cfg, severity).values()}
        for line in cfg.lines:  # test mode points the primary at the fallback entry
            primary = primary_entry(line, severity, config=cfg)
            assert primary is None or primary.kind is not FLOW, line.id


def test_lines_with_the_default_voicemail_share_one_stable_document() -> None:
    ida = dataclasses.replace(voicemail_line(), id="ida", number="+14155550109")
    cfg = config(voicemail_line(), ida)
    entries = fallback_entries(cfg, Severity.MINOR)
    assert (
        entries["fay"] == entries["ida"] == Entry(DOCUMENT, DEFAULT_VOICEMAIL_PATH, "GET", "shared")
    )


def test_severity_changes_the_entry_only_for_lines_with_a_queue() -> None:
    for alerts in (None, ALERTS):
        cfg = every_kind_config(alerts)
        minor = fallback_entries(cfg, Severity.MINOR)
        severe = fallback_entries(cfg, Severity.SEVERE)
        changed = {line_id for line_id in minor if minor[line_id] != severe[line_id]}
        assert changed == {line.id for line in cfg.queued_lines}


def test_with_an_alerts_webhook_the_entries_stay_static() -> None:
    # Alerts are sent by a scheduled `failover status --notify`, off the caller's path: the
    # webhook changes no entry (it used to put a Studio flow in front of every line).
    assert not flow_specs(every_kind_config(ALERTS))
    for severity in Severity:
        assert fallback_entries(every_kind_config(ALERTS), severity) == fallback_entries(
            every_kind_config(), severity
        )


@pytest.mark.parametrize("alerts", [None, ALERTS])
def test_every_entry_refers_to_something_that_is_rendered(alerts: str | None) -> None:
    cfg = every_kind_config(alerts)
    flows = {spec.name for spec in flow_specs(cfg)}
    assets = render_assets(cfg)
    for severity in Severity:
        for line_id, entry in fallback_entries(cfg, severity).items():
            if entry.kind is FLOW:
                assert entry.ref in flows, line_id
            elif entry.kind is DOCUMENT:
                assert entry.ref in assets[entry.env], line_id
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
    domains = {
        "shared": "acme-failover-prod-1234-shared.twil.io",
        "fwd-00": "acme-failover-prod-5678-fwd-00.twil.io",
    }
    assert (
        Entry(URL, "https://b.example/x", "POST").resolve(domains, flows) == "https://b.example/x"
    )
    assert (
        Entry(DOCUMENT, "/v/default.xml", "GET", "shared").resolve(domains, flows)
        == "https://acme-failover-prod-1234-shared.twil.io/v/default.xml"
    )
    # each document resolves on its own environment's domain, not the shared one
    assert (
        Entry(DOCUMENT, "/f/sales.xml", "GET", "fwd-00").resolve(domains, flows)
        == "https://acme-failover-prod-5678-fwd-00.twil.io/f/sales.xml"
    )
    assert (
        Entry(FLOW, "acme-failover-sales", "POST").resolve(domains, flows)
        == flows["acme-failover-sales"]
    )
    with pytest.raises(KeyError, match="acme-failover-gus"):
        Entry(FLOW, "acme-failover-gus", "POST").resolve(domains, flows)
    with pytest.raises(KeyError, match="fwd-03"):
        Entry(DOCUMENT, "/f/gus.xml", "GET", "fwd-03").resolve(domains, flows)


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
