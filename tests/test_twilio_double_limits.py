"""The Twilio double refuses past each of Twilio's documented limits, with Twilio's code.

One test per limit (table in ``tests/twilio_double/limits.py``). Limits that take hundreds of
resources to reach are lowered per test (``d.limits.set``) to prove the behaviour cheaply;
cheap ones are checked at Twilio's default. Requests go through the official twilio library,
uploads as raw multipart requests (the library has none).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.test_twilio_double_serverless import upload
from tests.test_twilio_double_studio import DEFINITION
from tests.twilio_double import TwilioDouble
from tests.twilio_double.limits import Limits, Values


def refusal(call: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as raised:
        call()
    return raised.value


@pytest.fixture
def service(twilio_client):  # type: ignore[no-untyped-def]
    return twilio_client.serverless.v1.services.create(
        unique_name="acme-failover", friendly_name="ACME failover"
    )


def asset_versions(double: TwilioDouble, client: Any, service: str, count: int, visibility: str):  # type: ignore[no-untyped-def]
    api = client.serverless.v1.services(service)
    sids = []
    for index in range(count):
        asset = api.assets.create(friendly_name=f"doc-{visibility}-{index}")
        answer = upload(
            double, service, "Assets", asset.sid, path=f"/{visibility}/{index}.xml",
            content=b"<Response/>", data={"Path": f"/{visibility}/{index}.xml", "Visibility": visibility},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        sids.append(answer.json()["sid"])
    return sids


# -- Serverless ----------------------------------------------------------------------------------
def test_eleventh_service_is_refused_with_21102(twilio_client) -> None:
    services = twilio_client.serverless.v1.services
    for index in range(10):
        services.create(unique_name=f"svc-{index}", friendly_name=f"svc {index}")

    error = refusal(lambda: services.create(unique_name="svc-10", friendly_name="one too many"))

    assert (error.status, error.code) == (400, 21102)
    assert len(services.list()) == 10


def test_twenty_sixth_environment_of_a_service_is_refused(twilio_client, service) -> None:
    environments = twilio_client.serverless.v1.services(service.sid).environments
    for index in range(25):
        environments.create(unique_name=f"env-{index}", domain_suffix=f"e{index}")

    error = refusal(lambda: environments.create(unique_name="env-25", domain_suffix="e25"))

    assert (error.status, error.code) == (400, 20001)
    assert len(environments.list()) == 25


def test_build_past_public_and_protected_asset_versions_is_refused(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    twilio_double.limits.set(asset_versions_per_build=5)
    public = asset_versions(twilio_double, twilio_client, service.sid, 3, "public")
    protected = asset_versions(twilio_double, twilio_client, service.sid, 3, "protected")
    builds = twilio_client.serverless.v1.services(service.sid).builds

    error = refusal(lambda: builds.create(asset_versions=public + protected))
    accepted = builds.create(asset_versions=public + protected[:2])

    assert (error.status, error.code) == (400, 20001)
    assert "at most 5 asset versions" in error.msg
    assert len(accepted.asset_versions) == 5
    assert [b.sid for b in builds.list()] == [accepted.sid]


def test_build_past_private_asset_versions_is_refused(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    twilio_double.limits.set(private_asset_versions_per_build=2)
    private = asset_versions(twilio_double, twilio_client, service.sid, 3, "private")
    builds = twilio_client.serverless.v1.services(service.sid).builds

    error = refusal(lambda: builds.create(asset_versions=private))

    assert (error.status, error.code) == (400, 20001)
    assert "private asset versions" in error.msg
    assert builds.create(asset_versions=private[:2]).status == "building"


def test_build_past_function_versions_is_refused(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    twilio_double.limits.set(function_versions_per_build=2)
    api = twilio_client.serverless.v1.services(service.sid)
    versions = []
    for index in range(3):
        function = api.functions.create(friendly_name=f"fn-{index}")
        answer = upload(
            twilio_double, service.sid, "Functions", function.sid, path=f"/fn-{index}",
            content=b"exports.handler = (c, e, cb) => cb(null, {});",
        )  # fmt: skip
        versions.append(answer.json()["sid"])

    error = refusal(lambda: api.builds.create(function_versions=versions))

    assert (error.status, error.code) == (400, 20001)
    assert "function versions" in error.msg
    assert api.builds.create(function_versions=versions[:2]).sid.startswith("ZB")


def test_builds_per_hour_answer_429_until_the_hour_has_passed(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    clock = [1000.0]
    twilio_double.limits.clock = lambda: clock[0]
    twilio_double.limits.set(builds_per_hour=2)
    versions = asset_versions(twilio_double, twilio_client, service.sid, 1, "protected")
    builds = twilio_client.serverless.v1.services(service.sid).builds
    builds.create(asset_versions=versions)
    clock[0] += 1800
    builds.create(asset_versions=versions)

    error = refusal(lambda: builds.create(asset_versions=versions))
    clock[0] += 1800.5  # the first build is now more than an hour old
    again = builds.create(asset_versions=versions)

    assert (error.status, error.code) == (429, 20429)
    assert again.status == "building"
    assert len(builds.list()) == 3


def test_asset_version_larger_than_the_documented_size_is_refused(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    twilio_double.limits.set(asset_version_bytes=16)
    asset = twilio_client.serverless.v1.services(service.sid).assets.create(friendly_name="big")

    small = upload(twilio_double, service.sid, "Assets", asset.sid, path="/a", content=b"x" * 16)
    big = upload(twilio_double, service.sid, "Assets", asset.sid, path="/b", content=b"x" * 17)

    assert small.status_code == 201
    assert (big.status_code, big.json()["code"]) == (400, 20001)
    assert [v.path for v in twilio_client.serverless.v1.services(service.sid)
            .assets(asset.sid).asset_versions.list()] == ["/a"]  # fmt: skip


# -- Studio ----------------------------------------------------------------------------------------
def states(count: int) -> dict[str, Any]:
    definition = copy.deepcopy(DEFINITION)
    extra = [
        {"name": f"say_{index}", "type": "say-play", "properties": {"say": "hi"}, "transitions": []}
        for index in range(count - len(definition["states"]))
    ]
    definition["states"] += extra
    return definition


def test_flow_past_the_schema_state_limit_fails_validation_with_81022(twilio_client) -> None:
    flows = twilio_client.studio.v2
    fits, too_big = states(1000), states(1001)
    flow = flows.flows.create(friendly_name="big", status="published", definition=fits)

    errors = [
        refusal(lambda: flows.flow_validate.update(
            friendly_name="big", status="published", definition=too_big)),
        refusal(lambda: flows.flows.create(
            friendly_name="bigger", status="published", definition=too_big)),
        refusal(lambda: flows.flows(flow.sid).update(status="published", definition=too_big)),
    ]  # fmt: skip

    assert [(e.status, e.code) for e in errors] == [(400, 81022)] * 3
    assert errors[0].details["errors"][0]["property_path"] == "#/states"
    assert flows.flows(flow.sid).fetch().revision == 1


def test_inbound_studio_executions_past_100_per_second_are_refused() -> None:
    limits = Limits()
    first_second = [limits.studio_execution_allowed(10.0 + i / 1000) for i in range(101)]

    later = limits.studio_execution_allowed(11.0005)  # the first start left the window
    refusal_error = limits.studio_execution_refusal()

    assert first_second.count(True) == 100 and first_second[-1] is False
    assert later is True
    assert (refusal_error.status, refusal_error.code) == (429, 20429)


def test_rest_studio_executions_past_20_per_second_are_refused(
    twilio_double: TwilioDouble,
) -> None:
    twilio_double.limits.clock = lambda: 50.0
    allowed = [twilio_double.limits.studio_execution_allowed(trigger="rest") for _ in range(21)]

    assert allowed.count(True) == 20 and allowed[-1] is False
    assert twilio_double.limits.studio_execution_allowed(trigger="inbound") is True


# -- REST concurrency ------------------------------------------------------------------------------
def test_requests_past_the_concurrency_limit_answer_429_20429(
    twilio_double: TwilioDouble, twilio_client
) -> None:
    number = twilio_double.seed_number("+14155550100", voice_url="https://voice.example/main")
    twilio_double.limits.set(concurrent_requests=2)
    twilio_double.faults.add(latency=0.5)  # keeps the first two in flight while others arrive
    start = threading.Barrier(6)
    outcomes: list[Any] = []

    def fetch() -> None:
        start.wait()
        try:
            twilio_client.api.v2010.account.incoming_phone_numbers(number["sid"]).fetch()
            outcomes.append("ok")
        except TwilioRestException as error:
            outcomes.append((error.status, error.code))

    threads = [threading.Thread(target=fetch) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes, key=str) == [(429, 20429)] * 4 + ["ok"] * 2
    assert twilio_double.limits.in_flight == 0
    throttled = [r for r in twilio_double.requests if r.fault == "limit: concurrent_requests"]
    assert len(throttled) == 4 and all(r.status == 429 for r in throttled)


def test_throttled_answer_carries_retry_after_when_configured(twilio_double: TwilioDouble) -> None:
    twilio_double.limits.set(concurrent_requests=0, retry_after=1.5)

    answer = requests.get(
        f"{twilio_double.product_url('api.twilio.com')}/2010-04-01/Accounts/"
        f"{twilio_double.account_sid}/IncomingPhoneNumbers.json",
        auth=(twilio_double.account_sid, twilio_double.auth_token), timeout=5,
    )  # fmt: skip

    assert (answer.status_code, answer.json()["code"]) == (429, 20429)
    assert answer.headers["Retry-After"] == "1.5"
    assert answer.json()["more_info"] == "https://www.twilio.com/docs/errors/20429"


def test_concurrency_limit_switched_off_at_runtime_admits_everyone(twilio_spec_dir) -> None:
    twilio_double = TwilioDouble(spec_dir=twilio_spec_dir, limits={"concurrent_requests": 1})
    twilio_double.start()
    twilio_client = twilio_double.client(timeout=10)
    twilio_double.limits.set(concurrent_requests=None)  # 1 would refuse 7 of the 8 below
    twilio_double.faults.add(latency=0.2)
    number = twilio_double.seed_number("+14155550100", voice_url="https://voice.example/main")
    start, failures = threading.Barrier(8), []

    def fetch() -> None:
        start.wait()
        try:
            twilio_client.api.v2010.account.incoming_phone_numbers(number["sid"]).fetch()
        except TwilioRestException as error:
            failures.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    twilio_double.stop()
    assert failures == []
    assert [r.status for r in twilio_double.requests] == [200] * 8


# -- TaskRouter ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("limit", "segment", "create_args"),
    [
        ("workers_per_workspace", "workers", {"friendly_name": "w{}"}),
        ("task_queues_per_workspace", "task_queues", {"friendly_name": "q{}"}),
        ("workflows_per_workspace", "workflows", {"friendly_name": "f{}", "configuration": "{}"}),
        ("activities_per_workspace", "activities", {"friendly_name": "a{}"}),
        ("task_channels_per_workspace", "task_channels", {"friendly_name": "c{}", "unique_name": "c{}"}),
    ],
)  # fmt: skip
def test_taskrouter_refuses_past_its_per_workspace_limit(
    twilio_double: TwilioDouble, twilio_client, limit: str, segment: str, create_args: dict
) -> None:
    workspace = twilio_client.taskrouter.v1.workspaces.create(friendly_name="acme")
    collection = getattr(twilio_client.taskrouter.v1.workspaces(workspace.sid), segment)
    existing = len(collection.list())  # a new workspace has default activities and channels
    twilio_double.limits.set(**{limit: existing + 2})

    for index in range(2):
        collection.create(**{k: v.format(index) for k, v in create_args.items()})
    error = refusal(lambda: collection.create(**{k: v.format(9) for k, v in create_args.items()}))

    assert (error.status, error.code) == (400, 20001)
    assert len(collection.list()) == existing + 2


# -- switching -------------------------------------------------------------------------------------
def test_limits_are_twilios_by_default_and_switchable(twilio_spec_dir) -> None:
    double = TwilioDouble(spec_dir=twilio_spec_dir, limits={"services_per_account": 1})

    before = double.limits.set(flow_states=5)
    lowered = (double.limits.values.services_per_account, double.limits.values.flow_states)
    double.limits.reset()

    assert lowered == (1, 5)
    assert before.flow_states == 1000
    assert double.limits.values == Values()
    assert Values().concurrent_requests == 100 and Values().builds_per_hour == 100
    double.limits.off()
    assert double.limits.values.asset_versions_per_build is None
    with pytest.raises(TypeError, match="unknown limit"):
        double.limits.set(services=3)
