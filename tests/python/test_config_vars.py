"""Unknown --vars keys are errors (macros/check_vars.sql, on-run-start in dbt_project.yml).

The known vars are those of the configuration schema (src/segmentation/config_schema.yml).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from bad_inputs import BY_ID
from dbt_harness import run_dbt

from segmentation import config_schema

VAR_CALL = re.compile(r"""var\(\s*['"]([a-z_]+)""")


def _known_vars() -> list[str]:
    """The vars of the configuration schema (segments_known_vars returns the same list)."""
    return list(config_schema.schema()["vars"])


def _vars_read_by_the_code(repo_root: Path) -> set[str]:
    found: set[str] = set()
    for folder in ("macros", "models", "tests", "analyses"):
        for path in (repo_root / folder).rglob("*"):
            if path.suffix in (".sql", ".yml", ".yaml", ".py") and path.is_file():
                found |= set(VAR_CALL.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_known_vars_are_the_vars_the_code_reads(repo_root: Path) -> None:
    known = _known_vars()
    assert len(known) == len(set(known))
    assert set(known) == _vars_read_by_the_code(repo_root)
    project = yaml.safe_load((repo_root / "dbt_project.yml").read_text())
    assert set(project["vars"]) <= set(known), set(project["vars"]) - set(known)


def test_a_misspelt_var_fails_naming_the_closest_known_one(tmp_path: Path) -> None:
    run = run_dbt(
        ["run", "-s", "base_orders"], tmp_path, vars={"segment_timezone": "America/Los_Angeles"}
    )
    assert run.returncode != 0
    assert BY_ID["config_unknown_var"].expected in run.output, run.output[-3000:]
