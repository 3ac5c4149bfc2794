"""argv → subcommand → exit code; known errors become one readable block, never a traceback.

Follows httpie's raw_main: ``InfraError`` prints as ``failover: error: …``; anything
unexpected prints as ``Type: message`` with a hint to rerun with ``--traceback``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import NoReturn

from infra import __version__
from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.errors import ConfigError, InfraError, summarize
from infra.redact import scrub


class _Subcommands(Mapping[str, ModuleType]):
    """Subcommand name → module, imported on first use: `failover validate` never loads the
    modules (and libraries) of `drift` or `import`."""

    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = modules

    def __getitem__(self, name: str) -> ModuleType:
        return importlib.import_module(self._modules[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


SUBCOMMANDS = _Subcommands(
    {
        "validate": "infra.cli.validate",
        "plan": "infra.cli.plan",
        "diff": "infra.cli.diff",
        "drift": "infra.cli.drift",
        "check": "infra.cli.check",
        "import": "infra.cli.import_",
        "voicemails": "infra.cli.voicemails",
        "status": "infra.cli.outage",
        "agents": "infra.cli.agents",
        "init": "infra.cli.init",
        "stack-config": "infra.cli.stack_config",
        "migrate-state": "infra.cli.migrate_state",
        "completion": "infra.cli.completion",
    }
)
"""Each module has HELP (one line), add_arguments(parser) and run(args, env) -> ExitCode."""


EXIT_CODES = """exit codes:
  0  done; for diff and drift: no differences
  1  invalid input, or a Twilio failure (nothing is half-written by read-only commands)
  2  bad arguments
  3  diff or drift found differences; check: a line is not ready; status: a line is failing over now
  4  diff: the change crosses the safety brake
  130  interrupted"""

ENVIRONMENT = """environment (drift, check, import, voicemails, status, agents; validate, plan and diff need none):
  TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN, or with TWILIO_API_KEY and TWILIO_API_SECRET
  (values are never printed)"""

EXAMPLES = """examples:
  failover validate lines.yaml
  failover plan --format markdown --severity severe
  failover diff --base origin/main
  failover drift --stack prod --format markdown
  failover check --stack prod"""


class _Parser(argparse.ArgumentParser):
    """argparse with typo suggestions for subcommands and no abbreviated options.

    Abbreviations (``--sev``) break scripts as soon as a second option shares the prefix, so
    every option must be spelled out (``allow_abbrev=False``).
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        if "invalid choice" in message and "argument COMMAND" in message:
            import difflib  # only a mistyped command needs it; every run paid for it before

            typed = message.split("'")[1] if "'" in message else ""
            close = difflib.get_close_matches(typed, list(SUBCOMMANDS), n=1)
            if close:
                message += f" (did you mean {close[0]!r}?)"
        super().error(message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (``only``) one subcommand's in full and the others by name."""
    parser = _Parser(
        prog="failover",
        description="Twilio voice failover as code: check lines.yaml and show what each line does when its call server fails.",
        epilog=f"{EXAMPLES}\n\n{EXIT_CODES}\n\n{ENVIRONMENT}",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the Python traceback of unexpected errors"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for name in SUBCOMMANDS:
        if only is not None and name != only:
            commands.add_parser(name)
            continue
        module = SUBCOMMANDS[name]
        examples = getattr(module, "EXAMPLES", "").rstrip()
        epilog = (f"examples:\n{examples}\n\n" if examples else "") + EXIT_CODES
        sub = commands.add_parser(name, help=module.HELP, description=module.HELP, epilog=epilog)
        sub.add_argument("--traceback", action="store_true", help=argparse.SUPPRESS)
        module.add_arguments(sub)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named by the first argument that is not an option, if it is one."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in SUBCOMMANDS else None


def _parse(argv: Sequence[str], env: Env) -> argparse.Namespace | ExitCode:
    parser = build_parser(_command_of(argv))
    with contextlib.redirect_stdout(env.stdout), contextlib.redirect_stderr(env.stderr):
        try:
            return parser.parse_args(list(argv))
        except SystemExit as exit_:
            return ExitCode.OK if exit_.code in (0, None) else ExitCode.USAGE


def main(argv: Sequence[str] | None = None, env: Env | None = None) -> ExitCode:
    """Run one command; return its exit code (never raises, unless --traceback)."""
    env = env or Env()
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:  # bare `failover`: show what it can do rather than a usage error
        try:
            env.out(build_parser().format_help().rstrip())
        except BrokenPipeError:
            _silence_stdout(env)
        return ExitCode.OK
    parsed = _parse(args, env)
    if isinstance(parsed, ExitCode):
        return parsed
    runner: Callable[[argparse.Namespace, Env], ExitCode] = SUBCOMMANDS[parsed.command].run
    try:
        return runner(parsed, env)
    except KeyboardInterrupt:
        env.err("failover: interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # `failover plan | head`: the reader left; not an error of ours (exit 141 like a shell).
        _silence_stdout(env)
        return ExitCode.OK
    except ConfigError as exc:
        print_diagnostics(exc, env)
        return ExitCode.ERROR
    except InfraError as exc:
        env.err(scrub(f"failover: error: {exc}"))  # no credentials of a URL it may repeat
        return ExitCode.ERROR
    except Exception as exc:  # noqa: BLE001 - the one place that turns crashes into a message
        if parsed.traceback:
            raise
        env.err(scrub(f"failover: {type(exc).__name__}: {exc}"))
        env.err("This is a bug in failover; rerun with --traceback and report it.")
        return ExitCode.ERROR


def print_diagnostics(exc: ConfigError, env: Env) -> None:
    for diagnostic in exc.diagnostics:
        env.err(str(diagnostic))
    env.err(summarize(exc.diagnostics))


def _silence_stdout(env: Env) -> None:
    """Point a closed stdout at devnull so the interpreter's final flush stays quiet."""
    if env.stdout is sys.stdout:
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    """Console-script entry point."""
    sys.exit(int(main()))
