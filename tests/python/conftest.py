"""Shared pytest fixtures: paths to the repository and to the read-only real data sets, the
demo's full ``dbt build`` (once per session), and an older DuckDB release in a virtual
environment of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from dbt_harness import DbtRun, run_dbt

from segmentation import publish

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = (REPO_ROOT.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where dbt_project.yml lives)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip with the missing path named when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not found: {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(scope="session")
def cdnow_dir(shared_data: Path) -> Path:
    """``../shared/data/cdnow`` (CDNOW master and sample files); skips naming it when absent."""
    folder = shared_data / "cdnow"
    if not folder.is_dir():
        pytest.skip(f"CDNOW data not found: {folder} is missing")
    return folder


# Publish into the build's own published/ folder, whatever the caller's shell says (as
# test_reliability's HERMETIC).
HERMETIC = {publish.PUBLISH_DIR_ENV: ""}


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """The full ``dbt build`` of the demo with the project's vars (every model, data test and
    unit test; it publishes into its own folder), run once per session and shared by the modules
    that read it (test_end_to_end, test_reliability). Read it, do not change it: a module that
    builds further works on ``dbt_harness.copy_run(demo_build, its_own_folder)``."""
    run = run_dbt(["build"], tmp_path_factory.mktemp("demo_build"), env=HERMETIC)
    assert run.returncode == 0, run.output[-6000:]
    return run


# An older DuckDB than the one the project runs (duckdb 2.x), as BI tools embed: 1.1.3 reads only
# storage format 64 (v1.0.0), so it fails on a file written in any later format.
OLD_DUCKDB = "duckdb==1.1.3"


@pytest.fixture(scope="session")
def old_duckdb_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python interpreter with ``OLD_DUCKDB`` installed in a virtual environment of its own,
    created once per test session (about 10 s); skips naming the package when pip cannot
    install it (no package registry)."""
    venv = tmp_path_factory.mktemp("old_duckdb_venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", OLD_DUCKDB],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        pytest.skip(
            f"cannot install {OLD_DUCKDB} from the package registry: {install.stderr[-500:]}"
        )
    return python
