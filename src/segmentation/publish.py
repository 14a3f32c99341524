"""Publication: one build's BI-facing tables, all or nothing, in a DuckDB file and Parquet files.

BI tools never read the build database (dbt rewrites it table by table, and DuckDB lets one
process write a file at a time). They read ``<publish_dir>/segments.duckdb`` (written with the
DuckDB storage format v1.0.0, ``STORAGE_VERSION``, so that DuckDB 1.0 and every later client
can open it) or the Parquet files under ``<publish_dir>/parquet/current/``, which only ever hold
the tables of one complete, tested build. ``<publish_dir>`` belongs to one build database:
``published/<database file stem>/`` next to it (:func:`published_path_for`), or
``SEGMENTS_PUBLISH_DIR``.

1. under an exclusive lock on ``<publish_dir>/.publish.lock`` (so two builds sharing a publish
   folder take turns), remove the ``segments.*.duckdb.tmp`` files that killed publications left
   behind: while the lock is held, no live publication owns one;
2. write every table, with ``run_id`` and ``built_at`` columns added, plus ``segment_runs`` (the
   previous file's rows and this run's) and the view ``current_run``, into a new file
   ``segments.<run_id>.duckdb.tmp``; checkpoint, detach and fsync it; export each table
   (``segment_runs`` included) to ``parquet/<run_id>.tmp/<table>.parquet`` and rename that
   folder to ``parquet/<run_id>``;
3. point the symbolic link ``parquet/current`` at ``<run_id>`` (a new link renamed over the old
   one: atomic), ``os.replace`` the new file onto ``segments.duckdb``, fsync the folders, and
   delete the Parquet run folders older than the previous one. Each rename is atomic: a new
   reader opens either the old run or the new one, and a reader that has the old file open
   keeps reading it (its inode) until it reconnects.

A publication killed at any point leaves the previous ``segments.duckdb`` untouched; killed
between the two renames of step 3, the Parquet folder already holds the new run and the DuckDB
file the old one (each is one complete run; compare their ``run_id``), and the next publication
makes them agree again. The dbt model ``segment_publication`` calls :func:`publish` as the last
node of ``dbt build``, after the tests of every table it publishes passed;
:func:`publication_blocker` refuses commands that do not run those tests (``dbt run``,
``--empty``, builds that exclude tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from segmentation import __version__
from segmentation.names import IDENTIFIER

try:  # POSIX; on Windows publications sharing a folder are not serialised.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

PUBLISHED_FILE = "segments.duckdb"
PUBLISHED_FOLDER = "published"
# The oldest DuckDB storage format that holds every published type: DuckDB 1.0.0 and every
# later release (and so the DuckDB builds BI tools embed) can open the file. duckdb 2.x writes
# its own, newer format by default, which DuckDB <= 1.5 refuses ("version number 69").
STORAGE_VERSION = "v1.0.0"
PARQUET_FOLDER = "parquet"
CURRENT_LINK = "current"
RUNS_TABLE = "segment_runs"
CURRENT_RUN_VIEW = "current_run"
LOCK_FILE = ".publish.lock"
PUBLISH_DIR_ENV = "SEGMENTS_PUBLISH_DIR"
ADDED_COLUMNS = ("run_id", "built_at")
TMP_PATTERN = "segments.*.duckdb.tmp*"
PARQUET_RUN = re.compile(r"^[0-9a-f]{32}$")
# The published tables segment_runs summarises, and the inputs whose rows it counts.
SUMMARY_TABLES = ("customer_segments", "clustering_metrics", "rejects")
INPUT_TABLES = ("base_customers", "base_orders", "stg_customers", "stg_order_lines")

SEGMENT_RUNS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("built_at", pa.timestamp("us")),
        pa.field("config_hash", pa.string()),
        pa.field("raw_customers", pa.int64()),
        pa.field("raw_order_lines", pa.int64()),
        pa.field("staged_customers", pa.int64()),
        pa.field("staged_order_lines", pa.int64()),
        pa.field("rejected_customers", pa.int64()),
        pa.field("rejected_order_lines", pa.int64()),
        pa.field("customers_segmented", pa.int64()),
        pa.field("kmeans_k", pa.int32()),
        pa.field("kmeans_silhouette", pa.float64()),
        pa.field("hierarchical_k", pa.int32()),
        pa.field("hierarchical_silhouette", pa.float64()),
        pa.field("published_tables", pa.int32()),
        pa.field("dbt_invocation_id", pa.string()),
        pa.field("package_version", pa.string()),
    ]
)


class PublicationError(RuntimeError):
    """The publication could not be made; the previously published file is unchanged."""


Relations = Mapping[str, duckdb.DuckDBPyRelation]


def config_hash(config: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of ``config``: keys sorted, no whitespace, UTF-8.

    Values may be mappings or their JSON text (dbt renders vars either way); equal
    configurations give equal hashes whatever the key order.

    Parameters
    ----------
    config : mapping
        Configuration name to value (a mapping or its JSON text); values JSON cannot encode are
        written with ``str``.

    Returns
    -------
    str
        64 lowercase hex characters.
    """

    def parsed(value: Any) -> Any:
        if isinstance(value, str):
            with suppress(json.JSONDecodeError):
                return json.loads(value)
        return value

    canonical = json.dumps(
        {str(key): parsed(value) for key, value in config.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def publication_blocker(flags: Mapping[str, Any]) -> str | None:
    """Why the running dbt command must not publish, or None when it may.

    ``flags`` holds the command (``which``), the option ``empty`` and ``selected_tests`` (how
    many data tests the command selected; ``pipeline.dbt_run``). Only ``dbt build`` runs the
    data tests before the publication node; ``dbt run``, ``--empty`` (zero-row tables) and
    builds that leave data tests out (``--exclude-resource-type test``, ``--resource-type
    model``) would publish untested or empty tables.

    Parameters
    ----------
    flags : mapping
        ``which`` (str), ``empty`` (bool), ``selected_tests`` (int), as ``pipeline.dbt_run``
        returns them.

    Returns
    -------
    str or None
        The reason, or None when the command may publish.
    """
    command = flags.get("which")
    if command != "build":
        return f"dbt {command or '(unknown command)'} runs no tests; only dbt build publishes"
    if flags.get("empty"):
        return "dbt build --empty builds zero-row tables"
    if flags.get("selected_tests") == 0:
        return "this dbt build does not run the data tests"
    return None


def database_path(session: duckdb.DuckDBPyConnection) -> Path | None:
    """The file of the session's current database, or None for an in-memory database.

    Parameters
    ----------
    session : duckdb.DuckDBPyConnection
        The model's connection.

    Returns
    -------
    pathlib.Path or None
        The resolved (absolute) path of the database file.
    """
    row = session.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(row[0]).resolve() if row and row[0] else None


def default_publish_dir(db_path: Path) -> Path:
    """The publication folder of build database ``db_path`` when SEGMENTS_PUBLISH_DIR is unset.

    ``published/<file name without its extension>/`` next to it. Each database publishes into
    a folder of its own, so builds of different databases in one folder
    (``SEGMENTS_DB_PATH=a.duckdb`` and ``b.duckdb``) keep separate files and run histories.

    Parameters
    ----------
    db_path : pathlib.Path
        The build database file (``~`` expanded, resolved).

    Returns
    -------
    pathlib.Path
        ``<db_path folder>/published/<db_path stem>``, absolute; not created.
    """
    db_path = Path(db_path).expanduser().resolve()
    return db_path.parent / PUBLISHED_FOLDER / db_path.stem


def published_path_for(db_path: Path) -> Path:
    """The published DuckDB file of the build database ``db_path`` (BI tools, the report).

    Readers locate the publication through this one function:
    ``$SEGMENTS_PUBLISH_DIR/segments.duckdb`` when that variable is set and not empty (the build
    then publishes there), else ``published/<db_path stem>/segments.duckdb`` next to ``db_path``.

    Parameters
    ----------
    db_path : pathlib.Path
        The build database file.

    Returns
    -------
    pathlib.Path
        The absolute path of ``segments.duckdb``; the file may not exist yet.
    """
    configured = os.environ.get(PUBLISH_DIR_ENV)
    if configured:
        return Path(configured).expanduser().resolve() / PUBLISHED_FILE
    return default_publish_dir(db_path) / PUBLISHED_FILE


def resolve_publish_dir(session: duckdb.DuckDBPyConnection, configured: str | None) -> Path:
    """The publication folder: ``configured``, else :func:`default_publish_dir` of the database.

    ``configured`` is env SEGMENTS_PUBLISH_DIR as the model's config renders it; empty or None
    means unset. Relative paths are resolved against the working directory.

    Parameters
    ----------
    session : duckdb.DuckDBPyConnection
        The model's connection (its database file gives the default folder).
    configured : str or None
        SEGMENTS_PUBLISH_DIR as rendered; empty or None means unset.

    Returns
    -------
    pathlib.Path
        The absolute publication folder; not created.

    Raises
    ------
    PublicationError
        When nothing is configured and the build database is in memory.
    """
    if configured:
        return Path(configured).expanduser().resolve()
    database = database_path(session)
    if database is None:
        raise PublicationError(
            f"the build database is in memory: set {PUBLISH_DIR_ENV} to choose where to publish"
        )
    return default_publish_dir(database)


def remove_stale_temporaries(publish_dir: Path) -> list[Path]:
    """Delete the ``segments.*.duckdb.tmp`` files (and their WAL) killed publications left.

    Only safe under the publication lock (:func:`publication_lock`): no live publication owns
    a temporary file then. Returns the removed paths.

    Parameters
    ----------
    publish_dir : pathlib.Path
        The publication folder.

    Returns
    -------
    list of pathlib.Path
        The removed files and folders, ``segments.*.duckdb.tmp`` first, then ``parquet/*.tmp``.
    """
    removed = []
    for path in sorted(publish_dir.glob(TMP_PATTERN)):
        with suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    parquet = publish_dir / PARQUET_FOLDER
    for path in sorted(parquet.glob("*.tmp")) if parquet.is_dir() else ():
        if path.is_symlink() or path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def current_parquet_run(publish_dir: Path) -> str | None:
    """The run id ``<publish_dir>/parquet/current`` points at, or None when there is none.

    Parameters
    ----------
    publish_dir : pathlib.Path
        The publication folder.

    Returns
    -------
    str or None
        The run id (uuid4 hex, the link target's name).
    """
    link = Path(publish_dir) / PARQUET_FOLDER / CURRENT_LINK
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def _write_parquet(con: duckdb.DuckDBPyConnection, alias: str, folder: Path) -> list[str]:
    """Export every table of database ``alias`` to ``folder/<table>.parquet``; the names."""
    folder.mkdir(parents=True)
    names = [
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where database_name = ? order by table_name",
            [alias],
        ).fetchall()
    ]
    for name in names:
        path = folder / f"{name}.parquet"
        con.execute(
            f'copy "{alias}".main."{name}" to {_quote_literal(str(path))} '
            "(format parquet, compression zstd)"
        )
        _fsync(path)
    _fsync(folder)
    return names


def _point_current(parquet: Path, run_id: str) -> None:
    """Atomically make ``parquet/current`` a relative symbolic link to ``parquet/<run_id>``."""
    link = parquet / f"{CURRENT_LINK}.{run_id}.tmp"
    with suppress(FileNotFoundError):
        link.unlink()
    os.symlink(run_id, link)
    os.replace(link, parquet / CURRENT_LINK)
    _fsync(parquet)


def _prune_parquet_runs(parquet: Path, keep: set[str]) -> None:
    """Delete the Parquet run folders not in ``keep`` (current and previous run)."""
    for path in sorted(parquet.iterdir()):
        if PARQUET_RUN.match(path.name) and path.name not in keep and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def publication_lock(publish_dir: Path, timeout_seconds: float = 600.0) -> Iterator[None]:
    """Hold an exclusive lock on ``<publish_dir>/.publish.lock``.

    The operating system releases it when the holder dies, so a killed build never leaves the
    folder locked. Raises PublicationError after ``timeout_seconds`` of waiting.

    Parameters
    ----------
    publish_dir : pathlib.Path
        The publication folder (created if missing).
    timeout_seconds : float
        How long to wait for the lock, in seconds.

    Yields
    ------
    None
        While the lock is held (no lock where ``fcntl`` is unavailable).

    Raises
    ------
    PublicationError
        When another process held the lock for longer than ``timeout_seconds``.
    """
    publish_dir.mkdir(parents=True, exist_ok=True)
    lock_path = publish_dir / LOCK_FILE
    with lock_path.open("a+b") as handle:
        if fcntl is not None:
            deadline = time.monotonic() + timeout_seconds
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise PublicationError(
                            f"{lock_path}: another publication held the lock for more than "
                            f"{timeout_seconds:g} s"
                        ) from None
                    time.sleep(0.1)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _check_name(name: str, what: str) -> None:
    if not IDENTIFIER.match(name):
        raise PublicationError(f"{what} {name!r}: expected a lowercase SQL identifier")


def _count(con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation) -> int:
    return int(con.execute(f"select count(*) from ({relation.sql_query()})").fetchone()[0])


def run_summary(
    con: duckdb.DuckDBPyConnection, tables: Relations, inputs: Relations
) -> dict[str, Any]:
    """The counts and figures of one build that segment_runs records.

    ``inputs`` are base_customers and base_orders (raw rows) and stg_customers and
    stg_order_lines (staged rows); ``tables`` must hold customer_segments, clustering_metrics
    (selected k and silhouette per method) and rejects (rows by source).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection on which the relations can be queried.
    tables : mapping of str to duckdb.DuckDBPyRelation
        The published tables, by name.
    inputs : mapping of str to duckdb.DuckDBPyRelation
        base_customers, base_orders, stg_customers, stg_order_lines.

    Returns
    -------
    dict
        Row counts (int) ``raw_customers``, ``raw_order_lines``, ``staged_customers``,
        ``staged_order_lines``, ``rejected_customers``, ``rejected_order_lines``,
        ``customers_segmented``; ``kmeans_k``, ``hierarchical_k`` (int or None) and
        ``kmeans_silhouette``, ``hierarchical_silhouette`` (float or None).

    Raises
    ------
    PublicationError
        When one of the tables or inputs named above is missing.
    """
    for name in SUMMARY_TABLES:
        if name not in tables:
            raise PublicationError(f"published tables: {name} is missing (segment_runs needs it)")
    for name in INPUT_TABLES:
        if name not in inputs:
            raise PublicationError(f"publication inputs: {name} is missing")
    rejects = dict(
        con.execute(
            f"select source, count(*) from ({tables['rejects'].sql_query()}) group by source"
        ).fetchall()
    )
    selected = {
        method: (k, silhouette)
        for method, k, silhouette in con.execute(
            "select method, cast(k as integer), cast(silhouette as double) "
            f"from ({tables['clustering_metrics'].sql_query()}) where is_selected"
        ).fetchall()
    }
    return {
        "raw_customers": _count(con, inputs["base_customers"]),
        "raw_order_lines": _count(con, inputs["base_orders"]),
        "staged_customers": _count(con, inputs["stg_customers"]),
        "staged_order_lines": _count(con, inputs["stg_order_lines"]),
        "rejected_customers": int(rejects.get("customers", 0)),
        "rejected_order_lines": int(rejects.get("orders", 0)),
        "customers_segmented": _count(con, tables["customer_segments"]),
        "kmeans_k": selected.get("kmeans", (None, None))[0],
        "kmeans_silhouette": selected.get("kmeans", (None, None))[1],
        "hierarchical_k": selected.get("hierarchical", (None, None))[0],
        "hierarchical_silhouette": selected.get("hierarchical", (None, None))[1],
    }


def empty_runs() -> pa.Table:
    """A segment_runs table with no row (what the model returns when it does not publish).

    Returns
    -------
    pyarrow.Table
        0 rows, schema ``SEGMENT_RUNS_SCHEMA``.
    """
    return SEGMENT_RUNS_SCHEMA.empty_table()


def _fsync(path: Path) -> None:
    flags = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if path.is_dir() else os.O_RDONLY
    try:
        descriptor = os.open(path, flags)
    except OSError:  # pragma: no cover - folders cannot be opened on Windows
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_tables(
    con: duckdb.DuckDBPyConnection, alias: str, tables: Relations, run_id: str, built_at: datetime
) -> None:
    stamp = (
        f"{_quote_literal(run_id)} as run_id, timestamp '{built_at.isoformat(sep=' ')}' as built_at"
    )
    for name, relation in tables.items():
        clashes = [c for c in relation.columns if c.lower() in ADDED_COLUMNS]
        if clashes:
            raise PublicationError(
                f"published table {name}: already has column(s) {', '.join(clashes)}, which the "
                "publication adds"
            )
        con.execute(
            f'create table "{alias}".main."{name}" as '
            f"select *, {stamp} from ({relation.sql_query()})"
        )


def _write_runs(con: duckdb.DuckDBPyConnection, alias: str, run: pa.Table, previous: Path) -> None:
    con.register("__segment_runs_new", run)
    try:
        con.execute(
            f'create table "{alias}".main.{RUNS_TABLE} as select * from __segment_runs_new limit 0'
        )
        if previous.exists():
            _copy_previous_runs(con, alias, previous)
        con.execute(f'insert into "{alias}".main.{RUNS_TABLE} select * from __segment_runs_new')
    finally:
        con.unregister("__segment_runs_new")
    run_id = run.column("run_id")[0].as_py()
    con.execute(
        f'create view "{alias}".main.{CURRENT_RUN_VIEW} as '
        f"select * from {RUNS_TABLE} where run_id = {_quote_literal(run_id)}"
    )


def _copy_previous_runs(con: duckdb.DuckDBPyConnection, alias: str, previous: Path) -> None:
    """Append the previous published file's segment_runs rows (the columns both files have)."""
    previous_alias = f"{alias}_previous"
    try:
        con.execute(f"attach {_quote_literal(str(previous))} as {previous_alias} (read_only)")
    except duckdb.Error as error:
        raise PublicationError(
            f"{previous}: cannot read the published file to carry its segment_runs over "
            f"({error}); BI tools must open it read-only"
        ) from None
    try:
        columns = [
            row[0]
            for row in con.execute(
                "select column_name from duckdb_columns() "
                "where database_name = ? and table_name = ? order by column_index",
                [previous_alias, RUNS_TABLE],
            ).fetchall()
        ]
        common = [name for name in SEGMENT_RUNS_SCHEMA.names if name in columns]
        if common:
            listed = ", ".join(common)
            con.execute(
                f'insert into "{alias}".main.{RUNS_TABLE} ({listed}) '
                f"select {listed} from {previous_alias}.main.{RUNS_TABLE} order by built_at"
            )
    finally:
        con.execute(f"detach {previous_alias}")


def publish(
    session: duckdb.DuckDBPyConnection,
    tables: Relations,
    *,
    inputs: Relations,
    config: Mapping[str, Any],
    publish_dir: Path,
    invocation_id: str | None = None,
) -> pa.Table:
    """Publish ``tables`` as one run into ``<publish_dir>``; return its segment_runs row.

    The run goes to ``segments.duckdb`` and ``parquet/<run_id>/`` (``parquet/current`` points
    there).
    ``tables`` maps each published table's name to a relation of ``session``'s database (what
    ``dbt.ref`` returns); each is copied with ``run_id`` (uuid4 hex, the same in every table) and
    ``built_at`` (UTC timestamp) appended. ``inputs`` and ``tables`` feed :func:`run_summary`;
    ``config`` is hashed into ``config_hash``. The file is built as
    ``segments.<run_id>.duckdb.tmp`` and atomically renamed onto ``segments.duckdb``; on any
    error the temporary file is removed and the published file is left as it was.

    The work happens on a cursor of its own: dbt runs Python models inside a transaction on the
    build database, and DuckDB commits a transaction to one database only.

    Parameters
    ----------
    session : duckdb.DuckDBPyConnection
        The model's connection to the build database.
    tables : mapping of str to duckdb.DuckDBPyRelation
        Published tables by name (lowercase SQL identifiers); must include the tables
        :func:`run_summary` reads.
    inputs : mapping of str to duckdb.DuckDBPyRelation
        The raw and staged inputs :func:`run_summary` counts.
    config : mapping
        The ``segmentation`` configuration (hashed by :func:`config_hash`).
    publish_dir : pathlib.Path
        The publication folder (created if missing).
    invocation_id : str or None
        dbt's ``invocation_id``, recorded as ``dbt_invocation_id``.

    Returns
    -------
    pyarrow.Table
        One row, schema ``SEGMENT_RUNS_SCHEMA``.

    Raises
    ------
    PublicationError
        No table given, a name that is not a lowercase SQL identifier, a reserved name
        (segment_runs, current_run), a table that already has ``run_id`` / ``built_at``, a
        missing summary table or input, an unreadable previous file, or the lock not obtained in
        time; the published file is left unchanged.
    duckdb.Error, OSError
        From DuckDB or the file system while writing; the temporary files are removed and the
        published file is left unchanged.
    """
    _check_tables(tables, inputs)
    run_id = uuid.uuid4().hex
    built_at = datetime.now(UTC).replace(tzinfo=None)
    publish_dir = Path(publish_dir)
    temporary = publish_dir / f"segments.{run_id}.duckdb.tmp"
    parquet = publish_dir / PARQUET_FOLDER
    con = session.cursor()
    try:
        with publication_lock(publish_dir):
            for path in remove_stale_temporaries(publish_dir):
                print(f"segmentation: removed {path} left by a killed publication", file=sys.stderr)
            summary = run_summary(con, tables, inputs)
            row = {
                "run_id": run_id,
                "built_at": built_at,
                "config_hash": config_hash(config),
                **summary,
                "published_tables": len(tables),
                "dbt_invocation_id": invocation_id,
                "package_version": __version__,
            }
            run = pa.Table.from_pylist([row], schema=SEGMENT_RUNS_SCHEMA)
            _write_run_files(con, tables, run, built_at, temporary, publish_dir)
            _switch_to_run(publish_dir, run_id, temporary)
    except BaseException:
        for path in (temporary, temporary.with_name(temporary.name + ".wal")):
            with suppress(OSError):
                path.unlink()
        shutil.rmtree(parquet / f"{run_id}.tmp", ignore_errors=True)
        if current_parquet_run(publish_dir) != run_id:
            shutil.rmtree(parquet / run_id, ignore_errors=True)
        raise
    finally:
        con.close()
    return run


def _check_tables(tables: Relations, inputs: Relations) -> None:
    """The names of a publication: some tables, SQL identifiers, no reserved name."""
    if not tables:
        raise PublicationError("published tables: none given")
    for name in [*tables, *inputs]:
        _check_name(name, "table")
    if RUNS_TABLE in tables or CURRENT_RUN_VIEW in tables:
        raise PublicationError(
            f"published tables: {RUNS_TABLE} and {CURRENT_RUN_VIEW} are reserved"
        )


def _write_run_files(
    con: duckdb.DuckDBPyConnection,
    tables: Relations,
    run: pa.Table,
    built_at: datetime,
    temporary: Path,
    publish_dir: Path,
) -> None:
    """Write the run (one ``segment_runs`` row) into the temporary file and Parquet folder.

    ``temporary`` gets the tables and every run's ``segment_runs`` row (the previous ones from
    the published file), checkpointed and fsynced; ``parquet/<run_id>.tmp`` the same tables
    as Parquet. Nothing a reader opens changes yet (:func:`_switch_to_run` does that).
    """
    run_id = run.column("run_id")[0].as_py()
    alias = f"publication_{run_id}"
    con.execute(
        f"attach {_quote_literal(str(temporary))} as {alias} "
        f"(storage_version {_quote_literal(STORAGE_VERSION)})"
    )
    try:
        _write_tables(con, alias, tables, run_id, built_at)
        _write_runs(con, alias, run, publish_dir / PUBLISHED_FILE)
        con.execute(f"checkpoint {alias}")
        _write_parquet(con, alias, publish_dir / PARQUET_FOLDER / f"{run_id}.tmp")
    finally:
        con.execute(f"detach {alias}")
    _fsync(temporary)


def _switch_to_run(publish_dir: Path, run_id: str, temporary: Path) -> None:
    """Make the written run the published one: Parquet folder and ``current``, then the file."""
    parquet = publish_dir / PARQUET_FOLDER
    os.replace(parquet / f"{run_id}.tmp", parquet / run_id)
    previous_run = current_parquet_run(publish_dir)
    _point_current(parquet, run_id)
    # A WAL next to the published file would belong to the old file (someone opened it
    # read-write); replayed onto the new one it would corrupt it.
    with suppress(FileNotFoundError):
        (publish_dir / f"{PUBLISHED_FILE}.wal").unlink()
    os.replace(temporary, publish_dir / PUBLISHED_FILE)
    _fsync(publish_dir)
    # Readers that listed the previous run's folder just before the switch can still read it;
    # older runs go.
    _prune_parquet_runs(parquet, {run_id, *([previous_run] if previous_run else [])})
