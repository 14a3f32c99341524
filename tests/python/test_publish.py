"""segmentation.publish on tiny DuckDB databases, without dbt: one run id per file, atomic swap,
stale temporary files removed, runs accumulated, configuration hash, when dbt may publish."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from segmentation import __version__, publish

TABLES = ("customer_segments", "clustering_metrics", "rejects", "kmeans_centroids")
INPUTS = ("base_customers", "base_orders", "stg_customers", "stg_order_lines")


@pytest.fixture
def build_db() -> duckdb.DuckDBPyConnection:
    """An in-memory 'build database' with the tables and inputs publish() needs."""
    con = duckdb.connect()
    con.execute(
        "create table customer_segments as select 'c' || i as customer_id, "
        "1 + i % 3 as kmeans_segment_id from range(10) t(i)"
    )
    con.execute(
        "create table clustering_metrics as select * from (values "
        "('kmeans', 2, 0.5, false), ('kmeans', 3, 0.6, true), "
        "('hierarchical', 2, 0.4, true), ('hierarchical', 3, 0.3, false)) "
        "t(method, k, silhouette, is_selected)"
    )
    con.execute(
        "create table rejects as select * from (values "
        "('customers', 'missing_customer_id'), ('orders', 'duplicate_order_line'), "
        "('orders', 'unknown_customer_id')) t(source, reason)"
    )
    con.execute("create table kmeans_centroids as select range as segment_id from range(1, 4)")
    con.execute("create table base_customers as select range as id from range(11)")
    con.execute("create table base_orders as select range as id from range(25)")
    con.execute("create table stg_customers as select range as id from range(10)")
    con.execute("create table stg_order_lines as select range as id from range(23)")
    return con


def _publish(con: duckdb.DuckDBPyConnection, publish_dir: Path, **overrides):
    tables = {name: con.table(name) for name in TABLES}
    arguments = {
        "inputs": {name: con.table(name) for name in INPUTS},
        "config": {"segmentation": {"k": "auto"}, "segments_inputs": {}},
        "publish_dir": publish_dir,
        "invocation_id": "invocation-1",
        **overrides,
    }
    return publish.publish(con, tables, **arguments)


def _published(publish_dir: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(publish_dir / publish.PUBLISHED_FILE), read_only=True)


def test_every_table_carries_the_same_run_id(build_db, tmp_path: Path) -> None:
    run = _publish(build_db, tmp_path)
    run_id = run.column("run_id")[0].as_py()
    assert len(run_id) == 32 and int(run_id, 16) >= 0
    with _published(tmp_path) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert tables == {*TABLES, publish.RUNS_TABLE}
        for table in tables:
            ids = con.execute(f"select distinct run_id, built_at from {table}").fetchall()
            assert ids == [(run_id, run.column("built_at")[0].as_py())], table
        for table in TABLES:
            published = con.execute(f"select count(*) from {table}").fetchall()[0][0]
            built = build_db.execute(f"select count(*) from {table}").fetchall()[0][0]
            assert published == built, table
        # The published rows are the build's rows plus the two stamp columns.
        rows = con.execute(
            "select * exclude (run_id, built_at) from customer_segments order by customer_id"
        ).fetchall()
        assert rows == build_db.execute("from customer_segments order by customer_id").fetchall()
        assert con.execute("select run_id from current_run").fetchall() == [(run_id,)]
    assert not list(tmp_path.glob("*.tmp*"))


def test_the_runs_row_summarises_the_build(build_db, tmp_path: Path) -> None:
    row = _publish(build_db, tmp_path).to_pylist()[0]
    assert row["raw_customers"] == 11 and row["raw_order_lines"] == 25
    assert row["staged_customers"] == 10 and row["staged_order_lines"] == 23
    assert row["rejected_customers"] == 1 and row["rejected_order_lines"] == 2
    assert row["customers_segmented"] == 10
    assert (row["kmeans_k"], row["kmeans_silhouette"]) == (3, 0.6)
    assert (row["hierarchical_k"], row["hierarchical_silhouette"]) == (2, 0.4)
    assert row["published_tables"] == len(TABLES)
    assert row["dbt_invocation_id"] == "invocation-1"
    assert row["package_version"] == __version__
    assert row["config_hash"] == publish.config_hash(
        {"segmentation": {"k": "auto"}, "segments_inputs": {}}
    )


def test_runs_accumulate_across_publications(build_db, tmp_path: Path) -> None:
    run_ids = [_publish(build_db, tmp_path).column("run_id")[0].as_py() for _ in range(3)]
    assert len(set(run_ids)) == 3
    with _published(tmp_path) as con:
        history = con.execute("select run_id from segment_runs order by built_at").fetchall()
        assert [r[0] for r in history] == run_ids
        assert con.execute("select run_id from current_run").fetchall() == [(run_ids[-1],)]
        assert con.execute("select distinct run_id from customer_segments").fetchall() == [
            (run_ids[-1],)
        ]


def test_the_swap_is_atomic_for_readers(build_db, tmp_path: Path) -> None:
    first = _publish(build_db, tmp_path).column("run_id")[0].as_py()
    target = tmp_path / publish.PUBLISHED_FILE
    old_inode = target.stat().st_ino
    reader = _published(tmp_path)  # a BI tool holding the old file open
    second = _publish(build_db, tmp_path).column("run_id")[0].as_py()
    # The path now names a new file; the open reader still reads the old one, consistently.
    assert target.stat().st_ino != old_inode
    for table in TABLES:
        ids = reader.execute(f"select distinct run_id from {table}").fetchall()
        assert ids == [(first,)], table
    reader.close()
    with _published(tmp_path) as con:
        assert con.execute("select distinct run_id from rejects").fetchall() == [(second,)]


def test_a_failed_publication_leaves_the_published_file_alone(build_db, tmp_path: Path) -> None:
    first = _publish(build_db, tmp_path).column("run_id")[0].as_py()
    before = (tmp_path / publish.PUBLISHED_FILE).read_bytes()
    tables = {name: build_db.table(name) for name in TABLES}
    # The last table fails half-way through writing the new file.
    tables["zz_broken"] = build_db.sql("select error('boom') as x from range(3)")
    with pytest.raises(duckdb.Error, match="boom"):
        publish.publish(
            build_db,
            tables,
            inputs={name: build_db.table(name) for name in INPUTS},
            config={},
            publish_dir=tmp_path,
        )
    assert (tmp_path / publish.PUBLISHED_FILE).read_bytes() == before
    assert not list(tmp_path.glob("*.tmp*"))
    with _published(tmp_path) as con:
        assert con.execute("select run_id from segment_runs").fetchall() == [(first,)]
    parquet = tmp_path / publish.PARQUET_FOLDER
    assert publish.current_parquet_run(tmp_path) == first
    assert sorted(p.name for p in parquet.iterdir()) == sorted([publish.CURRENT_LINK, first])


def test_stale_temporary_files_are_removed(build_db, tmp_path: Path) -> None:
    stale = [
        tmp_path / "segments.0123456789abcdef0123456789abcdef.duckdb.tmp",
        tmp_path / "segments.0123456789abcdef0123456789abcdef.duckdb.tmp.wal",
    ]
    keep = tmp_path / "notes.tmp"
    for path in [*stale, keep]:
        path.write_bytes(b"left by a killed build")
    # Parquet folders of killed publications: half written, and complete but never current.
    parquet = tmp_path / publish.PARQUET_FOLDER
    stale_folders = [parquet / f"{'a' * 32}.tmp", parquet / ("b" * 32)]
    for folder in stale_folders:
        folder.mkdir(parents=True)
        (folder / "customer_segments.parquet").write_bytes(b"PAR1")
    run_id = _publish(build_db, tmp_path).column("run_id")[0].as_py()
    assert not any(path.exists() for path in [*stale, *stale_folders])
    assert keep.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [publish.LOCK_FILE, publish.PUBLISHED_FILE, publish.PARQUET_FOLDER, keep.name]
    )
    assert sorted(p.name for p in parquet.iterdir()) == sorted([publish.CURRENT_LINK, run_id])


def test_a_reader_holding_the_file_read_write_stops_the_publication(
    build_db, tmp_path: Path
) -> None:
    """A BI tool that opened the file read-write (against the docs) holds DuckDB's exclusive
    lock: the publication stops with a message rather than drop the run history."""
    _publish(build_db, tmp_path)
    before = (tmp_path / publish.PUBLISHED_FILE).read_bytes()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True); "
            "sys.stdin.read()",
            str(tmp_path / publish.PUBLISHED_FILE),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(publish.PublicationError, match="must open it read-only"):
            _publish(build_db, tmp_path)
    finally:
        holder.communicate("", timeout=30)
    assert (tmp_path / publish.PUBLISHED_FILE).read_bytes() == before
    assert not list(tmp_path.glob("*.tmp*"))


def test_publications_sharing_a_folder_take_turns(build_db, tmp_path: Path) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        with publish.publication_lock(tmp_path):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    held.wait(10)
    try:
        with (
            pytest.raises(publish.PublicationError, match="held the lock"),
            publish.publication_lock(tmp_path, timeout_seconds=0.3),
        ):
            pass
    finally:
        release.set()
        holder.join()
    with publish.publication_lock(tmp_path, timeout_seconds=1):
        pass


def test_config_hash_is_stable_and_discriminating() -> None:
    base = {"segmentation": {"clustering": {"k": "auto", "seed": 42}, "features": [1, 2]}}
    reordered = {"segmentation": {"features": [1, 2], "clustering": {"seed": 42, "k": "auto"}}}
    as_json = {"segmentation": '{"features": [1, 2], "clustering": {"k": "auto", "seed": 42}}'}
    changed = {"segmentation": {"clustering": {"k": "auto", "seed": 43}, "features": [1, 2]}}
    digest = publish.config_hash(base)
    assert len(digest) == 64
    assert publish.config_hash(reordered) == digest
    assert publish.config_hash(as_json) == digest
    assert publish.config_hash(changed) != digest
    assert publish.config_hash({**base, "segments_inputs": {}}) != digest


@pytest.mark.parametrize(
    ("flags", "blocked"),
    [
        ({"which": "build"}, None),
        ({"which": "build", "selected_tests": 250}, None),
        ({"which": "run"}, "only dbt build publishes"),
        ({}, "only dbt build publishes"),
        ({"which": "build", "empty": True}, "zero-row"),
        ({"which": "build", "selected_tests": 0}, "data tests"),
    ],
)
def test_only_a_tested_build_publishes(flags, blocked) -> None:
    reason = publish.publication_blocker(flags)
    if blocked is None:
        assert reason is None
    else:
        assert reason is not None and blocked in reason


def test_publish_dir_defaults_next_to_the_build_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = tmp_path.resolve() / "published" / "build"
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        assert publish.resolve_publish_dir(con, None) == own
        assert publish.resolve_publish_dir(con, "") == own
        assert publish.resolve_publish_dir(con, str(tmp_path / "bi")) == tmp_path / "bi"
    monkeypatch.delenv(publish.PUBLISH_DIR_ENV, raising=False)
    assert publish.published_path_for(tmp_path / "build.duckdb") == own / "segments.duckdb"
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        # Readers (the report) find the default publication where the build writes it.
        assert publish.published_path_for(tmp_path / "build.duckdb") == (
            publish.resolve_publish_dir(con, None) / publish.PUBLISHED_FILE
        )
    monkeypatch.setenv(publish.PUBLISH_DIR_ENV, "")
    assert publish.published_path_for(tmp_path / "build.duckdb") == own / "segments.duckdb"
    monkeypatch.setenv(publish.PUBLISH_DIR_ENV, str(tmp_path / "bi"))
    assert publish.published_path_for(tmp_path / "x.duckdb") == tmp_path / "bi" / "segments.duckdb"
    with (
        duckdb.connect() as memory,
        pytest.raises(publish.PublicationError, match="SEGMENTS_PUBLISH_DIR"),
    ):
        publish.resolve_publish_dir(memory, None)


def test_stamp_columns_must_not_exist_already(build_db, tmp_path: Path) -> None:
    build_db.execute("create table stamped as select 1 as run_id")
    with pytest.raises(publish.PublicationError, match="stamped: already has column"):
        publish.publish(
            build_db,
            {
                **{name: build_db.table(name) for name in TABLES},
                "stamped": build_db.table("stamped"),
            },
            inputs={name: build_db.table(name) for name in INPUTS},
            config={},
            publish_dir=tmp_path,
        )
    assert not (tmp_path / publish.PUBLISHED_FILE).exists()


def test_a_missing_summary_table_is_named(build_db, tmp_path: Path) -> None:
    with pytest.raises(publish.PublicationError, match="clustering_metrics is missing"):
        publish.publish(
            build_db,
            {"customer_segments": build_db.table("customer_segments")},
            inputs={name: build_db.table(name) for name in INPUTS},
            config={},
            publish_dir=tmp_path,
        )


def test_the_test_pause_is_injected_only_by_the_tests_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kill test's pause lives in tests/python/pause_hook, not in the package: loading the
    hook without SEGMENTS_TEST_PAUSE_SECONDS wraps nothing; with it, the switch to the new run
    prints the message the kill test waits for, sleeps, then switches."""
    import runpy

    hook = Path(__file__).parent / "pause_hook" / "sitecustomize.py"
    original = publish._point_current
    assert not any("PAUSE" in name for name in dir(publish))
    monkeypatch.delenv("SEGMENTS_TEST_PAUSE_SECONDS", raising=False)
    runpy.run_path(str(hook))
    assert publish._point_current is original
    slept: list[float] = []
    switched: list[tuple] = []
    monkeypatch.setattr(publish, "_point_current", lambda *args: switched.append(args))
    monkeypatch.setattr("time.sleep", slept.append)
    monkeypatch.setenv("SEGMENTS_TEST_PAUSE_SECONDS", "2.5")
    namespace = runpy.run_path(str(hook))
    publish._point_current(Path("parquet"), "run")
    assert slept == [2.5] and switched == [(Path("parquet"), "run")]
    assert namespace["PAUSE_MESSAGE"] == "segmentation: paused in segment_publication"


