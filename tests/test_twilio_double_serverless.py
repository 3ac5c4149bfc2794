"""The Twilio double's Serverless control plane and upload host.

Control-plane calls go through the official twilio library; uploads are raw multipart
requests, as the library has none.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from tests.twilio_double import TwilioDouble

VOICEMAIL = (
    b'<?xml version="1.0"?>'
    b'<Response><Say>Leave a message.</Say><Record action="/bye.xml"/></Response>'
)


def upload(
    double: TwilioDouble, service: str, kind: str, owner: str, *, path: str, content: bytes, **extra
) -> requests.Response:  # type: ignore[no-untyped-def]
    parts = {
        "data": {"Path": path, "Visibility": "protected"},
        "files": {"Content": ("doc.xml", content, "text/xml")},
    }
    parts.update(extra)
    return requests.post(
        f"{double.product_url('serverless-upload.twilio.com')}/v1/Services/{service}/{kind}/{owner}/Versions",
        auth=(double.account_sid, double.auth_token),
        timeout=5,
        **parts,
    )


@pytest.fixture
def service(twilio_client):  # type: ignore[no-untyped-def]
    return twilio_client.serverless.v1.services.create(
        unique_name="acme-failover",
        friendly_name="ACME failover",
        include_credentials=False,
        ui_editable=False,
    )


def test_upload_build_poll_deploy(twilio_double: TwilioDouble, twilio_client, service) -> None:
    api = twilio_client.serverless.v1.services(service.sid)
    environment = api.environments.create(unique_name="prod", domain_suffix="prod")
    asset = api.assets.create(friendly_name="sales-voicemail")

    uploaded = upload(
        twilio_double,
        service.sid,
        "Assets",
        asset.sid,
        path="lines/sales/voicemail.xml",
        content=VOICEMAIL,
    )
    version = uploaded.json()
    build = api.builds.create(asset_versions=[version["sid"]])
    statuses = [api.builds(build.sid).build_status().fetch().status for _ in range(2)]
    api.environments(environment.sid).deployments.create(build_sid=build.sid)

    assert uploaded.status_code == 201
    assert (version["path"], version["visibility"], version["asset_sid"]) == (
        "/lines/sales/voicemail.xml",
        "protected",
        asset.sid,
    )
    assert (build.status, statuses) == ("building", ["building", "completed"])
    assert environment.domain_name.startswith(
        "acme-failover-"
    ) and environment.domain_name.endswith("-prod.twil.io")
    assert api.environments(environment.sid).fetch().build_sid == build.sid
    assert (
        twilio_double.deployed_content(environment.domain_name, "/lines/sales/voicemail.xml")
        == VOICEMAIL
    )
    assert twilio_double.deployed_content("prod", "/other.xml") is None
    assert [v.path for v in api.assets(asset.sid).asset_versions.list()] == [
        "/lines/sales/voicemail.xml"
    ]
    assert twilio_double.writes() == {
        "Service.create": 1,
        "Environment.create": 1,
        "Asset.create": 1,
        "AssetVersion.create": 1,
        "Build.create": 1,
        "Deployment.create": 1,
    }


def test_function_version_content_is_readable(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    api = twilio_client.serverless.v1.services(service.unique_name)  # unique name works as SID
    function = api.functions.create(friendly_name="assign")
    source = b"exports.handler = (c, e, cb) => cb(null, {instruction: 'dequeue'});"

    version = upload(
        twilio_double,
        service.sid,
        "Functions",
        function.sid,
        path="/assign",
        content=source,
        files={"Content": ("assign.js", source, "application/javascript")},
    ).json()

    content = (
        api.functions(function.sid)
        .function_versions(version["sid"])
        .function_version_content()
        .fetch()
    )
    assert content.content == source.decode()


def test_unique_name_is_unique(twilio_double: TwilioDouble, twilio_client, service) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.serverless.v1.services.create(
            unique_name="acme-failover", friendly_name="again"
        )

    assert (raised.value.status, raised.value.code) == (409, 54301)


def test_build_naming_an_unknown_version_fails(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    api = twilio_client.serverless.v1.services(service.sid)
    environment = api.environments.create(unique_name="prod")
    build = api.builds.create(asset_versions=["ZN" + "0" * 32], dependencies=json.dumps([]))

    assert [api.builds(build.sid).fetch().status for _ in range(2)] == ["building", "failed"]
    with pytest.raises(TwilioRestException) as raised:
        api.environments(environment.sid).deployments.create(build_sid=build.sid)
    assert raised.value.status == 400
    assert re.fullmatch(r"acme-failover-\d{4}\.twil\.io", environment.domain_name)  # no suffix


def test_build_without_versions_is_refused(
    twilio_double: TwilioDouble, twilio_client, service
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.serverless.v1.services(service.sid).builds.create()

    assert (raised.value.status, raised.value.code) == (400, 20001)


def test_build_reads_setting_controls_the_progression(twilio_spec_dir) -> None:  # type: ignore[no-untyped-def]
    with TwilioDouble(spec_dir=twilio_spec_dir, build_reads=0) as double:
        api = double.client(timeout=5).serverless.v1
        service = api.services.create(unique_name="s", friendly_name="s")
        asset = api.services(service.sid).assets.create(friendly_name="a")
        version = upload(
            double, service.sid, "Assets", asset.sid, path="/a.xml", content=b"<Response/>"
        ).json()
        build = api.services(service.sid).builds.create(asset_versions=[version["sid"]])

        assert (
            api.services(service.sid).builds(build.sid).build_status().fetch().status == "completed"
        )
        assert not double.violations


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"data": {"Path": "/a.xml"}}, "Visibility must be one of"),
        ({"data": {"Path": "/a.xml", "Visibility": "secret"}}, "Visibility must be one of"),
        ({"files": {"Content": (None, "<Response/>")}}, "Content must be a file part"),
        ({"files": {"Content": ("a.xml", b"x")}}, "needs a filename and a Content-Type"),
        (
            {"data": {"Path": "/a.xml", "Visibility": "public", "Extra": "1"}},
            "unexpected part 'Extra'",
        ),
    ],
)
def test_upload_shape_violations_are_refused_and_recorded(
    twilio_double: TwilioDouble, twilio_client, service, extra: dict, problem: str
) -> None:
    asset = twilio_client.serverless.v1.services(service.sid).assets.create(friendly_name="a")

    response = upload(
        twilio_double, service.sid, "Assets", asset.sid, path="/a.xml", content=b"x", **extra
    )

    assert (response.status_code, response.json()["code"]) == (400, 20001)
    [violation] = twilio_double.take_violations()
    assert problem in str(violation)
    assert not twilio_double.state.asset_versions


def test_upload_must_be_multipart(twilio_double: TwilioDouble, twilio_client, service) -> None:
    asset = twilio_client.serverless.v1.services(service.sid).assets.create(friendly_name="a")
    host = twilio_double.product_url("serverless-upload.twilio.com")
    url = f"{host}/v1/Services/{service.sid}/Assets/{asset.sid}/Versions"

    response = requests.post(
        url,
        data={"Path": "/a", "Visibility": "public", "Content": "x"},
        auth=(twilio_double.account_sid, twilio_double.auth_token),
        timeout=5,
    )

    assert response.status_code == 400
    assert "multipart/form-data" in str(twilio_double.take_violations()[0])
