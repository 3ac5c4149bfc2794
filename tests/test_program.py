"""The Pulumi program under mocks: what it registers, with which options and dependencies.

A capturing monitor records every RegisterResource request (type, name, inputs,
dependencies, protect, retainOnDelete) and the stack outputs, so the assertions are on
what the Pulumi engine would receive, not on Python objects.
"""

from __future__ import annotations

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
from infra.render.studio import flow_specs

ROOT = Path(__file__).resolve().parent.parent
T = "pulumi-python:dynamic/twilio:"
DOMAIN = "acme-failover-dev-1234.twil.io"


def _sid(prefix: str, name: str) -> str:
    return prefix + hashlib.sha256(name.encode()).hexdigest()[:32]


class FakeOutputs(pulumi.runtime.Mocks):
    """Return what each provider would output, from its inputs (no Twilio involved)."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        kind = args.typ.rsplit(":", 1)[-1]
        if kind == "TwimlDocuments":
            paths = [*inputs.get("documents", {}), *inputs.get("functions", {})]
            inputs |= {
                "domain_name": DOMAIN,
                "service_sid": _sid("ZS", args.name),
                "urls": {p: f"https://{DOMAIN}{p}" for p in paths},
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
        elif kind == "PhoneNumberFailover":
            inputs |= {
                "sid": _sid("PN", args.name),
                "voice_fallback_url": inputs.get("fallback_url"),
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


def test_one_resource_set_per_line(monitor: CapturingMonitor) -> None:
    config = shipped()
    run_program(config)
    numbers = monitor.by_type("PhoneNumberFailover")
    assert sorted(numbers) == sorted(line.id for line in config.lines)
    assert sorted(monitor.by_type("StudioFlow")) == sorted(spec.key for spec in flow_specs(config))
    assert len(monitor.by_type("TwimlDocuments")) == 1
    assert len(monitor.by_type("CallQueue")) == 1
    assert list(monitor.by_type("LineLedger")) == ["lines"]
    sales = numbers["sales"].inputs
    assert sales["phone_number"] == "+14155550101"
    assert sales["primary_url"] == "https://voice.acme.example/sales"
    assert sales["fallback_method"] == "POST"
    assert sales["fallback_url"].startswith("https://webhooks.twilio.com/v1/Accounts/")


def test_number_resources_restore_on_delete_so_carry_neither_protect_nor_retain(
    monitor: CapturingMonitor,
) -> None:
    """Deliberate: retain_on_delete would skip the provider's delete, which is the restore."""
    run_program(shipped())
    for registration in monitor.by_type("PhoneNumberFailover").values():
        assert registration.retain_on_delete is False
        assert registration.protect is False


def test_dependencies_order_documents_queue_flows_numbers(monitor: CapturingMonitor) -> None:
    run_program(shipped())
    documents = monitor.by_type("TwimlDocuments")["documents"]
    assert any(dep.endswith("LineLedger::lines") for dep in documents.dependencies)
    docs_urn = next(
        d
        for d in monitor.by_type("CallQueue")["call-queue"].dependencies
        if d.endswith("::documents")
    )
    flows = monitor.by_type("StudioFlow")
    assert docs_urn in flows["sales"].dependencies
    assert any(d.endswith("::call-queue") for d in flows["support.queue"].dependencies)
    assert not any(d.endswith("::call-queue") for d in flows["sales"].dependencies)
    numbers = monitor.by_type("PhoneNumberFailover")
    assert any(d.endswith("StudioFlow::sales") for d in numbers["sales"].dependencies)
    assert docs_urn in numbers["sales"].dependencies


def test_flow_definitions_are_bound_no_placeholder_left(monitor: CapturingMonitor) -> None:
    from infra.render.bindings import find_placeholders

    run_program(shipped())
    for name, flow in monitor.by_type("StudioFlow").items():
        assert find_placeholders(flow.inputs["definition"]) == [], name
    support = monitor.by_type("StudioFlow")["support.queue"].inputs["definition"]
    assert _sid("WW", "call-queue") in support and DOMAIN in support


def test_stack_outputs_per_line(monitor: CapturingMonitor) -> None:
    outputs = run_program(shipped())
    lines = outputs["lines"]
    assert lines["eli"]["test"] is True
    assert lines["billing"]["failover"] == ["url"]
    assert lines["main"] == {
        "number": "+14155550100",
        "number_sid": _sid("PN", "main"),
        "primary": "https://voice.acme.example/main",
        "fallback_url": f"https://webhooks.twilio.com/v1/Accounts/AC0/Flows/{_sid('FW', 'main')}",
        "fallback_method": "POST",
        "entry": "flow",
        "failover": ["forward", "voicemail"],
        "test": False,
    }
    assert outputs["serverless_domain"] == DOMAIN
    assert outputs["taskrouter"]["workflow_sid"] == _sid("WW", "call-queue")
    assert outputs["severity"] == "minor"


def test_severe_switches_only_shared_lines_with_a_queue(monitor: CapturingMonitor) -> None:
    lines = run_program(shipped(), Severity.SEVERE)["lines"]
    switched = {
        line
        for line, out in lines.items()
        if out["fallback_url"].endswith(_sid("FW", f"{line}.queue"))
    }
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
    fay = monitor.by_type("PhoneNumberFailover")["fay"].inputs
    assert fay["fallback_url"] == f"https://{DOMAIN}/lines/fay/voicemail.xml"
    assert fay["fallback_method"] == "GET"
    assert "taskrouter" not in outputs


def test_missing_auth_token_is_a_clear_error(monitor: CapturingMonitor) -> None:
    pulumi.runtime.set_all_config({"twilio:accountSid": "AC" + "0" * 32})
    with pytest.raises(pulumi.RunError) as caught:
        program.check_credentials(environ={})
    assert str(caught.value) == (
        "missing Twilio credentials: twilio:authToken. Set them with `pulumi config set twilio:accountSid AC...` "
        "and `pulumi config set --secret twilio:authToken`"
    )


def test_credentials_from_config_or_environment_pass(monitor: CapturingMonitor) -> None:
    pulumi.runtime.set_all_config(
        {"twilio:accountSid": "AC" + "0" * 32, "twilio:authToken": "tok"}, ["twilio:authToken"]
    )
    program.check_credentials(environ={})
    pulumi.runtime.set_all_config({})
    program.check_credentials(environ={"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "x"})
    pulumi.runtime.set_all_config({"twilio:apiKeySid": "SK1"})
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
    import dataclasses

    reworded = dataclasses.replace(
        gus, voicemail=dataclasses.replace(gus.voicemail, greeting="Hi.")
    )
    rerouted = dataclasses.replace(gus, forward="+14155550199")
    assert program.route_fingerprint(reworded, config) == program.route_fingerprint(gus, config)
    assert program.route_fingerprint(rerouted, config) != program.route_fingerprint(gus, config)
