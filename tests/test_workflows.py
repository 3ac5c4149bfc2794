"""The CI files shipped for the repository's users, checked by the real tools.

- ``.github/workflows/*.yml``: actionlint (with shellcheck for the ``run:`` scripts) must report
  nothing; then the facts the README promises (triggers, permissions, exit-code handling,
  credentials only through ``env:``).
- ``.pre-commit-hooks.yaml`` / ``.pre-commit-config.yaml``: pre-commit's own validators, and the
  hook ids and entries the README names.
- ``lines*.yaml``: ``check-jsonschema --schemafile schemas/lines.schema.json``, as the
  pre-commit hook runs it.

Every tool runs as a subprocess (the in-process network guard does not reach it) from this
interpreter's ``bin/`` (``script/setup`` installs them from pyproject's test extra). None needs
the network: the JSON Schema metaschemas ship with ``jsonschema-specifications``, actionlint's
action metadata is built in. To prove it, each runs with its proxy variables pointed at a closed
loopback port, so any HTTP request it tried would fail the test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_NAMES = ("pull-request.yml", "drift.yml", "deploy.yml", "alerts.yml")
HOOK_ID = "failover-validate"
LINES_FILES = sorted(p.name for p in ROOT.glob("lines*.y*ml"))

_DEAD_PROXY = "http://127.0.0.1:9"
OFFLINE_ENV = {
    "HTTP_PROXY": _DEAD_PROXY,
    "HTTPS_PROXY": _DEAD_PROXY,
    "http_proxy": _DEAD_PROXY,
    "https_proxy": _DEAD_PROXY,
    "NO_PROXY": "",
    "no_proxy": "",
}


def tool(name: str) -> str:
    """The path of a test tool: this interpreter's bin/, then the checkout's .venv, then PATH."""
    for bin_dir in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        if (bin_dir / name).exists():
            return str(bin_dir / name)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run script/setup (pyproject's test extra has it)")
    return found


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE_ENV}
    return subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def actionlint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run(
        tool("actionlint"),
        "-no-color",
        "-oneline",
        f"-shellcheck={tool('shellcheck')}",
        "-pyflakes=",
        *map(str, files),
        cwd=cwd,
    )


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow(name: str) -> dict[str, Any]:
    data = load(WORKFLOWS / name)
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job["steps"]]


def scripts(data: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in steps(data))


def uses(data: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in steps(data) if "uses" in step]


# --- actionlint ----------------------------------------------------------------------------


def test_the_four_workflows_are_shipped() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == sorted(WORKFLOW_NAMES)


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_actionlint_reports_nothing(name: str) -> None:
    result = actionlint(WORKFLOWS / name)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_and_shellcheck_really_check(tmp_path: Path) -> None:
    """A broken workflow fails: the linter (and its shellcheck pass) is not a silent no-op."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v6\n"
        "        with: {fetch-deepth: 0}\n"
        "      - run: echo $HOME\n",
        encoding="utf-8",
    )
    result = actionlint(bad, cwd=tmp_path)
    assert result.returncode == 1
    assert 'input "fetch-deepth" is not defined' in result.stdout
    assert "SC2086" in result.stdout


# --- what the workflows promise --------------------------------------------------------------


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_actions_are_pinned_to_a_commit_with_the_version_in_a_comment(name: str) -> None:
    """A tag can be moved by whoever controls the action; a commit SHA cannot (zizmor's
    unpinned-uses). Dependabot (.github/dependabot.yml) keeps the pins current."""
    text = (ROOT / ".github" / "workflows" / name).read_text()
    for action in uses(workflow(name)):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(?:/[\w.-]+)*@[0-9a-f]{40}", action), action
        assert re.search(re.escape(action) + r"  # v\d+\.\d+\.\d+\n", text), action
    assert "pulumi-version" not in text or re.search(r"pulumi-version: \d+\.\d+\.\d+ ", text)


