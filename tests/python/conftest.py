"""Shared pytest fixtures: paths to the repository and to the read-only real data sets."""

from __future__ import annotations

from pathlib import Path

import pytest

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
