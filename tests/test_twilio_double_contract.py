"""The Twilio double's contract machinery, credentials, v2010 call history and entry points."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from tests.harness.standalone import run_standalone
from tests.twilio_double import SpecMissingError, TwilioDouble
from tests.twilio_double.contract import ContractChecker, Exchange, load_spec
from tests.twilio_double.double import all_routes
from tests.twilio_double.pytest_plugin import _teardown_problems
from tests.twilio_double.seed import read_seed, seed_from
from tests.twilio_double.spec_files import FETCH_SCRIPT, SPEC_FILES, ensure_specs

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"


def auth(double: TwilioDouble) -> tuple[str, str]:
    return double.account_sid, double.auth_token


def test_every_route_is_an_operation_of_the_spec(twilio_spec_dir: Path) -> None:
    missing = []
    for route in all_routes().routes:
        if route.host in SPEC_FILES:
            _, raw = load_spec(twilio_spec_dir / SPEC_FILES[route.host])
            if route.method.lower() not in raw["paths"].get(route.template, {}):
                missing.append(str(route))
    assert missing == []


def test_wrong_credentials_are_401_20003(twilio_double: TwilioDouble) -> None:
    client = twilio_double.client(timeout=5, password="0" * 32)

    with pytest.raises(TwilioRestException) as raised:
        client.studio.v2.flows(f"FW{'0' * 32}").fetch()

    assert (raised.value.status, raised.value.code) == (401, 20003)
    assert not twilio_double.violations


def test_api_key_pairs_authenticate(twilio_double: TwilioDouble) -> None:
    key, secret = twilio_double.add_api_key()
    client = Client(key, secret, account_sid=twilio_double.account_sid)
    client.api.base_url = twilio_double.product_url("api.twilio.com")
    twilio_double.seed_number("+14155550100")

    assert [n.phone_number for n in client.api.v2010.account.incoming_phone_numbers.list()] == [
        "+14155550100"
    ]


def test_missing_authorization_is_401_and_a_violation(twilio_double: TwilioDouble) -> None:
    response = requests.get(twilio_double.product_url("studio.twilio.com") + "/v2/Flows", timeout=5)

    assert (response.status_code, response.json()["code"]) == (401, 20003)
    assert "Security" in str(twilio_double.take_violations()[0])


def test_unknown_path_lists_known_routes(twilio_double: TwilioDouble) -> None:
    response = requests.get(
        twilio_double.product_url("studio.twilio.com") + "/v2/Flowz",
        auth=auth(twilio_double),
        timeout=5,
    )

    assert response.status_code == 404
    assert "GET studio.twilio.com/v2/Flows/{Sid}" in response.json()["details"]["routes"]
    assert "Path not found" in str(twilio_double.take_violations()[0])


def test_spec_operation_the_double_lacks_is_flagged(twilio_double: TwilioDouble) -> None:
    url = twilio_double.product_url("studio.twilio.com") + f"/v2/Flows/FW{'0' * 32}/Executions"

    assert requests.get(url, auth=auth(twilio_double), timeout=5).status_code == 404
    assert "does not implement" in str(twilio_double.take_violations()[0])


def test_wrong_method_is_405(twilio_double: TwilioDouble) -> None:
    url = twilio_double.product_url("studio.twilio.com") + f"/v2/Flows/FW{'0' * 32}"

    assert requests.put(url, auth=auth(twilio_double), timeout=5).status_code == 405
    assert "Operation put not found" in str(twilio_double.take_violations()[0])


def test_unknown_host_is_404_and_a_violation(twilio_double: TwilioDouble) -> None:
    response = requests.get(
        f"{twilio_double.base_url}/video.twilio.com/v1/Rooms", auth=auth(twilio_double), timeout=5
    )

    assert response.status_code == 404
    assert "unknown host 'video.twilio.com'" in str(twilio_double.take_violations()[0])


def test_undeclared_query_parameter_is_a_violation(twilio_double: TwilioDouble) -> None:
    url = twilio_double.product_url("studio.twilio.com") + "/v2/Flows"

    assert (
        requests.get(
            url, params={"FriendlyName": "x"}, auth=auth(twilio_double), timeout=5
        ).status_code
        == 200
    )
    assert "parameter 'FriendlyName' is not in the spec" in str(twilio_double.take_violations()[0])


def number_exchange(double: TwilioDouble, sid: str) -> Exchange:
    path = f"/2010-04-01/Accounts/{double.account_sid}/IncomingPhoneNumbers/{sid}.json"
    return Exchange("GET", "api.twilio.com", path, {}, b"", "", "Basic eDp5")


def test_checker_catches_a_malformed_response(twilio_spec_dir: Path) -> None:
    double = TwilioDouble(spec_dir=twilio_spec_dir)
    record = double.seed_number("+14155550100")
    checker = ContractChecker(twilio_spec_dir)
    exchange = number_exchange(double, record["sid"])

    assert checker.check_response(exchange, 200, record) == []
    assert (
        checker.check_response(exchange, 200, {**record, "voice_application_sid": ""}) == []
    )  # allowed quirk
    assert checker.check_response(exchange, 200, {**record, "voice_application_sid": "AP1"}) != []
    assert any(
        "voice_url" in p for p in checker.check_response(exchange, 200, {**record, "voice_url": 5})
    )


def test_checker_validates_upload_responses_as_version_fetches(twilio_spec_dir: Path) -> None:
    checker = ContractChecker(twilio_spec_dir)
    path = f"/v1/Services/ZS{'1' * 32}/Assets/ZH{'2' * 32}/Versions"
    exchange = Exchange("POST", "serverless-upload.twilio.com", path, {}, b"", "", "Basic eDp5")
    version = {
        "sid": "ZN" + "3" * 32,
        "account_sid": "AC" + "4" * 32,
        "service_sid": "ZS" + "1" * 32,
        "asset_sid": "ZH" + "2" * 32,
        "path": "/a.xml",
        "visibility": "protected",
        "date_created": "2024-01-01T00:00:00Z",
        "url": "https://serverless.twilio.com" + path,
    }

    assert checker.check_response(exchange, 201, version) == []
    assert checker.check_response(exchange, 201, {**version, "visibility": "PUBLIC"}) == [
        "visibility: 'PUBLIC' is not one of ['public', 'private', 'protected']"
    ]


def test_checker_validates_error_bodies(twilio_spec_dir: Path) -> None:
    checker = ContractChecker(twilio_spec_dir)
    exchange = Exchange("GET", "studio.twilio.com", "/v2/Flows", {}, b"", "", None)

    assert (
        checker.check_response(
            exchange,
            404,
            {
                "code": 20404,
                "message": "x",
                "more_info": "https://www.twilio.com/docs/errors/20404",
                "status": 404,
            },
        )
        == []
    )
    assert len(checker.check_response(exchange, 404, {"code": "20404", "status": 400})) == 4


def test_recordings_and_calls_lists(twilio_double: TwilioDouble, twilio_client) -> None:
    old = twilio_double.seed_recording(
        from_="+15550001111",
        to="+14155550100",
        duration=12,
        date_created=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    )
    new = twilio_double.seed_recording(from_="+15550002222", to="+14155550101", duration=40)
    api = twilio_client.api.v2010.account

    assert {r.sid for r in api.recordings.list()} == {old["sid"], new["sid"]}
    assert [r.sid for r in api.recordings.list(date_created=datetime(2024, 5, 1, tzinfo=UTC))] == [
        old["sid"]
    ]
    assert [r.sid for r in api.recordings.list(call_sid=new["call_sid"])] == [new["sid"]]
    assert [r.sid for r in api.calls(old["call_sid"]).recordings.list()] == [old["sid"]]
    assert [c._from for c in api.calls.list(to="+14155550101")] == ["+15550002222"]
    assert api.recordings(old["sid"]).fetch().duration == "12"
    assert api.recordings(old["sid"]).delete() is True
    assert twilio_double.writes() == {"Recording.delete": 1}


def test_teardown_flags_violations_and_number_deletes(twilio_spec_dir: Path) -> None:
    with TwilioDouble(spec_dir=twilio_spec_dir) as double:
        sid = double.seed_number("+14155550100")["sid"]
        double.client(timeout=5).api.v2010.account.incoming_phone_numbers(sid).delete()
        requests.get(double.product_url("studio.twilio.com") + "/v2/Nope", timeout=5)

    problems = _teardown_problems(double)

    assert [p.split(" ", 1)[1] for p in problems] == [
        "contract violation(s) recorded by the Twilio double",
        "DELETE request(s) on IncomingPhoneNumbers (never allowed)",
    ]


def test_seed_file_and_lines_yaml(twilio_spec_dir: Path) -> None:
    double = TwilioDouble(spec_dir=twilio_spec_dir)

    seeded = seed_from(double, read_seed(FIXTURES / "seed.yaml"))
    seeded += seed_from(
        double, {"lines": [{"number": "+14155550199", "primary": "https://v.example.com/"}]}
    )

    assert [n["phone_number"] for n in seeded][-1] == "+14155550199"
    by_number = {n["phone_number"]: n for n in double.state.numbers.values()}
    assert by_number["+14155550102"]["voice_application_sid"].startswith("AP")
    assert by_number["+14155550103"]["trunk_sid"].startswith("TK")
    assert by_number["+14155550199"]["voice_url"] == "https://v.example.com/"


def test_command_line_serves_until_stopped(twilio_spec_dir: Path) -> None:
    ran = run_standalone(FIXTURES / "seed.yaml", wait_s=5.0)
    assert len(ran.numbers) == 5
    assert "violations: 0" in ran.output


def test_missing_or_altered_spec_files_are_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, twilio_spec_dir: Path
) -> None:
    monkeypatch.setenv("TWILIO_OAI_DIR", str(tmp_path))
    with pytest.raises(SpecMissingError, match="Run script/fetch-openapi"):
        ensure_specs()
    for name in SPEC_FILES.values():
        shutil.copy(twilio_spec_dir / name, tmp_path / name)
    (tmp_path / SPEC_FILES["studio.twilio.com"]).write_text(json.dumps({"openapi": "3.0.1"}))
    with pytest.raises(SpecMissingError, match="expected"):
        ensure_specs()


def test_fetch_script_is_idempotent(twilio_spec_dir: Path) -> None:
    result = subprocess.run(
        [str(FETCH_SCRIPT)],
        env={"TWILIO_OAI_DIR": str(twilio_spec_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert (result.returncode, result.stdout) == (0, "")
