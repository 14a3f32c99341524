"""The bad-input catalogue (bad_inputs.py): every case has a fixture and an asserted outcome.

dbt runs are few: ONE build stages a customers table and an orders table holding every grouped
data case's rows (then one query set per case, plus the accounting of every input row); one run
where two inputs must fail (a latin-1 CSV without an encoding, and an input column mapping that
contains SQL); one run of +customer_features on an empty orders table with a latin-1 customers
CSV read with csv_options.encoding. Feature, clustering and configuration cases call the Python
package directly on small Arrow tables.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from bad_inputs import (
    BY_ID,
    CASES,
    CUSTOMER_COLUMNS,
    ORDER_COLUMNS,
    REFERENCE_DATE,
    Case,
    grouped_customers,
    grouped_orders,
    troubleshooting_page,
)
from dbt_harness import DbtRun, assert_input_source, run_dbt

from segmentation import pipeline
from segmentation.settings import ConfigError, SegmentationSettings

GROUPED = [case for case in CASES if case.is_grouped]
PYTHON_LAYERS = ("features", "clustering", "configuration")
INJECTION = "x; drop table y"


def _create_table(con: duckdb.DuckDBPyConnection, name: str, columns, rows) -> None:
    con.execute(f"create table {name} ({', '.join(f'{c} varchar' for c in columns)})")
    if rows:
        marks = ", ".join("?" for _ in columns)
        con.executemany(
            f"insert into {name} values ({marks})", [[row[c] for c in columns] for row in rows]
        )


@pytest.fixture(scope="module")
def grouped_build(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """One dbt build of staging, rejects and the accounting test over every grouped case."""
    tmp_path = tmp_path_factory.mktemp("bad_inputs")
    with duckdb.connect(str(tmp_path / "segments.duckdb")) as con:
        _create_table(con, "bad_customers", CUSTOMER_COLUMNS, grouped_customers())
        _create_table(con, "bad_orders", ORDER_COLUMNS, grouped_orders())
    inputs = {
        "customers": {"table": "main.bad_customers"},
        "orders": {"table": "main.bad_orders"},
    }
    return run_dbt(
        [
            "build", "-s", "+stg_customers", "+stg_order_lines", "+rejects",
            "int_customer_orders", "assert_raw_equals_staged_plus_rejected",
            "--indirect-selection", "cautious",
            "--exclude", "test_type:unit",
        ],
        tmp_path,
        vars={
            "segments_inputs": inputs,
            "segments_reference_date": REFERENCE_DATE,
            # Most rows are bad on purpose: the reject shares must not stop this build.
            "segments_input_checks": {"reject_warn_share": 1, "reject_error_share": 1},
        },
    )  # fmt: skip


def test_grouped_build_passes_with_the_accounting_test(grouped_build: DbtRun) -> None:
    assert grouped_build.returncode == 0, grouped_build.output[-4000:]
    results = grouped_build.node_results()
    accounting = [uid for uid in results if "assert_raw_equals_staged_plus_rejected" in uid]
    assert accounting and all(results[uid] == "pass" for uid in accounting), results


def test_table_inputs_are_dbt_sources(grouped_build: DbtRun) -> None:
    assert_input_source(
        grouped_build, "customers", "table", '(select * from "main"."bad_customers")'
    )
    assert_input_source(grouped_build, "orders", "table", '(select * from "main"."bad_orders")')


@pytest.mark.parametrize("case", GROUPED, ids=[case.id for case in GROUPED])
def test_grouped_case(grouped_build: DbtRun, case: Case) -> None:
    assert case.checks, f"{case.id}: a grouped case needs at least one check"
    for sql, expected in case.checks:
        assert grouped_build.query(sql) == expected, f"{case.id}: {sql}"


def test_every_input_row_is_staged_or_rejected(grouped_build: DbtRun) -> None:
    """Per tag: each raw row is in stg_* or in rejects with a reason, never both, never lost."""
    staged_customers = grouped_build.query(
        "select acquisition_channel, count(*) from stg_customers group by all"
    )
    rejected_customers = grouped_build.query(
        "select json_extract_string(raw_record, '$.acquisition_channel'), count(*) "
        "from rejects where source = 'customers' and reason is not null group by all"
    )
    found: dict[Any, int] = {}
    for tag, count in staged_customers + rejected_customers:
        found[tag] = found.get(tag, 0) + count
    expected: dict[Any, int] = {}
    for row in grouped_customers():
        expected[row["acquisition_channel"]] = expected.get(row["acquisition_channel"], 0) + 1
    assert found == expected

    lines = grouped_build.query(
        "select product_category from stg_order_lines union all "
        "select json_extract_string(raw_record, '$.product_category') from rejects "
        "where source = 'orders' and reason is not null"
    )
    expected_lines = sorted(row["product_category"] for row in grouped_orders())
    assert sorted(tag for (tag,) in lines) == expected_lines


# ------------------------------------------------------------------ inputs that fail the build


@pytest.fixture(scope="module")
def failing_inputs(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """customers: a column mapping holding SQL; orders: a latin-1 CSV without an encoding."""
    tmp_path = tmp_path_factory.mktemp("bad_inputs_failing")
    with duckdb.connect(str(tmp_path / "segments.duckdb")) as con:
        _create_table(con, "inj_customers", CUSTOMER_COLUMNS, [])
        con.execute("create table y as select 42 as answer")
    orders = tmp_path / "orders_latin1.csv"
    orders.write_bytes(
        (
            ",".join(ORDER_COLUMNS) + "\nK1,2023-01-01,O1,1,M\xfcsli,web,1,2.5,2.50,completed\n"
        ).encode("latin-1")
    )
    inputs = {
        "customers": {"table": "main.inj_customers", "columns": {"customer_id": INJECTION}},
        "orders": {"path": str(orders)},
    }
    return run_dbt(
        ["run", "-s", "base_customers", "base_orders"], tmp_path, vars={"segments_inputs": inputs}
    )


def test_latin1_csv_fails_with_a_clear_message(failing_inputs: DbtRun) -> None:
    case = BY_ID["input_csv_latin1"]
    assert failing_inputs.returncode != 0
    results = failing_inputs.node_results()
    assert results["model.segment_engine.base_orders"] == "error"
    assert case.expected in failing_inputs.output
    assert "orders_latin1.csv" in failing_inputs.output


def test_sql_in_an_input_column_mapping_is_an_identifier(failing_inputs: DbtRun) -> None:
    case = BY_ID["config_input_column_sql"]
    assert failing_inputs.node_results()["model.segment_engine.base_customers"] == "error"
    # Checked against the input's columns at compile time; an older macro left it to DuckDB's
    # binder ('Referenced column "x; drop table y" not found'): either way the column is named.
    binder = f'Referenced column "{INJECTION}" not found'
    assert case.expected in failing_inputs.output or binder in failing_inputs.output
    assert failing_inputs.scalar("select answer from y") == 42  # nothing was executed


# ---------------------------------------------------- empty orders, latin-1 CSV with encoding


@pytest.fixture(scope="module")
def latin1_customers_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtRun, DbtRun]:
    """Latin-1 customers with derived attributes: first with an empty orders table (staging
    must refuse it), then with one order line added (the build goes through)."""
    tmp_path = tmp_path_factory.mktemp("bad_inputs_latin1_customers")
    customers = tmp_path / "customers_latin1.csv"
    customers.write_bytes(
        (
            ",".join(CUSTOMER_COLUMNS) + ",Kidhome,Teenhome,Mnt Wines,MntMeat\n"
            "K1,2020-01-01,1980-01-01,,F,100,DE,M\xfcnchen,web,1,0,100,50\n"
            "K2,2020-01-01,1990-01-01,,M,200,FR,\xcele-de-France,store,0,2,10.5,x\n"
            "K3,2021-01-01,1970-01-01,,F,300,FR,\xcele-de-France,store,,1,0,0\n"
        ).encode("latin-1")
    )
    # Derived attributes (issue 11, 6e): expressions over input columns.
    attributes = {
        "children": {"expression": "Kidhome + Teenhome", "type": "numeric"},
        "spend": {"expression": 'coalesce("Mnt Wines", 0) + 2 * MntMeat', "type": "numeric"},
    }
    inputs = {
        "customers": {
            "path": str(customers),
            "csv_options": {"encoding": "latin-1"},
            "attributes": attributes,
        },
        "orders": {"table": "main.orders_export"},
    }
    run_vars = {"segments_inputs": inputs, "segments_reference_date": REFERENCE_DATE}
    line = {
        "customer_id": "K1", "ordered_at": "2023-06-01 10:00:00", "order_id": "O1",
        "line_number": "1", "product_category": "grocery", "sales_channel": "web",
        "quantity": "1", "unit_price": "20.00", "amount": "20.00", "status": "completed",
    }  # fmt: skip
    runs = []
    for name, lines in (("empty_orders", []), ("one_order", [line])):
        folder = tmp_path / name
        folder.mkdir()
        with duckdb.connect(str(folder / "segments.duckdb")) as con:
            _create_table(con, "orders_export", ORDER_COLUMNS, lines)
        runs.append(run_dbt(["run", "-s", "+customer_features"], folder, vars=run_vars))
    empty, filled = runs
    return empty, filled


@pytest.fixture(scope="module")
def empty_orders_build(latin1_customers_builds: tuple[DbtRun, DbtRun]) -> DbtRun:
    return latin1_customers_builds[0]


@pytest.fixture(scope="module")
def latin1_customers_build(latin1_customers_builds: tuple[DbtRun, DbtRun]) -> DbtRun:
    return latin1_customers_builds[1]


def test_latin1_csv_with_encoding_is_decoded(latin1_customers_build: DbtRun) -> None:
    assert latin1_customers_build.returncode == 0, latin1_customers_build.output[-4000:]
    regions = latin1_customers_build.query("select region from stg_customers order by customer_id")
    assert regions == [("München",), ("Île-de-France",), ("Île-de-France",)]


def test_derived_attributes_are_computed_from_input_columns(
    latin1_customers_build: DbtRun,
) -> None:
    # K2's MntMeat 'x' is not a number: spend null and flagged; K3 has no Kidhome: children null.
    assert latin1_customers_build.returncode == 0, latin1_customers_build.output[-4000:]
    assert latin1_customers_build.query(
        "select customer_id, children, spend, is_spend_unparseable from stg_customer_attributes "
        "order by customer_id"
    ) == [("K1", 1.0, 200.0, False), ("K2", 2.0, None, True), ("K3", None, 0.0, False)]
    assert latin1_customers_build.query(
        "select children, spend from customer_features order by customer_id"
    ) == [(1.0, 200.0), (2.0, None), (None, 0.0)]


def test_empty_orders_table(empty_orders_build: DbtRun) -> None:
    case = BY_ID["order_table_empty"]
    assert empty_orders_build.returncode != 0
    assert case.expected in empty_orders_build.output
    assert "or remove segments_inputs.orders" in empty_orders_build.output
    statuses = {
        uid.split(".")[-1]: status for uid, status in empty_orders_build.node_results().items()
    }
    assert statuses["stg_input_checks"] == "error"
    assert statuses["stg_customers"] == "skipped"
    assert statuses["customer_features"] == "skipped"


# ---------------------------------------------------------- features, clustering, configuration


def _config(features: list[Any], **clustering: Any) -> dict[str, Any]:
    return {
        "features": features,
        "clustering": {"methods": ["kmeans"], "k_min": 2, "k_max": 4, "n_init": 3, **clustering},
    }


def _customers(**columns: list[Any]) -> pa.Table:
    n = len(next(iter(columns.values())))
    return pa.table({"customer_id": [f"c{i:03d}" for i in range(n)], **columns})


def _spec_rows(table: pa.Table, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = pipeline.preprocessing_spec(table, config)
    return {row["output_column"]: row for row in spec.to_pylist()}


def _sweep(table: pa.Table, config: dict[str, Any]) -> pa.Table:
    spec = pipeline.preprocessing_spec(table, config)
    return pipeline.kmeans_sweep(pipeline.feature_matrix(table, spec), config)


def check_feature_constant() -> None:
    rows = _spec_rows(_customers(a=[5.0] * 6, b=[1.0, 2, 3, 4, 5, 6]), _config(["a", "b"]))
    assert rows["a"]["weight"] == 0.0 and rows["a"]["scale"] == 1.0
    assert rows["a"]["note"].startswith("constant (every value 5 after imputation)")
    assert rows["b"]["weight"] == 1.0 and rows["b"]["note"] is None


def check_feature_all_null() -> None:
    table = _customers(a=pa.array([None] * 5, pa.float64()), b=[1.0, 2, 3, 4, 5])
    with pytest.raises(ConfigError, match=r"customer_features\.a: every value is null \(5 rows\)"):
        pipeline.preprocessing_spec(table, _config(["a", "b"]))


def check_feature_single_value() -> None:
    table = _customers(a=[None, 7.0, None, None, None], b=[1.0, 2, 3, 4, 5])
    rows = _spec_rows(table, _config(["a", "b"]))
    assert rows["a"]["impute_value_numeric"] == 7.0
    assert rows["a"]["weight"] == 0.0 and rows["a"]["note"].startswith("constant")


def check_feature_huge_values() -> None:
    # Issue 11, 5b: scale was inf and the feature 0 for every customer.
    big = _customers(a=[1e160, 2e160, 3e160, 4e160, 5e160, 6e160], b=[1.0, 2, 3, 4, 5, 6])
    rows = _spec_rows(big, _config(["a", "b"]))
    assert rows["a"]["scale"] == pytest.approx(np.sqrt(35 / 12) * 1e160, rel=1e-12)
    assert rows["a"]["note"] is None
    spike = _customers(a=[*range(1, 60), 1e200], b=[float(i % 7) for i in range(60)])
    rows = _spec_rows(spike, _config(["a", "b"]))
    assert np.isfinite(rows["a"]["scale"]) and rows["a"]["weight"] == 1.0
    assert rows["a"]["note"].startswith(BY_ID["feature_huge_values"].expected.split("'")[1])
    assert rows["a"]["center"] == 30.5  # the median
    tables = _chain(spike, _config(["a", "b"]))
    outliers = [r["customer_id"] for r in tables["assignments"].to_pylist() if r["is_outlier"]]
    assert outliers == ["c059"]
    assert all(r["outlier_rows"] == 1 for r in tables["sweep"].to_pylist())


def check_feature_ordinal_level_case() -> None:
    table = _customers(tier=["GOLD", "Silver", " bronze ", "gold"], b=[1.0, 2, 3, 4])
    levels = ["bronze", "silver", "gold"]
    rows = _spec_rows(table, _config([{"name": "tier", "kind": "ordinal", "levels": levels}, "b"]))
    assert rows["tier"]["impute_value_text"] == "gold"
    assert rows["tier"]["ordinal_levels"] == levels


def check_clustering_fewer_customers_than_k() -> None:
    table = _customers(a=[1.0, 2, 3, 4])
    with pytest.raises(ConfigError) as error:
        _sweep(table, _config(["a"], k=5))
    assert str(error.value).startswith(BY_ID["clustering_fewer_customers_than_k"].expected)
    with pytest.raises(ConfigError, match=r"clustering\.k_min: 5 is outside \[2, 3\]"):
        _sweep(table, _config(["a"], k_min=5, k_max=6))


def check_clustering_k_range_invalid() -> None:
    with pytest.raises(ConfigError, match=r"clustering\.k_max: 3 is below k_min 5"):
        SegmentationSettings.from_config(_config(["a"], k_min=5, k_max=3))
    with pytest.raises(ConfigError, match=r"clustering\.k_min: expected an integer >= 2, got 1"):
        SegmentationSettings.from_config(_config(["a"], k_min=1))


def check_clustering_two_customers() -> None:
    with pytest.raises(ConfigError, match="clustering needs at least 3 customers, got 2"):
        _sweep(_customers(a=[1.0, 2.0]), _config(["a"]))


def _chain(table: pa.Table, config: dict[str, Any]) -> dict[str, pa.Table]:
    """Every table of the Python models, K-Means and hierarchical, as the dbt models chain them."""
    spec = pipeline.preprocessing_spec(table, config)
    matrix = pipeline.feature_matrix(table, spec)
    sweep = pipeline.kmeans_sweep(matrix, config)
    centroids = pipeline.kmeans_centroids(sweep, spec, config, matrix)
    leaves = pipeline.hierarchical_leaves(matrix, config)
    linkage = pipeline.hierarchical_linkage(matrix, leaves, config)
    return {
        "sweep": sweep,
        "centroids": centroids,
        "assignments": pipeline.kmeans_assignments(matrix, centroids, config),
        "hierarchical": pipeline.hierarchical_assignments(
            matrix, leaves, linkage, sweep, spec, config
        ),
        "hierarchical_metrics": pipeline.hierarchical_metrics(
            matrix, leaves, linkage, sweep, config
        ),
    }


def check_clustering_identical_customers() -> None:
    table = _customers(a=[10.0] * 6, b=[3.0] * 6)
    config = _config(["a", "b"], methods=["kmeans", "hierarchical"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no scikit-learn warning: K-Means is not run at all
        tables = _chain(table, config)
    (row,) = tables["sweep"].to_pylist()  # one row: the fallback, nothing else was fitted
    assert (row["k"], row["is_selected"], row["cluster_sizes"]) == (1, True, [6])
    assert row["silhouette"] is None and row["silhouette_method"] == "undefined"
    assert row["selection_reason"].startswith(BY_ID["clustering_identical_customers"].expected)
    assert "every customer is in segment 1" in row["selection_reason"]
    assert set(tables["centroids"].column("segment_name").to_pylist()) == {"Average"}
    assignments = tables["assignments"].to_pylist()
    assert [r["kmeans_segment_id"] for r in assignments] == [1] * 6
    assert all(r["silhouette"] is None and not r["is_outlier"] for r in assignments)
    assert tables["hierarchical"].column("hierarchical_segment_id").to_pylist() == [1] * 6
    (metrics,) = tables["hierarchical_metrics"].to_pylist()
    assert (metrics["k"], metrics["is_selected"], metrics["silhouette"]) == (1, True, None)
    # Two distinct rows: k = 2 is fitted, the k above are not (no empty segment).
    two = _customers(a=[10.0] * 3 + [20.0] * 3, b=[3.0] * 6)
    rows = _sweep(two, _config(["a", "b"])).to_pylist()
    assert [(r["k"], r["cluster_sizes"]) for r in rows] == [(2, [3, 3])]
    assert (
        "k above 2 not fitted: the feature matrix has only 2 distinct rows"
        in (rows[0]["selection_reason"])
    )


def check_clustering_fixed_k_above_distinct_rows() -> None:
    # Issue 11, 5c: k: 4 on three obvious groups of 4 identical customers gave ONE segment.
    table = _customers(a=[0.0] * 4 + [10.0] * 4 + [20.0] * 4, b=[1.0] * 4 + [5.0] * 4 + [3.0] * 4)
    config = _config(["a", "b"], k=4, methods=["kmeans", "hierarchical"])
    tables = _chain(table, config)
    (row,) = tables["sweep"].to_pylist()
    assert (row["k"], row["is_selected"], sorted(row["cluster_sizes"])) == (3, True, [4, 4, 4])
    assert BY_ID["clustering_fixed_k_above_distinct_rows"].expected in row["selection_reason"]
    assert row["selection_reason"].startswith("segmentation.clustering.k = 4 capped at 3")
    segments = tables["assignments"].column("kmeans_segment_id").to_pylist()
    assert [len(set(segments[i : i + 4])) for i in (0, 4, 8)] == [1, 1, 1]
    assert len(set(segments)) == 3
    assert len(set(tables["hierarchical"].column("hierarchical_segment_id").to_pylist())) == 3
    # The automatic sweep on the same data finds the same 3 groups (k_min 2, k_max 4).
    auto = _sweep(table, _config(["a", "b"])).to_pylist()
    assert [r["k"] for r in auto if r["is_selected"]] == [3]


def check_clustering_extreme_outlier() -> None:
    rng = np.random.default_rng(0)
    spend = rng.normal(100, 10, 60)
    spend[0] = 1e9
    table = _customers(spend=spend.tolist(), visits=rng.normal(5, 1, 60).tolist())
    features = [{"name": "spend", "transform": "log1p"}, "visits"]
    tables = _chain(table, _config(features))
    rows = tables["sweep"].to_pylist()
    assert all((r["fit_rows"], r["n_rows"], r["outlier_rows"]) == (59, 60, 1) for r in rows)
    assert all(min(r["cluster_sizes"]) > 1 for r in rows)  # no one-customer segment
    (selected,) = [r for r in rows if r["is_selected"]]
    assert (
        "1 outlier(s) (beyond outlier_fence 3 x the 5-95 % range of a feature) left out of the "
        "fit and assigned to the nearest segment"
    ) in selected["selection_reason"]
    assignments = tables["assignments"].to_pylist()
    assert [r["customer_id"] for r in assignments if r["is_outlier"]] == ["c000"]
    # Without the rule (outlier_fence: null) the outlier is a segment of its own at every k.
    rows = _sweep(table, _config(features, outlier_fence=None)).to_pylist()
    assert all(min(r["cluster_sizes"]) == 1 and r["outlier_rows"] == 0 for r in rows)
    with pytest.raises(ConfigError, match=r"clustering\.outlier_fence: expected a number > 0"):
        SegmentationSettings.from_config(_config(["a"], outlier_fence=0))


def check_config_unknown_feature() -> None:
    settings = SegmentationSettings.from_config(_config(["recency"]))
    with pytest.raises(ConfigError) as error:
        settings.check_columns("customer_features", ["customer_id", "recency_days"])
    message = str(error.value)
    assert message.startswith("segmentation.features[0].name: ")
    assert BY_ID["config_unknown_feature"].expected in message and "recency_days" in message
    with pytest.raises(ConfigError) as error:
        pipeline.preprocessing_spec(_customers(recency_days=[1.0, 2, 3]), _config(["recency"]))
    assert str(error.value).startswith(message.split(";")[0])


def check_config_feature_declared_twice() -> None:
    with pytest.raises(ConfigError) as error:
        SegmentationSettings.from_config(_config(["frequency", {"name": "frequency"}]))
    assert str(error.value) == (
        "segmentation.features[1].name: 'frequency' is declared twice "
        "(also segmentation.features[0])"
    )


def check_config_negative_weight() -> None:
    with pytest.raises(ConfigError) as error:
        SegmentationSettings.from_config(_config([{"name": "a", "weight": -1}]))
    assert str(error.value) == BY_ID["config_negative_weight"].expected


def check_config_unknown_transform() -> None:
    with pytest.raises(ConfigError) as error:
        SegmentationSettings.from_config(_config([{"name": "a", "transform": "log2"}]))
    assert str(error.value) == (
        "segmentation.features[0].transform: unknown value 'log2'; expected one of: none, log1p"
    )


def check_config_feature_name_sql() -> None:
    with pytest.raises(ConfigError) as error:
        SegmentationSettings.from_config(_config([INJECTION]))
    assert str(error.value).startswith("segmentation.features[0].name: ")
    assert BY_ID["config_feature_name_sql"].expected in str(error.value)


PYTHON_CHECKS = {
    name.removeprefix("check_"): function
    for name, function in list(globals().items())
    if name.startswith("check_") and callable(function)
}
PYTHON_CASES = [case for case in CASES if case.layer in PYTHON_LAYERS and case.id in PYTHON_CHECKS]


@pytest.mark.parametrize("case", PYTHON_CASES, ids=[case.id for case in PYTHON_CASES])
def test_python_case(case: Case) -> None:
    PYTHON_CHECKS[case.id]()


DBT_CHECKED = {
    "input_csv_latin1", "config_input_column_sql", "customer_csv_latin1_with_encoding",
    "order_table_empty",
    "config_attribute_expression_sql",  # test_config_errors.py, attribute_expression_sql_injection
    # tests/python/test_input_parsing.py
    "order_timestamp_utc_offset", "order_timestamp_z_format", "order_timestamp_epoch_seconds",
    "input_timestamptz_column", "order_naive_timestamp_business_timezone",
    "order_dates_never_parse", "order_amounts_decimal_comma", "order_amounts_number_format",
    "customer_signup_day_month_swapped", "customer_birth_year_only", "customer_tenure_unknown",
    "order_missing_customer_share", "input_whitespace_mixed_line_endings",
    "config_datetime_format_epoch_directive", "config_unknown_timezone",
    "config_datetime_format_cannot_describe_a_date",
    "customer_income_dot_thousands_without_decimals",
    "config_unknown_var",  # tests/python/test_config_vars.py
    "input_csv_mixed_line_endings", "input_zero_byte_file",
}  # fmt: skip


def test_every_case_has_a_test_and_a_troubleshooting_line(repo_root: Path) -> None:
    covered = {case.id for case in GROUPED} | set(PYTHON_CHECKS) | DBT_CHECKED
    assert covered == set(BY_ID), set(BY_ID) ^ covered
    assert len(CASES) >= 25
    page = (repo_root / "docs" / "troubleshooting.md").read_text()
    missing = [case.id for case in CASES if f"`{case.id}`" not in page]
    assert not missing, f"docs/troubleshooting.md lacks: {missing}"
    assert page == troubleshooting_page(), (
        "docs/troubleshooting.md is out of date: run `python tests/python/bad_inputs.py`"
    )
