"""A plain (non-editable) install works outside this repository, as pre-commit installs the hook."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("*.whl")
    return built


def test_wheel_ships_schema_and_function_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "failover_schemas/lines.schema.json" in names
    assert "failover_schemas/lines_schema_check.py" in names  # validate compiles nothing
    assert {"infra/templates/alert.js", "infra/templates/assignment.js"} <= names
    assert (ROOT / "schemas" / "lines.schema.json").read_bytes() == zipfile.ZipFile(wheel).read(
        "failover_schemas/lines.schema.json"
    )


def test_installed_wheel_validates_and_renders_outside_any_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(ROOT / "lines.yaml", work / "lines.yaml")
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import infra, infra.lines.load as l; print(infra.__file__); print(l.SCHEMA_PATH.is_file());"
            " print(l._fast_check().__module__)",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert where == [
        str(target / "infra" / "__init__.py"),
        "False",
        "failover_schemas.lines_schema_check",
    ]  # the installed copy, no checkout schema, and the schema check compiled ahead of time
    validate = subprocess.run(
        [sys.executable, "-m", "infra", "validate"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert validate.returncode == 0, validate.stderr
    assert validate.stdout.startswith("lines.yaml: ok, 9 lines")
    plan = subprocess.run(
        [sys.executable, "-m", "infra", "plan", "--out", "build"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert plan.returncode == 0, plan.stderr
    assert (work / "build" / "functions" / "assignment.js").is_file()


def test_the_changelog_describes_the_current_version() -> None:
    """One version source (infra.__version__) and a changelog section for it."""
    from infra import __version__

    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{__version__}] - " in changelog
