"""Generate demo data of a given size, run the full ``dbt build`` on it and measure it.

One JSON line per size goes to stdout and is appended to ``OUT/results.jsonl``; the fields are
described in ``bench/README.md``. Layout under ``OUT``::

    data/customers_N/    raw_customers.parquet, raw_orders.parquet, demo_customer_personas.parquet,
                         parameters.json (what was generated; reused when it matches)
    runs/customers_N/    segments.duckdb (deleted unless --keep), target/, logs/, dbt.log
    results.jsonl        every measurement, one line each, appended
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).with_name("dbt")
PROFILE_THREADS = 2  # profiles.yml: SEGMENTS_DBT_THREADS, default 2
PROFILE_MEMORY_LIMIT = "4GB"  # profiles.yml: SEGMENTS_MEMORY_LIMIT, default 4GB
DATA_FILES = ("raw_customers", "raw_orders", "demo_customer_personas")
TOP_NODES = 15


def log(message: str) -> None:
    """Progress on stderr, so stdout carries only the JSON lines."""
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- data -----------------------------------------------------------------------------------


def _generator_fingerprint(n_customers: int) -> dict[str, Any]:
    """What the generated files depend on: the parameters and the generator's source."""
    from segmentation import demo

    params = demo.DemoParameters(n_customers=n_customers)
    return {
        "parameters": {
            k: (v.isoformat() if isinstance(v, dt.date) else v)
            for k, v in dataclasses.asdict(params).items()
        },
        "format": "parquet",
        "generator_sha256": hashlib.sha256(Path(demo.__file__).read_bytes()).hexdigest(),
    }


