"""``failover init [DIR]``: start a repository of your own that keeps lines.yaml and its stack.

Writes a starter ``lines.yaml`` (valid as written), the schema it names in its first line (so
editors complete keys in that repository too), and the Pulumi project files that run this
package's program. Never overwrites: when any of the files exists, nothing is written and the
error names them.
"""

from __future__ import annotations

import argparse
import json
import re
from importlib import resources

from infra import __version__
from infra.cli.env import Env
from infra.cli.status import ExitCode
from infra.errors import InfraError
from infra.lines.load import schema, schema_pattern

HELP = "write a starter lines.yaml, its schema and the Pulumi project files into a new repository"

EXAMPLES = """  mkdir phones && cd phones && git init
  failover init --account acme && failover validate && failover plan"""

STARTER = """\
# yaml-language-server: $schema=schemas/lines.schema.json
# Written by `failover init`. Replace the example numbers with your own, then run
# `failover validate` and `failover plan`. The README of twilio-failover lists every key.
version: 1
account: {{name: {account}}}   # prefixes every Twilio-side name this tool creates
lines:
  - id: main
    type: main_line
    number: "+14155550100"                       # a number already in your Twilio account
    primary: https://voice.example.com/main      # your call server: Twilio asks it first
    failover: {{forward: "+14155550199"}}          # when it fails: ring this phone, then voicemail
"""

PULUMI_YAML = """\
# The Pulumi project that reconciles Twilio with lines.yaml (program: twilio-failover {version}).
name: failover
description: Twilio voice failover as code
runtime:
  name: python
  options:
    toolchain: pip
    virtualenv: .venv
# Read every resource from Twilio before each up, so a console edit is repaired
# (https://www.pulumi.com/docs/iac/concepts/projects/project-file/, options.refresh).
options:
  refresh: always
config:
  linesFile: {{type: string, default: lines.yaml}}
  severity: {{type: string, default: minor}}
"""

MAIN_PY = """\
\"\"\"Pulumi program entry: the twilio-failover package's program on this directory's lines.yaml.\"\"\"

from infra.program import main

main()
"""

REQUIREMENTS = """\
# The program and its providers. Until twilio-failover is published, install it from a clone:
#   .venv/bin/pip install /path/to/twilio-failover   (then `pulumi up` finds it in .venv)
twilio-failover>={version}
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", nargs="?", default=".", help="the repository (default: here)")
    parser.add_argument(
        "--account", default="acme", help="account.name: prefixes Twilio-side names (default: acme)"
    )


def run(args: argparse.Namespace, env: Env) -> ExitCode:
    if not re.fullmatch(schema_pattern("accountName"), args.account):
        raise InfraError(
            f"--account {args.account!r}: 2-30 lowercase letters, digits and dashes, "
            "starting with a letter"
        )
    root = env.path(args.dir)
    files = {
        "lines.yaml": STARTER.format(account=args.account),
        "schemas/lines.schema.json": _schema_text(),
        "Pulumi.yaml": PULUMI_YAML.format(version=__version__),
        "__main__.py": MAIN_PY,
        "requirements.txt": REQUIREMENTS.format(version=__version__),
    }
    existing = [name for name in files if (root / name).exists()]
    if existing:
        raise InfraError(
            f"{', '.join(existing)} already exist in {args.dir}; nothing was written "
            "(move them away, or pick another directory)"
        )
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as out:  # "x": never overwrite, even in a race
            out.write(text)
        env.out(f"wrote {path.relative_to(root) if root in path.parents else path}")
    env.out("next: edit lines.yaml, then `failover validate` and `failover plan`")
    return ExitCode.OK


def _schema_text() -> str:
    """The schema exactly as shipped (byte for byte when a packaged copy is available)."""
    try:
        return resources.files("failover_schemas").joinpath("lines.schema.json").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"
