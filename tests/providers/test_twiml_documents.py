"""TwimlDocuments through Pulumi's real provider host, against the Twilio double."""

from __future__ import annotations

from typing import Any

import pytest

from infra.providers.twiml_documents import TwimlDocumentsProvider
from tests.harness.host import UNKNOWN, HostError, ProviderHost
from tests.harness.support import Driven

VOICEMAIL = "/lines/sales/voicemail.xml"
BYE = "/bye.xml"
ASSIGN = "/assign"
DOCS = {
    VOICEMAIL: '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Leave a message.</Say>'
    '<Record action="/bye.xml" method="GET"/></Response>',
    BYE: '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thanks.</Say><Hangup/></Response>',
}
FUNCTIONS = {ASSIGN: "exports.handler = (c, e, cb) => cb(null, {instruction: 'accept'});\n"}


def documents(host: ProviderHost) -> Driven:
    return Driven(host, TwimlDocumentsProvider(), "TwimlDocuments", "documents")


def args(docs: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "service_name": "acme-dev-failover",
        "documents": DOCS if docs is None else docs,
        "functions": FUNCTIONS,
        **overrides,
    }


def served(double: Any, path: str) -> str | None:
    content = double.deployed_content("failover", path)
    return None if content is None else content.decode()


def test_lifecycle_one_build_per_change_hash_driven_and_drift_visible(
    double: Any, host: ProviderHost
) -> None:
    res = documents(host)
    outs = res.create(args())
    domain = outs["domain_name"]
    assert outs["urls"][VOICEMAIL] == f"https://{domain}{VOICEMAIL}"
    assert {p: served(double, p) for p in (VOICEMAIL, BYE, ASSIGN)} == {**DOCS, **FUNCTIONS}
    files = double.deployed_files("failover")
    assert files[VOICEMAIL].content_type == "text/xml"
    versions = [*double.state.asset_versions.values(), *double.state.function_versions.values()]
    assert {v["visibility"] for v in versions} == {"protected"}
    assert double.writes() == {
        "Service.create": 1,
        "Environment.create": 1,
        "Asset.create": 2,
        "Function.create": 1,
        "AssetVersion.create": 2,
        "FunctionVersion.create": 1,
        "Build.create": 1,
        "Deployment.create": 1,
    }
    assert res.diff(args())["changes"] == "DIFF_NONE"

    changed = args({**DOCS, VOICEMAIL: DOCS[VOICEMAIL].replace("Leave", "Please leave")})
    before = double.writes()
    outs = res.update(changed)
    delta = double.writes() - before
    assert delta == {"AssetVersion.create": 1, "Build.create": 1, "Deployment.create": 1}
    build = double.state.builds[outs["build_sid"]]
    assert len(build["asset_versions"]) == 2 and len(build["function_versions"]) == 1
    assert served(double, VOICEMAIL) == changed["documents"][VOICEMAIL]
    assert res.diff(changed)["changes"] == "DIFF_NONE"

    client = double.client(timeout=5)  # someone deploys another build by hand
    service = client.serverless.v1.services(res.id)
    other = service.builds.create(asset_versions=[outs["documents"][BYE]["version_sid"]])
    service.builds(other.sid).build_status().fetch()
    service.builds(other.sid).build_status().fetch()
    service.environments(outs["environment_sid"]).deployments.create(build_sid=other.sid)
    outs = res.refresh()
    assert outs["live_build_sid"] == other.sid and set(outs["live_versions"]) == {BYE}
    assert res.diff(changed)["changes"] == "DIFF_SOME"
    before = double.writes()
    outs = res.update(changed)
    assert double.writes() - before == {"Build.create": 1, "Deployment.create": 1}  # no upload
    assert served(double, VOICEMAIL) == changed["documents"][VOICEMAIL]

    smaller = args({VOICEMAIL: changed["documents"][VOICEMAIL]})
    outs = res.update(smaller)
    # A removed path stays deployed for one generation (retired), so a number or flow that
    # still points at it keeps working until the resources that depend on this one moved away.
    assert set(double.deployed_files("failover")) == {VOICEMAIL, BYE, ASSIGN}
    assert outs["documents"][BYE]["retired"] is True and BYE not in outs["urls"]
    newer = args({VOICEMAIL: DOCS[VOICEMAIL].replace("Leave", "Now leave")})
    outs = res.update(newer)
    assert set(double.deployed_files("failover")) == {VOICEMAIL, ASSIGN}
    assert BYE not in {a["friendly_name"] for a in double.state.assets.values()}

    res.delete()
    assert double.state.services == {}


def test_content_hashes_not_bytes_in_state(double: Any, host: ProviderHost) -> None:
    outs = documents(host).create(args())
    text = repr(outs)
    assert "Leave a message" not in text and "exports.handler" not in text
    assert len(outs["applied_inputs"]["documents"][VOICEMAIL]) == 64


