"""The Pulumi program under mocks: what it registers, with which options and dependencies.

A capturing monitor records every RegisterResource request (type, name, inputs,
dependencies, protect, retainOnDelete) and the stack outputs, so the assertions are on
what the Pulumi engine would receive, not on Python objects.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from infra import program
from infra.lines.load import load_config
from infra.model import LinesConfig, Severity
from infra.naming import forward_env, number_batch
from infra.providers.phone_number_batch import bind_url
from infra.render.studio import flow_specs

ROOT = Path(__file__).resolve().parent.parent
T = "pulumi-python:dynamic/twilio:"
DOMAIN = "acme-failover-dev-1234-shared.twil.io"


def domain_of(environment: str) -> str:
    return f"acme-failover-dev-1234-{environment}.twil.io"


def _sid(prefix: str, name: str) -> str:
    return prefix + hashlib.sha256(name.encode()).hexdigest()[:32]


class FakeOutputs(pulumi.runtime.Mocks):
    """Return what each provider would output, from its inputs (no Twilio involved)."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        kind = args.typ.rsplit(":", 1)[-1]
        if kind == "TwimlDocuments":
            paths = [*inputs.get("documents", {}), *inputs.get("functions", {})]
            domain = domain_of(inputs["environment"])
            inputs |= {
                "domain_name": domain,
                "service_sid": _sid("ZS", "service"),
                "urls": {p: f"https://{domain}{p}" for p in paths},
            }
        elif kind == "CallQueue":
            inputs |= {
                "workspace_sid": _sid("WS", args.name),
                "workflow_sid": _sid("WW", args.name),
                "on_duty_activity_sid": _sid("WA", "on"),
            }
        elif kind == "StudioFlow":
            sid = _sid("FW", args.name)
            inputs |= {
                "sid": sid,
                "webhook_url": f"https://webhooks.twilio.com/v1/Accounts/AC0/Flows/{sid}",
            }
        elif kind == "PhoneNumberBatch":
            inputs["lines"] = {
                line: {
                    "sid": _sid("PN", line),
                    "voice_fallback_url": bind_url(props["fallback_url"], inputs["bindings"]),
                }
                for line, props in inputs["lines"].items()
            }
        return f"{args.name}-id", inputs

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool


@dataclass
class CapturingMonitor(pulumi_mocks.MockMonitor):
    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations = []
        self.outputs = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    inputs=rpc.deserialize_properties(request.object),
                    dependencies=list(request.dependencies),
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        self.outputs.update(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)

    def by_type(self, kind: str) -> dict[str, Registration]:
        return {
            r.name: r
            for r in self.registrations
            if r.type == T + kind or r.type.endswith(":" + kind)
        }


@pytest.fixture
def monitor() -> Iterator[CapturingMonitor]:
    mocks = FakeOutputs()
    capturing = CapturingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="failover", stack="dev", preview=False, monitor=capturing
    )
    yield capturing
    pulumi.runtime.settings.configure(
        pulumi.runtime.settings.Settings(project="failover", stack="dev")
    )
    pulumi.runtime.set_all_config({})


def shipped() -> LinesConfig:
    config, _ = load_config(ROOT / "lines.yaml")
    return config


def run_program(config: LinesConfig, severity: Severity = Severity.MINOR) -> dict[str, Any]:
    """Run build + export under the mocks; return the stack outputs, fully resolved."""
    settings = program.StackSettings(stack="dev", severity=severity)
    resolved: dict[str, Any] = {}
    root = pulumi.runtime.get_root_resource()
    if root is not None:
        root.outputs.clear()  # type: ignore[attr-defined]  # the mock stack outlives one test

    @pulumi.runtime.test
    def body() -> pulumi.Output[None]:
        program.export(config, settings, program.build(config, settings))
        stack = pulumi.runtime.get_root_resource()
        return pulumi.Output.from_input(dict(stack.outputs)).apply(resolved.update)  # type: ignore[union-attr]

    body()
    return resolved


def numbers(monitor: CapturingMonitor) -> dict[str, dict[str, Any]]:
    """Every line's number inputs, over all batches, URLs bound as the provider binds them
    (``bindings``)."""
    found: dict[str, dict[str, Any]] = {}
    for batch in monitor.by_type("PhoneNumberBatch").values():
        for line, props in batch.inputs["lines"].items():
            bound = {
                key: bind_url(props[key], batch.inputs["bindings"])
                for key in ("fallback_url", "primary_url", "sms_fallback_url")
                if key in props
            }
            found[line] = {**props, **bound}
    return found


