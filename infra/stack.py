"""The one reader of stack settings and Twilio credentials, for the program, providers and CLI.

Stack settings (``failover:*`` keys) come from the Pulumi config when the program runs, or
from ``Pulumi.<stack>.yaml`` (with ``Pulumi.yaml``'s defaults) when the CLI or a workflow
runs (``failover drift --stack NAME``, ``failover stack-config``)::

    config:
      failover:linesFile: lines-emea.yaml
      failover:severity: severe

Twilio credentials resolve **per key: stack config first, then the environment** (the
program, the providers and the CLI all call ``twilio_settings``; the CLI's "stack config" is
the plain part of ``Pulumi.<stack>.yaml`` when given ``--stack``)::

    failover:accountSid   TWILIO_ACCOUNT_SID
    failover:authToken    TWILIO_AUTH_TOKEN      (secret)
    failover:apiKey       TWILIO_API_KEY         with failover:apiSecret / TWILIO_API_SECRET (secret)
    failover:region       TWILIO_REGION          e.g. ie1 (needs an edge: api.REGION.twilio.com
    failover:edge         TWILIO_EDGE            is retired), e.g. dublin
    failover:apiBaseUrl   TWILIO_API_BASE_URL    (every product under one base URL: tests only)
    failover:httpTimeout  -                      seconds per request (default 30)

The namespace is ``failover``, not ``twilio``: ``twilio:`` belongs to the Twilio provider
(Terraform's, bridged to Pulumi), whose keys differ (``username``, ``password``, ...). The old
``twilio:`` keys (``DEPRECATED_KEYS``) are still read, after the new key and before the
environment, with a warning (``deprecated_key_warnings``).

Requests in flight at once to the account (``infra.twilio.concurrency``), same order:

    failover:concurrency  FAILOVER_CONCURRENCY   1 to 100, default 10

The agents' page secret ``failover:agentLinkSecret`` (secret) signs each agent's personal
link (``infra.agent_links``); ``agent_link_secret`` checks it, naming the key, never the value.

A complete API key pair is used in preference to the auth token. Every message names keys
and variables, never values. Must not import: pulumi, twilio, providers, render, cli.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from infra.errors import InfraError
from infra.model import Severity
from infra.safety import DEFAULT_MAX_CHANGE_SHARE

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_CONCURRENCY = 10
"""Requests in flight at once per account; why 10: ``infra.twilio.concurrency``."""
MAX_CONCURRENCY = 100
"""Twilio's commonly cited per-account concurrency limit (unconfirmed): more only earns 429s."""
CONCURRENCY_KEY = "failover:concurrency"
CONCURRENCY_ENV = "FAILOVER_CONCURRENCY"
DEFAULT_LINES_FILE = "lines.yaml"

Getter = Callable[[str], Any]
"""``get("failover:accountSid")`` → the value, or None when unset."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Plain Twilio settings; the password never appears in repr."""

    account_sid: str
    username: str
    """AC... with an auth token, SK... with an API key."""
    password: str = field(repr=False)
    base_url: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    concurrency: int = DEFAULT_CONCURRENCY
    """Requests in flight at once to the account (``failover:concurrency``)."""
    region: str | None = None  # a Twilio Region (ie1, au1, ...); None: the default (US1)
    edge: str | None = None  # a Twilio Edge Location (dublin, sydney, ...)


@dataclass(frozen=True, slots=True)
class _Key:
    config: str
    env: str | None
    deprecated: str | None = None


_CREDENTIALS = {
    "accountSid": _Key("failover:accountSid", "TWILIO_ACCOUNT_SID", "twilio:accountSid"),
    "authToken": _Key("failover:authToken", "TWILIO_AUTH_TOKEN", "twilio:authToken"),
    "apiKey": _Key("failover:apiKey", "TWILIO_API_KEY", "twilio:apiKeySid"),
    "apiSecret": _Key("failover:apiSecret", "TWILIO_API_SECRET", "twilio:apiKeySecret"),
    "region": _Key("failover:region", "TWILIO_REGION"),
    "edge": _Key("failover:edge", "TWILIO_EDGE"),
    "apiBaseUrl": _Key("failover:apiBaseUrl", "TWILIO_API_BASE_URL", "twilio:apiBaseUrl"),
    "httpTimeout": _Key("failover:httpTimeout", None, "twilio:httpTimeout"),
}
SECRET_KEYS = ("failover:authToken", "failover:apiSecret")
"""Set these with ``pulumi config set --secret``."""
DEPRECATED_KEYS = {k.deprecated: k.config for k in _CREDENTIALS.values() if k.deprecated}
"""Old key -> its replacement (read after the replacement, before the environment)."""

