"""The program-facing classes: type tokens, registered inputs, a plain by-reference __provider.

Runs each ``<X>(name, <X>Args(...))`` under Pulumi's mocks and inspects the raw
RegisterResource request, as the engine would receive it.
"""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor

from infra.providers.call_queue import CallQueue, CallQueueArgs
from infra.providers.phone_number import PhoneNumberFailover, PhoneNumberFailoverArgs
from infra.providers.studio_flow import StudioFlow, StudioFlowArgs
from infra.providers.twiml_documents import TwimlDocuments, TwimlDocumentsArgs


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ.endswith(":StudioFlow"):
            outputs["webhook_url"] = "https://webhooks.twilio.com/v1/Accounts/AC1/Flows/FW1"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


class _Capture(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.type != "pulumi:pulumi:Stack":
            self.requests.append(request)
        return super().RegisterResource(request)


@pytest.fixture
def capture() -> Any:
    mocks = _Mocks()
    monitor = _Capture(mocks)
    pulumi.runtime.set_mocks(mocks, project="lines", stack="dev", monitor=monitor)
    yield monitor
    pulumi.runtime.settings.reset_options()


def test_each_resource_registers_its_type_token_inputs_and_provider(capture: Any) -> None:
    @pulumi.runtime.test
    def program() -> Any:
        docs = TwimlDocuments(
            "documents",
            TwimlDocumentsArgs(
                service_name="acme-dev-failover", documents={"/bye.xml": "<Response/>"}
            ),
        )
        flow = StudioFlow(
            "sales-flow",
            StudioFlowArgs(line="sales", friendly_name="acme-dev-failover-sales", definition="{}"),
        )
        CallQueue(
            "call-queue",
            CallQueueArgs(
                workspace_name="acme-dev-failover",
                queues={},
                workers={},
                assignment_callback_url=docs.urls.apply(lambda u: (u or {}).get("/bye.xml", "")),
            ),
        )
        number = PhoneNumberFailover(
            "sales",
            PhoneNumberFailoverArgs(
                line="sales", phone_number="+14155550101", fallback_url=flow.webhook_url
            ),
            pulumi.ResourceOptions(protect=True),
        )
        return number.urn

    program()
    registered = {r.name: r for r in capture.requests}
    assert {r.name: r.type for r in capture.requests} == {
        "documents": "pulumi-python:dynamic/twilio:TwimlDocuments",
        "sales-flow": "pulumi-python:dynamic/twilio:StudioFlow",
        "call-queue": "pulumi-python:dynamic/twilio:CallQueue",
        "sales": "pulumi-python:dynamic/twilio:PhoneNumberFailover",
    }
    inputs = json_format.MessageToDict(registered["sales"].object)
    assert set(inputs) == {
        "__provider",
        "line",
        "phone_number",
        "fallback_url",
        "fallback_method",
        "primary_method",
        "test_mode",
    }
    assert registered["sales"].protect
    for request in capture.requests:
        provider = json_format.MessageToDict(request.object)["__provider"]
        assert isinstance(provider, str)  # plain, not a secret envelope
        blob = base64.b64decode(provider)
        assert b"infra.providers." in blob and len(blob) < 120
