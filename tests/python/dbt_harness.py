"""Run the real dbt project from pytest: a fresh DuckDB file, optional vars, results by table.

dbt writes its manifest and logs to ``target/`` and ``logs/``; each run here gets its own
target and log folders under the test's tmp directory, so runs never share state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT = Path(sys.executable).with_name("dbt")


@dataclass
class DbtRun:
    """The outcome of one dbt invocation."""

    returncode: int
    output: str
    db_path: Path
    target_path: Path

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run a read-only query against the built database."""
        with duckdb.connect(str(self.db_path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def scalar(self, sql: str) -> Any:
        """The single value of a query."""
        rows = self.query(sql)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def node_results(self) -> dict[str, str]:
        """Status of every node of the run, by unique id (from run_results.json)."""
        results = json.loads((self.target_path / "run_results.json").read_text())
        return {r["unique_id"]: r["status"] for r in results["results"]}


def assert_input_source(run: DbtRun, entity: str, kind: str, location: str) -> None:
    """The input ``entity`` is the dbt source segments_inputs.<entity> of the run's manifest.

    Its meta says ``kind`` (path, table, seed, none) and its rendered relation is ``location``;
    base_<entity> depends on the source (or, for a seed input, on the seed and not the source),
    and the source's relation is readable in the built database.
    """
    manifest = json.loads((run.target_path / "manifest.json").read_text())
    source = manifest["sources"][f"source.segment_engine.segments_inputs.{entity}"]
    assert source["meta"]["input_kind"] == kind, source["meta"]
    assert source["relation_name"] == location, source["relation_name"]
    depends_on = manifest["nodes"][f"model.segment_engine.base_{entity}"]["depends_on"]["nodes"]
    if kind == "seed":
        assert source["unique_id"] not in depends_on, depends_on
        assert any(node.startswith("seed.segment_engine.") for node in depends_on), depends_on
    elif kind != "none":
        assert source["unique_id"] in depends_on, depends_on
    run.query(f"select * from {location} limit 1")


def run_dbt(
    args: list[str],
    tmp_path: Path,
    *,
    vars: dict[str, Any] | None = None,
    project_dir: Path = REPO_ROOT,
    db_name: str = "segments.duckdb",
    env: dict[str, str] | None = None,
    timeout: int = 900,
) -> DbtRun:
    """Run ``dbt <args>`` on the project with its own DuckDB file under ``tmp_path``."""
    db_path = tmp_path / db_name
    target_path = tmp_path / "target"
    command = [str(DBT), *args, "--project-dir", str(project_dir)]
    if vars is not None:
        command += ["--vars", yaml.safe_dump(vars, default_flow_style=True, width=10_000)]
    run_env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "SEGMENTS_DB_PATH": str(db_path),
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **(env or {}),
    }
    completed = subprocess.run(
        command,
        cwd=tmp_path,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return DbtRun(
        returncode=completed.returncode,
        output=completed.stdout + completed.stderr,
        db_path=db_path,
        target_path=target_path,
    )


def project_vars() -> dict[str, Any]:
    """The vars of dbt_project.yml, to derive a modified configuration from."""
    return yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]


def copy_run(run: DbtRun, folder: Path) -> DbtRun:
    """A copy of a finished run's workspace (database, target, logs, published/) in ``folder``.

    For a module that builds further on a shared build (a session fixture) without changing it:
    the copy's database publishes into its own ``published/`` folder (the default publication
    folder is next to the database), and further ``run_dbt`` calls on ``folder`` use its target.
    """
    source = run.db_path.parent
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run.db_path, folder / run.db_path.name)
    for name in ("target", "logs", "published"):
        if (source / name).is_dir():
            shutil.copytree(source / name, folder / name, symlinks=True, dirs_exist_ok=True)
    return DbtRun(
        returncode=run.returncode,
        output=run.output,
        db_path=folder / run.db_path.name,
        target_path=folder / "target",
    )