# What to tell whoever must fix it: stack users get config keys, CLI users variables.
_RETIRED = (
    " (e.g. region ie1 with edge dublin): Twilio retired the api.REGION.twilio.com host names "
    "on 2026-04-28 (https://www.twilio.com/docs/global-infrastructure/edge-locations/legacy-regions)"
)
_PROBLEMS = {
    "stack": {
        "no-account": (
            "missing Twilio credentials: set config failover:accountSid with failover:authToken "
            "(secret) or failover:apiKey with failover:apiSecret (secret), or the "
            "environment variables TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        ),
        "half-key": "incomplete API key: set both failover:apiKey and failover:apiSecret",
        "no-secret": (
            "missing Twilio secret: set config failover:authToken (secret) for "
            "failover:accountSid, or TWILIO_AUTH_TOKEN in the environment"
        ),
        "no-edge": "failover:region needs failover:edge too" + _RETIRED,
    },
    "cli": {
        "no-account": (
            "missing Twilio credentials: set TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN "
            "(or with TWILIO_API_KEY and TWILIO_API_SECRET)"
        ),
        "half-key": "incomplete API key: set both TWILIO_API_KEY and TWILIO_API_SECRET",
        "no-secret": (
            "missing Twilio secret: set TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
            "TWILIO_API_SECRET) for TWILIO_ACCOUNT_SID"
        ),
        "no-edge": "TWILIO_REGION needs TWILIO_EDGE too" + _RETIRED,
    },
}


def _lookup(name: str, get: Getter, environ: Mapping[str, str]) -> tuple[str, str]:
    """(value, where it came from: the config key or variable) of one credential setting;
    ``("", "")`` when unset. Stack config, then the deprecated key, then the environment."""
    key = _CREDENTIALS[name]
    found = [(get(k), k) for k in (key.config, key.deprecated) if k]
    found.append((environ.get(key.env) if key.env else None, key.env or ""))
    return next(((str(v), where) for v, where in found if v not in (None, "")), ("", ""))


def deprecated_key_warnings(get: Getter) -> list[str]:
    """One warning per deprecated ``twilio:`` key the stack config still sets, naming its
    replacement (never the value)."""
    return [
        f"{old} is deprecated: rename it to {new} (`pulumi config rm {old}`, then "
        f"`pulumi config set {'--secret ' if new in SECRET_KEYS else ''}{new} ...`); "
        "the twilio: namespace belongs to the Twilio provider"
        for old, new in DEPRECATED_KEYS.items()
        if get(old) not in (None, "")
    ]


def credential_problem(get: Getter, environ: Mapping[str, str]) -> str | None:
    """Which part of the credentials is missing (``no-account``, ``half-key``,
    ``no-secret``, ``no-edge``), or None when complete. Looks at presence only."""
    has = {name: bool(_lookup(name, get, environ)[0]) for name in _CREDENTIALS}
    if has["apiKey"] != has["apiSecret"]:
        return "half-key"
    if not has["accountSid"]:
        return "no-account"
    if not has["apiKey"] and not has["authToken"]:
        return "no-secret"
    if has["region"] and not has["edge"]:
        return "no-edge"
    return None


def twilio_settings(
    get: Getter, environ: Mapping[str, str], *, audience: str = "stack"
) -> Settings | str:
    """Settings from a config getter and the environment, or why they are incomplete.

    ``audience`` picks the wording of the reason: ``stack`` (config keys) or ``cli``
    (environment variables).
    """
    problem = credential_problem(get, environ)
    if problem is not None:
        return _PROBLEMS[audience][problem]

    def value(name: str) -> tuple[str, str]:
        return _lookup(name, get, environ)

    # A complete API key pair is used in preference to the auth token.
    user, secret = ("apiKey", "apiSecret") if value("apiKey")[0] else ("accountSid", "authToken")
    (username, user_where), (password, secret_where) = value(user), value(secret)
    for where, text in ((user_where, username), (secret_where, password)):
        if not _sendable(text):
            # HTTP Basic authentication carries Latin-1 only; Twilio's are ASCII. Name the
            # setting, never the value: a mangled paste is the usual cause.
            return (
                f"{where} has characters Twilio credentials never contain (non-ASCII); "
                "copy it again from the Twilio console"
            )
    timeout = value("httpTimeout")[0]
    try:
        concurrency = read_concurrency(get, environ)
    except InfraError as exc:
        return str(exc)
    region, edge = value("region")[0].strip().lower(), value("edge")[0].strip().lower()
    for name, text in (("region", region), ("edge", edge)):
        if text and not re.fullmatch(r"[a-z0-9-]{1,40}", text):
            return f"{value(name)[1]} must be a Twilio {name} id like ie1 or dublin, not {text!r}"
    return Settings(
        account_sid=value("accountSid")[0],
        username=username,
        password=password,
        base_url=value("apiBaseUrl")[0].rstrip("/") or None,
        timeout_s=float(timeout) if timeout else DEFAULT_TIMEOUT_S,
        concurrency=concurrency,
        region=region or None,
        edge=edge or None,
    )


def parse_concurrency(value: object, where: str) -> int:
    """A concurrency setting as an int from 1 to ``MAX_CONCURRENCY``; InfraError naming
    ``where`` (the key, variable or flag) otherwise."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_CONCURRENCY:
        raise InfraError(
            f"{where} must be a whole number from 1 to {MAX_CONCURRENCY}, not {value!r}"
        )
    return int(text)


def read_concurrency(get: Getter, environ: Mapping[str, str]) -> int:
    """``failover:concurrency`` from the stack config, else ``FAILOVER_CONCURRENCY``, else
    ``DEFAULT_CONCURRENCY``."""
    value = get(CONCURRENCY_KEY)
    if value not in (None, ""):
        return parse_concurrency(value, CONCURRENCY_KEY)
    value = environ.get(CONCURRENCY_ENV)
    if value not in (None, ""):
        return parse_concurrency(value, CONCURRENCY_ENV)
    return DEFAULT_CONCURRENCY


def _sendable(text: str) -> bool:
    return text.isascii() and text.isprintable()


def cli_settings(
    environ: Mapping[str, str],
    concurrency: int | None = None,
    stack: StackFile | None = None,
) -> Settings:
    """Credentials for a CLI run, by the program's rule (``twilio_settings``): the stack's
    config first (with ``--stack``, the plain keys of ``Pulumi.<stack>.yaml``: its secrets are
    encrypted there, so those come from the environment), then the environment, per key;
    InfraError naming what is missing. ``concurrency`` (a flag or the stack file's key,
    already read) wins over ``FAILOVER_CONCURRENCY``."""
    get: Getter = stack.get if stack is not None else (lambda _key: None)
    settings = twilio_settings(get, environ, audience="cli")
    if isinstance(settings, str):
        raise InfraError(settings)
    if concurrency is not None:
        settings = replace(settings, concurrency=concurrency)
    return settings


@dataclass(frozen=True, slots=True, kw_only=True)
class StackSettings:
    """What the stack config says about this run (``failover:*`` keys)."""

    stack: str
    severity: Severity = Severity.MINOR
    max_change_share: float = DEFAULT_MAX_CHANGE_SHARE
    allow_removals: bool = False
    force: bool = False
    allow_destroy: bool = False
    """``failover:allowDestroy``: lift the ``DestroyGuard``'s protection (README "Running it
    for real": what ``pulumi destroy`` does)."""
    lines_file: str = DEFAULT_LINES_FILE
    concurrency: int | None = None
    """``failover:concurrency`` when the stack sets it (else the environment or default)."""


def stack_settings(stack: str, get: Getter) -> StackSettings:
    """Stack settings from a ``failover:*`` getter, with the documented defaults; InfraError
    naming the key when a value is not allowed."""
    severity = str(get("failover:severity") or Severity.MINOR.value)
    if severity not in {s.value for s in Severity}:
        raise InfraError(f"failover:severity must be minor or severe, not {severity!r}")
    lines_file = str(get("failover:linesFile") or DEFAULT_LINES_FILE)
    if not re.fullmatch(r"[\w./-]+\.ya?ml", lines_file) or ".." in lines_file.split("/"):
        raise InfraError(f"failover:linesFile must be a relative .yaml path, not {lines_file!r}")
    share = get("failover:maxChangeShare")
    try:
        max_share = float(share) if share not in (None, "") else DEFAULT_MAX_CHANGE_SHARE
    except (TypeError, ValueError):
        raise InfraError(f"failover:maxChangeShare must be a number, not {share!r}") from None
    return StackSettings(
        stack=stack,
        severity=Severity(severity),
        max_change_share=max_share,
        allow_removals=_flag(get("failover:allowRemovals")),
        force=_flag(get("failover:force")),
        allow_destroy=_flag(get("failover:allowDestroy")),
        lines_file=lines_file,
        concurrency=(
            parse_concurrency(get(CONCURRENCY_KEY), CONCURRENCY_KEY)
            if get(CONCURRENCY_KEY) not in (None, "")
            else None
        ),
    )


AGENT_LINK_SECRET_KEY = "failover:agentLinkSecret"  # noqa: S105 - a config key
AGENT_LINK_SECRET_MIN = 32
"""Characters at least: ``openssl rand -base64 32`` gives 44, far past guessing."""
AGENT_LINK_SECRET_MAX = 450
"""Bytes at most: Twilio's limit on a Serverless environment variable's value (twilio.md §6.2;
https://www.twilio.com/docs/serverless/api/resource/variable)."""


def agent_link_secret(get: Getter) -> str | None:
    """``failover:agentLinkSecret`` when set (None when not: the agents' page then refuses
    every link); InfraError naming the key, never the value, when it is unusable."""
    value = get(AGENT_LINK_SECRET_KEY)
    if value in (None, ""):
        return None
    secret = str(value)
    if not (_sendable(secret) and " " not in secret):
        raise InfraError(
            f"{AGENT_LINK_SECRET_KEY} must be printable ASCII without spaces; "
            "generate one with `openssl rand -base64 32`"
        )
    if not AGENT_LINK_SECRET_MIN <= len(secret) <= AGENT_LINK_SECRET_MAX:
        raise InfraError(
            f"{AGENT_LINK_SECRET_KEY} must be {AGENT_LINK_SECRET_MIN} to "
            f"{AGENT_LINK_SECRET_MAX} characters long (it has {len(secret)}); "
            "generate one with `openssl rand -base64 32`"
        )
    return secret


def _flag(value: object) -> bool:
    return value is True or str(value).lower() == "true"


@dataclass(frozen=True, slots=True)
class StackFile:
    """The plain (non-secret) config of ``Pulumi.<stack>.yaml`` over ``Pulumi.yaml`` defaults.

    Secrets are encrypted in the file and unreadable without Pulumi: ``get`` returns None for
    them, so credentials then come from the environment.
    """

    name: str
    values: Mapping[str, Any]

    def get(self, key: str) -> Any:
        value = self.values.get(key)
        return None if isinstance(value, dict) else value  # {secure: ...} is a secret

    def settings(self) -> StackSettings:
        return stack_settings(self.name, self.get)


def read_stack_file(project_dir: Path, stack: str) -> StackFile:
    """``Pulumi.<stack>.yaml`` of the project in ``project_dir`` (missing file or empty stack
    name: the defaults only).

    ``stack`` may be ``org/project/name`` or ``org/name``; the file is named after the last
    part, as Pulumi names it.
    """
    import yaml

    name = stack.rsplit("/", 1)[-1]
    if name and not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise InfraError(f"stack name {stack!r} has characters Pulumi does not allow")
    values: dict[str, Any] = {}
    project = _yaml_mapping(project_dir / "Pulumi.yaml", yaml)
    namespace = str(project.get("name") or "")
    for key, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            full = key if ":" in key else f"{namespace}:{key}"
            values[full.replace(f"{namespace}:", "failover:", 1)] = spec["default"]
    if name:
        stack_file = _yaml_mapping(project_dir / f"Pulumi.{name}.yaml", yaml)
        values.update(stack_file.get("config") or {})
    return StackFile(name=name, values=values)


def _yaml_mapping(path: Path, yaml: Any) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InfraError(f"{path.name}: cannot read it ({type(exc).__name__})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InfraError(f"{path.name}: expected a mapping at the top level")
    return data
