"""Smoke test of the benchmark: `python -m bench` on 1,000 customers in a tmp dir.

The speed targets are not asserted here: this checks that the bench runs the full build, that
the build succeeds and that its JSON line carries the fields the README documents.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dbt_harness import REPO_ROOT


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    # Without the unit tests (fixed inputs, run by every other build): the data tests still run.
    command = [sys.executable, "-m", "bench", "--sizes", "1000", "--out", str(out)]
    command += ["--dbt-args", "--exclude resource_type:unit_test"]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (out / "stdout.jsonl").write_text(done.stdout)
    return out


def test_one_json_line_with_the_documented_fields(bench_out: Path) -> None:
    lines = (bench_out / "stdout.jsonl").read_text().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert (bench_out / "results.jsonl").read_text().splitlines() == lines
    for field in (
        "customers",
        "order_lines",
        "wall_s",
        "peak_rss_mb",
        "models",
        "tests_s",
        "test_count",
        "status",
        "load_avg",
        "quality",
        "generate_s",
        "overhead_s",
        "top_nodes",
        "critical_path",
    ):
        assert field in record, field
    assert record["customers"] == 1000
    assert record["order_lines"] > 1000
    assert record["wall_s"] > 0
    assert record["peak_rss_mb"] > 50
    assert record["generate_s"] is not None
    assert len(record["load_avg"]) == 3


def test_the_build_succeeded_with_every_model_and_test(bench_out: Path) -> None:
    record = json.loads((bench_out / "stdout.jsonl").read_text())
    status = record["status"]
    assert status["exit_code"] == 0 and status["ok"], status
    assert status["failed"] == []
    assert {"customer_segments", "ml_kmeans_sweep", "customer_features"} <= set(record["models"])
    assert all(seconds >= 0 for seconds in record["models"].values())
    assert record["test_count"] > 0 and record["tests_s"] > 0


def test_quality_figures_come_from_the_built_database(bench_out: Path) -> None:
    quality = json.loads((bench_out / "stdout.jsonl").read_text())["quality"]
    assert quality["customers_in"] == 1000
    assert quality["segment_rows"] == 1000
    assert quality["rows_match"] is True
    kmeans = quality["kmeans"]
    assert 2 <= kmeans["k"] <= 10
    assert -1 <= kmeans["silhouette"] <= 1
    assert kmeans["silhouette_method"] in {"exact", "sampled"}
    assert kmeans["silhouette_rows"] > 0
    assert -1 <= kmeans["ari_vs_persona"] <= 1


def test_the_database_is_removed_and_the_data_reused(
    bench_out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = bench_out / "runs" / "customers_1000"
    assert not (run_dir / "segments.duckdb").exists()
    assert (run_dir / "target" / "run_results.json").is_file()
    params = json.loads((bench_out / "data" / "customers_1000" / "parameters.json").read_text())
    assert params["parameters"]["n_customers"] == 1000
    monkeypatch.syspath_prepend(str(REPO_ROOT))
    from bench.runner import ensure_data

    reused = ensure_data(1000, bench_out, skip_generate=False)
    assert reused["generate_s"] is None
    assert (
        reused["order_lines"] == json.loads((bench_out / "stdout.jsonl").read_text())["order_lines"]
    )
