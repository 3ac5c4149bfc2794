"""In-memory state of one fake Twilio account: every resource the double serves, by SID.

Records are stored in the exact JSON shape Twilio returns for a fetch (snake_case keys,
``null`` vs ``""`` as in the spec examples), so tests can read them directly::

    d.state.numbers["PN…"]["voice_fallback_url"]
    d.state.flows["FW…"]["revision"]
    d.state.flow_revisions["FW…"][0]            # revision 1
    d.state.environments["ZE…"]["build_sid"]
    d.state.files["ZN…"].data                   # bytes uploaded for an asset/function version

Dicts keep creation order, which is also the order lists are paged in. Resource ``url``
fields name the real Twilio hosts (``https://studio.twilio.com/…``): only paging links point
back at the double. Mutate state only while holding the double's lock (seed/edit helpers do).
Must not import: infra.*
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

Record = dict[str, Any]
Table = dict[str, Record]


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart upload (a Serverless asset or function version)."""

    filename: str | None
    content_type: str | None
    data: bytes


class SidFactory:
    """Deterministic, well-formed SIDs: two-letter prefix + 32 lowercase hex digits."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counter = itertools.count(1)

    def new(self, prefix: str) -> str:
        digest = hashlib.sha256(f"{self._seed}:{next(self._counter)}".encode()).hexdigest()
        return prefix + digest[:32]

    def digits(self, sid: str, count: int) -> str:
        """Stable pseudo-random decimal digits derived from a SID (e.g. a domain's 4 digits)."""
        number = int(hashlib.sha256(sid.encode()).hexdigest(), 16)
        return str(number % 10**count).zfill(count)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """ISO 8601 as Studio, TaskRouter and Serverless write it: ``2018-11-10T20:00:00Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc2822(moment: datetime) -> str:
    """RFC 2822 as API v2010 writes it: ``Thu, 30 Jul 2015 23:19:04 +0000``."""
    return format_datetime(moment).replace("-0000", "+0000")


@dataclass
class BuildProgress:
    """Where a Serverless build is on its way from ``building`` to its final status."""

    reads_left: int
    outcome: str  # "completed" or "failed"


@dataclass
class AccountState:
    """Everything one account holds. Attribute names are the public, documented structure."""

    account_sid: str
    sids: SidFactory
    # API v2010
    numbers: Table = field(default_factory=dict)
    calls: Table = field(default_factory=dict)
    recordings: Table = field(default_factory=dict)
    # Monitor v1
    alerts: Table = field(default_factory=dict)
    # Studio v2
    flows: Table = field(default_factory=dict)
    flow_revisions: dict[str, list[Record]] = field(default_factory=dict)
    # Serverless v1
    services: Table = field(default_factory=dict)
    environments: Table = field(default_factory=dict)
    variables: Table = field(default_factory=dict)
    assets: Table = field(default_factory=dict)
    functions: Table = field(default_factory=dict)
    asset_versions: Table = field(default_factory=dict)
    function_versions: Table = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)
    builds: Table = field(default_factory=dict)
    build_progress: dict[str, BuildProgress] = field(default_factory=dict)
    deployments: Table = field(default_factory=dict)
    # TaskRouter v1
    workspaces: Table = field(default_factory=dict)
    activities: Table = field(default_factory=dict)
    task_queues: Table = field(default_factory=dict)
    workflows: Table = field(default_factory=dict)
    workers: Table = field(default_factory=dict)
    task_channels: Table = field(default_factory=dict)
    # Voice v1 Dialing Permissions: ISO country code -> low-risk numbers enabled (dialing.py)
    dialing_permissions: dict[str, bool] = field(default_factory=lambda: {"US": True, "CA": True})
    # Creation sequence of every SID ever issued (paging cursors survive deletes).
    sequence: dict[str, int] = field(default_factory=dict)

    def new_sid(self, prefix: str) -> str:
        sid = self.sids.new(prefix)
        self.sequence[sid] = len(self.sequence)
        return sid

    def children(self, table: Table, parent_key: str, parent_sid: str) -> list[Record]:
        """Records of ``table`` whose ``parent_key`` field equals ``parent_sid``, in order."""
        return [record for record in table.values() if record.get(parent_key) == parent_sid]
