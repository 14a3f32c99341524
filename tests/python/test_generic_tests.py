"""The generic data tests of tests/generic pass on good data and fail on bad data.

A throwaway dbt project in a temporary folder gets a copy of tests/generic, a DuckDB profile and,
per case, two inline SQL models (good and bad) with the same test configured on each. One
`dbt build` runs everything; the statuses are read from run_results.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

DBT = Path(sys.executable).parent / "dbt"


@dataclass(frozen=True)
class Case:
    """One generic test configured on a good model (must pass) and a bad one (must fail)."""

    name: str
    test: str
    arguments: dict[str, Any]
    good: str
    bad: str
    column: str | None = None
    config: dict[str, Any] = field(default_factory=dict)


def rows(columns: str, *values: str) -> str:
    """Inline rows as SQL: rows("x, y", "1, 2", "3, 4")."""
    return f"select * from (values ({'), ('.join(values)})) as t({columns})"


CASES = [
    Case(
        "range_inclusive",
        "accepted_range",
        {"min_value": 0, "max_value": 1},
        good=rows("x", "0.0", "1.0", "null"),
        bad=rows("x", "0.5", "1.5"),
        column="x",
    ),
    Case(
        "range_exclusive",
        "accepted_range",
        {"min_value": 0, "max_value": 1, "inclusive": False},
        good=rows("x", "0.5"),
        bad=rows("x", "0.5", "1.0"),
        column="x",
    ),
    Case(
        "range_where",
        "accepted_range",
        {"min_value": 0, "where": "k > 1"},
        good=rows("k, x", "1, -5.0", "2, 0.0"),
        bad=rows("k, x", "1, -5.0", "2, -1.0"),
        column="x",
    ),
    Case(
        "expression_model",
        "expression_is_true",
        {"expression": "p01 <= p50 and p50 <= p99"},
        good=rows("p01, p50, p99", "1, 2, 3", "2, 2, 2"),
        bad=rows("p01, p50, p99", "1, 2, 3", "3, 2, 1"),
    ),
    Case(
        "expression_column",
        "expression_is_true",
        {"expression": ">= 0"},
        good=rows("x", "0", "3"),
        bad=rows("x", "0", "-3"),
        column="x",
    ),
    Case(
        "expression_where",
        "expression_is_true",
        {"expression": "x > 0"},
        good=rows("k, x", "1, -1", "2, 1"),
        bad=rows("k, x", "1, 1", "2, -1"),
        config={"where": "k = 2"},
    ),
    Case(
        "row_count",
        "equal_row_count",
        {"compare_model": "ref('reference_rows')", "compare_where": "id <= 3"},
        good=rows("id", "1", "2", "3"),
        bad=rows("id", "1", "2"),
    ),
    Case(
        "not_null_share",
        "not_null_proportion",
        {"at_least": 0.5},
        good=rows("x", "1", "null"),
        bad=rows("x", "1", "null", "null"),
        column="x",
    ),
    Case(
        "not_null_share_at_most",
        "not_null_proportion",
        {"at_least": 0.2, "at_most": 0.6},
        good=rows("x", "1", "null"),
        bad=rows("x", "1", "2", "null"),
        column="x",
    ),
    Case(
        "unique_combination",
        "unique_combination_of_columns",
        {"combination_of_columns": ["a", "b"]},
        good=rows("a, b", "1, 'x'", "1, 'y'", "2, 'x'"),
        bad=rows("a, b", "1, 'x'", "1, 'y'", "1, 'x'"),
    ),
    Case(
        "relationships",
        "relationships",
        {"to": "ref('reference_rows')", "field": "id"},
        good=rows("x", "1", "4", "4", "null"),
        bad=rows("x", "1", "5"),
        column="x",
    ),
    Case(
        "shares_column",
        "sums_to_one",
        {"group_by": ["feature"]},
        good=rows("feature, share", "'f', 0.25", "'f', 0.75", "'g', 1.0"),
        bad=rows("feature, share", "'f', 0.5", "'f', 0.4", "'g', 1.0"),
        column="share",
    ),
    Case(
        "shares_model",
        "sums_to_one",
        {"column": "share", "tolerance": 0.01},
        good=rows("share", "0.5", "0.499"),
        bad=rows("share", "0.5", "0.3"),
    ),
    Case(
        "curve",
        "non_increasing",
        {"column": "inertia", "order_by": "k", "group_by": ["method"]},
        good=rows(
            "method, k, inertia", "'a', 2, 10.0", "'a', 3, 8.0", "'a', 4, 8.0", "'b', 2, 9.0"
        ),
        bad=rows("method, k, inertia", "'a', 2, 10.0", "'a', 3, 8.0", "'a', 4, 8.5"),
    ),
    Case(
        "curve_tolerance",
        "non_increasing",
        {"order_by": ["k"], "tolerance": 0.1},
        good=rows("k, inertia", "2, 10.0", "3, 10.05"),
        bad=rows("k, inertia", "2, 10.0", "3, 10.5"),
        column="inertia",
    ),
]


def write_project(root: Path, repo_root: Path) -> None:
    """The throwaway project: generic tests copied from the repository, models, YAML."""
    shutil.copytree(repo_root / "tests" / "generic", root / "tests" / "generic")
    (root / "dbt_project.yml").write_text(
        yaml.safe_dump(
            {
                "name": "generic_tests_check",
                "version": "1.0.0",
                "config-version": 2,
                "profile": "generic_tests_check",
                "flags": {"send_anonymous_usage_stats": False, "use_colors": False},
                "models": {"generic_tests_check": {"+materialized": "table"}},
            }
        )
    )
    (root / "profiles.yml").write_text(
        yaml.safe_dump(
            {
                "generic_tests_check": {
                    "target": "dev",
                    "outputs": {
                        "dev": {"type": "duckdb", "path": str(root / "check.duckdb"), "threads": 2}
                    },
                }
            }
        )
    )
    models_dir = root / "models"
    models_dir.mkdir()
    (models_dir / "reference_rows.sql").write_text(rows("id", "1", "2", "3", "4"))
    models = []
    for case in CASES:
        for kind in ("good", "bad"):
            model_name = f"{case.name}__{kind}"
            (models_dir / f"{model_name}.sql").write_text(getattr(case, kind))
            test = {case.test: {"name": f"{model_name}_test", "arguments": dict(case.arguments)}}
            if case.config:
                test[case.test]["config"] = dict(case.config)
            model: dict[str, Any] = {"name": model_name}
            if case.column is None:
                model["data_tests"] = [test]
            else:
                model["columns"] = [{"name": case.column, "data_tests": [test]}]
            models.append(model)
    (models_dir / "_models.yml").write_text(yaml.safe_dump({"version": 2, "models": models}))


@pytest.fixture(scope="module")
def test_statuses(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> dict[str, str]:
    """Status of every test of the throwaway project after one `dbt build`."""
    root = tmp_path_factory.mktemp("generic_tests_project")
    write_project(root, repo_root)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "SEGMENTS_"))}
    result = subprocess.run(
        [
            str(DBT),
            "build",
            "--project-dir",
            str(root),
            "--profiles-dir",
            str(root),
            "--target-path",
            str(root / "target"),
            "--log-path",
            str(root / "logs"),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    run_results = root / "target" / "run_results.json"
    assert run_results.exists(), result.stdout + result.stderr
    statuses = {}
    for entry in json.loads(run_results.read_text())["results"]:
        if entry["unique_id"].startswith("model."):
            assert entry["status"] == "success", (entry["unique_id"], entry["message"])
        else:
            statuses[entry["unique_id"].split(".")[2]] = entry["status"]
    return statuses


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_passes_on_good_data_and_fails_on_bad(case: Case, test_statuses: dict[str, str]) -> None:
    assert test_statuses[f"{case.name}__good_test"] == "pass"
    assert test_statuses[f"{case.name}__bad_test"] == "fail"


def test_every_generic_test_is_exercised(repo_root: Path) -> None:
    defined = {path.stem for path in (repo_root / "tests" / "generic").glob("*.sql")}
    assert defined == {case.test for case in CASES}
