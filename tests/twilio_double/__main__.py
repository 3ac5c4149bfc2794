"""Run the Twilio double on its own: ``python -m tests.twilio_double --port 8099``.

Prints the base URL, the credentials and each product's URL, then serves until Ctrl-C. Point
the twilio library at it by setting each domain's ``base_url`` (and leaving TWILIO_REGION /
TWILIO_EDGE unset); the printed snippet shows how. ``--seed FILE`` seeds numbers, calls and
recordings from a YAML or JSON file (see :mod:`tests.twilio_double.seed`; ``lines.yaml`` works
too, and is deployable as it is). Twilio's documented limits are on (:mod:`.limits`);
``--no-limits`` switches them off. Calls are placed with ``POST /_double/calls``
(README.md, "Calls").
Must not import: infra.*
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence
from pathlib import Path

from .double import PRODUCT_DOMAINS, TwilioDouble
from .seed import read_seed, seed_from
from .spec_files import SpecMissingError
from .upload import HOST as UPLOAD_HOST


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.twilio_double", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"
    )
    parser.add_argument(
        "--seed", type=Path, help="YAML/JSON file with numbers, lines, calls, recordings to seed"
    )
    parser.add_argument(
        "--no-limits", action="store_true", help="accept anything past Twilio's documented limits"
    )
    parser.add_argument(
        "--build-reads", type=int, default=1, help="reads of a build answering 'building'"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser


def _banner(double: TwilioDouble, limits: bool) -> str:
    state = double.state
    lines = [
        f"Twilio double listening on {double.base_url}",
        f"  account sid  {double.account_sid}",
        f"  auth token   {double.auth_token}",
        f"  seeded       {len(state.numbers)} numbers, {len(state.calls)} calls, "
        f"{len(state.recordings)} recordings",
        f"  limits       {'Twilio defaults' if limits else 'off'}",
    ]
    lines += [
        f"  {host:<30} {double.product_url(host)}"
        for host in [*PRODUCT_DOMAINS.values(), UPLOAD_HOST]
    ]
    lines += [
        "",
        "from twilio.rest import Client",
        f'client = Client("{double.account_sid}", "{double.auth_token}")',
        *(
            f'client.{attr}.base_url = "{double.product_url(host)}"'
            for attr, host in PRODUCT_DOMAINS.items()
        ),
        "",
        f"Place a call: POST {double.base_url}/_double/calls (tests/twilio_double/README.md)",
        "Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or until ``stop`` is set, for tests); 0 on a clean stop."""
    args = _parser().parse_args(argv)
    try:
        double = TwilioDouble(port=args.port, build_reads=args.build_reads, verbose=args.verbose)
    except SpecMissingError as error:
        print(f"error: {error}")
        return 2
    if args.no_limits:
        double.limits.off()
    if args.seed:
        seed_from(double, read_seed(args.seed))
    with double:
        print(_banner(double, not args.no_limits), flush=True)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            pass
        print(f"\nwrites: {dict(double.writes())}\nviolations: {len(double.violations)}")
        for violation in double.violations:
            print(f"  {violation}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