def test_a_fixed_small_set_of_resources_with_every_line_in_a_batch(
    monitor: CapturingMonitor,
) -> None:
    config = shipped()
    run_program(config)
    lines = numbers(monitor)
    assert sorted(lines) == sorted(line.id for line in config.lines)
    for name, batch in monitor.by_type("PhoneNumberBatch").items():
        assert {number_batch(line) for line in batch.inputs["lines"]} == {name}
    assert monitor.by_type("StudioFlow") == {}  # no alerts.webhook: no Studio at all
    environments = {r.inputs["environment"] for r in monitor.by_type("TwimlDocuments").values()}
    assert {"shared", "queues"} <= environments
    assert all(e in ("shared", "queues") or e.startswith("fwd-") for e in environments)
    assert len(monitor.by_type("CallQueue")) == 1
    assert list(monitor.by_type("LineLedger")) == ["lines"]
    sales = lines["sales"]
    assert sales["phone_number"] == "+14155550101"
    assert sales["primary_url"] == "https://voice.acme.example/sales"
    assert sales["fallback_method"] == "GET"
    assert sales["fallback_url"] == f"https://{domain_of(forward_env('sales'))}/f/sales.xml"


def test_alerts_webhook_keeps_every_entry_static(monitor: CapturingMonitor) -> None:
    # Alerts are sent by a scheduled `failover status --notify`, not by a Studio step on the
    # call: no flow, no /alert Function, the same entries as without a webhook.
    config = dataclasses.replace(shipped(), alerts_webhook="https://hooks.acme.example/failover")
    run_program(config)
    assert monitor.by_type("StudioFlow") == {} and flow_specs(config) == ()
    sales = numbers(monitor)["sales"]
    assert sales["fallback_method"] == "GET"
    assert sales["fallback_url"] == f"https://{domain_of(forward_env('sales'))}/f/sales.xml"


def test_number_batches_restore_on_delete_so_carry_neither_protect_nor_retain(
    monitor: CapturingMonitor,
) -> None:
    """Deliberate: retain_on_delete would skip the provider's delete, which is the restore."""
    run_program(shipped())
    for registration in monitor.by_type("PhoneNumberBatch").values():
        assert registration.retain_on_delete is False
        assert registration.protect is False


def test_dependencies_order_documents_queue_numbers(monitor: CapturingMonitor) -> None:
    run_program(shipped())
    documents = monitor.by_type("TwimlDocuments")
    shared = documents["documents-shared"]
    assert any(dep.endswith("LineLedger::lines") for dep in shared.dependencies)
    shared_urn = next(
        d
        for d in monitor.by_type("CallQueue")["call-queue"].dependencies
        if d.endswith("::documents-shared")
    )
    queues = documents["documents-queues"]
    assert shared_urn in queues.dependencies
    assert any(d.endswith("::call-queue") for d in queues.dependencies)
    for name, env in documents.items():
        if name != "documents-shared":
            assert shared_urn in env.dependencies, name
    for batch in monitor.by_type("PhoneNumberBatch").values():
        assert {d.rsplit("::", 1)[1] for d in batch.dependencies} >= set(documents)


def test_documents_are_bound_no_placeholder_left(monitor: CapturingMonitor) -> None:
    from infra.render.bindings import find_placeholders

    run_program(shipped())
    for name, env in monitor.by_type("TwimlDocuments").items():
        for path, text in env.inputs["documents"].items():
            assert find_placeholders(text) == [], (name, path)
    support = monitor.by_type("TwimlDocuments")["documents-queues"].inputs["documents"]
    assert _sid("WW", "call-queue") in support["/q/support.xml"]
    assert f"https://{DOMAIN}/queue-wait?line=support" in support["/q/support.xml"]


def test_stack_outputs_per_line(monitor: CapturingMonitor) -> None:
    outputs = run_program(shipped())
    lines = outputs["lines"]
    assert lines["main"] == f"https://{domain_of(forward_env('main'))}/f/main.xml"
    assert lines["billing"] == "https://backup-voice.acme.example/billing"
    assert lines["fay"] == f"https://{DOMAIN}/v/default.xml"
    assert outputs["line_count"] == len(shipped().lines) == len(lines)
    assert outputs["serverless_domain"] == DOMAIN
    assert outputs["serverless_domains"]["shared"] == DOMAIN
    assert outputs["taskrouter"]["workflow_sid"] == _sid("WW", "call-queue")
    assert outputs["severity"] == "minor"


def test_severe_switches_only_shared_lines_with_a_queue(monitor: CapturingMonitor) -> None:
    lines = run_program(shipped(), Severity.SEVERE)["lines"]
    switched = {line for line, url in lines.items() if "-queues.twil.io/q/" in url}
    assert switched == {"main", "support"}


