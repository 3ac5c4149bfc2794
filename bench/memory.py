"""Figure M: peak memory of ``validate`` and of the Pulumi program for a 10,000-line organisation.

The file is ``bench.organisation`` (the realistic mix P4s and P5 deploy), not the generated
file P1 validates: that one gives every line its own greeting, 10,000 distinct voicemail
documents, which the program refuses (one Serverless build holds at most 1,000).

Each is measured in a fresh Python process as its peak resident set size (what the
operating system had to give it), next to the same process's peak right after importing
what it needs, so the difference is what the file costs. The program runs the way
``pulumi up`` runs it, minus the engine: load and validate ``lines.yaml``, ``build`` every
resource and ``export`` the outputs, under Pulumi's mocks (each resource's outputs derived
from its inputs, as in ``tests/test_program.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.organisation import organisation

ROOT = Path(__file__).resolve().parent.parent
LINES = 10_000

_MEASURE = """
import json, resource, sys
from pathlib import Path
{imports}
def rss_mib():
    # VmHWM: this process image's peak (ru_maxrss would carry the parent's over fork+exec)
    try:
        status = Path("/proc/self/status").read_text()
        return next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = rss_mib()
{work}
print(json.dumps({{"base": base, "peak": rss_mib(), "what": what}}))
"""

VALIDATE = (
    "from infra.lines.load import load_config",
    "config, _ = load_config(Path(sys.argv[1]))\nwhat = f'{len(config.lines)} lines'",
)
PROGRAM = (
    "import pulumi\nfrom infra.lines.load import load_config\n"
    "from tests.test_program import FakeOutputs, run_program",
    "config, _ = load_config(Path(sys.argv[1]))\n"
    "mocks = FakeOutputs()\n"
    "pulumi.runtime.set_mocks(mocks, project='failover', stack='bench', preview=False)\n"
    "outputs = run_program(config)\n"
    "what = f'{len(outputs[\"lines\"])} lines exported'",
)


def _measure(imports: str, work: str, path: Path) -> dict[str, float | str]:
    script = _MEASURE.format(imports=imports, work=work)
    done = subprocess.run(  # noqa: S603 - our own script, run with this interpreter
        [sys.executable, "-c", script, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory(workdir: Path) -> list[str]:
    path = workdir / "organisation-10k.yaml"
    text = organisation(LINES)
    path.write_text(text)
    rows = [
        f"M  peak memory for a {LINES:,}-line organisation ({text.count(chr(10)):,} YAML lines; "
        "fresh process, peak RSS = VmHWM):"
    ]
    for label, (imports, work) in (("validate", VALIDATE), ("program (build + export)", PROGRAM)):
        m = _measure(imports, work, path)
        rows.append(
            f"   {label}: {m['peak']:.0f} MiB peak, {float(m['peak']) - float(m['base']):.0f} MiB "
            f"above the {m['base']:.0f} MiB of the interpreter with its imports ({m['what']})"
        )
    return rows
