"""``failover diff --base REF [FILE]``: what a pull request changes, line by line, in plain words.

Compares FILE at a git ref with the working copy (or with ``--head REF``). ``--format
markdown`` is ready to post as a PR comment, with a Mermaid diagram of the changed routes; it
summarises a change repeated on many lines and stays under GitHub's comment limit at any size
(``infra.review``), and ``--details FILE`` writes every line's change in full. The safety
brake (share of lines rerouted, removals) gives its own exit code.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from datetime import datetime
from pathlib import PurePosixPath

from infra.cli.env import Env
from infra.cli.options import add_details, add_file, add_format, add_severity
from infra.cli.status import ExitCode
from infra.cli.validate import FORMAT_VERSION
from infra.compare import ChangeKind, LineChange, compare
from infra.errors import ConfigError, Diagnostic, InfraError, Level, SourceRef
from infra.expiry import early_test_warning, expired_tests
from infra.lines.audio import MAX_AUDIO_BYTES
from infra.lines.load import load_bytes, load_config
from infra.lines.source import MAX_BYTES
from infra.model import LinesConfig, Severity
from infra.review import code, diff_details, diff_markdown, md_text
from infra.safe_write import write_stamped
from infra.safety import DEFAULT_MAX_CHANGE_SHARE, Brake, brake_reasons

HELP = "compare lines.yaml at a git ref with the working copy and say, per line, what changes"
SIGN = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.CHANGED: "~"}

EXAMPLES = """  failover diff --base origin/main                # what this branch changes, per line
  failover diff --base main --format markdown     # the pull-request comment
  failover diff --base main --format markdown --details lines-diff.md   # and every line in full
  failover diff --base main --allow-removals      # accept removing lines"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_file(parser)
    parser.add_argument(
        "--base", required=True, metavar="REF", help="git ref to compare against, e.g. origin/main"
    )
    parser.add_argument(
        "--head",
        metavar="REF",
        help="compare with the file at this ref instead of the working copy",
    )
    add_severity(parser, "describe failover at this severity")
    add_format(parser)
    add_details(parser)
    parser.add_argument(
        "--max-change-share",
        type=float,
        default=DEFAULT_MAX_CHANGE_SHARE,
        metavar="SHARE",
        help=f"largest share of lines whose failover may change (default: {DEFAULT_MAX_CHANGE_SHARE})",
    )
    parser.add_argument(
        "--allow-removals",
        action="store_true",
        help="removing lines does not trip the safety brake",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="report brake reasons but do not exit with the brake's code",
    )
    parser.add_argument(
        "--deployed",
        metavar="FILE",
        help="JSON of when each line's failover was deployed (`pulumi stack output "
        "route_deployed_at --json`): warns when a test starts less than 24 h after it",
    )


def _git_show(env: Env, ref: str, file: str, limit: int = MAX_BYTES) -> bytes | None:
    """The file's bytes at ``ref`` (at most ``limit`` + 1), or None when it did not exist there."""
    from infra.git_refs import ref_problem

    problem = ref_problem(ref)
    if problem:
        raise InfraError(f"--base/--head {problem}")
    path = env.path(file)
    try:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            # The ref is checked above and, after --end-of-options, can never be an option.
            ["git", "-C", str(path.parent), "show", "--end-of-options", f"{ref}:./{path.name}"],  # noqa: S607
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise InfraError("git is not installed; diff needs it to read the base version") from exc
    with proc:
        blob = proc.stdout.read(limit + 1) if proc.stdout else b""
        if len(blob) > limit:  # never read more than a lines file (or a recording) may hold
            proc.kill()
            return blob
        stderr = proc.stderr.read() if proc.stderr else b""
    if proc.returncode == 0:
        return blob
    message = stderr.decode("utf-8", "replace").strip()
    if "exists on disk, but not in" in message or "does not exist in" in message:
        return None
    raise InfraError(
        f"cannot read {file} at {ref}: {message.splitlines()[-1] if message else 'git failed'}"
    )


def _load_at(env: Env, ref: str, file: str) -> LinesConfig | None:
    raw = _git_show(env, ref, file)
    if raw is None:
        return None
    folder = PurePosixPath(file).parent

    def recording(path: str) -> bytes | None:
        """A recording at ``ref`` (so diff sees a changed file); None when unreadable."""
        try:
            return _git_show(env, ref, str(folder / path), MAX_AUDIO_BYTES)
        except InfraError:
            return None

    try:
        config, _ = load_bytes(raw, f"{file}@{ref}", recording)
    except ConfigError as exc:
        raise ConfigError([*exc.diagnostics, _base_hint(file, ref)]) from exc
    return config


