"""TwimlDocuments: the stack's static TwiML documents and Functions, hosted on Twilio Serverless.

Why: failover entries must be served by Twilio itself (the owner's servers are what fails).
One Serverless service and one environment per stack hold every line's documents (assets)
and the TaskRouter assignment Function.

Contract:
- The service is found by ``service_name`` (its UniqueName, e.g. ``acme-dev-failover``) and
  the environment by its unique name before anything is created; asset and function
  containers are found by their friendly name, which is their path. An interrupted run
  never duplicates them.
- Asset bytes cannot be read back from Twilio, so content hashes (sha256) decide what
  changed. A change uploads new versions only for changed paths (raw multipart to
  serverless-upload, which twilio-python lacks), makes ONE build with the complete version
  set (a build is a snapshot), polls its status with a bound, and makes ONE deployment.
- Visibility defaults to ``protected``: Twilio serves the document only to requests it
  signed (its own webhooks), so greetings and private forward numbers in the TwiML are not
  readable by anyone who learns the URL.
- ``read()`` reports the environment's live build; a build deployed by someone else shows
  as drift and the next update redeploys ours.
- ``delete()`` refuses while any number's voice URL or fallback still points at the domain.
- Outputs: ``service_sid``, ``environment_sid``, ``domain_name``, ``urls`` (path -> https
  URL), ``build_sid``, ``deployment_sid``, ``live_build_sid`` and ``live_versions`` (what
  the environment serves), ``documents``/``functions``
  (path -> sha256, version and container SIDs), ``applied_inputs`` (content replaced by
  hashes).

Must not import: infra.model, infra.lines.load, infra.render, infra.program, infra.cli.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)

from infra.errors import ProviderError
from infra.providers._pickling import init_resource
from infra.providers.base import TwilioProvider, is_unknown
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.numbers import numbers_pointing_at
from infra.twilio.values import integral, text

BUILD_TIMEOUT_S = 300.0
UPLOAD_CONCURRENCY = 10
"""Paths uploaded at once, as Twilio's serverless toolkit does; a 429 is retried."""
POLL_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)
"""Delays between build status polls; the last one repeats until the timeout."""
VISIBILITIES = ("public", "protected", "private")
UNIQUE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
PATH = re.compile(r"^/[A-Za-z0-9._~/-]{1,254}$")
CONTENT_TYPES = {
    ".xml": "text/xml",
    ".js": "application/javascript",
    ".json": "application/json",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
}
KINDS = ("documents", "functions")
INPUTS = (
    "service_name",
    "friendly_name",
    "environment",
    "documents",
    "functions",
    "visibility",
    "function_visibility",
    "runtime",
    "dependencies",
    "include_credentials",
)
OUTPUTS = (
    "service_sid",
    "environment_sid",
    "domain_name",
    "urls",
    "build_sid",
    "deployment_sid",
    "live_build_sid",
    "live_versions",
    "documents",
    "functions",
    "applied_inputs",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TwimlDocumentsArgs:
    """Inputs: the stack's documents and functions as text, keyed by URL path."""

    service_name: pulumi.Input[str]
    """Serverless UniqueName (lowercase, digits, hyphens; at most 50), stable per stack."""
    documents: pulumi.Input[dict[str, str]]
    """URL path -> TwiML text, e.g. ``{"/lines/sales/voicemail.xml": "<Response>…"}``."""
    functions: pulumi.Input[dict[str, str]] = field(default_factory=dict)
    """URL path -> Node.js source, e.g. the ``/assign`` TaskRouter assignment callback."""
    environment: pulumi.Input[str] = "failover"
    """Environment unique name and domain suffix."""
    friendly_name: pulumi.Input[str] | None = None
    visibility: pulumi.Input[str] = "protected"
    function_visibility: pulumi.Input[str] = "protected"
    runtime: pulumi.Input[str] = "node22"
    dependencies: pulumi.Input[dict[str, str]] = field(default_factory=dict)
    """npm name -> version for the functions."""
    include_credentials: pulumi.Input[bool] = False
    """True only if a Function calls ``context.getTwilioClient()``."""


class TwimlDocumentsProvider(TwilioProvider):
    """One Serverless service + environment; assets and functions deployed as one build."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {k: news[k] for k in INPUTS if news.get(k) is not None}
        defaults = {
            "environment": "failover",
            "functions": {},
            "visibility": "protected",
            "function_visibility": "protected",
            "runtime": "node22",
            "dependencies": {},
            "include_credentials": False,
        }
        for key, value in defaults.items():
            inputs.setdefault(key, value)
        failures = [
            CheckFailure(k, "unknown input") for k in news if k not in INPUTS and k != "__provider"
        ]
        failures += [
            CheckFailure(k, "required") for k in ("service_name", "documents") if k not in inputs
        ]
        for key in ("service_name", "environment"):
            value = inputs.get(key)
            if value is not None and not is_unknown(value) and not UNIQUE_NAME.match(str(value)):
                failures.append(
                    CheckFailure(
                        key,
                        (
                            "must be lowercase letters, digits and hyphens (at most 50), "
                            f"got {value!r}"
                        ),
                    )
                )
        for key in ("visibility", "function_visibility"):
            if not is_unknown(inputs[key]) and inputs[key] not in VISIBILITIES:
                failures.append(CheckFailure(key, f"must be one of {', '.join(VISIBILITIES)}"))
        for kind in KINDS:
            failures += _path_failures(kind, inputs.get(kind))
        if isinstance(inputs.get("documents"), dict) and isinstance(inputs["functions"], dict):
            for path in set(inputs["documents"]) & set(inputs["functions"]):
                failures.append(CheckFailure("functions", f"{path} is also a document"))
            if not inputs["documents"] and not inputs["functions"]:
                failures.append(CheckFailure("documents", "a build needs at least one file"))
        return CheckResult(inputs, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        applied = olds.get("applied_inputs") or {}
        replaces = [
            k
            for k in ("service_name", "environment")
            if not is_unknown(news.get(k)) and news.get(k) != applied.get(k)
        ]
        if replaces:
            return DiffResult(changes=True, replaces=replaces)
        if _has_unknowns(news):
            return DiffResult(changes=True)
        # Builds are immutable: the same build SID means the same versions are live.
        drifted = not olds.get("environment_sid") or olds.get("live_build_sid") != olds.get(
            "build_sid"
        )
        return DiffResult(changes=drifted or _applied(news) != applied)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["service_name"]
        tw = self._twilio(name)
        service = _find_or_create_service(tw, props)
        outs = _deploy(tw, props, service.sid, previous={})
        return CreateResult(service.sid, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name = (props.get("applied_inputs") or {}).get("service_name") or id_
        tw = self._twilio(name)
        try:
            with tw.errors(name, f"fetch Serverless service {id_}"):
                tw.rest.serverless.v1.services(id_).fetch()
        except NotFoundError:
            return ReadResult(None, {})
        outs = {k: props.get(k) for k in OUTPUTS}
        env = _fetch_environment(tw, name, id_, text(props.get("environment_sid")))
        outs["environment_sid"] = env.sid if env else ""
        outs["domain_name"] = env.domain_name if env else ""
        outs["live_build_sid"] = text(env.build_sid) if env else ""
        outs["live_versions"] = _live_versions(tw, name, id_, outs["live_build_sid"])
        return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        name = news["service_name"]
        tw = self._twilio(name)
        applied = olds.get("applied_inputs") or {}
        if (news.get("friendly_name") or name, news["include_credentials"]) != (
            applied.get("friendly_name") or name,
            applied.get("include_credentials"),
        ):
            with tw.errors(name, f"update Serverless service {id_}"):
                tw.rest.serverless.v1.services(id_).update(
                    friendly_name=news.get("friendly_name") or name,
                    include_credentials=bool(news["include_credentials"]),
                )
        return UpdateResult(_deploy(tw, news, id_, previous=olds))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the service (environments, assets, builds with it) unless numbers use it."""
        name = (props.get("applied_inputs") or {}).get("service_name") or id_
        tw = self._twilio(name)
        domain = text(props.get("domain_name")).lower()
        if domain:
            users = numbers_pointing_at(
                tw, name, lambda url: (urlsplit(url).hostname or "").lower() == domain
            )
            if users:
                raise ProviderError(
                    name,
                    (
                        f"refusing to delete Serverless service {id_}: {', '.join(users)} still "
                        f"send calls to {domain}. Point those numbers elsewhere first"
                    ),
                )
        try:
            with tw.errors(name, f"delete Serverless service {id_}"):
                tw.rest.serverless.v1.services(id_).delete()
        except NotFoundError:
            pass


class TwimlDocuments(pulumi.dynamic.Resource, module="twilio", name="TwimlDocuments"):
    """The stack's Serverless service; ``urls[path]`` is what numbers and flows point at."""

    service_sid: pulumi.Output[str]
    domain_name: pulumi.Output[str]
    urls: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: TwimlDocumentsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        init_resource(self, TwimlDocumentsProvider(), name, args, OUTPUTS, opts)


# ---- check / diff helpers ---------------------------------------------------------------


def _path_failures(kind: str, files: object) -> list[CheckFailure]:
    if files is None or is_unknown(files):
        return []
    if not isinstance(files, dict):
        return [CheckFailure(kind, "must map URL paths to text")]
    failures = []
    for path, content in files.items():
        if not PATH.match(path) or "//" in path or "/../" in f"{path}/":
            failures.append(CheckFailure(kind, f"{path!r} is not a URL path like /lines/x.xml"))
        if not is_unknown(content) and not isinstance(content, str):
            failures.append(CheckFailure(kind, f"{path}: content must be text"))
    return failures


def _has_unknowns(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_unknowns(v) for v in value.values())
    return is_unknown(value)


def _sha256(content: str) -> str:
    return hashlib.sha256(content.encode()).hexdigest()


def _applied(inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs as recorded in state: content replaced by its hash."""
    applied = {k: integral(inputs[k]) for k in INPUTS if k not in KINDS and k in inputs}
    for kind in KINDS:
        applied[kind] = {p: _sha256(c) for p, c in (inputs.get(kind) or {}).items()}
    return applied


# ---- deploy -------------------------------------------------------------------------------


def _find_or_create_service(tw: Twilio, props: dict[str, Any]) -> Any:
    name = props["service_name"]
    services = tw.rest.serverless.v1.services
    with tw.errors(name, f"look up Serverless service {name!r}"):
        for service in services.list(page_size=100):
            if service.unique_name == name:
                return service
    with tw.errors(name, f"create Serverless service {name!r}"):
        return services.create(
            unique_name=name,
            friendly_name=props.get("friendly_name") or name,
            include_credentials=bool(props["include_credentials"]),
            ui_editable=False,
        )


def _fetch_environment(tw: Twilio, name: str, service_sid: str, env_sid: str) -> Any:
    if not env_sid:
        return None
    try:
        with tw.errors(name, f"fetch environment {env_sid}"):
            return tw.rest.serverless.v1.services(service_sid).environments(env_sid).fetch()
    except NotFoundError:
        return None


def _ensure_environment(tw: Twilio, props: dict[str, Any], service_sid: str, env_sid: str) -> Any:
    name, unique = props["service_name"], props["environment"]
    env = _fetch_environment(tw, name, service_sid, env_sid)
    if env is not None:
        return env
    environments = tw.rest.serverless.v1.services(service_sid).environments
    with tw.errors(name, f"look up environment {unique!r}"):
        for env in environments.list(page_size=100):
            if env.unique_name == unique:
                return env
    with tw.errors(name, f"create environment {unique!r}"):
        return environments.create(unique_name=unique, domain_suffix=unique[:16])


def _deploy(
    tw: Twilio, props: dict[str, Any], service_sid: str, previous: dict[str, Any]
) -> dict[str, Any]:
    """Converge the environment on ``props``: upload changed paths, one build, one deploy."""
    name = props["service_name"]
    env = _ensure_environment(tw, props, service_sid, text(previous.get("environment_sid")))
    entries = {
        kind: _sync_kind(tw, props, service_sid, kind, previous.get(kind) or {}) for kind in KINDS
    }
    build_sid, deployment_sid = text(previous.get("build_sid")), previous.get("deployment_sid")
    previously = sorted(
        e["version_sid"] for kind in KINDS for e in (previous.get(kind) or {}).values()
    )
    current = sorted(e["version_sid"] for kind in KINDS for e in entries[kind].values())
    if current != previously or text(env.build_sid) != build_sid or not build_sid:
        try:
            build_sid = _build(tw, props, service_sid, entries)
        except BuildFailedError:
            if not previously:
                raise
            # A reused version may have been deleted out of band (e.g. its asset removed in
            # the console): upload everything afresh and build once more.
            entries = {kind: _sync_kind(tw, props, service_sid, kind, {}) for kind in KINDS}
            build_sid = _build(tw, props, service_sid, entries)
        with tw.errors(name, f"deploy build {build_sid}"):
            deployment_sid = (
                tw.rest.serverless.v1.services(service_sid)
                .environments(env.sid)
                .deployments.create(build_sid=build_sid)
                .sid
            )
    for kind in KINDS:
        _delete_removed(tw, name, service_sid, kind, previous.get(kind) or {}, entries[kind])
    live = {p: e["version_sid"] for kind in KINDS for p, e in entries[kind].items()}
    return {
        "service_sid": service_sid,
        "environment_sid": env.sid,
        "domain_name": env.domain_name,
        "urls": {p: f"https://{env.domain_name}{p}" for p in sorted(live)},
        "build_sid": build_sid,
        "deployment_sid": deployment_sid,
        "live_build_sid": build_sid,
        "live_versions": live,
        "documents": entries["documents"],
        "functions": entries["functions"],
        "applied_inputs": _applied(props),
    }


def _sync_kind(
    tw: Twilio, props: dict[str, Any], service_sid: str, kind: str, previous: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per path: reuse the previous version when content and visibility match, else upload.

    Changed paths are uploaded ``UPLOAD_CONCURRENCY`` at a time (each: its container, found
    by name or created, then the version); the first failure is raised once the uploads
    already under way have finished, and later ones are not started.
    """
    name = props["service_name"]
    visibility = props["visibility" if kind == "documents" else "function_visibility"]
    files: dict[str, str] = props.get(kind) or {}
    entries: dict[str, dict[str, Any]] = {}
    changed = []
    for path, content in sorted(files.items()):
        digest, old = _sha256(content), previous.get(path) or {}
        if old.get("sha256") == digest and old.get("visibility") == visibility:
            entries[path] = old
        else:
            changed.append((path, content, digest))
    if not changed:
        return entries
    containers = _containers(tw, name, service_sid, kind)

    def push(path: str, content: str, digest: str) -> dict[str, Any]:
        container = containers.get(path) or _create_container(tw, name, service_sid, kind, path)
        version = _upload(tw, name, service_sid, kind, container, path, content, visibility)
        return {
            "sha256": digest,
            "visibility": visibility,
            "container_sid": container,
            "version_sid": version,
        }

    workers = min(UPLOAD_CONCURRENCY, len(changed))
    with ThreadPoolExecutor(workers, thread_name_prefix="upload") as pool:
        futures = {pool.submit(push, *item): item[0] for item in changed}
        for future in as_completed(futures):
            if future.exception() is not None:
                for pending in futures:
                    pending.cancel()
                break
    for future, path in futures.items():  # in path order: the first failure is raised
        if not future.cancelled():
            entries[path] = future.result()
    return dict(sorted(entries.items()))


def _collection(tw: Twilio, service_sid: str, kind: str) -> Any:
    service = tw.rest.serverless.v1.services(service_sid)
    return service.assets if kind == "documents" else service.functions


def _containers(tw: Twilio, name: str, service_sid: str, kind: str) -> dict[str, str]:
    """Existing asset or function containers by friendly name (= path)."""
    with tw.errors(name, f"list {'assets' if kind == 'documents' else 'functions'}"):
        return {
            c.friendly_name: c.sid for c in _collection(tw, service_sid, kind).list(page_size=100)
        }


def _create_container(tw: Twilio, name: str, service_sid: str, kind: str, path: str) -> str:
    with tw.errors(name, f"create {'asset' if kind == 'documents' else 'function'} {path}"):
        return _collection(tw, service_sid, kind).create(friendly_name=path).sid


def _upload(
    tw: Twilio,
    name: str,
    service_sid: str,
    kind: str,
    container: str,
    path: str,
    content: str,
    visibility: str,
) -> str:
    segment = "Assets" if kind == "documents" else "Functions"
    suffix = path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""
    content_type = CONTENT_TYPES.get(suffix, "text/plain")
    if kind == "functions":
        content_type = "application/javascript"
    with tw.errors(name, f"upload {path}"):
        body = tw.upload(
            f"/v1/Services/{service_sid}/{segment}/{container}/Versions",
            {"Path": path, "Visibility": visibility},
            path.rsplit("/", 1)[-1] or "index",
            content.encode(),
            content_type,
        )
    return str(body["sid"])


class BuildFailedError(ProviderError):
    """Twilio reported the build as failed."""


def _build(
    tw: Twilio, props: dict[str, Any], service_sid: str, entries: dict[str, dict[str, Any]]
) -> str:
    """Create one build with the complete version set and wait until it completes."""
    name = props["service_name"]
    versions = {
        kind: [e["version_sid"] for _, e in sorted(entries[kind].items())] for kind in KINDS
    }
    builds = tw.rest.serverless.v1.services(service_sid).builds
    options: dict[str, Any] = {}
    if versions["functions"]:
        deps = props.get("dependencies") or {}
        options = {
            "function_versions": versions["functions"],
            "runtime": props["runtime"],
            "dependencies": json.dumps(
                [{"name": k, "version": v} for k, v in sorted(deps.items())]
            ),
        }
    with tw.errors(name, "create build"):
        build = builds.create(asset_versions=versions["documents"], **options)
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    for attempt in range(10**6):
        with tw.errors(name, f"poll build {build.sid}"):
            status = builds(build.sid).build_status().fetch().status
        if status == "completed":
            return str(build.sid)
        if status == "failed":
            raise BuildFailedError(
                name,
                (
                    f"build {build.sid} failed; see the build logs in the Twilio console "
                    "(Functions and Assets > Services)"
                ),
            )
        if time.monotonic() >= deadline:
            break
        time.sleep(POLL_DELAYS_S[min(attempt, len(POLL_DELAYS_S) - 1)])
    raise ProviderError(
        name,
        (
            f"build {build.sid} still not completed after {BUILD_TIMEOUT_S:.0f} s; nothing was "
            "deployed. Run again later"
        ),
    )


def _live_versions(tw: Twilio, name: str, service_sid: str, build_sid: str) -> dict[str, str]:
    """Path -> version SID in the environment's live build ({} when nothing is deployed)."""
    if not build_sid:
        return {}
    try:
        with tw.errors(name, f"fetch build {build_sid}"):
            build = tw.rest.serverless.v1.services(service_sid).builds(build_sid).fetch()
    except NotFoundError:
        return {}
    live = {}
    for version in (build.asset_versions or []) + (build.function_versions or []):
        if isinstance(version, dict) and version.get("path") and version.get("sid"):
            live[str(version["path"])] = str(version["sid"])
    return live


def _delete_removed(
    tw: Twilio,
    name: str,
    service_sid: str,
    kind: str,
    previous: dict[str, Any],
    current: dict[str, Any],
) -> None:
    """Delete containers of paths no longer declared (after the new build is live)."""
    for path in sorted(set(previous) - set(current)):
        sid = previous[path].get("container_sid")
        try:
            with tw.errors(name, f"delete {path}"):
                _collection(tw, service_sid, kind)(sid).delete()
        except NotFoundError:
            pass
