"""``failover completion bash|zsh|tcsh``: a shell completion script, generated from the parser.

Uses shtab (a small, maintained library that turns an argparse parser into completion
scripts) rather than hand-written scripts that would drift from the options::

    failover completion bash > ~/.local/share/bash-completion/completions/failover
    failover completion zsh > "${fpath[1]}/_failover"
"""

from __future__ import annotations

import argparse

from infra.cli.env import Env
from infra.cli.status import ExitCode

HELP = "print a shell completion script (bash, zsh or tcsh) for failover"

EXAMPLES = """  failover completion bash > ~/.local/share/bash-completion/completions/failover
  failover completion zsh > "${fpath[1]}/_failover\""""

SHELLS = ("bash", "zsh", "tcsh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete for")


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    import shtab

    from infra.cli.main import build_parser

    env.out(shtab.complete(build_parser(), shell=args.shell).rstrip())
    return ExitCode.OK