def test_zizmor_reports_nothing() -> None:
    """zizmor (offline audits) over every shipped workflow, at its default persona."""
    zizmor = Path(sys.executable).with_name("zizmor")
    result = subprocess.run(
        [str(zizmor), "--offline", "--no-progress", ".github/workflows"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr


def test_dependabot_keeps_actions_and_dependencies_current() -> None:
    config = load(ROOT / ".github" / "dependabot.yml")
    assert {u["package-ecosystem"] for u in config["updates"]} == {"github-actions", "pip"}


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_least_privilege_and_credentials_only_through_env(name: str) -> None:
    data = workflow(name)
    assert data["permissions"] == {"contents": "read"}
    for job in data["jobs"].values():
        assert set(job["permissions"]) <= {"contents", "pull-requests", "id-token"}
        assert job["permissions"]["contents"] == "read"
        # id-token only to exchange for a short-lived Pulumi Cloud token (OIDC), nothing else
        oidc = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/auth-actions@")]
        assert ("id-token" in job["permissions"]) == bool(oidc)
    text = scripts(data)
    # A secret never appears in a script (it would be in the rendered command line) ...
    assert "secrets." not in text
    # ... and the Twilio token only ever goes to pulumi through stdin.
    for line in text.splitlines():
        if "TWILIO_AUTH_TOKEN" in line:
            assert line.strip() in (
                'if [ -n "$TWILIO_AUTH_TOKEN" ]; then',
                "printf '%s' \"$TWILIO_AUTH_TOKEN\" | pulumi config set --stack "
                '"$PULUMI_STACK" --secret failover:authToken',
            ), line
    assert "github.event.pull_request.head" not in text  # no untrusted input in scripts


def test_pull_request_workflow() -> None:
    data = workflow("pull-request.yml")
    assert "lines*.yaml" in data["on"]["pull_request"]["paths"]
    assert "schemas/**" in data["on"]["pull_request"]["paths"]
    (job,) = data["jobs"].values()
    assert job["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
        "id-token": "write",
    }
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "3.11"
    text = scripts(data)
    assert "script/setup" in text
    assert '.venv/bin/failover validate "$LINES_FILE"' in text
    assert '.venv/bin/failover diff --base "origin/$BASE_REF" --format markdown' in text
    assert "0 | 3 | 4) exit 0 ;;" in text  # 3 = changes (fine), 4 = brake (fails after comment)
    brake = next(s for s in job["steps"] if s.get("name") == "Safety brake")
    assert brake["if"] == "steps.diff.outputs.exit-code == '4'"
    assert any(u.startswith("marocchino/sticky-pull-request-comment@") for u in uses(data))
    preview = next(s for s in job["steps"] if s.get("name") == "pulumi preview")
    assert "--refresh=false" in preview["run"]  # Pulumi.yaml refreshes always; reads need Twilio
    assert preview["env"] == {
        "PULUMI_ACCESS_TOKEN": "${{ steps.pulumi-auth.outputs.pulumi-access-token || secrets.PULUMI_ACCESS_TOKEN }}"
    }
    # The preview runs the pull request's code: no Twilio credential reaches this workflow.
    assert "TWILIO" not in (WORKFLOWS / "pull-request.yml").read_text()
    comment = next(
        s for s in job["steps"] if s.get("name") == "Post the preview as a sticky comment"
    )
    assert comment["with"] == {"header": "pulumi-preview", "path": "pulumi-preview.md"}


def test_drift_workflow() -> None:
    data = workflow("drift.yml")
    assert data["on"]["schedule"][0]["cron"]
    assert "workflow_dispatch" in data["on"]
    text = scripts(data)
    assert ".venv/bin/failover drift" in text and "--format markdown" in text
    assert '>> "$GITHUB_STEP_SUMMARY"' in text
    assert "pulumi refresh" in text and "--preview-only --expect-no-changes" in text
    drift = next(s for s in steps(data) if s.get("name") == "failover drift")
    assert drift["env"] == {
        "TWILIO_ACCOUNT_SID": "${{ secrets.TWILIO_ACCOUNT_SID }}",
        "TWILIO_AUTH_TOKEN": "${{ secrets.TWILIO_AUTH_TOKEN }}",
    }


def test_deploy_workflow() -> None:
    data = workflow("deploy.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    assert "lines*.yaml" in data["on"]["push"]["paths"]
    assert data["concurrency"]["cancel-in-progress"] is False
    assert "PULUMI_STACK" in data["concurrency"]["group"]
    (job,) = data["jobs"].values()
    assert job["environment"]["name"] == "${{ vars.PULUMI_STACK }}"
    names = [s.get("name", s.get("uses")) for s in job["steps"]]
    assert names.index("failover validate") < names.index("pulumi up")
    up = next(s for s in job["steps"] if s.get("name") == "pulumi up")
    # a console edit is put back by every deploy (Pulumi.yaml options.refresh: always, too)
    assert up["run"].split() == [
        "pulumi", "up", "--stack", '"$PULUMI_STACK"', "--refresh", "--yes", "--diff",
        "--non-interactive", "--color", "never",
    ]  # fmt: skip


# --- the workflows' scripts, run by bash as the runner runs them -----------------------------


def run_step(workflow_name: str, step_name: str, cwd: Path, **env: str) -> tuple[int, str, str]:
    """Run one step's script with ``bash -e`` (the runner's default shell) in ``cwd``.

    Returns the exit code, what it wrote to $GITHUB_OUTPUT/$GITHUB_ENV, and to
    $GITHUB_STEP_SUMMARY.
    """
    (script,) = [s["run"] for s in steps(workflow(workflow_name)) if s.get("name") == step_name]
    files = {
        key: cwd / f".{key.lower()}"
        for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY")
    }
    for path in files.values():
        path.write_text("", encoding="utf-8")
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env={**os.environ, **{k: str(v) for k, v in files.items()}, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    written = files["GITHUB_OUTPUT"].read_text() + files["GITHUB_ENV"].read_text()
    return result.returncode, written, files["GITHUB_STEP_SUMMARY"].read_text()


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def pr_checkout(tmp_path: Path) -> Path:
    """A checkout of a pull request: lines.yaml at origin/main, edited in the working copy."""
    if not (ROOT / ".venv" / "bin" / "failover").exists():
        pytest.skip("needs .venv/bin/failover (script/setup)")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "lines.yaml").write_text((ROOT / "lines.yaml").read_text(encoding="utf-8"))
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "lines.yaml")
    _git(tmp_path, "commit", "-qm", "base")
    _git(tmp_path, "update-ref", "refs/remotes/origin/main", "HEAD")
    return tmp_path


def _edit(checkout: Path, old: str, new: str) -> None:
    path = checkout / "lines.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "exit_code"),
    [
        (None, "0"),
        (  # sales -> voicemail
            (
                '      forward: "+14155550188"\n      timeout: 25\n      confirm: true   # the '
                "callee presses a key first: their voicemail never takes the call\n",
                "",
            ),
            "3",
        ),
        (("  - id: press\n", "  - id: pr\n"), "4"),  # a line removed (and one added)
    ],
    ids=["no-change", "change", "safety-brake"],
)
def test_pr_diff_step_posts_markdown_and_passes_the_exit_code_on(
    pr_checkout: Path, edit: tuple[str, str] | None, exit_code: str
) -> None:
    if edit:
        _edit(pr_checkout, *edit)
    rc, outputs, summary = run_step(
        "pull-request.yml", "failover diff", pr_checkout, BASE_REF="main", LINES_FILE="lines.yaml"
    )
    assert (rc, outputs) == (0, f"exit-code={exit_code}\n")
    assert summary.startswith("### Phone line changes in `lines.yaml`")
    assert summary == (pr_checkout / "failover-diff.md").read_text(encoding="utf-8")


def test_pr_diff_step_fails_on_an_error(pr_checkout: Path) -> None:
    _edit(pr_checkout, "version: 1\n", "version: [1\n")
    rc, outputs, _ = run_step(
        "pull-request.yml", "failover diff", pr_checkout, BASE_REF="main", LINES_FILE="lines.yaml"
    )
    assert (rc, outputs) == (1, "exit-code=1\n")


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("", "LINES_FILE=lines.yaml\nSEVERITY=minor\n"),
        ("dev", "LINES_FILE=lines.yaml\nSEVERITY=minor\n"),
        ("emea", "LINES_FILE=lines-emea.yaml\nSEVERITY=minor\n"),
        ("hot", "LINES_FILE=lines.yaml\nSEVERITY=severe\n"),
        ("evil", None),
    ],
)
def test_stack_settings_step(tmp_path: Path, stack: str, expected: str | None) -> None:
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("needs .venv/bin/python (script/setup)")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    for name in ("dev", "emea"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text((ROOT / f"Pulumi.{name}.yaml").read_text())
    (tmp_path / "Pulumi.hot.yaml").write_text("config:\n  failover:severity: severe\n")
    # A value that would add a line to $GITHUB_ENV is refused, not written.
    (tmp_path / "Pulumi.evil.yaml").write_text(
        'config:\n  failover:linesFile: "x.yaml\\nBASH_ENV=/tmp/x.yaml"\n'
    )
    for workflow_name in WORKFLOW_NAMES:
        rc, written, _ = run_step(
            workflow_name, "Read the stack's lines file and severity", tmp_path, PULUMI_STACK=stack
        )
        assert (rc, written) == ((0, expected) if expected else (1, "")), workflow_name


@pytest.fixture
def stub_bin(tmp_path: Path) -> Path:
    """A .venv/bin/failover and a pulumi that print a report and exit with $STUB_EXIT."""
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("failover", "pulumi"):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} report: $*"\nexit "$STUB_EXIT"\n')
        stub.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize(("stub_exit", "fails"), [("0", False), ("3", True), ("1", True)])
