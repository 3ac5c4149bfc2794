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

import re
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
from infra.providers.base import TwilioProvider, checked_inputs, has_unknowns, is_unknown
from infra.twilio.asset_files import file_reference as file_reference  # the program's input
from infra.twilio.client import NotFoundError
from infra.twilio.numbers import numbers_pointing_at
from infra.twilio.serverless import (
    KINDS,
    deploy,
    fetch_environment,
    find_or_create_service,
    live_versions,
    sha256,
)
from infra.twilio.values import integral, text

VISIBILITIES = ("public", "protected", "private")
UNIQUE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
PATH = re.compile(r"^/[A-Za-z0-9._~/-]{1,254}$")
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


BUILD_CAPS = {"documents": 1000, "functions": 50}
"""Twilio: "A build can contain up to 1000 public/protected asset versions" and "up to 50
Function versions" (https://www.twilio.com/docs/runtime/functions-assets-api)."""


class TwimlDocumentsProvider(TwilioProvider):
    """One Serverless service + environment; assets and functions deployed as one build."""

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = checked_inputs(
            news,
            INPUTS,
            required=("service_name", "documents"),
            defaults={
                "environment": "failover",
                "functions": {},
                "visibility": "protected",
                "function_visibility": "protected",
                "runtime": "node22",
                "dependencies": {},
                "include_credentials": False,
            },
        )
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
        for kind, cap in BUILD_CAPS.items():
            files = inputs.get(kind)
            if isinstance(files, dict) and len(files) > cap:
                failures.append(
                    CheckFailure(
                        kind,
                        (
                            f"{len(files)} {kind} in one environment; a Twilio build holds at "
                            f"most {cap} (https://www.twilio.com/docs/runtime/functions-assets-api)"
                        ),
                    )
                )
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
        if has_unknowns(news):
            return DiffResult(changes=True)
        # Builds are immutable: the same build SID means the same versions are live.
        drifted = not olds.get("environment_sid") or olds.get("live_build_sid") != olds.get(
            "build_sid"
        )
        return DiffResult(changes=drifted or _applied(news) != applied)

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["service_name"]
        tw = self._twilio(name)
        service = find_or_create_service(tw, props)
        if props.get("functions") and bool(service.include_credentials) != bool(
            props["include_credentials"]
        ):
            # The environment with the Functions decides; another created the service first.
            with tw.errors(name, f"update Serverless service {service.sid}"):
                tw.rest.serverless.v1.services(service.sid).update(
                    include_credentials=bool(props["include_credentials"])
                )
        outs = deploy(tw, props, service.sid, previous={})
        return CreateResult(service.sid, {**outs, "applied_inputs": _applied(props)})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        name = (props.get("applied_inputs") or {}).get("service_name") or id_
        tw = self._twilio(name)
        try:
            with tw.errors(name, f"fetch Serverless service {id_}"):
                tw.rest.serverless.v1.services(id_).fetch()
        except NotFoundError:
            return ReadResult(None, {})
        outs = {k: props.get(k) for k in OUTPUTS}
        env = fetch_environment(tw, name, id_, text(props.get("environment_sid")))
        outs["environment_sid"] = env.sid if env else ""
        outs["domain_name"] = env.domain_name if env else ""
        outs["live_build_sid"] = text(env.build_sid) if env else ""
        outs["live_versions"] = live_versions(tw, name, id_, text(outs["live_build_sid"]))
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
        outs = deploy(tw, news, id_, previous=olds)
        return UpdateResult({**outs, "applied_inputs": _applied(news)})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete this resource's environment unless numbers use it; then the service, when
        no environment is left in it (other resources of the stack share the service)."""
        applied = props.get("applied_inputs") or {}
        name = applied.get("service_name") or id_
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
                        f"refusing to delete Serverless environment {domain}: "
                        f"{', '.join(users)} still send calls there. Point those numbers "
                        "elsewhere first"
                    ),
                )
        service = tw.rest.serverless.v1.services(id_)
        env_sid = text(props.get("environment_sid"))
        try:
            if env_sid:
                with tw.errors(name, f"delete environment {env_sid}"):
                    service.environments(env_sid).delete()
            with tw.errors(name, "list environments"):
                remaining = service.environments.list(page_size=50)
            if remaining:
                for path, entry in sorted((props.get("documents") or {}).items()):
                    # Document paths belong to one environment; Function containers may be
                    # shared with the environment that replaced this one, so they stay.
                    try:
                        with tw.errors(name, f"delete {path}"):
                            service.assets(entry["container_sid"]).delete()
                    except NotFoundError:
                        pass
                return
            with tw.errors(name, f"delete Serverless service {id_}"):
                service.delete()
        except NotFoundError:
            pass


class TwimlDocuments(pulumi.dynamic.Resource, module="twilio", name="TwimlDocuments"):
    """The stack's Serverless service; ``urls[path]`` is what numbers and flows point at."""

    service_sid: pulumi.Output[str]
    environment_sid: pulumi.Output[str]
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


def _applied(inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs as recorded in state: content replaced by its hash."""
    applied = {k: integral(inputs[k]) for k in INPUTS if k not in KINDS and k in inputs}
    for kind in KINDS:
        applied[kind] = {p: sha256(c) for p, c in (inputs.get(kind) or {}).items()}
    return applied
