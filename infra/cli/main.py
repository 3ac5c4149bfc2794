"""argv → subcommand → exit code; known errors become one readable block, never a traceback.

Follows httpie's raw_main: ``InfraError`` prints as ``failover: error: …``; anything
unexpected prints as ``Type: message`` with a hint to rerun with ``--traceback``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from infra import __version__
from infra.cli import diff, drift, import_, plan, stack_config, validate, voicemails
from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.errors import ConfigError, InfraError, summarize

SUBCOMMANDS: dict[str, ModuleType] = {
    "validate": validate,
    "plan": plan,
    "diff": diff,
    "drift": drift,
    "import": import_,
    "voicemails": voicemails,
    "stack-config": stack_config,
}
"""Each module has HELP (one line), add_arguments(parser) and run(args, env) -> ExitCode."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="failover",
        description="Twilio voice failover as code: check lines.yaml and show what each line does when its call server fails.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the Python traceback of unexpected errors"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP)
        sub.add_argument("--traceback", action="store_true", help=argparse.SUPPRESS)
        module.add_arguments(sub)
    return parser


def _parse(argv: Sequence[str], env: Env) -> argparse.Namespace | ExitCode:
    parser = build_parser()
    with contextlib.redirect_stdout(env.stdout), contextlib.redirect_stderr(env.stderr):
        try:
            return parser.parse_args(list(argv))
        except SystemExit as exit_:
            return ExitCode.OK if exit_.code in (0, None) else ExitCode.USAGE


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> ExitCode:
    """Run one command; return its exit code (never raises, unless --traceback)."""
    env = env or Env()
    parsed = _parse(sys.argv[1:] if argv is None else argv, env)
    if isinstance(parsed, ExitCode):
        return parsed
    runner: Callable[[argparse.Namespace, Env], ExitCode] = SUBCOMMANDS[parsed.command].run
    try:
        return runner(parsed, env)
    except KeyboardInterrupt:
        env.err("failover: interrupted")
        return ExitCode.INTERRUPTED
    except ConfigError as exc:
        print_diagnostics(exc, env)
        return ExitCode.ERROR
    except InfraError as exc:
        env.err(f"failover: error: {exc}")
        return ExitCode.ERROR
    except Exception as exc:  # noqa: BLE001 - the one place that turns crashes into a message
        if parsed.traceback:
            raise
        env.err(f"failover: {type(exc).__name__}: {exc}")
        env.err("This is a bug in failover; rerun with --traceback and report it.")
        return ExitCode.ERROR


def print_diagnostics(exc: ConfigError, env: Env) -> None:
    for diagnostic in exc.diagnostics:
        env.err(str(diagnostic))
    env.err(summarize(exc.diagnostics))


def run() -> None:
    """Console-script entry point."""
    sys.exit(int(main()))