def test_drift_step_fails_on_drift_and_writes_the_summary(
    tmp_path: Path, stub_bin: Path, stub_exit: str, fails: bool
) -> None:
    rc, _, summary = run_step(
        "drift.yml",
        "failover drift",
        tmp_path,
        STUB_EXIT=stub_exit,
        LINES_FILE="lines.yaml",
        PULUMI_STACK="dev",
        SEVERITY="severe",
    )
    assert (rc != 0, rc) == (fails, int(stub_exit))
    expected = "failover report: drift lines.yaml --stack dev --severity severe --format markdown"
    assert summary == expected + "\n"


@pytest.mark.parametrize(("stub_exit", "fails"), [("0", False), ("3", True), ("1", True)])
def test_check_step_fails_when_a_line_is_not_ready_and_writes_the_summary(
    tmp_path: Path, stub_bin: Path, stub_exit: str, fails: bool
) -> None:
    rc, _, summary = run_step(
        "drift.yml",
        "failover check",
        tmp_path,
        STUB_EXIT=stub_exit,
        LINES_FILE="lines.yaml",
        PULUMI_STACK="dev",
        SEVERITY="minor",
    )
    assert (rc != 0, rc) == (fails, int(stub_exit))
    expected = "failover report: check lines.yaml --stack dev --severity minor --format markdown"
    assert summary == expected + "\n"
    check = next(s for s in steps(workflow("drift.yml")) if s.get("name") == "failover check")
    assert check["env"] == {
        "TWILIO_ACCOUNT_SID": "${{ secrets.TWILIO_ACCOUNT_SID }}",
        "TWILIO_AUTH_TOKEN": "${{ secrets.TWILIO_AUTH_TOKEN }}",
    }


