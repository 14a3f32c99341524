"""Publication end to end: BI readers and failed builds never see partial or mixed results.

One workspace (build database, target, logs and published/ folder) is shared by the module: a
first full `dbt build` publishes run A; the kill tests then start builds, SIGKILL their process
group at a given point (staging, inside a Python model, inside the publication) and check that
the published file is intact and that a plain build afterwards recovers and publishes a new run.
Two reader processes run in the background from run A on: one reconnects for every read, one
keeps its first connection open; test_concurrent_readers checks everything they read while the
module's builds ran. Five successful builds (one full, four without EDA) and three killed ones:
about 6 minutes on a quiet 2-core machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt_harness import DBT, REPO_ROOT, DbtRun, copy_run, project_vars, run_dbt
from test_publish import read_with_old_duckdb

from segmentation import __version__, publish

# Every BI-facing mart the publication copies, with a key to order its rows by.
PUBLISHED = {
    "customer_segments": "customer_id",
    "segment_profiles": "method, segment_id, feature",
    "clustering_metrics": "method, k",
    "kmeans_centroids": "segment_id, output_column",
    "hierarchical_linkage": "step",
    "preprocessing_spec": "position",
    "segment_agreement": "method_a, method_b",
    "customer_clv": "customer_id",
    "clv_parameters": "all",
    "clv_holdout": "calibration_frequency",
    "customer_rfm": "customer_id",
    "rfm_segment_crosstab": "all",
    "rejects": "all",
    "customer_features": "customer_id",
    "eda_histograms": "feature, bin_index",
    "eda_missing_values": "stage, table_name, column_name",
    "eda_correlations": "feature_x, feature_y",
    "eda_cramers_v": "feature_x, feature_y",
    "stg_parse_report": "input_name, column_name",
    "stg_input_checks": "all",
}
# The lifecycle tables (docs/lifecycle.md) record each build's invocation and time: they differ
# between builds by design (tested in test_lifecycle_dbt.py).
LIFECYCLE = {
    "segmentation_models": "model_id",
    "segment_lineage": "model_id, status, segment_id, previous_segment_id",
    "segment_transitions": "to_invocation_id, from_segment_id, to_segment_id",
    "segment_drift": "run_started_at",
    "segment_feature_drift": "run_started_at, feature",
}
# Determinism: every other published table, byte for byte apart from run_id and built_at (the
# module's builds are the only pair of builds on the same inputs in the suite; the second one
# scores with the model the first one fitted, which is the same fit).
DETERMINISTIC = tuple(PUBLISHED)
# Published but empty in the demo (no segmentation.clv.holdout_end): no row carries a run id.
EMPTY_IN_DEMO = frozenset({"clv_holdout"})
PUBLISHED = {**PUBLISHED, **LIFECYCLE}
# The extra builds skip the EDA models (the publication copies their tables as the first build
# left them) and the unit tests (fixed inputs, run by the first build).
BUILD = ["build", "--exclude", "models/eda", "test_type:unit"]
# Publish into the workspace's published/ folder, and never pause, whatever the caller's shell says.
HERMETIC = {publish.PUBLISH_DIR_ENV: ""}
# The test-only pause before the renames of the publication: a sitecustomize module on
# PYTHONPATH that wraps the switch to the new run (production code has no hook).
PAUSE_HOOK = Path(__file__).parent / "pause_hook"
PAUSE_MESSAGE = "segmentation: paused in segment_publication"

READER = """
import json, os, sys, time
import duckdb

path, mode, out, stop = sys.argv[1:5]
tables = json.loads(sys.argv[5])


def read(con):
    seen, counts = set(), {}
    for table in tables:
        for run_id, rows in con.execute(
            f"select run_id, count(*) from {table} group by run_id"
        ).fetchall():
            seen.add(run_id)
            counts[table] = counts.get(table, 0) + rows
    current = con.execute("select run_id, customers_segmented from current_run").fetchall()
    history = con.execute("select run_id from segment_runs order by built_at").fetchall()
    history = [r[0] for r in history]
    return {"run_ids": sorted(seen), "counts": counts, "current": current, "history": history}


pinned = duckdb.connect(path, read_only=True) if mode == "pinned" else None
with open(out, "a") as log:
    while not os.path.exists(stop):
        try:
            if pinned is not None:
                record = read(pinned)
            else:
                with duckdb.connect(path, read_only=True) as con:
                    record = read(con)
            record["ok"] = True
        except Exception as error:
            record = {"ok": False, "error": repr(error)}
        log.write(json.dumps(record) + "\\n")
        log.flush()
        time.sleep(0.3)
