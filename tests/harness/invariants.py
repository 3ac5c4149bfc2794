"""Invariants of an account the tool manages, read from the Twilio double's state.

- :func:`normalised`: the account in a form two applies can be compared by. Every SID is
  replaced by the name of what it identifies (``flow:sales``, ``queue:main``), Serverless
  domains by their service and environment names, and what differs between two equally
  correct applies is dropped (dates, revisions, URLs of the records themselves, history
  such as builds, versions and deployments). What an environment *serves* is kept, path by
  path, as text.
- :func:`duplicate_names`: resources sharing a name that must be unique (a create repeated
  after an interrupted run would show up here, since :func:`normalised` keys by name).
- :class:`EntryWatcher`: register with ``double.on_write(watcher)``; after every write the
  double applies it checks every number and records each moment a voice URL or fallback
  pointed at a Studio flow or a Serverless document that did not exist (or was not
  deployed) at that moment. Customer URLs (any other host) are not checked.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.twilio_double import AccountState

SID = re.compile(r"\b[A-Z]{2}[0-9a-f]{32}\b")
VOLATILE = frozenset(
    {
        "sid",
        "account_sid",
        "date_created",
        "date_updated",
        "date_status_changed",
        "url",
        "links",
        "uri",
        "subresource_uris",
        "revision",
        "build_sid",  # which build is live is compared through what the environment serves
        "commit_message",  # carries a hash of the definition's SIDs; the definition is compared
    }
)
FLOW_URL = re.compile(r"^/v1/Accounts/(AC[0-9a-f]{32})/Flows/(FW[0-9a-f]{32})$")
ENTRY_FIELDS = ("voice_url", "voice_fallback_url")

# table -> (natural key fields, parent SID field or None); the key must be unique per parent
TABLES: dict[str, tuple[str, str | None]] = {
    "numbers": ("phone_number", None),
    "flows": ("friendly_name", None),
    "services": ("unique_name", None),
    "environments": ("unique_name", "service_sid"),
    "assets": ("friendly_name", "service_sid"),
    "functions": ("friendly_name", "service_sid"),
    "workspaces": ("friendly_name", None),
    "activities": ("friendly_name", "workspace_sid"),
    "task_queues": ("friendly_name", "workspace_sid"),
    "workflows": ("friendly_name", "workspace_sid"),
    "workers": ("friendly_name", "workspace_sid"),
    "task_channels": ("unique_name", "workspace_sid"),
}
HISTORY = {  # records that only accumulate; a retry may add some: labelled, not compared
    "asset_versions": "asset-version",
    "function_versions": "function-version",
    "builds": "build",
    "deployments": "deployment",
}


def _name(table: str, record: dict[str, Any]) -> str:
    key, _ = TABLES[table]
    name = str(record.get(key))
    return name.lower() if table == "workers" else name  # TaskRouter: case-insensitive


def _labels(state: AccountState) -> tuple[dict[str, str], dict[str, str]]:
    """SID -> label, and Serverless domain -> label."""
    sids = {state.account_sid: "account"}
    for table, (_, parent) in TABLES.items():
        for sid, record in getattr(state, table).items():
            owner = f"{record[parent]}/" if parent else ""  # parent SID, relabelled below
            sids[sid] = f"{table}:{owner}{_name(table, record)}"
    for table, label in HISTORY.items():
        for sid in getattr(state, table):
            sids[sid] = label
    raw = dict(sids)  # labels naming a parent by SID: name the parent instead
    sids = {
        sid: SID.sub(lambda m: raw.get(m.group(), m.group()), label) for sid, label in raw.items()
    }
    domains = {}
    for env in state.environments.values():
        service = state.services.get(env["service_sid"], {})
        domains[env["domain_name"]] = f"domain({service.get('unique_name')}/{env['unique_name']})"
    for service in state.services.values():
        domains[f"{service.get('domain_base')}"] = f"domain-base({service['unique_name']})"
    return sids, domains


class _Relabel:
    def __init__(self, state: AccountState) -> None:
        self.sids, self.domains = _labels(state)
        order = sorted(self.domains, key=len, reverse=True)  # env domains contain the base
        self._domain = re.compile("|".join(re.escape(d) for d in order)) if order else None

    def text(self, value: str) -> str:
        value = SID.sub(lambda m: self.sids.get(m.group(), "unknown:" + m.group()), value)
        if self._domain is not None:
            value = self._domain.sub(lambda m: self.domains[m.group()], value)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = json.loads(value) if value[:1] in "{[" else None
            except ValueError:
                parsed = None
            if parsed is not None:  # JSON text (flow definitions, workflow configuration)
                return {"json": self.value(parsed)}
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k): self.value(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


def normalised(state: AccountState) -> dict[str, Any]:
    """The account as comparable data (see the module docstring)."""
    relabel = _Relabel(state)
    out: dict[str, Any] = {}
    for table, (_, parent) in TABLES.items():
        rows = {}
        for record in getattr(state, table).values():
            owner = relabel.text(record[parent]) + "/" if parent else ""
            rows[owner + _name(table, record)] = {
                k: relabel.value(v) for k, v in sorted(record.items()) if k not in VOLATILE
            }
        out[table] = dict(sorted(rows.items()))
    served = {}
    for env in state.environments.values():
        build = state.builds.get(env.get("build_sid") or "")
        versions = (build["asset_versions"] + build["function_versions"]) if build else []
        served[relabel.text(env["sid"])] = {
            v["path"]: relabel.text(state.files[v["sid"]].data.decode("utf-8", "replace"))
            for v in sorted(versions, key=lambda v: v["path"])
        }
    out["served"] = served
    return out


def duplicate_names(state: AccountState) -> list[str]:
    """``table: parent/name x count`` for every name used more than once where it must be unique."""
    problems = []
    for table, (_, parent) in TABLES.items():
        names = Counter(
            (record.get(parent) if parent else None, _name(table, record))
            for record in getattr(state, table).values()
        )
        problems += [f"{table}: {p}/{n} x{c}" for (p, n), c in names.items() if c > 1]
    return problems


def entry_problems(state: AccountState) -> list[str]:
    """Numbers whose voice URL or fallback points at a missing flow or undeployed document."""
    problems = []
    served: dict[str, set[str]] = {}
    for env in state.environments.values():
        build = state.builds.get(env.get("build_sid") or "")
        versions = (build["asset_versions"] + build["function_versions"]) if build else []
        served[env["domain_name"].lower()] = {v["path"] for v in versions}
    for number in state.numbers.values():
        for key in ENTRY_FIELDS:
            url = number.get(key) or ""
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            reason = ""
            if host == "webhooks.twilio.com":
                match = FLOW_URL.match(parts.path)
                flow = state.flows.get(match.group(2)) if match else None
                if flow is None:
                    reason = "no such Studio flow"
                elif flow.get("status") != "published":
                    reason = f"flow is {flow.get('status')}"
            elif host.endswith(".twil.io"):
                if host not in served:
                    reason = "no such Serverless environment"
                elif parts.path not in served[host]:
                    reason = "not served by the environment's live build"
            if reason:
                problems.append(f"{number['phone_number']} {key}={url}: {reason}")
    return problems


@dataclass
class EntryWatcher:
    """``double.on_write(watcher)``: :func:`entry_problems` after every applied write."""

    problems: list[str] = field(default_factory=list)
    writes: int = 0

    def __call__(self, kind: str, state: AccountState) -> None:
        self.writes += 1
        self.problems += [f"after write {self.writes} ({kind}): {p}" for p in entry_problems(state)]