def parquet_rows(path: Path) -> int:
    """Row count of a Parquet file, from its footer."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def ensure_data(n_customers: int, out: Path, *, skip_generate: bool) -> dict[str, Any]:
    """Make sure the demo Parquet files for ``n_customers`` exist under ``out/data``.

    Returns the data directory, the generation time (None when reused) and the row counts.
    Files are reused when ``parameters.json`` matches the current parameters and generator.
    """
    data_dir = out / "data" / f"customers_{n_customers}"
    params_file = data_dir / "parameters.json"
    files = {name: data_dir / f"{name}.parquet" for name in DATA_FILES}
    wanted = _generator_fingerprint(n_customers)
    present = params_file.is_file() and all(p.is_file() for p in files.values())
    found = json.loads(params_file.read_text()) if present else None
    matches = found is not None and {k: found.get(k) for k in wanted} == wanted
    generate_s = None
    if skip_generate:
        if not present:
            raise SystemExit(f"--skip-generate: no generated data in {data_dir}")
        if not matches:
            log(f"--skip-generate: {params_file} does not match the current generator; using it")
    elif not matches:
        from segmentation import demo

        log(f"generating {n_customers:,} customers into {data_dir}")
        if data_dir.exists():
            shutil.rmtree(data_dir)
        started = time.perf_counter()
        counts = demo.write(demo.DemoParameters(n_customers=n_customers), data_dir, "parquet")
        generate_s = round(time.perf_counter() - started, 2)
        params_file.write_text(json.dumps({**wanted, "counts": counts}, indent=2) + "\n")
    else:
        log(f"reusing {data_dir}")
    return {
        "data_dir": data_dir,
        "files": files,
        "generate_s": generate_s,
        "customer_rows": parquet_rows(files["raw_customers"]),
        "order_lines": parquet_rows(files["raw_orders"]),
        "personas": parquet_rows(files["demo_customer_personas"]),
    }


# --- dbt ------------------------------------------------------------------------------------


def project_vars(files: dict[str, Path]) -> dict[str, Any]:
    """The vars of dbt_project.yml with ``segments_inputs`` pointed at the Parquet files."""
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())
    dbt_vars = dict(project.get("vars") or {})
    dbt_vars["segments_inputs"] = {
        "customers": {"path": str(files["raw_customers"]), "format": "parquet"},
        "orders": {"path": str(files["raw_orders"]), "format": "parquet"},
    }
    return dbt_vars


def run_measured(
    command: list[str], *, env: dict[str, str], cwd: Path, output: Path
) -> dict[str, Any]:
    """Run ``command``, its output into ``output``; wall time and the rusage of its process tree.

    ``os.wait4`` returns the rusage of that one child and of its waited-for descendants, so
    ``ru_maxrss`` is the peak RSS of the largest process of the tree (dbt runs DuckDB and the
    Python models in its own process), independent of earlier runs of this process.
    """
    with output.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "cpu_user_s": round(usage.ru_utime, 2),
        "cpu_sys_s": round(usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
    }


def dbt_env(run_dir: Path, memory_limit: str | None) -> dict[str, str]:
    """The environment of one dbt run: its own database, target and log folders."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "SEGMENTS_DB_PATH": str(run_dir / "segments.duckdb"),
        "DBT_TARGET_PATH": str(run_dir / "target"),
        "DBT_LOG_PATH": str(run_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if memory_limit:
        env["SEGMENTS_MEMORY_LIMIT"] = memory_limit
    return env


def fresh_run_dir(run_dir: Path) -> None:
    """Remove the database and the artifacts of an earlier run, so every run starts cold."""
    for name in ("segments.duckdb", "segments.duckdb.wal"):
        (run_dir / name).unlink(missing_ok=True)
    for name in ("target", "logs"):
        shutil.rmtree(run_dir / name, ignore_errors=True)
    run_dir.mkdir(parents=True, exist_ok=True)


# --- run_results.json -----------------------------------------------------------------------


def _short_name(unique_id: str) -> str:
    """``model.segment_engine.x`` -> ``x``; tests keep their kind: ``test:x``."""
    parts = unique_id.split(".")
    kind = parts[0]
    if kind == "model":
        return parts[2]
    if kind == "test":
        return f"test:{parts[2]}"
    if kind == "unit_test":
        return f"unit_test:{'.'.join(parts[2:])}"
    return f"{kind}:{parts[-1]}"


def _build_dependencies(manifest: dict[str, Any], ran: set[str]) -> dict[str, set[str]]:
    """What each node waits for in ``dbt build``: its parents and the tests of its parents.

    A data test gates the children of the node it tests when all the nodes it depends on are
    upstream; unit tests run before the model they test. Only nodes of this run are kept.
    """
    nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    parents = {
        uid: {d for d in node.get("depends_on", {}).get("nodes", []) if d in nodes}
        for uid, node in nodes.items()
    }
    ancestors: dict[str, set[str]] = {}

    def ancestors_of(uid: str) -> set[str]:
        if uid not in ancestors:
            found: set[str] = set()
            for parent in parents.get(uid, ()):
                found |= {parent, *ancestors_of(parent)}
            ancestors[uid] = found
        return ancestors[uid]

    tests_of: dict[str, set[str]] = {}
    unit_tests_of: dict[str, set[str]] = {}
    for uid in nodes:
        if uid.startswith("test."):
            for parent in parents[uid]:
                tests_of.setdefault(parent, set()).add(uid)
        elif uid.startswith("unit_test."):
            for parent in parents[uid]:
                unit_tests_of.setdefault(parent, set()).add(uid)
    deps: dict[str, set[str]] = {}
    for uid in ran:
        if uid not in nodes:
            continue
        if uid.startswith("unit_test."):
            tested = next(iter(parents[uid]), None)
            deps[uid] = set(parents.get(tested, ())) if tested else set()
            continue
        wait = set(parents[uid])
        if not uid.startswith("test."):
            upstream = ancestors_of(uid)
            for parent in parents[uid]:
                wait |= {t for t in tests_of.get(parent, ()) if parents[t] <= upstream}
            wait |= unit_tests_of.get(uid, set())
        deps[uid] = {d for d in wait if d in ran}
    return deps


def critical_path(seconds: dict[str, float], deps: dict[str, set[str]]) -> dict[str, Any]:
    """The longest chain of node times through the build graph: the wall with unlimited threads."""
    memo: dict[str, tuple[float, list[str]]] = {}

    def longest(uid: str) -> tuple[float, list[str]]:
        if uid not in memo:
            best: tuple[float, list[str]] = (0.0, [])
            for dep in deps.get(uid, ()):
                best = max(best, longest(dep), key=lambda item: item[0])
            memo[uid] = (best[0] + seconds.get(uid, 0.0), [*best[1], uid])
        return memo[uid]

    total, chain = max((longest(uid) for uid in seconds), key=lambda item: item[0])
    return {
        "s": round(total, 2),
        "nodes": [[_short_name(uid), round(seconds[uid], 2)] for uid in chain],
    }


def _interval(result: dict[str, Any]) -> tuple[float, float] | None:
    """Start and end (epoch seconds) of one node, from its compile and execute timings."""
    stamps = [
        dt.datetime.fromisoformat(t[key].replace("Z", "+00:00")).timestamp()
        for t in result.get("timing") or []
        for key in ("started_at", "completed_at")
        if t.get(key)
    ]
    return (min(stamps), max(stamps)) if stamps else None


def concurrency(results: list[dict[str, Any]]) -> dict[str, Any]:
    """How long 0, 1, 2, ... nodes ran at once between the first node's start and the last's end.

    Time with fewer running nodes than threads is time the build is bound by a chain of
    dependencies (or by dbt's own scheduling), not by the cores.
    """
    intervals = [i for i in map(_interval, results) if i is not None]
    if not intervals:
        return {}
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    busy: dict[int, float] = {}
    running, previous = 0, events[0][0]
    for stamp, delta in events:
        busy[running] = busy.get(running, 0.0) + stamp - previous
        running, previous = running + delta, stamp
    return {
        "span_s": round(events[-1][0] - events[0][0], 2),
        "seconds_with_n_running": {str(n): round(s, 2) for n, s in sorted(busy.items())},
    }


def summarise_run(target: Path, wall_s: float, threads: int) -> dict[str, Any]:
    """Per-node seconds and statuses from run_results.json (plus the manifest's graph)."""
    results_file = target / "run_results.json"
    if not results_file.is_file():
        return {"run_results": None}
    results = json.loads(results_file.read_text())
    seconds = {r["unique_id"]: float(r["execution_time"] or 0.0) for r in results["results"]}
    kinds: dict[str, list[str]] = {}
    for uid in seconds:
        kinds.setdefault(uid.split(".")[0], []).append(uid)
    models = {_short_name(u): round(seconds[u], 2) for u in kinds.get("model", [])}
    tests = kinds.get("test", []) + kinds.get("unit_test", [])
    node_sum = sum(seconds.values())
    statuses: dict[str, int] = {}
    failed = []
    for r in results["results"]:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        # Exposures are listed by `dbt build` with status no-op: they run nothing, so they are
        # not failures.
        if r["status"] not in ("success", "pass", "no-op"):
            failed.append(
                {
                    "node": r["unique_id"],
                    "status": r["status"],
                    "message": (r.get("message") or "")[:500],
                }
            )
    dbt_elapsed = float(results.get("elapsed_time") or 0.0)
    summary: dict[str, Any] = {
        "models": dict(sorted(models.items(), key=lambda kv: -kv[1])),
        "models_s": round(sum(seconds[u] for u in kinds.get("model", [])), 2),
        "model_count": len(models),
        "tests_s": round(sum(seconds[u] for u in tests), 2),
        "test_count": len(tests),
        "unit_tests_s": round(sum(seconds[u] for u in kinds.get("unit_test", [])), 2),
        "unit_test_count": len(kinds.get("unit_test", [])),
        "seeds_s": round(sum(seconds[u] for u in kinds.get("seed", [])), 2),
        "node_sum_s": round(node_sum, 2),
        "dbt_elapsed_s": round(dbt_elapsed, 2),
        "startup_parse_s": round(wall_s - dbt_elapsed, 2),
        "overhead_s": round(wall_s - node_sum / threads, 2),
        "top_nodes": [
            [_short_name(u), round(s, 2)]
            for u, s in sorted(seconds.items(), key=lambda kv: -kv[1])[:TOP_NODES]
        ],
        "slowest_tests": [
            [_short_name(u), round(seconds[u], 2)]
            for u in sorted(tests, key=lambda u: -seconds[u])[:10]
        ],
        "concurrency": concurrency(results["results"]),
        "node_statuses": statuses,
        "failed": failed,
    }
    manifest_file = target / "manifest.json"
    if manifest_file.is_file() and seconds:
        manifest = json.loads(manifest_file.read_text())
        summary["critical_path"] = critical_path(
            seconds, _build_dependencies(manifest, set(seconds))
        )
    return summary


# --- quality figures from the built database ---------------------------------------------------


def quality(db_path: Path, personas: Path) -> dict[str, Any]:
    """Selected k and silhouette per method, ARI against the planted personas, row counts."""
    import duckdb
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    figures: dict[str, Any] = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        selected = con.execute(
            "select method, k, silhouette, silhouette_method, silhouette_rows, scheme "
            "from clustering_metrics where is_selected order by method"
        ).fetchall()
        for method, k, silhouette, s_method, s_rows, scheme in selected:
            figures[method] = {
                "k": k,
                "silhouette": None if silhouette is None else round(silhouette, 4),
                "silhouette_method": s_method,
                "silhouette_rows": s_rows,
                "scheme": scheme,
            }
        figures["customers_in"] = con.execute(
            "select count(distinct customer_id) from read_parquet(?)", [str(personas)]
        ).fetchone()[0]
        figures["segment_rows"] = con.execute("select count(*) from customer_segments").fetchone()[
            0
        ]
        figures["rows_match"] = figures["customers_in"] == figures["segment_rows"]
        joined = con.execute(
            "select p.persona, s.kmeans_segment_id, s.hierarchical_segment_id "
            "from customer_segments s join read_parquet(?) p using (customer_id)",
            [str(personas)],
        ).fetchnumpy()
        agreement = con.execute(
            "select adjusted_rand_index from segment_agreement limit 1"
        ).fetchone()
    _, truth = np.unique(
        np.asarray(joined["persona"], dtype=object).astype(str), return_inverse=True
    )
    for method in ("kmeans", "hierarchical"):
        labels = joined[f"{method}_segment_id"]
        mask = ~np.ma.getmaskarray(labels)
        if method in figures and mask.any():
            figures[method]["ari_vs_persona"] = round(
                float(adjusted_rand_score(truth[mask], np.asarray(labels)[mask])), 4
            )
    figures["kmeans_vs_hierarchical_ari"] = (
        None if agreement is None or agreement[0] is None else round(agreement[0], 4)
    )
    return figures


# --- orchestration ----------------------------------------------------------------------------


def _git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "git_commit": git("rev-parse", "--short", "HEAD") or None,
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def bench_size(n_customers: int, args: argparse.Namespace) -> dict[str, Any]:
    """Generate (or reuse) the data of one size, build it, and return its JSON record."""
    out: Path = args.out
    data = ensure_data(n_customers, out, skip_generate=args.skip_generate)
    run_dir = out / "runs" / f"customers_{n_customers}"
    fresh_run_dir(run_dir)
    threads = args.threads or int(os.environ.get("SEGMENTS_DBT_THREADS", PROFILE_THREADS))
    dbt_vars = json.dumps(project_vars(data["files"]))
    common = ["--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT), "--vars"]
    extra = ["--threads", str(args.threads)] if args.threads else []
    extra += shlex.split(args.dbt_args or "")
    command = [str(DBT), "build", *common, dbt_vars, *extra]
    record: dict[str, Any] = {
        "customers": n_customers,
        "order_lines": data["order_lines"],
        "customer_rows_raw": data["customer_rows"],
        "generate_s": data["generate_s"],
        "threads": threads,
        "memory_limit": args.memory_limit
        or os.environ.get("SEGMENTS_MEMORY_LIMIT", PROFILE_MEMORY_LIMIT),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **_git_state(),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    env = dbt_env(run_dir, args.memory_limit)
    if args.warm_parse:
        # Parse first (not timed in wall_s) so the build reuses target/partial_parse.msgpack.
        parse = [str(DBT), "parse", *common, dbt_vars]
        parsed = run_measured(parse, env=env, cwd=run_dir, output=run_dir / "dbt_parse.log")
        record["warm_parse"] = parsed
        record["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    record["dbt_command"] = " ".join(["dbt build --vars <vars>", *extra])
    log(f"dbt build on {n_customers:,} customers (load {record['load_avg']}), log {run_dir}")
    measured = run_measured(command, env=env, cwd=run_dir, output=run_dir / "dbt.log")
    record["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    record.update({k: v for k, v in measured.items() if k != "exit_code"})
    summary = summarise_run(run_dir / "target", measured["wall_s"], threads)
    failed = summary.pop("failed", [])
    record["status"] = {
        "exit_code": measured["exit_code"],
        "ok": measured["exit_code"] == 0,
        "failed": failed,
        "nodes": summary.pop("node_statuses", {}),
    }
    if measured["exit_code"] != 0 and not failed:
        tail = (run_dir / "dbt.log").read_text(errors="replace")[-2000:]
        record["status"]["output_tail"] = tail
    record.update(summary)
    db_path = run_dir / "segments.duckdb"
    if db_path.is_file():
        record["db_mb"] = round(db_path.stat().st_size / 2**20, 1)
        try:
            record["quality"] = quality(db_path, data["files"]["demo_customer_personas"])
        except Exception as error:  # a failed build leaves tables missing
            record["quality"] = {"error": f"{type(error).__name__}: {error}"[:500]}
        if not args.keep:
            db_path.unlink()
            (run_dir / "segments.duckdb.wal").unlink(missing_ok=True)
    record["run_dir"] = str(run_dir)
    return record


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark the full dbt build on generated demo data."
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="numbers of customers (1,000 to 10,000,000; default: 100000 1000000)",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "bench" / "out", help="default: bench/out"
    )
    parser.add_argument("--threads", type=int, help="dbt threads (default: the profile's, 2)")
    parser.add_argument("--keep", action="store_true", help="keep the built DuckDB file")
    parser.add_argument(
        "--skip-generate", action="store_true", help="use the data under OUT/data as it is"
    )
    parser.add_argument(
        "--memory-limit", help="SEGMENTS_MEMORY_LIMIT, DuckDB's memory_limit (default: 4GB)"
    )
    parser.add_argument(
        "--dbt-args",
        help='extra arguments of dbt build, e.g. "--exclude resource_type:unit_test"',
    )
    parser.add_argument(
        "--warm-parse",
        action="store_true",
        help="run dbt parse first (timed apart) so the build parses partially, not from scratch",
    )
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    """Benchmark every size; 0 when every build succeeded."""
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    ok = True
    for n_customers in args.sizes:
        record = bench_size(n_customers, args)
        ok &= record["status"]["ok"]
        line = json.dumps(record)
        print(line, flush=True)
        with (args.out / "results.jsonl").open("a") as sink:
            sink.write(line + "\n")
        log(
            f"{n_customers:,} customers: {'ok' if record['status']['ok'] else 'FAILED'}, "
            f"wall {record['wall_s']} s, peak RSS {record['peak_rss_mb']} MB"
        )
    return 0 if ok else 1