@pytest.mark.parametrize(("stub_exit", "fails"), [("0", False), ("255", True)])
def test_refresh_step_fails_on_changes_and_writes_the_summary(
    tmp_path: Path, stub_bin: Path, stub_exit: str, fails: bool
) -> None:
    rc, _, summary = run_step(
        "drift.yml",
        "pulumi refresh --preview-only --expect-no-changes",
        tmp_path,
        STUB_EXIT=stub_exit,
        PULUMI_STACK="dev",
        PATH=f"{stub_bin}{os.pathsep}{os.environ['PATH']}",
    )
    assert (rc != 0, rc) == (fails, int(stub_exit))
    assert "pulumi report: refresh --stack dev --preview-only --expect-no-changes" in summary


@pytest.mark.parametrize(("stub_exit", "fails"), [("0", False), ("255", True)])
def test_preview_step_skips_the_refresh_and_writes_the_comment(
    tmp_path: Path, stub_bin: Path, stub_exit: str, fails: bool
) -> None:
    rc, _, summary = run_step(
        "pull-request.yml",
        "pulumi preview",
        tmp_path,
        STUB_EXIT=stub_exit,
        PULUMI_STACK="dev",
        PATH=f"{stub_bin}{os.pathsep}{os.environ['PATH']}",
    )
    assert (rc != 0, rc) == (fails, int(stub_exit))
    assert "pulumi report: preview --stack dev --refresh=false --diff" in summary
    assert summary == (tmp_path / "pulumi-preview.md").read_text(encoding="utf-8")