"""


@dataclass
class Workspace:
    """The module's dbt workspace: build database, target and logs, and published/ folder."""

    path: Path
    first: DbtRun | None = None
    first_run_id: str = ""
    # Copies of the published file after each successful build, oldest first.
    snapshots: list[Path] = field(default_factory=list)

    @property
    def published(self) -> Path:
        # The build database's own publication: published/<database file stem>/.
        return self.path / "published" / "segments" / publish.PUBLISHED_FILE

    @property
    def log(self) -> Path:
        return self.path / "logs" / "dbt.log"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment dbt_harness.run_dbt gives dbt, for builds started with Popen."""
        return {
            **os.environ,
            "DBT_PROFILES_DIR": str(REPO_ROOT),
            "SEGMENTS_DB_PATH": str(self.path / "segments.duckdb"),
            "DBT_TARGET_PATH": str(self.path / "target"),
            "DBT_LOG_PATH": str(self.path / "logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **HERMETIC,
            **(extra or {}),
        }

    def build(self, args: list[str] = BUILD) -> DbtRun:
        """A build that must succeed; keeps a copy of what it published."""
        run = run_dbt(args, self.path, env=HERMETIC)
        assert run.returncode == 0, run.output[-6000:]
        return self.keep(run)

    def keep(self, run: DbtRun) -> DbtRun:
        """Keep a copy of what ``run`` published (the current published file)."""
        snapshot = self.path / f"publication_{len(self.snapshots)}.duckdb"
        shutil.copyfile(self.published, snapshot)
        self.snapshots.append(snapshot)
        return run

    def state(self) -> dict[str, Any]:
        """What a reader of the published file sees now."""
        with duckdb.connect(str(self.published), read_only=True) as con:
            run_ids = {
                table: set(con.execute(f"select distinct run_id from {table}").fetchall())
                for table in PUBLISHED
            }
            current = con.execute("select run_id from current_run").fetchall()[0][0]
            history = con.execute("select run_id from segment_runs order by built_at").fetchall()
        return {"run_ids": run_ids, "current": current, "history": [r[0] for r in history]}

    def assert_published(self, run_id: str) -> dict[str, Any]:
        """The published file holds exactly run ``run_id``, in every table."""
        state = self.state()
        assert state["current"] == run_id
        assert state["history"][-1] == run_id
        for table, ids in state["run_ids"].items():
            assert ids == (set() if table in EMPTY_IN_DEMO else {(run_id,)}), table
        return state


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, demo_build: DbtRun) -> Workspace:
    """The first build is the session's full demo build (conftest.py, the same command with the
    same HERMETIC environment), copied: the module's further builds change only the copy."""
    ws = Workspace(tmp_path_factory.mktemp("reliability"))
    ws.first = ws.keep(copy_run(demo_build, ws.path))
    ws.first_run_id = ws.first.scalar("select run_id from segment_publication")
    return ws


@dataclass
class Readers:
    """Reader processes started after the first publication; each writes one JSON line a read."""

    processes: dict[str, subprocess.Popen]
    outputs: dict[str, Path]
    stop: Path
    first_run_id: str

    def finish(self) -> dict[str, list[dict[str, Any]]]:
        self.stop.touch()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return {
            mode: [json.loads(line) for line in path.read_text().splitlines()]
            for mode, path in self.outputs.items()
        }


@pytest.fixture(scope="module")
def readers(workspace: Workspace) -> Iterator[Readers]:
    script = workspace.path / "reader.py"
    script.write_text(READER)
    stop = workspace.path / "readers.stop"
    outputs = {mode: workspace.path / f"reader_{mode}.jsonl" for mode in ("fresh", "pinned")}
    processes = {
        mode: subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(workspace.published),
                mode,
                str(out),
                str(stop),
                json.dumps(list(PUBLISHED)),
            ]
        )
        for mode, out in outputs.items()
    }
    group = Readers(processes, outputs, stop, workspace.first_run_id)
    yield group
    group.finish()