def _base_hint(file: str, ref: str) -> Diagnostic:
    return Diagnostic(
        SourceRef(f"{file}@{ref}", 1, 1),
        Level.ERROR,
        f"the base version at {ref} is invalid; fix it there or compare against another ref",
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    severity = Severity(args.severity)
    old = _load_at(env, args.base, args.file)
    if args.head:
        new = _load_at(env, args.head, args.file)
        if new is None:
            raise InfraError(f"{args.file} does not exist at {args.head}")
    else:
        new, _ = load_config(env.path(args.file), args.file)
    changes = compare(old, new, severity)
    notes = _test_warnings(old, new, changes, _deployed(env, args.deployed), env.now())
    reasons = brake_reasons(
        removed=[c.line_id for c in changes if c.kind is ChangeKind.REMOVED],
        rerouted=[
            c.line_id
            for c in changes
            if c.kind is ChangeKind.CHANGED and c.failover_changed and c.line_id != "*"
        ],
        existing_lines=len(old.lines) if old else 0,
        brake=Brake(max_change_share=args.max_change_share, allow_removals=args.allow_removals),
        account_renamed=any(c.line_id == "*" for c in changes),
        removal_hint="pass --allow-removals",
        force_hint="pass --max-change-share or --force",
    )
    if args.details:  # first: a file in the way stops the run before any report is printed
        text = diff_details(heading=_heading(args, changes), changes=changes, reasons=reasons)
        write_stamped(env.path(args.details), text, what="diff --details", shown=args.details)
        env.err(f"wrote every line's change to {args.details}")
    render = {"json": _json, "markdown": _markdown}.get(args.format, _text)
    report = render(args, new, changes, reasons, severity)
    if args.format == "json":
        document = json.loads(report)
        document["warnings"] = notes
        report = json.dumps(document, indent=2, ensure_ascii=False)
    elif args.format == "markdown":
        report += "".join(f"\n\n> [!WARNING]\n> {md_text(note)}" for note in notes)
    else:
        report += "".join(f"\nwarning: {note}" for note in notes)
    env.out(report)
    if reasons and not args.force:
        return ExitCode.UNSAFE
    return ExitCode.CHANGES if changes else ExitCode.OK


def _deployed(env: Env, name: str | None) -> dict[str, str]:
    """``--deployed FILE``: line id → ISO time its failover was deployed (the ledger's record,
    exported by the program as ``route_deployed_at``); empty without the option."""
    if name is None:
        return {}
    try:
        data = json.loads(env.path(name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InfraError(
            f"cannot read --deployed {name}: {exc.__class__.__name__}; write it with "
            "`pulumi stack output route_deployed_at --json > FILE`"
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise InfraError(
            f"--deployed {name} must be a JSON object of line id → time, as "
            "`pulumi stack output route_deployed_at --json` prints it"
        )
    try:
        for value in data.values():
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InfraError(f"--deployed {name} holds a time that is not ISO 8601") from None
    return data


def _test_warnings(
    old: LinesConfig | None,
    new: LinesConfig,
    changes: list[LineChange],
    deployed: dict[str, str],
    now: datetime,
) -> list[str]:
    """Expired tests anywhere in the file, and tests that start in this change less than 24 h
    after the line's failover was deployed (when the change does not itself set the failover:
    that case is already a change warning)."""
    notes = [expired.sentence() for expired in expired_tests(new, now)]
    before = {line.id: line for line in old.lines} if old else {}
    warned = {c.line_id for c in changes if c.warnings}
    for line in new.lines:
        previous = before.get(line.id)
        starts = line.test and previous is not None and not previous.test
        if starts and line.id not in warned:
            note = early_test_warning(line, deployed.get(line.id), now)
            if note:
                notes.append(note)
    return notes


def _counts(changes: list[LineChange]) -> str:
    counted = {kind: sum(c.kind is kind for c in changes) for kind in ChangeKind}
    return ", ".join(f"{n} {kind.value}" for kind, n in counted.items() if n) or "no changes"


def _text(
    args: argparse.Namespace,
    new: LinesConfig,
    changes: list[LineChange],
    reasons: list[str],
    severity: Severity,
) -> str:
    target = args.head or "working copy"
    out = [f"{args.file}: {args.base} → {target} ({_counts(changes)})"]
    for change in changes:
        out.append(f"{SIGN[change.kind]} {change.line_id}")
        out.extend(f"    {detail}" for detail in change.details)
    out.extend(f"warning: {w}" for c in changes for w in c.warnings)
    out.extend(f"safety brake: {reason}" for reason in reasons)
    return "\n".join(out)


def _json(
    args: argparse.Namespace,
    new: LinesConfig,
    changes: list[LineChange],
    reasons: list[str],
    severity: Severity,
) -> str:
    return json.dumps(
        {
            "format_version": FORMAT_VERSION,
            "file": args.file,
            "base": args.base,
            "head": args.head,
            "severity": severity.value,
            "changes": [
                {
                    "line": c.line_id,
                    "kind": c.kind.value,
                    "details": list(c.details),
                    "failover_changed": c.failover_changed,
                    "warnings": list(c.warnings),
                }
                for c in changes
            ],
            "safety_brake": reasons,
        },
        indent=2,
        ensure_ascii=False,
    )


def _heading(args: argparse.Namespace, changes: list[LineChange]) -> str:
    return f"### Phone line changes in {code(args.file)} ({_counts(changes)})"


def _markdown(
    args: argparse.Namespace,
    new: LinesConfig,
    changes: list[LineChange],
    reasons: list[str],
    severity: Severity,
) -> str:
    routed = {c.line_id for c in changes if c.kind is not ChangeKind.REMOVED}
    return diff_markdown(
        heading=_heading(args, changes),
        changes=changes,
        reasons=reasons,
        routed=[line for line in new.lines if line.id in routed],
        severity=severity,
        details=args.details,
    )