# --- pre-commit -----------------------------------------------------------------------------


def test_hook_manifest_offers_failover_validate() -> None:
    (hook,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert (hook["id"], hook["entry"], hook["language"]) == (HOOK_ID, "failover validate", "python")
    files = re.compile(hook["files"])
    assert all(
        files.search(p)
        for p in (
            "lines.yaml",
            "lines.yml",
            "phones/lines.yaml",
            "lines-emea.yaml",
            "x/lines-us-2.yml",
        )
    )
    assert not any(files.search(p) for p in ("headlines.yaml", "lines.yaml.bak", "lines.json"))


def test_repository_hooks() -> None:
    config = load(ROOT / ".pre-commit-config.yaml")
    hooks = {hook["id"]: (repo["repo"], hook) for repo in config["repos"] for hook in repo["hooks"]}
    assert set(hooks) == {"ruff-check", "ruff-format", "check-jsonschema", HOOK_ID}
    assert (
        hooks["ruff-check"][0]
        == hooks["ruff-format"][0]
        == "https://github.com/astral-sh/ruff-pre-commit"
    )
    repo, schema = hooks["check-jsonschema"]
    assert repo == "https://github.com/python-jsonschema/check-jsonschema"
    assert schema["args"] == ["--schemafile", "schemas/lines.schema.json"]
    repo, local = hooks[HOOK_ID]
    assert (repo, local["entry"]) == ("local", ".venv/bin/failover validate")
    for hook in (schema, local):
        files = re.compile(hook["files"])
        assert files.search("lines.yaml") and files.search("lines-emea.yaml")
        assert not files.search("tests/fixtures/invalid/empty.yaml")


@pytest.mark.parametrize(
    ("command", "path"),
    [
        ("validate-manifest", ".pre-commit-hooks.yaml"),
        ("validate-config", ".pre-commit-config.yaml"),
    ],
)
def test_pre_commit_accepts_the_files(command: str, path: str) -> None:
    result = run(tool("pre-commit"), command, path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_readme_names_the_hook_and_workflows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.partition("## CI for your repository")[2].partition("\n## ")[0]
    if not section:
        pytest.skip("README has no 'CI for your repository' section yet")
    for name in (HOOK_ID, *WORKFLOW_NAMES, "PULUMI_STACK", "PULUMI_ACCESS_TOKEN"):
        assert name in section, name


# --- the schema check, as the pre-commit hook runs it ----------------------------------------


@pytest.mark.parametrize("name", LINES_FILES)
def test_lines_file_matches_the_schema(name: str) -> None:
    result = run(
        tool("check-jsonschema"), "--no-cache", "--schemafile", "schemas/lines.schema.json", name
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok -- validation done"), result.stderr


def test_schema_check_rejects_a_bad_file() -> None:
    bad = "tests/fixtures/invalid/bad-line-type.yaml"
    result = run(
        tool("check-jsonschema"), "--no-cache", "--schemafile", "schemas/lines.schema.json", bad
    )
    assert result.returncode == 1
    assert "$.lines[0].type: 'mainline' is not one of" in result.stdout


def test_deploy_and_drift_install_runtime_dependencies_only_from_the_lock() -> None:
    """No test tools next to the credentials; versions pinned by requirements.lock."""
    for name in ("deploy.yml", "drift.yml"):
        text = scripts(workflow(name))
        assert "script/setup --runtime" in text, name
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        line.split("==")[0].lower()
        for line in lock.splitlines()
        if "==" in line and not line.startswith("#")
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        re.split(r"[<>=!~ ;\[]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]
    }
    assert wanted <= pinned, f"requirements.lock lacks {sorted(wanted - pinned)}: run script/lock"
    assert not pinned & {"pytest", "hypothesis", "ruff", "mypy"}  # runtime only