def _start_build(
    ws: Workspace, extra_env: dict[str, str] | None = None, args: list[str] = BUILD
) -> subprocess.Popen:
    output = (ws.path / "killed_build.out").open("w")
    return subprocess.Popen(
        [str(DBT), *args, "--project-dir", str(REPO_ROOT)],
        cwd=ws.path,
        env=ws.env(extra_env),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


class _Tail:
    """The text appended to a file since a byte offset, read incrementally."""

    def __init__(self, path: Path, offset: int | None = None) -> None:
        self.path = path
        self.offset = (path.stat().st_size if path.exists() else 0) if offset is None else offset
        self.text = ""

    def read(self) -> str:
        if self.path.exists():
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
            self.offset += len(chunk)
            self.text += chunk.decode(errors="replace")
        return self.text


def _kill_when(
    ws: Workspace, process: subprocess.Popen, log: _Tail, needle: str, timeout: float = 600
) -> str:
    """SIGKILL the build's process group as soon as ``needle`` appears in its dbt log or its
    output; return the log the build wrote."""
    output = _Tail(ws.path / "killed_build.out", 0)
    deadline = time.monotonic() + timeout
    try:
        while needle not in log.read() and needle not in output.read():
            if process.poll() is not None:
                pytest.fail(f"the build ended before {needle!r}:\n{output.read()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{needle!r} not seen within {timeout} s")
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    time.sleep(0.2)
    return log.read()


def _recover(ws: Workspace, before: dict[str, Any], killed_run_id: str | None = None) -> str:
    """A plain build after a kill: succeeds with no clean-up and publishes a new run."""
    run = ws.build()
    run_id = run.scalar("select run_id from segment_publication")
    assert run_id != before["current"]
    state = ws.assert_published(run_id)
    assert state["history"] == [*before["history"], run_id]
    assert killed_run_id not in state["history"]
    assert not list(ws.published.parent.glob("*.tmp*"))
    return run_id


def test_build_publishes_every_table_with_one_run_id(
    workspace: Workspace, old_duckdb_python: Path
) -> None:
    first = workspace.first
    assert first is not None
    run_id = workspace.first_run_id
    state = workspace.assert_published(run_id)
    assert state["history"] == [run_id]
    with duckdb.connect(str(workspace.published), read_only=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert tables == {*PUBLISHED, "segment_runs"}
        for table in PUBLISHED:
            assert con.execute(f"select count(*) from {table}").fetchall() == first.query(
                f"select count(*) from {table}"
            ), table
            columns = [r[0] for r in con.execute(f"describe {table}").fetchall()]
            built = [r[0] for r in first.query(f"describe {table}")]
            assert columns == [*built, "run_id", "built_at"], table
        runs = con.execute("select * from segment_runs").fetchall()
        names = [r[0] for r in con.execute("describe segment_runs").fetchall()]
    row = dict(zip(names, runs[0], strict=True))
    assert first.query("select * from segment_publication") == runs

    def count(sql: str) -> int:
        return first.scalar(f"select count(*) from {sql}")

    assert row["raw_customers"] == count("base_customers")
    assert row["raw_order_lines"] == count("base_orders")
    assert row["staged_customers"] == count("stg_customers")
    assert row["staged_order_lines"] == count("stg_order_lines")
    assert row["rejected_customers"] == count("rejects where source = 'customers'")
    assert row["rejected_order_lines"] == count("rejects where source = 'orders'")
    assert row["raw_customers"] == row["staged_customers"] + row["rejected_customers"]
    assert row["customers_segmented"] == 2000
    selected = dict(first.query("select method, k from clustering_metrics where is_selected"))
    assert row["kmeans_k"] == selected["kmeans"]
    assert row["hierarchical_k"] == selected["hierarchical"]
    assert 0 < row["kmeans_silhouette"] <= 1
    assert row["published_tables"] == len(PUBLISHED)
    assert row["package_version"] == __version__
    variables = project_vars()
    assert row["config_hash"] == publish.config_hash(
        {key: variables[key] for key in ("segmentation", "segments_inputs")}
    )
    metadata = json.loads((first.target_path / "run_results.json").read_text())["metadata"]
    assert row["dbt_invocation_id"] == metadata["invocation_id"]
    # Publication waits for every published table (and so for their tests) in `dbt build`.
    manifest = json.loads((first.target_path / "manifest.json").read_text())
    parents = manifest["nodes"]["model.segment_engine.segment_publication"]["depends_on"]
    assert {f"model.segment_engine.{t}" for t in PUBLISHED} <= set(parents["nodes"])
    # An older DuckDB release (as BI tools embed) reads the real publication, file and Parquet.
    seen = read_with_old_duckdb(old_duckdb_python, workspace.published.parent)
    for table in PUBLISHED:
        rows = first.scalar(f"select count(*) from {table}")
        ids = None if table in EMPTY_IN_DEMO else [run_id]  # no row, no run id
        assert seen["file"][table] == [rows, ids], table
        assert seen["parquet"][table] == [rows, ids], table


def test_kill_during_staging(workspace: Workspace, readers: Readers) -> None:
    before = workspace.state()
    tail = _Tail(workspace.log)
    process = _start_build(workspace)
    log = _kill_when(workspace, process, tail, "START sql table model main.customer_features")
    assert "START python table model main.segment_publication" not in log
    after = workspace.state()
    assert after == before
    workspace.assert_published(before["current"])
    _recover(workspace, before)


def test_kill_inside_a_python_model(workspace: Workspace, readers: Readers) -> None:
    before = workspace.state()
    tail = _Tail(workspace.log)
    process = _start_build(workspace)
    needle = 'Writing runtime python for node "model.segment_engine.ml_kmeans_sweep"'
    log = _kill_when(workspace, process, tail, needle)
    # Killed while the model ran: dbt never logged its end.
    assert "OK created python table model main.ml_kmeans_sweep" not in log
    assert workspace.state() == before
    _recover(workspace, before)


def test_kill_during_publication(workspace: Workspace, readers: Readers) -> None:
    before = workspace.state()
    tail = _Tail(workspace.log)
    # Only the publication is built (the tables are there from the last build): what precedes it
    # does not matter to a kill inside it, and the whole build would add about 20 s.
    process = _start_build(
        workspace,
        {
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(PAUSE_HOOK), os.environ.get("PYTHONPATH")])
            ),
            "SEGMENTS_TEST_PAUSE_SECONDS": "300",
        },
        ["build", "-s", "segment_publication"],
    )
    _kill_when(workspace, process, tail, PAUSE_MESSAGE)
    # The new file was complete but not yet renamed: the published file is the old run's.
    temporaries = list(workspace.published.parent.glob("segments.*.duckdb.tmp"))
    assert len(temporaries) == 1
    killed_run_id = temporaries[0].name.split(".")[1]
    with duckdb.connect(str(temporaries[0]), read_only=True) as con:
        assert con.execute("select run_id from current_run").fetchall() == [(killed_run_id,)]
    assert workspace.state() == before
    # The Parquet folder of the killed run is complete but not current: readers see the old run.
    assert publish.current_parquet_run(workspace.published.parent) == before["current"]
    # The next build removes the stale file without help and publishes a run of its own.
    _recover(workspace, before, killed_run_id)
    parquet = workspace.published.parent / publish.PARQUET_FOLDER
    assert not (parquet / killed_run_id).exists()


