"""No artifact of a full stack lifecycle holds the Twilio secret, whichever way it was given.

A recognisable secret (auth token, API key secret, or the ``TWILIO_AUTH_TOKEN`` variable)
goes through the whole scenario a team runs: first apply, an edit, refresh, a removal
refused then allowed, a failed write and its re-run, destroy; plus a wrong secret (401) and
``failover plan --out``. Every artifact is then searched for the secret, URL-quoted, and as
the Basic auth header it travels in: the engine-model state (as JSON) after every run, the
stack outputs, each provider host's stderr, every error message (and its cause), the
program's log records, the rendered files, and every pickled ``__provider`` (decoded).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from infra.model import LinesConfig
from infra.program import StackSettings
from tests.harness.cli_runner import failover
from tests.harness.engine import EngineError
from tests.harness.host import ProviderHost
from tests.harness.program_engine import PROJECT, ProgramEngine
from tests.test_scenarios import LEGACY, ROOT, _without_line, edited, lines
from tests.twilio_double import TwilioDouble

TOKEN = "AUTHTOKEN-sentinel-7f3a9c1e2b4d"
KEY_SECRET = "APIKEYSECRET-sentinel-0c9e8d7f"
WRONG = "WRONGSECRET-sentinel-5b6a1d"


class Artifacts:
    """Everything the scenario left behind, by name."""

    def __init__(self) -> None:
        self.items: list[tuple[str, bytes]] = []

    def add(self, name: str, value: str | bytes | Any) -> None:
        if not isinstance(value, str | bytes):
            value = json.dumps(value, sort_keys=True, default=repr)
        self.items.append((name, value if isinstance(value, bytes) else value.encode()))

    def add_state(self, name: str, state: dict[str, Any]) -> None:
        self.add(f"{name}: state", state)
        providers = {
            props["__provider"]
            for res in state.values()
            for key in ("inputs", "outputs")
            if isinstance(props := res.get(key), dict) and "__provider" in props
        }
        for blob in providers:
            self.add(f"{name}: __provider (decoded)", base64.b64decode(blob))

    def add_error(self, name: str, error: BaseException) -> None:
        chain: BaseException | None = error
        while chain is not None:
            self.add(f"{name}: {type(chain).__name__}", f"{chain}\n{chain!r}")
            chain = getattr(chain, "cause", None) or chain.__cause__

    def leaks(self, secret: str, users: list[str]) -> list[str]:
        needles = {secret.encode(), quote(secret, safe="").encode()}
        needles |= {base64.b64encode(f"{user}:{secret}".encode()) for user in users}
        return [name for name, data in self.items for n in needles if n in data]


class RecordingHosts:
    """A host factory that keeps each provider host's stderr when the engine closes it."""

    def __init__(self, artifacts: Artifacts, env: dict[str, str] | None = None) -> None:
        self.artifacts, self.env, self.started = artifacts, env, 0

    def __call__(self) -> ProviderHost:
        artifacts = self.artifacts
        self.started += 1
        number = self.started

        class Recorded(ProviderHost):
            def close(self) -> None:
                if getattr(self, "_stderr", None) is not None and not self._stderr.closed:
                    artifacts.add(f"host {number} stderr", self.stderr_text())
                super().close()

        return Recorded(project=PROJECT, env=self.env)


def engine_for(
    double: TwilioDouble, credential: str, artifacts: Artifacts
) -> tuple[ProgramEngine, str, list[str]]:
    """An engine whose stack config (or host environment) carries the secret ``credential``."""
    base = {"twilio:apiBaseUrl": double.base_url}
    env = None
    if credential == "auth-token":
        double.auth_token = TOKEN
        config, secret_keys = (
            {**base, "twilio:accountSid": double.account_sid, "twilio:authToken": TOKEN},
            {"twilio:authToken"},
        )
        secret, users = TOKEN, [double.account_sid]
    elif credential == "api-key":
        key_sid, _ = double.add_api_key(secret=KEY_SECRET)
        config = {
            **base,
            "twilio:accountSid": double.account_sid,
            "twilio:apiKeySid": key_sid,
            "twilio:apiKeySecret": KEY_SECRET,
        }
        secret_keys, secret, users = {"twilio:apiKeySecret"}, KEY_SECRET, [key_sid]
    else:  # the environment variables a CI job would set
        double.auth_token = TOKEN
        config, secret_keys = base, set()
        env = {"TWILIO_ACCOUNT_SID": double.account_sid, "TWILIO_AUTH_TOKEN": TOKEN}
        secret, users = TOKEN, [double.account_sid]
    engine = ProgramEngine(config, secret_keys)
    engine.engine.host_factory = RecordingHosts(artifacts, env)
    return engine, secret, users


