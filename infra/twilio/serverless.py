"""Serverless deploys: documents and Functions as versions, one build, one deployment.

The ``TwimlDocuments`` provider calls ``find_or_create_service`` and ``deploy``.
- Asset bytes cannot be read back from Twilio, so content hashes (sha256) decide what
  changed. A change uploads new versions only for changed paths (multipart to
  serverless-upload, which twilio-python lacks; reference twilio.md §6.3), makes ONE build
  with the complete version set (a build is a snapshot), polls its status with a bound, and
  makes ONE deployment (https://www.twilio.com/docs/serverless/api/resource/build).
- Containers (Assets, Functions) are found by friendly name = path before one is created, so
  an interrupted run never duplicates them.
- Uploads run ``failover:concurrency`` at a time (default 10, as Twilio's serverless toolkit
  does: twilio-labs/serverless-toolkit, ``TWILIO_SERVERLESS_API_CONCURRENCY``), through
  ``infra.twilio.concurrency.bounded_map``.

Must not import: pulumi, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from infra.errors import ProviderError
from infra.naming import PLAY_SUFFIXES, PUBLIC_FUNCTION_PATHS, is_audio_path
from infra.twilio.asset_files import content_bytes, content_digest
from infra.twilio.client import NotFoundError, Twilio
from infra.twilio.concurrency import DEFAULT_CONCURRENCY, bounded_map, values
from infra.twilio.values import text

BUILD_TIMEOUT_S = 300.0
UPLOAD_CONCURRENCY = DEFAULT_CONCURRENCY
"""Paths uploaded at once unless ``failover:concurrency`` says otherwise; a 429 is retried."""
POLL_DELAYS_S = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)
"""Delays between build status polls; the last one repeats until the timeout."""
CONTENT_TYPES = {
    ".xml": "text/xml",
    ".js": "application/javascript",
    ".json": "application/json",
    **PLAY_SUFFIXES,  # recordings from the repository (infra.lines.audio)
}
KINDS = ("documents", "functions")


def sha256(content: str) -> str:
    """A document's content hash (a recording's own: ``infra.twilio.asset_files``)."""
    return content_digest(content)


def find_or_create_service(tw: Twilio, props: dict[str, Any]) -> Any:
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


def fetch_environment(tw: Twilio, name: str, service_sid: str, env_sid: str) -> Any:
    if not env_sid:
        return None
    try:
        with tw.errors(name, f"fetch environment {env_sid}"):
            return tw.rest.serverless.v1.services(service_sid).environments(env_sid).fetch()
    except NotFoundError:
        return None


def _ensure_environment(tw: Twilio, props: dict[str, Any], service_sid: str, env_sid: str) -> Any:
    name, unique = props["service_name"], props["environment"]
    env = fetch_environment(tw, name, service_sid, env_sid)
    if env is not None:
        return env
    environments = tw.rest.serverless.v1.services(service_sid).environments
    with tw.errors(name, f"look up environment {unique!r}"):
        for env in environments.list(page_size=100):
            if env.unique_name == unique:
                return env
    with tw.errors(name, f"create environment {unique!r}"):
        return environments.create(unique_name=unique, domain_suffix=unique[:16])


def deploy(
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
    declared = sorted(p for kind in KINDS for p in props.get(kind) or {})
    return {
        "service_sid": service_sid,
        "environment_sid": env.sid,
        "domain_name": env.domain_name,
        "urls": {p: f"https://{env.domain_name}{p}" for p in declared},
        "build_sid": build_sid,
        "deployment_sid": deployment_sid,
        "live_build_sid": build_sid,
        "live_versions": live,
        "documents": entries["documents"],
        "functions": entries["functions"],
    }


def _sync_kind(
    tw: Twilio, props: dict[str, Any], service_sid: str, kind: str, previous: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Per path: reuse the previous version when content and visibility match, else upload.

    Changed paths are uploaded ``tw.concurrency`` at a time (each: its container, found
    by name or created, then the version); the first failure is raised once the uploads
    already under way have finished, and later ones are not started.
    """
    name = props["service_name"]
    files: dict[str, str] = props.get(kind) or {}
    entries: dict[str, dict[str, Any]] = {}
    changed = []
    for path, content in sorted(files.items()):
        digest, old = sha256(content), previous.get(path) or {}
        if old.get("sha256") == digest and old.get("visibility") == visibility_of(
            props, kind, path
        ):
            entries[path] = {k: v for k, v in old.items() if k != "retired"}
        else:
            changed.append((path, content, digest))
    for path, old in previous.items():
        # Retire a removed path for one generation: it stays in this build, so a number or
        # flow still pointing at it keeps working until the resources after this one (which
        # depend on it) have moved away; the next deploy drops it.
        if path not in files and not old.get("retired"):
            entries[path] = {**old, "retired": True}
    if not changed:
        return dict(sorted(entries.items()))
    containers = _containers(tw, name, service_sid, kind)

    def push(item: tuple[str, str, str]) -> dict[str, Any]:
        path, content, digest = item
        visibility = visibility_of(props, kind, path)
        try:
            container = containers.get(path) or _create_container(tw, name, service_sid, kind, path)
            version = _upload(tw, name, service_sid, kind, container, path, content, visibility)
        except Exception:
            # A write whose answer was lost may have created a container: list afresh next time.
            with _CONTAINERS_LOCK:
                _CONTAINERS.pop((service_sid, kind), None)
            raise
        return {
            "sha256": digest,
            "visibility": visibility,
            "container_sid": container,
            "version_sid": version,
        }

    pushed = bounded_map(push, changed, limit=tw.concurrency, stop_on_error=True, name="upload")
    for (path, _, _), entry in zip(changed, values(pushed), strict=True):  # path order
        entries[path] = entry
    return dict(sorted(entries.items()))


