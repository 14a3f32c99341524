"""dbt exposures: the HTML report and the published file, as dbt lists them."""

from __future__ import annotations

import json
from pathlib import Path

from dbt_harness import run_dbt

from segmentation import report

PROJECT = "model.segment_engine."
# Inputs the publication reads for its segment_runs counts; they are not published.
PUBLICATION_INPUTS = {"base_customers", "base_orders", "stg_customers", "stg_order_lines"}


def test_exposures_list_the_report_and_every_published_table(tmp_path: Path) -> None:
    run = run_dbt(
        [
            "ls",
            "--resource-type",
            "exposure",
            "--output",
            "json",
            "--output-keys",
            "name depends_on",
        ],
        tmp_path,
    )
    assert run.returncode == 0, run.output[-3000:]
    listed = {
        row["name"]: {node.removeprefix(PROJECT) for node in row["depends_on"]["nodes"]}
        for row in (json.loads(line) for line in run.output.splitlines() if line.startswith("{"))
    }
    assert set(listed) == {"segments_report", "published_segments"}

    # The published file's exposure depends on exactly what the publication copies.
    manifest = json.loads((run.target_path / "manifest.json").read_text())
    parents = manifest["nodes"][f"{PROJECT}segment_publication"]["depends_on"]["nodes"]
    published = {node.removeprefix(PROJECT) for node in parents} - PUBLICATION_INPUTS
    assert listed["published_segments"] == {"segment_publication", *published}

    # The report's exposure names exactly the tables the report reads, all of them published.
    assert listed["segments_report"] == {"segment_publication", *report.TABLES_READ}
    assert set(report.TABLES_READ) <= published