@pytest.fixture
def program_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


@pytest.mark.parametrize("credential", ["auth-token", "api-key", "environment"])
def test_no_artifact_of_a_full_lifecycle_holds_the_secret(
    twilio_double: TwilioDouble,
    credential: str,
    tmp_path: Path,
    program_logs: pytest.LogCaptureFixture,
) -> None:
    double, artifacts = twilio_double, Artifacts()
    engine, secret, users = engine_for(double, credential, artifacts)
    for line in lines().lines:
        double.seed_number(line.number, voice_url=LEGACY + line.id)
    state: dict[str, Any] = {}

    def up(name: str, config: LinesConfig, **settings: Any) -> None:
        nonlocal state
        run = engine.up(config, StackSettings(stack="dev", **settings), state)
        state = run.state
        artifacts.add_state(name, state)
        artifacts.add(f"{name}: outputs", run.outputs)

    def fails(name: str, config: LinesConfig, **settings: Any) -> EngineError:
        with pytest.raises(EngineError) as caught:
            engine.up(config, StackSettings(stack="dev", **settings), state)
        artifacts.add_error(name, caught.value)
        artifacts.add_state(name, caught.value.state)
        return caught.value

    up("first apply", lines())
    greeting = edited("Hej, this is Gus.", "Hi, this is Gus.")
    up("edit", lines(greeting))
    state, _ = engine.engine.refresh(state)
    artifacts.add_state("refresh", state)
    fails("removal without consent", lines(_without_line("fay", greeting)))
    up("removal", lines(_without_line("fay", greeting)), allow_removals=True)
    # the forward edit's first write is its forwarding document's upload (no Studio since 0.3)
    double.faults.add(fail_nth_write=1, match="POST serverless.twilio.com")
    rerouted = _without_line(
        "fay", edited('forward: "+14155550188"', 'forward: "+14155550177"', greeting)
    )
    fails("failed write", lines(rerouted))
    double.faults.clear()
    up("re-run", lines(rerouted), allow_destroy=True)  # lifts the destroy guard's protection
    state, _ = engine.engine.destroy(state)
    assert state == {} and double.deletes_of_numbers() == []

    wrong = ProgramEngine(
        {**engine.engine.config, **_wrong(engine.engine.config)}, engine.engine.secret_keys
    )
    wrong.engine.host_factory = RecordingHosts(artifacts, _wrong_env(engine))
    with pytest.raises(EngineError) as caught:
        wrong.up(lines(), StackSettings(stack="dev"))
    unauthorized = caught.value
    artifacts.add_error("wrong secret", unauthorized)
    assert "401" in str(unauthorized) and "20003" in str(unauthorized)

    plan = failover(
        "plan", "lines.yaml", "--format", "json", "--out", str(tmp_path / "out"),
        cwd=ROOT, environ={"TWILIO_ACCOUNT_SID": double.account_sid, "TWILIO_AUTH_TOKEN": secret},
    )  # fmt: skip
    artifacts.add("plan stdout", plan.stdout + plan.stderr)
    rendered = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert rendered
    for path in rendered:
        artifacts.add(f"rendered {path.relative_to(tmp_path)}", path.read_bytes())
    artifacts.add("program log records", program_logs.text)

    names = [name for name, _ in artifacts.items]
    assert any("__provider" in n for n in names) and sum("stderr" in n for n in names) >= 8
    assert artifacts.leaks(secret, users) == []
    assert artifacts.leaks(WRONG, users) == []


def _wrong(config: dict[str, Any]) -> dict[str, Any]:
    """The same stack config with its secret replaced by a wrong one."""
    return {k: WRONG for k in ("twilio:authToken", "twilio:apiKeySecret") if k in config}


def _wrong_env(engine: ProgramEngine) -> dict[str, str] | None:
    hosts = engine.engine.host_factory
    env = getattr(hosts, "env", None)
    return {**env, "TWILIO_AUTH_TOKEN": WRONG} if env else None