def _copy_build_db(source: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    for name in (*TABLES, *INPUTS):
        con.register("__source", source.table(name).to_arrow_table())
        con.execute(f"create or replace table {name} as from __source")
        con.unregister("__source")
    return con


def test_builds_of_different_databases_keep_separate_publications(
    build_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two build databases in one folder (SEGMENTS_DB_PATH=a.duckdb, b.duckdb): each publishes
    into a file of its own with its own segment_runs history."""
    monkeypatch.delenv(publish.PUBLISH_DIR_ENV, raising=False)
    runs: dict[str, list[str]] = {"a": [], "b": []}
    for name in ("a", "b", "a"):
        with _copy_build_db(build_db, tmp_path / f"{name}.duckdb") as con:
            run = _publish(con, publish.resolve_publish_dir(con, None))
            runs[name].append(run.column("run_id")[0].as_py())
    for name, expected in runs.items():
        path = publish.published_path_for(tmp_path / f"{name}.duckdb")
        assert path.parent == tmp_path.resolve() / "published" / name
        with duckdb.connect(str(path), read_only=True) as con:
            history = con.execute("select run_id from segment_runs order by built_at").fetchall()
            assert [r[0] for r in history] == expected


def test_parquet_files_hold_the_current_run(build_db, tmp_path: Path) -> None:
    """parquet/current/<table>.parquet hold the same rows and run id as the DuckDB file; the run
    before stays for readers in flight, older runs are deleted."""
    run_ids = [_publish(build_db, tmp_path).column("run_id")[0].as_py() for _ in range(3)]
    parquet = tmp_path / publish.PARQUET_FOLDER
    current = parquet / publish.CURRENT_LINK
    assert current.is_symlink() and os.readlink(current) == run_ids[-1]
    assert sorted(p.name for p in parquet.iterdir()) == sorted(
        [publish.CURRENT_LINK, *run_ids[-2:]]
    )
    files = sorted(p.name for p in current.iterdir())
    assert files == sorted(f"{t}.parquet" for t in (*TABLES, publish.RUNS_TABLE))
    with _published(tmp_path) as con:
        for table in (*TABLES, publish.RUNS_TABLE):
            source = f"read_parquet('{current / (table + '.parquet')}')"
            order = "built_at, run_id" if table == publish.RUNS_TABLE else "all"
            assert (
                con.execute(f"from {source} order by {order}").fetchall()
                == con.execute(f"from {table} order by {order}").fetchall()
            ), table
        assert con.execute(
            f"select distinct run_id from read_parquet('{current}/customer_segments.parquet')"
        ).fetchall() == [(run_ids[-1],)]


# Run by the older DuckDB: every table's row count and run ids, from the DuckDB file and from
# the current Parquet folder.
OLD_READER = """
import json, sys, duckdb
path, parquet = sys.argv[1], sys.argv[2]
out = {"version": duckdb.__version__, "file": {}, "parquet": {}}
with duckdb.connect(path, read_only=True) as con:
    for (name,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall():
        out["file"][name] = con.execute(
            f"select count(*), list(distinct run_id) from {name}").fetchone()
    for name in out["file"]:
        out["parquet"][name] = con.execute(
            f"select count(*), list(distinct run_id) from read_parquet('{parquet}/{name}.parquet')"
        ).fetchone()
print(json.dumps(out))
"""


def read_with_old_duckdb(python: Path, publish_dir: Path) -> dict:
    """What the older DuckDB release of ``python`` reads from a publication folder."""
    result = subprocess.run(
        [
            str(python),
            "-c",
            OLD_READER,
            str(publish_dir / publish.PUBLISHED_FILE),
            str(publish_dir / publish.PARQUET_FOLDER / publish.CURRENT_LINK),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_an_older_duckdb_release_reads_the_publication(
    build_db, tmp_path: Path, old_duckdb_python: Path
) -> None:
    """BI tools embed older DuckDB releases: DuckDB 1.1.3 opens the published file (storage
    format v1.0.0) and its Parquet files, and reads every table of the run."""
    build_db.execute(
        "create or replace table kmeans_centroids as select range as segment_id, "
        "[range, 2] as ids, {'a': range} as nested, 1.5::decimal(10, 2) as amount, "
        "now()::timestamp as at from range(1, 4)"
    )
    run_id = _publish(build_db, tmp_path).column("run_id")[0].as_py()
    seen = read_with_old_duckdb(old_duckdb_python, tmp_path)
    assert seen["version"] == "1.1.3"
    assert set(seen["file"]) == {*TABLES, publish.RUNS_TABLE}
    for table in TABLES:
        rows = build_db.execute(f"select count(*) from {table}").fetchone()[0]
        assert seen["file"][table] == [rows, [run_id]], table
        assert seen["parquet"][table] == [rows, [run_id]], table
    assert seen["file"][publish.RUNS_TABLE] == [1, [run_id]]
