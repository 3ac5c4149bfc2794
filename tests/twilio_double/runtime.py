"""Serverless runtime: what ``https://{domain}.twil.io/{path}`` answers in the double.

The environment whose ``domain_name`` is the host serves the files of its deployed build:
- an Asset answers its uploaded bytes with the upload's content type;
- a Function runs as real JavaScript under ``node`` (``runtime_shim.js``) with
  ``context`` (the environment's Variables as ``context.<Key>``, then ``DOMAIN_NAME``,
  ``PATH``, ``SERVICE_SID``, ``ENVIRONMENT_SID``, ``ACCOUNT_SID``), ``event`` (the
  request's query and form parameters), ``callback``,
  ``Twilio.Response`` and ``Twilio.twiml.VoiceResponse``; its outgoing ``fetch`` calls are
  answered by the scripted :class:`~.internet.Internet` and logged there - except calls to
  Twilio's REST API (``https://*.twilio.com``, authenticated with ``context.ACCOUNT_SID``/
  ``context.AUTH_TOKEN``), which go to the double's own API (``api``), contract-checked like
  any client's: reads are answered (by running the Function again, see ``run_function``),
  writes get an empty 200 and are applied once the Function returned;
- visibility: ``public`` is served to anyone; ``protected`` only with a valid
  ``X-Twilio-Signature`` (else 401); ``private`` is never served by URL (404); a path the
  build does not hold is 404.
Functions answer GET and POST alike (the runtime routes every method; assumed, see README).
Must not import: infra.*
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .dispatch import Incoming, Outcome
from .internet import Answer, Fetched, Internet, valid_signature
from .state import AccountState, Record

SHIM = Path(__file__).with_name("runtime_shim.js")
API_READS = 4  # REST reads one Function run may make in the double
NODE_TIMEOUT = 20.0  # real seconds a Function may take before the double gives up on node


class NodeMissingError(RuntimeError):
    """``node`` is not installed: Functions cannot run."""


def is_runtime_host(host: str) -> bool:
    return host.endswith(".twil.io")


def _deployed(state: AccountState, domain: str, path: str) -> tuple[Record, Record, str] | None:
    """(environment, version, "asset"|"function") serving ``path`` on ``domain``."""
    for environment in state.environments.values():
        if environment["domain_name"] != domain:
            continue
        build = state.builds.get(environment.get("build_sid") or "")
        if build is None:
            return None
        for kind in ("asset", "function"):
            for version in build[f"{kind}_versions"]:
                if version["path"] == path:
                    return environment, version, kind
        return None
    return None


def serve(
    state: AccountState, auth_token: str, internet: Internet, fetched: Fetched, domain: str,
    path: str, signed_url: str, api: Callable[[Incoming], Outcome] | None = None,
) -> Fetched:  # fmt: skip
    """Answer one request to a ``*.twil.io`` URL (see module doc); fills ``fetched``."""
    fetched.served_by = "serverless"
    found = _deployed(state, domain, path)
    if found is None or found[1].get("visibility") == "private":
        return _status(fetched, 404, "Not Found")
    environment, version, kind = found
    if version.get("visibility") == "protected" and not valid_signature(
        auth_token, signed_url, fetched.params, fetched.signature
    ):
        return _status(fetched, 401, "Unauthorized: invalid X-Twilio-Signature")
    upload = state.files[version["sid"]]
    if kind == "asset":
        fetched.status, fetched.body = 200, upload.data.decode("utf-8", "replace")
        fetched.content_type = upload.content_type or "application/octet-stream"
        return fetched
    event = {**_query(fetched.url), **fetched.params}
    variables = [v for v in state.variables.values() if v["environment_sid"] == environment["sid"]]
    context = {
        **{v["key"]: v["value"] for v in variables},
        "DOMAIN_NAME": domain, "PATH": path, "SERVICE_SID": environment["service_sid"],
        "ENVIRONMENT_SID": environment["sid"], "ACCOUNT_SID": state.account_sid,
        "AUTH_TOKEN": auth_token,
    }  # fmt: skip
    result = run_function(upload.data.decode("utf-8"), context, event, internet, api)
    fetched.status = int(result["status"])
    fetched.body = result["body"]
    fetched.headers = dict(result.get("headers") or {})
    fetched.content_type = fetched.headers.get("Content-Type", "application/json")
    fetched.elapsed = result.get("elapsed_ms", 0) / 1000
    if not 200 <= fetched.status < 300:
        fetched.error_code = 11200
    return fetched


def _status(fetched: Fetched, status: int, body: str) -> Fetched:
    fetched.status, fetched.body, fetched.content_type = status, body, "text/plain"
    fetched.error_code = 11200
    return fetched


def _query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def _answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "status": answer.status, "body": answer.body, "content_type": answer.content_type,
        "delay": answer.delay, "refused": answer.refused,
    }  # fmt: skip


def run_function(
    source: str, context: dict[str, Any], event: dict[str, str], internet: Internet,
    api: Callable[[Incoming], Outcome] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run ``exports.handler`` of ``source``; returns the shim's result plus ``elapsed_ms``.
    Outgoing requests of the Function are appended to ``internet.log``.

    Requests to Twilio's REST API go to ``api``: a GET the Function made is answered by the
    double and the Function run again with that answer (Functions are deterministic over
    their inputs), up to ``API_READS`` times; the writes of the last run are then applied."""
    node = shutil.which("node")
    if node is None:
        raise NodeMissingError("node is needed to run Twilio Functions in the double")
    reads: dict[str, dict[str, Any]] = {}
    for _ in range(API_READS + 1):
        payload = {
            "source": source, "context": context, "event": event,
            "internet": {url: _answer_json(a) for url, a in internet.answers.items()},
            "fallback": _answer_json(internet.default), "api_reads": reads,
        }  # fmt: skip
        done = subprocess.run(  # noqa: S603 - fixed program, JSON on stdin
            [node, str(SHIM)], input=json.dumps(payload), capture_output=True, text=True,
            timeout=NODE_TIMEOUT, check=False,
        )  # fmt: skip
        try:
            output = json.loads(done.stdout)
        except json.JSONDecodeError:
            detail = (done.stderr or "no output: the Function never called callback").strip()
            return {"status": 500, "body": detail[-500:], "headers": {}, "elapsed_ms": 0}
        unread = [
            r for r in output.get("requests", [])
            if r.get("api") and r["method"] == "GET" and r["url"] not in reads
        ]  # fmt: skip
        if not unread or api is None:
            break
        for request in unread:
            outcome = _apply(api, request)
            reads[request["url"]] = {
                "status": outcome.status or 500, "body": outcome.body.decode("utf-8", "replace"),
                "content_type": "application/json",
            }  # fmt: skip
    for request in output.get("requests", []):
        internet.log.append({**request, "from": "function"})
    if api is not None:
        for request in output.get("requests", []):
            if request.get("api") and request["method"] != "GET":
                _apply(api, request)
    result = dict(output["result"])
    result["elapsed_ms"] = output.get("elapsed_ms", 0)
    return result


def _apply(api: Callable[[Incoming], Outcome], request: dict[str, Any]) -> Outcome:
    """Send one of a Function's REST requests to the double (path prefixed by its host)."""
    parts = urlsplit(request["url"])
    target = f"/{parts.hostname}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    body = (request.get("body") or "").encode()
    return api(Incoming(request["method"], target, dict(request.get("headers") or {}), body))