def test_no_queue_means_no_taskrouter(monitor: CapturingMonitor, tmp_path: Path) -> None:
    path = tmp_path / "lines.yaml"
    path.write_text(
        'version: 1\naccount: {name: acme}\nlines:\n  - {id: fay, type: user, number: "+14155550107"}\n'
    )
    config, _ = load_config(path)
    outputs = run_program(config)
    assert monitor.by_type("CallQueue") == {}
    assert monitor.by_type("StudioFlow") == {}
    assert [r.inputs["environment"] for r in monitor.by_type("TwimlDocuments").values()] == [
        "shared"
    ]
    fay = numbers(monitor)["fay"]
    assert fay["fallback_url"] == f"https://{DOMAIN}/v/default.xml"
    assert fay["fallback_method"] == "GET"
    assert "taskrouter" not in outputs


def test_missing_auth_token_is_a_clear_error(monitor: CapturingMonitor) -> None:
    pulumi.runtime.set_all_config({"failover:accountSid": "AC" + "0" * 32})
    with pytest.raises(pulumi.RunError) as caught:
        program.check_credentials(environ={})
    assert str(caught.value) == (
        "missing Twilio secret: set config failover:authToken (secret) for failover:accountSid, "
        "or TWILIO_AUTH_TOKEN in the environment. Set them with `pulumi config set "
        "failover:accountSid AC...` and `pulumi config set --secret failover:authToken`"
    )


def test_credentials_from_config_or_environment_pass(monitor: CapturingMonitor) -> None:
    pulumi.runtime.set_all_config(
        {"failover:accountSid": "AC" + "0" * 32, "failover:authToken": "tok"},
        ["failover:authToken"],
    )
    program.check_credentials(environ={})
    pulumi.runtime.set_all_config({})
    program.check_credentials(environ={"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "x"})
    pulumi.runtime.set_all_config({"failover:apiKey": "SK1"})
    with pytest.raises(pulumi.RunError, match="incomplete API key"):
        program.check_credentials(environ={})
    pulumi.runtime.set_all_config({"twilio:apiKeySid": "SK1"})  # the deprecated key counts too
    with pytest.raises(pulumi.RunError, match="incomplete API key"):
        program.check_credentials(environ={})


def test_invalid_lines_file_fails_with_the_same_diagnostics(monitor: CapturingMonitor) -> None:
    pulumi.runtime.set_all_config(
        {"failover:linesFile": str(ROOT / "tests/fixtures/invalid/duplicate-line-id.yaml")}
    )
    with pytest.raises(pulumi.RunError) as caught:
        program.main()
    assert 'duplicate-line-id.yaml:5:10: error: line id "main" is already used at line 4' in str(
        caught.value
    )


def test_route_fingerprint_ignores_wording_but_not_routing() -> None:
    config = shipped()
    gus = config.line("gus")
    reworded = dataclasses.replace(
        gus, voicemail=dataclasses.replace(gus.voicemail, greeting="Hi.")
    )
    rerouted = dataclasses.replace(gus, forward="+14155550199")
    assert program.route_fingerprint(reworded, config) == program.route_fingerprint(gus, config)
    assert program.route_fingerprint(rerouted, config) != program.route_fingerprint(gus, config)


def test_an_agents_duty_is_the_workers_initial_activity(monitor: CapturingMonitor) -> None:
    """``duty: off`` creates the worker Off Duty; the provider applies ``initial_activity``
    only when it creates the worker (tests/providers/test_call_queue.py)."""
    config = shipped()
    erin = dataclasses.replace(config.agent("erin"), on_duty=False)
    config = dataclasses.replace(
        config, agents=tuple(erin if a.id == "erin" else a for a in config.agents)
    )
    run_program(config, Severity.SEVERE)
    (queue,) = monitor.by_type("CallQueue").values()
    initial = {key: spec["initial_activity"] for key, spec in queue.inputs["workers"].items()}
    assert initial == {
        "alice": "on_duty", "bob": "on_duty", "carol": "on_duty", "dev": "on_duty",
        "erin": "off_duty",
    }  # fmt: skip


def test_queue_test_points_only_that_lines_primary_at_its_queue(monitor: CapturingMonitor) -> None:
    """``queue.test`` at severity minor: main's primary is its queue entry (the severe one),
    its fallback and every other line stay as they are."""
    config = shipped()
    main = config.lines[0]
    assert main.queue is not None
    tested = dataclasses.replace(main, queue=dataclasses.replace(main.queue, test=True))
    config = dataclasses.replace(
        config, lines=tuple(tested if line.id == "main" else line for line in config.lines)
    )
    run_program(config, Severity.MINOR)
    found = numbers(monitor)
    assert found["main"]["primary_url"] == f"https://{domain_of('queues')}/q/main.xml"
    assert found["main"]["primary_method"] == "GET"
    assert found["main"]["test_mode"] is False
    assert found["main"]["fallback_url"] == f"https://{domain_of(forward_env('main'))}/f/main.xml"
    assert found["support"]["primary_url"] == "https://voice.acme.example/support"
