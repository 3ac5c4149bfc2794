"""A realistic organisation of N lines, for the scale figures (P4, P5, S) and scale tests.

Shaped like the one the scale issue measured: about 93% user lines with 1-3 forwarding numbers
and the default greeting (2% of users record their own), 4% departments forwarding to an
answering service with their own greeting, voicemail-only and message lines, a few secondary
servers, 50 call queues (severe outages) served by 60 agents. Numbers: lines +1 415 5xx xxxx,
outside numbers +1 628 5xx xxxx (never one of ours), agents +1 628 59x xxxx.

    python -m bench.organisation 10000 lines-10k.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path

QUEUES = 50
AGENTS = 60


def _number(prefix: int, index: int) -> str:
    return f"+1{prefix}5{index // 100000 % 10}{index // 10000 % 10}{index % 10000:04d}"


def organisation(lines: int) -> str:
    """lines.yaml text with ``lines`` lines (deterministic)."""
    out = [
        "# yaml-language-server: $schema=schemas/lines.schema.json",
        "version: 1",
        "account: {name: bench}",
        "defaults:",
        "  voicemail:",
        '    greeting: "No one is available to take your call. Please leave a message after the tone."',
        "    voice: Polly.Joanna",
        "    language: en-US",
        "    max_length: 120",
        "agents:",
    ]
    out += [
        f'  - {{id: agent-{a}, name: Agent {a}, phone: "{_number(628, 900000 + a)}"}}'
        for a in range(AGENTS)
    ]
    out.append("lines:")
    queues = 0
    for i in range(lines):
        ident, number = f"l{i}", _number(415, i)
        outside = [_number(628, 3 * i + k) for k in range(3)]
        slot = i % 100
        head = f'  - {{id: {ident}, name: "Line {i}", number: "{number}"'
        if slot < 4:  # department: forward, own greeting; some with a queue
            out.append(head + ", type: department,")
            out.append(f"      primary: https://voice.example.com/{ident},")
            greeting = f"You reached department {i}. Please leave a message."
            out.append(
                f'      failover: {{forward: "{outside[0]}", timeout: 25, '
                f'voicemail: {{greeting: "{greeting}"}}}}'
            )
            if queues < QUEUES and slot == 0:
                agents = ", ".join(f"agent-{(3 * queues + k) % AGENTS}" for k in range(3))
                out[-1] += f", queue: {{agents: [{agents}], timeout: 180}}"
                queues += 1
            out[-1] += "}"
        elif slot == 4:  # shared voicemail only
            out.append(head + ", type: contact_center}")
        elif slot == 5 and i % 200 == 5:  # spoken message
            out.append(head + ', type: department, failover: {message: "We are closed today."}}')
        elif slot == 5:  # secondary server
            out.append(
                head
                + f", type: department, failover: {{url: https://backup.example.com/{ident}}}}}"
            )
        else:  # user: 1-3 forwarding numbers, 2% with their own greeting
            forwarding = ", ".join(f'"{n}"' for n in outside[: 1 + i % 3])
            own = i % 50 == 7
            failover = (
                f', failover: {{voicemail: {{greeting: "This is line {i}. Leave a message."}}}}'
                if own
                else ""
            )
            out.append(head + f", type: user, forwarding: [{forwarding}]{failover}}}")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lines", type=int, help="number of lines (not YAML lines)")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.write_text(organisation(args.lines))


if __name__ == "__main__":
    main()
