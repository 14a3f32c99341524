"""The data tests that guard the staged order lines fail on the violations they exist to catch.

They were rewritten to be cheap at 16 M lines (one pass over the lines, no key text built for
every line): each is run here, as the demo build compiled it, against a copy of the demo
database in which a violation is planted (inside a transaction that is rolled back), and must
return exactly the planted rows. Reuses the session's demo build; about 2 s of its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from dbt_harness import DbtRun, copy_run


@pytest.fixture(scope="module")
def workspace(demo_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    return copy_run(demo_build, tmp_path_factory.mktemp("staging_guards"))


@pytest.fixture(scope="module")
def compiled_tests(workspace: DbtRun) -> dict[str, str]:
    """The compiled SQL of every data test of the build, by test name."""
    manifest = json.loads((workspace.target_path / "manifest.json").read_text())
    return {
        node["name"]: node["compiled_code"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node.get("compiled_code")
    }


@pytest.fixture
def con(workspace: DbtRun) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the copy inside a transaction that is rolled back afterwards."""
    connection = duckdb.connect(str(workspace.db_path))
    connection.execute("begin transaction")
    try:
        yield connection
    finally:
        connection.execute("rollback")
        connection.close()


def find_test(compiled_tests: dict[str, str], prefix: str) -> str:
    names = [name for name in compiled_tests if name.startswith(prefix)]
    assert len(names) == 1, (prefix, names)
    return names[0]


def run_test(
    con: duckdb.DuckDBPyConnection, compiled_tests: dict[str, str], prefix: str
) -> list[tuple[Any, ...]]:
    return con.execute(compiled_tests[find_test(compiled_tests, prefix)]).fetchall()


def stage_lines_as_table(con: duckdb.DuckDBPyConnection) -> None:
    """Replace the view stg_order_lines by a table of its rows, which the test can then change."""
    con.execute("create table main.doctored_lines as select * from main.stg_order_lines")
    con.execute("drop view main.stg_order_lines")
    con.execute("alter table main.doctored_lines rename to stg_order_lines")


def lines(con: duckdb.DuckDBPyConnection, n: int) -> list[tuple[str, str, str]]:
    """The first n usable lines (order_line_key, order_id, customer_id), one per order."""
    return con.execute(
        """
        select any_value(order_line_key order by order_line_key), order_id, any_value(customer_id)
        from main.stg_order_lines group by order_id order by order_id limit ?
        """,
        [n],
    ).fetchall()


def test_the_guards_pass_on_the_demo(workspace: DbtRun, compiled_tests: dict[str, str]) -> None:
    with duckdb.connect(str(workspace.db_path), read_only=True) as con:
        for prefix in (
            "assert_staging_rules_hold",
            "stg_order_lines_order_line_key_unique",
            "expression_is_true_stg_order_lines",
            "relationships_stg_order_lines_customer_id",
        ):
            assert run_test(con, compiled_tests, prefix) == [], prefix


def test_staging_rules_catch_each_planted_line_rule_and_shared_order(
    con: duckdb.DuckDBPyConnection, compiled_tests: dict[str, str]
) -> None:
    stage_lines_as_table(con)
    (flags, _, _), (dates, _, _), (early, _, _), (both, _, _), (shared, shared_order, _) = lines(
        con, 5
    )
    con.execute(
        "update main.stg_order_lines set is_cancelled = not is_cancelled where order_line_key = ?",
        [flags],
    )
    con.execute(
        "update main.stg_order_lines set order_date = order_date + 1 where order_line_key = ?",
        [dates],
    )
    con.execute(
        """
        update main.stg_order_lines
        set ordered_at = timestamp '1969-12-31 12:00:00', order_date = date '1969-12-31'
        where order_line_key = ?
        """,
        [early],
    )
    con.execute(
        """
        update main.stg_order_lines
        set is_return = not is_return, order_date = date '1969-12-30'
        where order_line_key = ?
        """,
        [both],
    )
    # A second customer on one order: a copy of a line under a new key and another customer id.
    con.execute(
        """
        insert into main.stg_order_lines
        select * replace (
            order_line_key || '/x' as order_line_key,
            customer_id || '-other' as customer_id,
        )
        from main.stg_order_lines where order_line_key = ?
        """,
        [shared],
    )
    flags_rule = "is_cancelled or is_return inconsistent with status and amount"
    date_rule = "order_date is not the date of ordered_at"
    range_rule = "order_date before 1970 or after the last plausible order date"
    assert sorted(run_test(con, compiled_tests, "assert_staging_rules_hold")) == sorted(
        [
            (flags_rule, flags),
            (date_rule, dates),
            (range_rule, early),
            (flags_rule, both),
            (date_rule, both),
            (range_rule, both),
            ("order_id with more than one customer", shared_order),
        ]
    )


def test_key_uniqueness_catches_a_repeated_kept_line_and_not_exact_copies(
    con: duckdb.DuckDBPyConnection, compiled_tests: dict[str, str]
) -> None:
    """A kept line twice (same order_id, line_number, source_row_key and copy_number, so the same
    order_line_key) fails; an exact copy kept with its copy_number (another key) and a repeated
    rejected line do not."""
    (key, _, _), (copied, _, _), (rejected, _, _) = lines(con, 3)
    checked = "main.base_order_lines_checked"
    match = "concat_ws('/', order_id, line_number, source_row_key) = ?"
    con.execute(f"insert into {checked} select * from {checked} where {match}", [key])
    con.execute(
        f"insert into {checked} select * replace (1 as copy_number) from {checked} where {match}",
        [copied],
    )
    con.execute(
        f"insert into {checked} select * replace ('missing_amount' as reject_reason)"
        f" from {checked} where {match}",
        [rejected],
    )
    failures = run_test(con, compiled_tests, "stg_order_lines_order_line_key_unique")
    planted = con.execute(
        f"select order_id, line_number, source_row_key, copy_number from {checked} where {match}",
        [key],
    ).fetchall()
    assert [tuple(row) for row in failures] == [(*planted[0], 2)]
    # The published key agrees: exactly the planted key is repeated.
    assert con.execute(
        "select order_line_key from main.stg_order_lines group by all having count(*) > 1"
    ).fetchall() == [(key,)]


@pytest.mark.parametrize(
    "column",
    [
        "order_id",
        "line_number",
        "customer_id",
        "ordered_at",
        "order_date",
        "amount",
        "status",
        "is_cancelled",
        "is_return",
        "source_row_key",
    ],
)
def test_not_null_guard_catches_a_null_in_each_column(
    con: duckdb.DuckDBPyConnection, compiled_tests: dict[str, str], column: str
) -> None:
    stage_lines_as_table(con)
    ((key, _, _),) = lines(con, 1)
    con.execute(f"update main.stg_order_lines set {column} = null where order_line_key = ?", [key])
    failures = run_test(con, compiled_tests, "expression_is_true_stg_order_lines")
    assert len(failures) == 1


def test_relationships_catch_an_unknown_customer(
    con: duckdb.DuckDBPyConnection, compiled_tests: dict[str, str]
) -> None:
    stage_lines_as_table(con)
    ((key, _, _),) = lines(con, 1)
    con.execute(
        "update main.stg_order_lines set customer_id = 'nobody' where order_line_key = ?", [key]
    )
    assert run_test(con, compiled_tests, "relationships_stg_order_lines_customer_id") == [
        ("nobody",)
    ]
