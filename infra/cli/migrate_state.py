"""``failover migrate-state``: move a 0.2 stack's state to the 0.3 resources, offline.

Runs ``pulumi stack export`` (kept next to Pulumi.yaml as ``.failover-backup-<stack>-<utc>.json``,
never overwritten), moves every ``PhoneNumberFailover`` into its ``PhoneNumberBatch``
(``infra.migrate``: the numbers' pre-tool settings are carried verbatim), shows what moves,
and unless ``--dry-run`` runs ``pulumi stack import --file`` with the result (also kept, as
``.failover-migrated-<stack>-<utc>.json``). Makes no Twilio call. Secrets stay encrypted: the
export is taken without ``--show-secrets``. README "Upgrading from 0.2" gives the whole path.
Pulumi documents this export/edit/import loop for correcting a stack's state
(https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack_export/ and
https://www.pulumi.com/docs/iac/cli/commands/pulumi_stack_import/, ``--file``).

Undo (before the next ``pulumi up``): ``pulumi stack import --file <the backup>``.
Must not import: twilio, pulumi (the Pulumi CLI is run as a program).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.errors import InfraError
from infra.migrate import Migration, migrate

HELP = "move a 0.2 stack's Pulumi state to the 0.3 number batches (offline; keeps a backup)"

EXAMPLES = """  failover migrate-state --stack prod --dry-run   # export, back up, show what moves
  failover migrate-state --stack prod             # then: pulumi up, failover drift
"""

PULUMI_TIMEOUT_S = 600


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack", metavar="NAME", default="", help="the Pulumi stack (default: the selected one)"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="export, back up and show what moves, but do not import the result",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default: text)"
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    project = env.cwd
    if not (project / "Pulumi.yaml").is_file():
        raise InfraError(
            "no Pulumi.yaml here: run `failover migrate-state` in the directory of the Pulumi "
            "project (where `pulumi up` runs)"
        )
    pulumi = _pulumi(env)
    stack_args = ["--stack", args.stack] if args.stack else []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", args.stack) or "current"

    exported = _call(env, [pulumi, "stack", "export", *stack_args], "pulumi stack export")
    backup = _write_new(project, f".failover-backup-{label}-{stamp}", exported)
    try:
        checkpoint = json.loads(exported)
    except ValueError as exc:
        raise InfraError(
            f"`pulumi stack export` did not print JSON ({exc}); backup: {backup.name}"
        ) from None
    result = migrate(checkpoint)
    text = json.dumps(result.checkpoint, indent=2, sort_keys=True) + "\n"
    migrated = _write_new(project, f".failover-migrated-{label}-{stamp}", text)
    if not args.dry_run:
        _call(
            env,
            [pulumi, "stack", "import", *stack_args, "--file", str(migrated)],
            "pulumi stack import",
        )
    _report(env, args, result, backup, migrated)
    return ExitCode.OK


def _pulumi(env: Env) -> str:
    found = shutil.which("pulumi", path=env.environ.get("PATH"))
    if found is None:
        raise InfraError(
            "the Pulumi CLI (`pulumi`) is not on PATH: install it "
            "(https://www.pulumi.com/docs/iac/download-install/) and log in to the stack's backend"
        )
    return found


def _call(env: Env, argv: list[str], what: str) -> str:
    try:
        proc = subprocess.run(  # noqa: S603 - fixed argv, no shell
            argv,
            cwd=env.cwd,
            env=env.environ,
            capture_output=True,
            text=True,
            timeout=PULUMI_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InfraError(f"`{what}` could not run: {exc}") from None
    if proc.returncode != 0:
        detail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        raise InfraError(f"`{what}` failed (exit {proc.returncode}):\n{detail}")
    return proc.stdout


def _write_new(directory: Path, stem: str, text: str) -> Path:
    """Write ``text`` to ``<stem>.json`` (or ``<stem>-N.json``), never over an existing file."""
    for attempt in range(100):
        path = directory / (f"{stem}.json" if attempt == 0 else f"{stem}-{attempt}.json")
        try:
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            continue
        return path
    raise InfraError(f"could not find a free file name for {stem}.json in {directory}")


def _report(
    env: Env, args: argparse.Namespace, result: Migration, backup: Path, migrated: Path
) -> None:
    if args.format == "json":
        doc: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "stack": args.stack or None,
            "backup": backup.name,
            "migrated": migrated.name,
            "imported": not args.dry_run,
            "lines": result.lines,
            "kept": result.kept,
            "batches": result.batches,
        }
        env.out(json.dumps(doc, sort_keys=True))
        return
    env.out(f"backup of the current state: {backup.name}")
    env.out(
        f"{result.lines} line(s) move from PhoneNumberFailover into "
        f"{len(result.batches)} PhoneNumberBatch resource(s), with their original voice "
        "settings:"
    )
    for name, lines in result.batches.items():
        env.out(f"  {name}: {len(lines)} line(s) ({', '.join(lines)})")
    env.out(
        f"{result.kept} other resource(s) stay as they are; the next `pulumi up` re-points "
        "the numbers, then deletes the old flows and documents"
    )
    if args.dry_run:
        env.out(f"dry run: nothing imported (the result is in {migrated.name})")
        return
    env.out(f"imported {migrated.name} into the stack")
    env.out(
        "next: `pulumi up` with an unchanged lines.yaml, then `failover drift`; to undo "
        f"before that up: pulumi stack import --file {backup.name}"
    )
