"""Serverless v1 Builds (with status progression), Build Status, Deployments, deployed content.

A build starts ``building``. Each read of the build (fetch or ``/Status``) uses up one of
``Settings.build_reads`` (default 1): once they are used up the next read answers the final
status, so with the default the first poll says ``building`` and the second ``completed``.
The final status is ``failed`` when the build names a version SID this service does not have
(Twilio may instead refuse such a build at create time: unconfirmed). A build needs at least
one version (400, 20001). Deploying needs a ``completed`` build of the same service (400,
20001 otherwise; unconfirmed) and sets the environment's ``build_sid``.

:func:`deployed_files` answers "what does this environment serve at which path", from the
bytes that were uploaded, so tests can read the deployed TwiML.
Must not import: infra.*
"""

from __future__ import annotations

import json
from typing import Any

from .errors import invalid
from .fields import https, links, lookup
from .paging import page_v1
from .routing import Call, Reply, RouteTable, created, no_content, ok
from .serverless import HOST, SERVICE, service_of
from .state import AccountState, BuildProgress, Record, Upload, iso, now

routes = RouteTable()
DEFAULT_RUNTIME = "node22"  # Twilio's default for a Build without Runtime: unconfirmed


def _dependencies(call: Call) -> list[Any]:
    raw = call.arg("Dependencies")
    if not raw:
        return []
    try:
        value = json.loads(raw)
        if isinstance(value, str):  # twilio-labs serverless-api double-encodes it
            value = json.loads(value)
    except ValueError as exc:
        raise invalid(f"Dependencies is not valid JSON: {exc}") from exc
    if not isinstance(value, list):
        raise invalid("Dependencies must be a JSON array")
    return value


def _versions(
    table: dict[str, Record], sids: list[str], service_sid: str
) -> tuple[list[Record], bool]:
    found = [table[s] for s in sids if s in table and table[s]["service_sid"] == service_sid]
    return found, len(found) == len(sids)


@routes.route("POST", HOST, f"{SERVICE}/Builds", kind="Build.create")
def create_build(call: Call) -> Reply:
    service, state = service_of(call), call.state
    asset_sids, function_sids = call.args("AssetVersions"), call.args("FunctionVersions")
    if not asset_sids and not function_sids:
        raise invalid("A Build needs at least one AssetVersions or FunctionVersions entry")
    assets, assets_known = _versions(state.asset_versions, asset_sids, service["sid"])
    functions, functions_known = _versions(state.function_versions, function_sids, service["sid"])
    sid, stamp = state.new_sid("ZB"), iso(now())
    base = f"/v1/Services/{service['sid']}/Builds/{sid}"
    build: Record = {
        "sid": sid, "account_sid": state.account_sid, "service_sid": service["sid"],
        "status": "building", "asset_versions": assets, "function_versions": functions,
        "dependencies": _dependencies(call), "runtime": call.arg("Runtime") or DEFAULT_RUNTIME,
        "date_created": stamp, "date_updated": stamp, "url": https(HOST, base),
        "links": links(HOST, base, {"build_status": "Status"}),
    }  # fmt: skip
    state.builds[sid] = build
    outcome = "completed" if assets_known and functions_known else "failed"
    state.build_progress[sid] = BuildProgress(call.settings.build_reads, outcome)
    return created(build)


def _read_build(call: Call, param: str) -> Record:
    """The build, advanced by one read along its status progression."""
    service = service_of(call)
    build = lookup(call.state.builds, call.params[param], call, service_sid=service["sid"])
    progress = call.state.build_progress[build["sid"]]
    if build["status"] == "building":
        if progress.reads_left <= 0:
            build["status"] = progress.outcome
            build["date_updated"] = iso(now())
        progress.reads_left -= 1
    return build


@routes.route("GET", HOST, f"{SERVICE}/Builds")
def list_builds(call: Call) -> Reply:
    sid = service_of(call)["sid"]
    items = call.state.children(call.state.builds, "service_sid", sid)
    return ok(page_v1(call, items, "builds"))


@routes.route("GET", HOST, f"{SERVICE}/Builds/{{Sid}}")
def fetch_build(call: Call) -> Reply:
    return ok(_read_build(call, "Sid"))


@routes.route("GET", HOST, f"{SERVICE}/Builds/{{Sid}}/Status")
def fetch_build_status(call: Call) -> Reply:
    build = _read_build(call, "Sid")
    keys = ("sid", "account_sid", "service_sid", "status")
    return ok({key: build[key] for key in keys} | {"url": build["url"] + "/Status"})


@routes.route("DELETE", HOST, f"{SERVICE}/Builds/{{Sid}}", kind="Build.delete")
def delete_build(call: Call) -> Reply:
    service = service_of(call)
    lookup(call.state.builds, call.params["Sid"], call, service_sid=service["sid"])
    del call.state.builds[call.params["Sid"]]
    return no_content()


def _environment(call: Call) -> Record:
    service = service_of(call)
    return lookup(
        call.state.environments, call.params["EnvironmentSid"], call, service_sid=service["sid"]
    )


@routes.route(
    "POST", HOST, f"{SERVICE}/Environments/{{EnvironmentSid}}/Deployments", kind="Deployment.create"
)
def create_deployment(call: Call) -> Reply:
    environment, state = _environment(call), call.state
    build = state.builds.get(call.arg("BuildSid") or "")
    if build is None or build["service_sid"] != environment["service_sid"]:
        raise invalid(f"Build {call.arg('BuildSid')} does not exist in this service")
    if build["status"] != "completed":
        raise invalid(f"Build {build['sid']} is {build['status']}, not completed")
    sid, stamp = state.new_sid("ZD"), iso(now())
    service_sid = environment["service_sid"]
    path = f"/v1/Services/{service_sid}/Environments/{environment['sid']}/Deployments/{sid}"
    deployment: Record = {
        "sid": sid, "account_sid": state.account_sid,
        "service_sid": environment["service_sid"], "environment_sid": environment["sid"],
        "build_sid": build["sid"], "date_created": stamp, "date_updated": stamp,
        "url": https(HOST, path),
    }  # fmt: skip
    state.deployments[sid] = deployment
    environment["build_sid"] = build["sid"]
    environment["date_updated"] = stamp
    return created(deployment)


@routes.route("GET", HOST, f"{SERVICE}/Environments/{{EnvironmentSid}}/Deployments")
def list_deployments(call: Call) -> Reply:
    environment = _environment(call)
    items = call.state.children(call.state.deployments, "environment_sid", environment["sid"])
    return ok(page_v1(call, items, "deployments"))


@routes.route("GET", HOST, f"{SERVICE}/Environments/{{EnvironmentSid}}/Deployments/{{Sid}}")
def fetch_deployment(call: Call) -> Reply:
    environment = _environment(call)
    return ok(
        lookup(call.state.deployments, call.params["Sid"], call, environment_sid=environment["sid"])
    )


def find_environment(state: AccountState, ref: str) -> Record:
    """An environment by SID, domain name (``x-1234-prod.twil.io``) or unique name."""
    for environment in state.environments.values():
        if ref in (environment["sid"], environment["domain_name"], environment["unique_name"]):
            return environment
    raise KeyError(f"no environment {ref!r} in the double")


def deployed_files(state: AccountState, ref: str) -> dict[str, Upload]:
    """Path -> uploaded file, for what the environment's current build serves."""
    environment = find_environment(state, ref)
    build = state.builds.get(environment["build_sid"] or "")
    if build is None:
        return {}
    versions = build["asset_versions"] + build["function_versions"]
    return {version["path"]: state.files[version["sid"]] for version in versions}