def visibility_of(props: dict[str, Any], kind: str, path: str) -> str:
    """The declared visibility, except for the Functions a phone browser opens itself (the
    agents' page: ``infra.naming.PUBLIC_FUNCTION_PATHS``), which must be ``public`` to be
    served without an ``X-Twilio-Signature``
    (https://www.twilio.com/docs/serverless/functions-assets/visibility); such a Function
    checks its own signed link instead."""
    if kind == "functions" and path in PUBLIC_FUNCTION_PATHS:
        return "public"
    if kind == "documents" and is_audio_path(path):
        # Twilio "does not send its standard HTTP parameters" with <Play> requests
        # (https://www.twilio.com/docs/voice/twiml/play); whether it signs them is unconfirmed,
        # so recordings are public (a protected one might answer 403 and play nothing).
        return "public"
    return str(props["visibility" if kind == "documents" else "function_visibility"])


def _collection(tw: Twilio, service_sid: str, kind: str) -> Any:
    service = tw.rest.serverless.v1.services(service_sid)
    return service.assets if kind == "documents" else service.functions


_CONTAINERS: dict[tuple[str, str], dict[str, str]] = {}
"""Containers by (service, kind), listed once per provider-host process (one ``pulumi up``)
and shared by every environment resource of the service: listing them per resource would
read every container of the service 17 times. Kept current with the containers this process
creates and deletes; one created by someone else meanwhile is not seen, which costs at worst
a second container with the same friendly name (harmless: builds name versions, not
containers)."""
_CONTAINERS_LOCK = threading.Lock()


def _containers(tw: Twilio, name: str, service_sid: str, kind: str) -> dict[str, str]:
    """Existing asset or function containers by friendly name (= path)."""
    key = (service_sid, kind)
    with _CONTAINERS_LOCK:
        if key not in _CONTAINERS:
            with tw.errors(name, f"list {'assets' if kind == 'documents' else 'functions'}"):
                _CONTAINERS[key] = {
                    c.friendly_name: c.sid
                    for c in _collection(tw, service_sid, kind).list(page_size=100)
                }
        return dict(_CONTAINERS[key])


def _create_container(tw: Twilio, name: str, service_sid: str, kind: str, path: str) -> str:
    with tw.errors(name, f"create {'asset' if kind == 'documents' else 'function'} {path}"):
        sid = str(_collection(tw, service_sid, kind).create(friendly_name=path).sid)
    with _CONTAINERS_LOCK:
        listed = _CONTAINERS.get((service_sid, kind))
        if listed is not None:  # never start a partial listing: it would hide the others
            listed[path] = sid
    return sid


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
    data = content_bytes(name, content)
    with tw.errors(name, f"upload {path}"):
        body = tw.upload(
            f"/v1/Services/{service_sid}/{segment}/{container}/Versions",
            {"Path": path, "Visibility": visibility},
            path.rsplit("/", 1)[-1] or "index",
            data,
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


def live_versions(tw: Twilio, name: str, service_sid: str, build_sid: str) -> dict[str, str]:
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
        with _CONTAINERS_LOCK:
            listed = _CONTAINERS.get((service_sid, kind), {})
            if listed.get(path) == sid:
                del listed[path]
        try:
            with tw.errors(name, f"delete {path}"):
                _collection(tw, service_sid, kind)(sid).delete()
        except NotFoundError:
            pass