@pytest.mark.parametrize("nth", [1, 4, 10])
def test_interrupted_runs_converge_without_duplicates(
    double: Any, host: ProviderHost, nth: int
) -> None:
    """Writes: 1 service, 2 environment, 3-6 asset + version per document, 7-8 function and
    version, 9 build, 10 deployment. Each is applied but its answer lost (a kill between two
    writes); the re-run must converge without a second service, environment or container."""
    double.faults.add(fail_nth_write=nth, applied=True, reset=True)
    res = documents(host)
    with pytest.raises(HostError, match="could not reach Twilio"):
        res.create(args())
    outs = res.create(args())
    state = double.state
    assert (len(state.services), len(state.environments)) == (1, 1)
    assert sorted(a["friendly_name"] for a in state.assets.values()) == sorted(DOCS)
    assert [f["friendly_name"] for f in state.functions.values()] == [ASSIGN]
    assert {p: served(double, p) for p in (VOICEMAIL, BYE, ASSIGN)} == {**DOCS, **FUNCTIONS}
    assert outs["live_build_sid"] == outs["build_sid"]


def test_a_reused_version_deleted_out_of_band_is_uploaded_again(
    double: Any, host: ProviderHost
) -> None:
    res = documents(host)
    outs = res.create(args())
    client = double.client(timeout=5)
    client.serverless.v1.services(res.id).assets(outs["documents"][BYE]["container_sid"]).delete()
    outs = res.update(args(functions={ASSIGN: FUNCTIONS[ASSIGN] + "// v2\n"}))
    assert served(double, BYE) == DOCS[BYE] and served(double, VOICEMAIL) == DOCS[VOICEMAIL]


def test_delete_is_refused_while_a_number_points_at_the_domain(
    double: Any, host: ProviderHost
) -> None:
    res = documents(host)
    outs = res.create(args())
    double.seed_number(
        "+14155550101",
        voice_url="https://voice.acme.example/sales",
        voice_fallback_url=outs["urls"][VOICEMAIL],
    )
    with pytest.raises(
        HostError,
        match=r"refusing to delete Serverless environment [\w.-]+: "
        r"\+14155550101 still send calls there",
    ):
        res.delete()
    assert len(double.state.services) == 1
    double.client(timeout=5).serverless.v1.services(res.id).delete()  # gone behind our back
    assert host.read(res.urn, res.id, res.outputs)[0] == ""


def test_check_and_diff(double: Any, host: ProviderHost) -> None:
    res = documents(host)
    _, failures = res.check(
        {
            "service_name": "Acme Failover",
            "documents": {"no-slash.xml": "x", "/bye.xml": "y"},
            "functions": {"/bye.xml": "x"},
            "visibility": "secret",
        }
    )
    assert sorted(p for p, _ in failures) == [
        "documents",
        "functions",
        "service_name",
        "visibility",
    ]
    res.create(args())
    seen = len(double.requests)
    assert res.diff(args(service_name="acme-prod-failover"))["replaces"] == ["service_name"]
    assert res.diff(args(environment="prod"))["replaces"] == ["environment"]
    assert res.diff(args({**DOCS, BYE: UNKNOWN}))["changes"] == "DIFF_SOME"
    assert res.diff(args(visibility="public"))["changes"] == "DIFF_SOME"
    assert len(double.requests) == seen


def test_rate_limited_uploads_are_resent(double: Any, host: ProviderHost) -> None:
    burst = double.faults.add(
        status=429, retry_after=0.05, times=3, match="POST serverless-upload.twilio.com"
    )
    documents(host).create(args())
    assert burst.fired == 3
    assert double.writes()["AssetVersion.create"] == 2
    assert served(double, VOICEMAIL) == DOCS[VOICEMAIL]


def test_build_polling_is_bounded(twilio_spec_dir: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (the bound is a module constant): a build that never completes fails the
    run after the bound, names the build, and deploys nothing."""
    from pulumi.dynamic import Config, ConfigureRequest

    from infra.errors import ProviderError
    from infra.twilio import serverless
    from tests.harness.support import twilio_config
    from tests.twilio_double import TwilioDouble

    monkeypatch.setattr(serverless, "BUILD_TIMEOUT_S", 0.3)
    with TwilioDouble(build_reads=10**6, spec_dir=twilio_spec_dir) as double:
        provider = TwimlDocumentsProvider()
        provider.configure(ConfigureRequest(Config(twilio_config(double), "lines")))
        with pytest.raises(ProviderError, match=r"build ZB\w+ still not completed after 0 s"):
            provider.create(provider.check({}, args()).inputs)
        assert "Deployment.create" not in double.writes() and not double.violations
