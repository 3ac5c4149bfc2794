"""``failover agents [list|on|off|links|sweep] [AGENT...]``: the call queues' agents, live.

- ``list`` (default): per queued line, each agent's live activity (On Duty / Off Duty) and
  since when; at severity severe (``--stack``'s ``failover:severity`` or ``--severity``), a
  warning for each queued line nobody On Duty serves (callers go straight to voicemail).
- ``on`` / ``off AGENT...``: set agents On or Off Duty (needs credentials that may update
  TaskRouter workers; an admin's). Off also rejects a call ringing that agent now.
- ``links [AGENT...]``: each agent's personal page link, signed with the secret the deployed
  ``/agents`` Function checks (read from the stack's Serverless environment, never printed).
  Rotate ``failover:agentLinkSecret`` and ``pulumi up`` to revoke every link.
- ``sweep [--dry-run]``: complete the queue tasks still ``assigned``/``wrapping`` after their
  caller's call ended, which hold an agent's capacity so TaskRouter offers them no call
  (``infra.account.sweep``: the backstop for a lost ``/agent-status`` callback). Tasks whose
  call is still on or cannot be read are listed and left alone.

Exit codes: 0 done (sweep: nothing stuck, or all completed), 1 Twilio failure or nothing
deployed, 2 unknown agent id (nothing changed), 3 ``sweep --dry-run`` found stuck tasks.
Must not import: twilio (the account is read through infra.account only).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from infra.account.agents import (
    Roster,
    find_workspace,
    on_duty_warnings,
    read_roster,
    set_duty,
    stack_page,
)
from infra.account.sweep import OpenTask, complete, open_tasks
from infra.agent_links import agent_link
from infra.cli.env import Env
from infra.cli.options import add_format
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.errors import InfraError
from infra.lines.load import load_config
from infra.model import LinesConfig, Severity
from infra.stack import DEFAULT_LINES_FILE, deprecated_key_warnings, read_stack_file
from infra.twilio.client import connect

HELP = "list the call queues' agents live (On/Off Duty, since when), set their duty, print their page links, sweep stuck tasks"

EXAMPLES = """  failover agents --stack prod                 # who is On Duty, per queued line
  failover agents off bob                      # bob is Off Duty (admins)
  failover agents links alice --stack prod     # alice's personal page link
  failover agents sweep --dry-run              # tasks whose call ended but that hold an agent"""

ACTIONS = ("list", "on", "off", "links", "sweep")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action", nargs="?", choices=ACTIONS, default="list", help="what to do (default: list)"
    )
    parser.add_argument(
        "agents",
        nargs="*",
        metavar="AGENT",
        help="agent ids (on/off: required; links: default all)",
    )
    parser.add_argument(
        "--file", metavar="FILE", help="the lines file (default: the stack's, else lines.yaml)"
    )
    parser.add_argument(
        "--stack",
        metavar="NAME",
        help="Pulumi stack; its Pulumi.NAME.yaml gives the lines file and severity (default: the only deployed stack)",
    )
    parser.add_argument(
        "--severity",
        choices=[s.value for s in Severity],
        help="the severity the stack is deployed with (default: the stack's failover:severity, else minor)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="sweep: list the stuck tasks without completing them (exit 3 when there are some)",
    )
    add_format(parser)


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    stack = read_stack_file(env.cwd, args.stack) if args.stack else None
    settings = stack.settings() if stack else None
    file = args.file or (settings.lines_file if settings else DEFAULT_LINES_FILE)
    config, warnings = load_config(env.path(file), file)
    for warning in warnings:
        env.err(str(warning))
    queued = _queued_agents(config)
    if not queued:
        raise InfraError(f"{file} has no line with a queue: there are no agents to show")
    unknown = [a for a in args.agents if a not in queued]
    if unknown:
        env.err(
            f"failover agents: unknown agent {', '.join(unknown)}; agents of queued lines: {', '.join(queued)}"
        )
        return ExitCode.USAGE
    if args.action == "sweep" and args.agents:
        env.err("failover agents sweep: takes no agent ids; it sweeps every queue of the stack")
        return ExitCode.USAGE
    if args.action in ("on", "off") and not args.agents:
        env.err(
            f"failover agents {args.action}: name the agents, e.g. `failover agents {args.action} {queued[0]}`"
        )
        return ExitCode.USAGE
    for deprecated in deprecated_key_warnings(stack.get) if stack else []:
        env.err(f"warning: {deprecated}")
    tw = connect(env.environ, stack=stack)
    if args.action == "links":
        domain, secret = stack_page(tw, config, args.stack)
        if secret is None:
            raise InfraError(
                "the stack has no agent link secret: set it with `pulumi config set --secret "
                'failover:agentLinkSecret "$(openssl rand -base64 32)"` and run `pulumi up`'
            )
        links = {a: agent_link(domain, a, secret) for a in (args.agents or queued)}
        env.out(_links(config, links, args.format))
        return ExitCode.OK
    if args.action == "sweep":
        return _sweep(tw, find_workspace(tw, config), args.dry_run, args.format, env)
    roster = read_roster(tw, config)
    missing = [a for a in (args.agents or queued) if a not in roster.agents]
    if missing:
        raise InfraError(
            f"no TaskRouter worker for agent {', '.join(missing)}: deploy the stack first"
        )
    if args.action in ("on", "off"):
        for agent_id in args.agents:
            set_duty(tw, roster, agent_id, args.action == "on")
        roster = read_roster(tw, config)
    severity = (
        Severity(args.severity)
        if args.severity
        else (settings.severity if settings else Severity.MINOR)
    )
    problems = on_duty_warnings(config, severity, roster)
    for problem in problems:
        env.err(f"warning: {problem}")
    env.out(_listing(config, roster, problems, args.format))
    return ExitCode.OK