def test_dbt_run_does_not_publish(workspace: Workspace) -> None:
    """`dbt run` runs no tests, so it must not publish what it built."""
    before = workspace.published.read_bytes()
    run = run_dbt(["run", "-s", "segment_publication"], workspace.path, env=HERMETIC)
    assert run.returncode == 0, run.output[-6000:]
    assert "nothing published" in run.output
    assert run.scalar("select count(*) from segment_publication") == 0
    assert workspace.published.read_bytes() == before


def test_two_builds_publish_identical_tables(workspace: Workspace) -> None:
    """The last two publications differ in run_id and built_at only."""
    if len(workspace.snapshots) < 2:
        workspace.build()
    with (
        duckdb.connect(str(workspace.snapshots[-2]), read_only=True) as first,
        duckdb.connect(str(workspace.snapshots[-1]), read_only=True) as second,
    ):
        for table in DETERMINISTIC:
            query = f"select * exclude (run_id, built_at) from {table} order by {PUBLISHED[table]}"
            assert first.execute(query).fetchall() == second.execute(query).fetchall(), table
            if table in EMPTY_IN_DEMO:
                continue
            stamps = f"select distinct run_id, built_at from {table}"
            ((first_id, first_at),) = first.execute(stamps).fetchall()
            ((second_id, second_at),) = second.execute(stamps).fetchall()
            assert first_id != second_id and first_at < second_at


def test_concurrent_readers(workspace: Workspace, readers: Readers) -> None:
    """Readers never fail, never see a mix of runs, and see the swaps happen under them."""
    # The kill tests above published while the readers ran; on its own, build twice here.
    while len(workspace.state()["history"]) < 3:
        workspace.build()
    history = workspace.state()["history"]
    reads = readers.finish()
    for mode, records in reads.items():
        assert len(records) >= 10, mode
        failures = [r for r in records if not r["ok"]]
        assert failures == [], (mode, failures[:3])
        for record in records:
            ((current, segmented),) = record["current"]
            # One file = one run: every table carries the run that current_run names.
            assert record["run_ids"] == [current], (mode, record)
            assert record["counts"]["customer_segments"] == segmented
            assert record["history"][-1] == current
            assert current in history
    fresh = {r["current"][0][0] for r in reads["fresh"]}
    pinned = {r["current"][0][0] for r in reads["pinned"]}
    print(f"reads: {len(reads['fresh'])} fresh, {len(reads['pinned'])} pinned; runs {len(fresh)}")
    assert readers.first_run_id in fresh
    assert len(fresh) >= 2
    # A reader that kept the file open read the same consistent run all along.
    assert pinned == {readers.first_run_id}
