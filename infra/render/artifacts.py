"""Every artifact of a config as text, keyed by relative output path; and writing them out.

This is the one place where artifacts become bytes. ``failover plan --out DIR`` writes
``render_all``; the Pulumi program uploads ``render_assets`` / ``render_functions`` and
sends ``canonical_json`` of the flows, so a reviewer diffs exactly what will run.

Layout under the output directory:
- ``twiml/<environment>/<path>``: TwiML documents by Serverless environment (``shared``,
  ``queues``, ``fwd-00`` … ``fwd-15``) and asset path, e.g. ``twiml/shared/v/default.xml``
  (asset ``/v/default.xml`` in environment ``shared``);
- ``studio/<key>.json``: Studio definitions, only with ``alerts.webhook`` (``<line>`` or
  ``<line>.queue``);
- ``taskrouter/{activities,task_queues,workers,workflow}.json`` (when a line has a queue);
- ``functions/<name>.js``: Function sources (``/assignment``, ``/alert``);
- ``entries.json``: per line, the number, its fallback entry and its managed primary at
  the given severity. This is the only file that depends on the severity: everything else
  is deployed for every severity at once;
- ``recordings.json`` (only when greetings or messages play files from the repository): per
  asset path (``/a/<hash>.mp3`` in ``shared``), the file and its sha256; the audio itself is
  not copied.

JSON is UTF-8 with sorted keys, 2-space indent and a trailing newline; TwiML is the
library's output plus a trailing newline. Same input, same bytes.

Must not import: twilio.rest, pulumi, infra.lines.load, infra.providers, infra.cli
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.model import LinesConfig, Severity
from infra.render.bindings import PLACEHOLDERS, Bindings
from infra.render.functions import render_functions
from infra.render.studio import flow_specs, render_flow
from infra.render.taskrouter import render_taskrouter
from infra.render.twiml import render_environments
from infra.routing import audio_assets, fallback_entry, primary_entry, sms_fallback_entry

OUTPUT_DIRS = ("twiml", "studio", "taskrouter", "functions")
ENTRIES_FILE = "entries.json"
RECORDINGS_FILE = "recordings.json"


def canonical_json(value: Any) -> str:
    """Byte-stable JSON text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_assets(
    config: LinesConfig, bindings: Bindings = PLACEHOLDERS
) -> dict[str, dict[str, str]]:
    """Every TwiML document, by Serverless environment then asset path (what gets uploaded)."""
    return render_environments(config, bindings)


def render_entries(config: LinesConfig, severity: Severity) -> dict[str, Any]:
    """Per line: number, fallback entry and managed primary entry (None: left alone)."""
    lines: dict[str, Any] = {}
    for line in config.lines:
        primary = primary_entry(line, severity, config=config)
        lines[line.id] = {
            "number": line.number,
            "fallback": fallback_entry(line, severity, config=config).as_dict(),
            "primary": primary.as_dict() if primary is not None else None,
        }
        sms = sms_fallback_entry(line)
        if sms is not None:  # only lines with `sms`: the others' SMS settings are not ours
            lines[line.id]["sms"] = sms.as_dict()
    return {"severity": severity.value, "lines": lines}


def render_all(
    config: LinesConfig, severity: Severity, bindings: Bindings = PLACEHOLDERS
) -> dict[str, str]:
    """Every artifact as text, keyed by relative output path, in path order."""
    alerts = config.alerts_webhook is not None
    files: dict[str, str] = {}
    for env, documents in render_assets(config, bindings).items():
        for path, text in documents.items():
            files[f"twiml/{env}{path}"] = text
    for spec in flow_specs(config):
        definition = render_flow(
            spec.line, spec.severity, alerts=alerts, bindings=bindings, paths=spec.paths
        )
        files[f"studio/{spec.key}.json"] = canonical_json(definition)
    for name, document in render_taskrouter(config, bindings).items():
        files[f"taskrouter/{name}.json"] = canonical_json(document)
    for path, source in render_functions(config).items():
        files[f"functions{path}.js"] = source
    files[ENTRIES_FILE] = canonical_json(render_entries(config, severity))
    recordings = audio_assets(config)
    if recordings:
        files[RECORDINGS_FILE] = canonical_json(
            {path: {"file": f.source, "sha256": f.sha256} for path, f in recordings.items()}
        )
    return dict(sorted(files.items()))


def write_artifacts(
    config: LinesConfig,
    severity: Severity,
    out_dir: Path,
    bindings: Bindings = PLACEHOLDERS,
    *,
    force: bool = False,
) -> list[Path]:
    """Write ``render_all`` under ``out_dir`` and return the written paths, sorted.

    Files an earlier run wrote that no longer exist in the config are removed, so the
    directory diffs cleanly; only files this command wrote (listed in its manifest, bytes
    unchanged) are ever removed or overwritten; see ``infra.safe_write``.
    """
    from infra.safe_write import write_owned

    return write_owned(Path(out_dir), render_all(config, severity, bindings), force=force)
