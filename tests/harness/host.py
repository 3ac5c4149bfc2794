"""Drive a dynamic provider through Pulumi's real provider host, over gRPC, like the engine.

``ProviderHost`` starts ``python -u -m pulumi.dynamic`` in a fresh process whose working
directory is the project root (where ``infra/`` lives, as the Pulumi plugin does), with the
environment the engine gives it (``PULUMI_PROJECT``, ``PULUMI_CONFIG={}``, no
``PYTHONPATH``), reads the port it prints, and calls it through the generated stubs in
``pulumi.runtime.proto``. Properties travel as ``google.protobuf.Struct`` built from plain
JSON values, which is what the engine sends (numbers become floats); secrets in config are
wrapped in Pulumi's secret envelope. Responses come back as plain dicts. ``TWILIO_*``
variables are not inherited (pass ``env=`` to test the environment fallback).

Typical use::

    with ProviderHost() as host:
        host.configure({"twilio:accountSid": sid, "twilio:authToken": token},
                       secret_keys={"twilio:authToken"})
        inputs, failures = host.check(urn, {}, {"__provider": provider_string(P()), **props})
        id_, outs = host.create(urn, inputs)
        host.diff(urn, id_, outs, inputs)["changes"]       # "DIFF_NONE"

``HostError`` carries the gRPC status name and details (the provider's traceback). The
host's stderr goes to a file (``host.stderr_text()``) so tests can search logs for secrets.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

PROJECT_ROOT = Path(__file__).resolve().parents[2]
"""The directory holding ``infra/``: the provider host's working directory."""
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Wire sentinel for a value not known during preview (``pulumi.runtime.rpc.UNKNOWN``)."""


CALL_TIMEOUT_S = float(os.environ.get("FAILOVER_HOST_CALL_TIMEOUT_S", "120"))
"""gRPC deadline per provider call; the scale benchmark raises it (Pulumi itself waits)."""


class HostError(Exception):
    """A gRPC call failed; ``code`` is the status name, ``details`` the provider's traceback."""

    def __init__(self, method: str, code: str, details: str) -> None:
        self.method, self.code, self.details = method, code, details
        super().__init__(f"{method}: {code}: {details}")


def provider_string(provider: object) -> str:
    """What ``dynamic.Resource`` stores in ``__provider`` (base64 dill pickle)."""
    return serialize_provider(provider)  # type: ignore[arg-type]


def secret(value: Any) -> dict[str, Any]:
    """Pulumi's wire envelope for a secret value."""
    return {SECRET_SIG: SECRET_VALUE_SIG, "value": value}


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(dict(props))
    return s


def from_struct(s: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(s)


def urn_for(type_token: str, name: str, project: str = "lines", stack: str = "dev") -> str:
    """The engine's URN form (no parent type chain for top-level resources)."""
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


class ProviderHost:
    """One ``python -m pulumi.dynamic`` process and a gRPC stub to it."""

    def __init__(
        self,
        *,
        project: str = "lines",
        cwd: Path | str = PROJECT_ROOT,
        env: Mapping[str, str] | None = None,
        start_timeout_s: float = 20.0,
    ) -> None:
        environ = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PULUMI_", "TWILIO_")) and k != "PYTHONPATH"
        }
        environ.update(PULUMI_PROJECT=project, PULUMI_CONFIG="{}")
        environ.update(env or {})
        self._stderr = tempfile.NamedTemporaryFile(
            prefix="provider-host-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            cwd=str(cwd),
            env=environ,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        port = self._read_port(start_timeout_s)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def _read_port(self, timeout_s: float) -> int:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 64)
                if not chunk:
                    break
                line += chunk
        if not line.strip().isdigit():
            log = self.stderr_text()[-2000:]
            self.close()
            raise RuntimeError(f"provider host did not start: {log}")
        return int(line.strip())

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        if getattr(self, "channel", None) is not None:
            self.channel.close()
            self.channel = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()
        Path(self._stderr.name).unlink(missing_ok=True)

    def __enter__(self) -> ProviderHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stderr_text(self) -> str:
        self._stderr.flush()
        return Path(self._stderr.name).read_text(errors="replace")

    # -- the ResourceProvider RPCs ------------------------------------------------------

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as exc:
            raise HostError(method, exc.code().name, exc.details() or "") from None

    def configure(
        self, config: Mapping[str, Any], secret_keys: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Send the whole namespaced stack config, secrets in envelopes, as the engine does."""
        secrets = set(secret_keys)
        args = {k: secret(v) if k in secrets else v for k, v in config.items()}
        variables = {f"pulumi-python:config:{k}": str(v) for k, v in config.items()}
        response = self._call(
            "Configure",
            provider_pb2.ConfigureRequest(
                args=to_struct(args), variables=variables, acceptSecrets=True
            ),
        )
        return {
            "accept_secrets": response.acceptSecrets,
            "supports_preview": response.supportsPreview,
        }

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        r = self._call(
            "Check", provider_pb2.CheckRequest(urn=urn, olds=to_struct(olds), news=to_struct(news))
        )
        return from_struct(r.inputs), [(f.property, f.reason) for f in r.failures]

    def diff(
        self,
        urn: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``olds`` are the old outputs (as the engine sends); returns changes/replaces/dbr."""
        r = self._call(
            "Diff",
            provider_pb2.DiffRequest(
                urn=urn,
                id=id_,
                olds=to_struct(olds),
                news=to_struct(news),
                old_inputs=to_struct(old_inputs or {}),
            ),
        )
        return {
            "changes": provider_pb2.DiffResponse.DiffChanges.Name(r.changes),
            "replaces": list(r.replaces),
            "delete_before_replace": r.deleteBeforeReplace,
        }

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        r = self._call("Create", provider_pb2.CreateRequest(urn=urn, properties=to_struct(props)))
        return r.id, from_struct(r.properties)

    def read(
        self,
        urn: str,
        id_: str,
        props: Mapping[str, Any],
        inputs: Mapping[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """Returns (id, outputs, inputs or None); id is "" when the resource is gone."""
        r = self._call(
            "Read",
            provider_pb2.ReadRequest(
                urn=urn, id=id_, properties=to_struct(props), inputs=to_struct(inputs or {})
            ),
        )
        new_inputs = from_struct(r.inputs) if r.HasField("inputs") else None
        return r.id, from_struct(r.properties), new_inputs

    def update(
        self,
        urn: str,
        id_: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        r = self._call(
            "Update",
            provider_pb2.UpdateRequest(
                urn=urn,
                id=id_,
                olds=to_struct(olds),
                news=to_struct(news),
                old_inputs=to_struct(old_inputs or {}),
            ),
        )
        return from_struct(r.properties)

    def delete(
        self,
        urn: str,
        id_: str,
        props: Mapping[str, Any],
        old_inputs: Mapping[str, Any] | None = None,
    ) -> None:
        self._call(
            "Delete",
            provider_pb2.DeleteRequest(
                urn=urn, id=id_, properties=to_struct(props), old_inputs=to_struct(old_inputs or {})
            ),
        )
