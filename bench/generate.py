"""Generate large, valid lines.yaml files for benchmarks and scale tests.

Numbers are drawn from fictional-but-valid ranges: line numbers +1 415 55x xxxx,
outside numbers +1 628 55x xxxx, so no outside number is ever one of ours.
"""

from __future__ import annotations

import argparse
from pathlib import Path

LINE_TEMPLATES = (
    # (type, extra YAML lines); every block is 10 lines long so N lines ≈ 10 × blocks.
    (
        "department",
        [
            "    primary: https://voice.example.com/{id}",
            "    failover:",
            '      forward: "{outside}"',
            "      timeout: 25",
            "      voicemail:",
            '        greeting: "Sorry, {id} is unavailable. Leave a message."',
        ],
    ),
    (
        "user",
        [
            "    forwarding:",
            '      - "{outside}"',
            '      - "{outside2}"',
            "    failover:",
            '      voicemail: {{greeting: "This is {id}. Please leave a message.", max_length: 90}}',
            "    test: false",
        ],
    ),
)


def _number(prefix: int, index: int) -> str:
    return f"+1{prefix}55{index // 10000 % 10}{index % 10000:04d}"


def generate(target_lines: int) -> str:
    out = [
        "# yaml-language-server: $schema=schemas/lines.schema.json",
        "version: 1",
        "account: {name: bench}",
        "defaults:",
        "  voicemail: {voice: Polly.Joanna, language: en-US, max_length: 120}",
        "lines:",
    ]
    index = 0
    while len(out) < target_lines:
        kind, extra = LINE_TEMPLATES[index % len(LINE_TEMPLATES)]
        ident = f"line-{index}"
        out += [
            f"  - id: {ident}",
            f"    name: Line {index}",
            f"    type: {kind}",
            f'    number: "{_number(415, index)}"',
        ]
        out += [
            e.format(
                id=ident, outside=_number(628, 2 * index), outside2=_number(628, 2 * index + 1)
            )
            for e in extra
        ]
        index += 1
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lines", type=int, help="approximate number of YAML lines")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.write_text(generate(args.lines))


if __name__ == "__main__":
    main()