def _sweep(tw: Any, workspace_sid: str, dry_run: bool, fmt: str, env: Env) -> ExitCode:
    tasks = open_tasks(tw, workspace_sid)
    stuck = [task for task in tasks if task.stuck]
    if not dry_run:
        for task in stuck:
            complete(tw, workspace_sid, task)
    env.out(_swept(tasks, dry_run, fmt))
    return ExitCode.CHANGES if dry_run and stuck else ExitCode.OK


def _action(task: OpenTask, dry_run: bool) -> str:
    if not task.stuck:
        return "left: the call is still on" if task.call_status else "left: no call to check"
    return "would complete" if dry_run else "completed"


def _swept(tasks: list[OpenTask], dry_run: bool, fmt: str) -> str:
    rows = [
        {
            "task": t.sid, "line": t.line, "assignment_status": t.assignment_status,
            "age_s": t.age_s, "call_sid": t.call_sid, "call_status": t.call_status or None,
            "action": _action(t, dry_run),
        }
        for t in tasks
    ]  # fmt: skip
    stuck = sum(1 for t in tasks if t.stuck)
    verb = "would complete" if dry_run else "completed"
    summary = f"{len(tasks)} open task{'' if len(tasks) == 1 else 's'}; {verb} {stuck}"
    if fmt == "json":
        document = {"format_version": FORMAT_VERSION, "dry_run": dry_run, "tasks": rows}
        return json.dumps(document, indent=2)
    if fmt == "markdown":
        out = ["| Task | Line | Status | Age | Caller's call | Action |", "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        out += [
            f"| `{r['task']}` | {r['line']} | {r['assignment_status']} | {r['age_s']} s | "
            f"{r['call_status'] or 'unknown'} | {r['action']} |"
            for r in rows
        ]
        return "\n".join([*out, "", summary]) if rows else summary
    out = [
        f"{r['task']}  line {r['line'] or '?'}  {r['assignment_status']} for {r['age_s']} s  "
        f"call {r['call_status'] or 'unknown'}: {r['action']}"
        for r in rows
    ]
    return "\n".join([*out, summary])


def _queued_agents(config: LinesConfig) -> list[str]:
    serving = {a for line in config.queued_lines if line.queue for a in line.queue.agents}
    return [agent.id for agent in config.agents if agent.id in serving]


def _rows(config: LinesConfig, roster: Roster) -> list[dict[str, Any]]:
    rows = []
    for line in config.queued_lines:
        for agent_id in line.queue.agents if line.queue else ():
            live = roster.agents[agent_id]
            rows.append(
                {
                    "line": line.id,
                    "agent": agent_id,
                    "name": config.agent(agent_id).name,
                    "activity": live.activity,
                    "on_duty": live.available,
                    "since": live.since or None,
                }
            )
    return rows


def _listing(config: LinesConfig, roster: Roster, problems: list[str], fmt: str) -> str:
    rows = _rows(config, roster)
    if fmt == "json":
        document = {"format_version": FORMAT_VERSION, "agents": rows, "warnings": problems}
        return json.dumps(document, indent=2, ensure_ascii=False)
    if fmt == "markdown":
        out = ["| Line | Agent | Activity | Since (UTC) |", "| --- | --- | --- | --- |"]
        out += [
            f"| {r['line']} | {r['name']} (`{r['agent']}`) | {r['activity']} | {r['since'] or ''} |"
            for r in rows
        ]
        return "\n".join(out + [f"\n> **Warning:** {p}" for p in problems])
    out = []
    for line in config.queued_lines:
        out.append(f"{line.id}  {line.display_name}")
        for r in (r for r in rows if r["line"] == line.id):
            since = f"  since {r['since']}" if r["since"] else ""
            out.append(f"  {r['agent']:<12} {r['activity']:<10}{since}")
    return "\n".join(out)


def _links(config: LinesConfig, links: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({"format_version": FORMAT_VERSION, "links": links}, indent=2)
    if fmt == "markdown":
        return "\n".join(f"- {config.agent(a).name} (`{a}`): <{url}>" for a, url in links.items())
    return "\n".join(f"{a:<12} {url}" for a, url in links.items())
