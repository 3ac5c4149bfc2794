"""The agents of a stack's call queues, live: who is On Duty, since when; set duty; links.

Read by ``failover agents`` and the on-duty warning of ``failover drift``. Twilio fields
relied on (Twilio's OpenAPI ``twilio_taskrouter_v1.json``, Worker): ``friendly_name`` (the
agent id, as the ``CallQueue`` provider names workers), ``activity_name``, ``available``
("Whether the Worker is available to perform tasks"), ``date_status_changed`` ("The date and
time … of the Worker's last status change"); Worker update ``ActivitySid`` and
``RejectPendingReservations`` (only with an activity whose availability is false). A worker
list is one request per 1,000 workers (``PageSize`` up to 1000, twilio.md §1.6).

Must not import: pulumi, infra.lines, infra.providers, infra.cli.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.account.live import stack_service
from infra.errors import InfraError
from infra.model import Line, LinesConfig, Severity
from infra.naming import (
    AGENT_LINK_SECRET_VARIABLE,
    OFF_DUTY,
    ON_DUTY,
    SHARED_ENV,
    workspace_name,
)
from infra.twilio.client import Twilio
from infra.twilio.values import text
from infra.twilio.variables import read_variable


@dataclass(frozen=True, slots=True)
class LiveAgent:
    """One worker as TaskRouter has it now."""

    id: str
    worker_sid: str
    activity: str
    available: bool
    since: str
    """``date_status_changed`` as Twilio gives it (ISO 8601, UTC); "" when unknown."""


@dataclass(frozen=True, slots=True)
class Roster:
    """The stack's workspace and its workers by agent id (only agents of lines.yaml)."""

    workspace_sid: str
    agents: dict[str, LiveAgent]
    activities: dict[str, str]
    """Activity friendly name -> SID."""


def find_workspace(tw: Twilio, config: LinesConfig) -> str:
    """SID of the stack's TaskRouter workspace (one request); InfraError when not deployed."""
    name = workspace_name(config.account)
    spaces = tw.rest.taskrouter.v1.workspaces
    with tw.errors("stack", f"look up TaskRouter workspace {name!r}", writes=False):
        found = [
            w for w in spaces.list(friendly_name=name, page_size=100) if w.friendly_name == name
        ]
    if not found:
        raise InfraError(f"TaskRouter workspace {name} is missing: deploy the stack first")
    return text(found[0].sid)


def read_roster(tw: Twilio, config: LinesConfig) -> Roster:
    """Workers of the stack's workspace; InfraError when the workspace is not deployed."""
    workspace_sid = find_workspace(tw, config)
    ws = tw.rest.taskrouter.v1.workspaces(workspace_sid)
    wanted = {agent.id.casefold(): agent.id for agent in config.agents}
    with tw.errors("stack", "list TaskRouter workers", writes=False):
        workers = list(ws.workers.list(page_size=1000))
    with tw.errors("stack", "list TaskRouter activities", writes=False):
        activities = {text(a.friendly_name): text(a.sid) for a in ws.activities.list(page_size=100)}
    agents = {}
    for worker in workers:
        agent_id = wanted.get(text(worker.friendly_name).casefold())
        if agent_id is not None:
            since = worker.date_status_changed
            agents[agent_id] = LiveAgent(
                id=agent_id,
                worker_sid=text(worker.sid),
                activity=text(worker.activity_name),
                available=bool(worker.available),
                since=since.strftime("%Y-%m-%dT%H:%M:%SZ") if since else "",
            )
    return Roster(workspace_sid, agents, activities)


def set_duty(tw: Twilio, roster: Roster, agent_id: str, on: bool) -> None:
    """Move the agent's worker to On Duty or Off Duty (Off also rejects a call ringing them
    now, so it goes to the next agent)."""
    label = ON_DUTY if on else OFF_DUTY
    activity = roster.activities.get(label)
    if activity is None:
        raise InfraError(f"TaskRouter workspace has no {label!r} activity: deploy the stack first")
    kwargs: dict[str, object] = {"activity_sid": activity}
    if not on:
        kwargs["reject_pending_reservations"] = True
    worker = roster.agents[agent_id]
    workers = tw.rest.taskrouter.v1.workspaces(roster.workspace_sid).workers
    with tw.errors(f"agent {agent_id}", f"set TaskRouter worker {worker.worker_sid} {label}"):
        workers(worker.worker_sid).update(**kwargs)


def stack_page(tw: Twilio, config: LinesConfig, stack: str | None) -> tuple[str, str | None]:
    """(domain, link secret) of the stack's Serverless environment; the secret is the live
    ``AGENT_LINK_SECRET`` the ``/agents`` Function checks (None when not set)."""
    found = stack_service(tw, config.account, stack)
    if isinstance(found, str):
        raise InfraError(f"Serverless service {found} is missing: deploy the stack first")
    unique, service_sid = found
    environments = tw.rest.serverless.v1.services(service_sid).environments
    with tw.errors("stack", "list Serverless environments", writes=False):
        envs = [e for e in environments.list(page_size=100) if text(e.unique_name) == SHARED_ENV]
    if not envs:
        raise InfraError(f"Serverless service {unique} has no {SHARED_ENV} environment")
    secret = read_variable(tw, "stack", service_sid, text(envs[0].sid), AGENT_LINK_SECRET_VARIABLE)
    return text(envs[0].domain_name), secret


def on_duty_warnings(config: LinesConfig, severity: Severity, roster: Roster) -> list[str]:
    """At severity severe, one warning per queued line that nobody On Duty serves: its
    callers go straight to voicemail (``/queue-wait`` leaves at once)."""
    if severity is not Severity.SEVERE:
        return []
    warnings = []
    for line in config.queued_lines:
        if line.queue is None:
            continue
        if not on_duty(line, roster):
            names = ", ".join(line.queue.agents)
            warnings.append(
                f"line {line.id}: no agent is On Duty ({names}) while the stack is severe; "
                "its queued callers go straight to voicemail"
            )
    return warnings


def on_duty(line: Line, roster: Roster) -> list[str]:
    """The agents of ``line``'s queue who are On Duty now (available), in declared order."""
    agents = line.queue.agents if line.queue else ()
    return [a for a in agents if roster.agents.get(a) and roster.agents[a].available]
