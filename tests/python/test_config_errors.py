"""Wrong configurations fail early, with the key and the offending value in the message.

Input errors (segments_inputs) are raised by the Jinja macros when dbt compiles the staging
models, so they are checked with `dbt compile -s <model>`. To keep the module fast, one worker
process parses the project once and compiles every case against that manifest (dbt's
programmatic runner, ``dbtRunner(manifest=...)``): about a second per case instead of a full
parse each. The inputs are tiny files written to a temporary folder.

Segmentation errors (segmentation.features, segmentation.clustering) are raised by the Python
package when the ML models run: they are tested on ``SegmentationSettings`` directly, and one
`dbt run` checks that the k-range message reaches dbt's output in full.

Run as a script, this file is that worker: ``python test_config_errors.py cases.json out.json``.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from bad_inputs import BY_ID
from dbt_harness import REPO_ROOT, project_vars, run_dbt

from segmentation import config_schema
from segmentation.settings import ConfigError, SegmentationSettings

ORDERS_CSV = (
    "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
    "536365,17850,2010-12-01 08:26:00,6,2.55\n"
    "C536379,14527,2010-12-01 09:41:00,-1,27.50\n"
)
ORDERS_TXT = (
    " customer_id  date number_of_cds  dollar_value\r\n"
    " 00001 19970101  1   11.77\r\n"
    "\r\n"
    "\t00002\t19970112 1 12.00   \r\n"
    " 00003 19970102\r\n"
)
CUSTOMERS_CSV = (
    "CustomerID,Gender,Annual Income (k$)\n1,Male,15\n2,Male,15\n3,Female,16\n4,Female,16\n"
)
ORDER_COLUMNS = {
    "order_id": "InvoiceNo",
    "customer_id": "CustomerID",
    "ordered_at": "InvoiceDate",
    "quantity": "Quantity",
    "unit_price": "UnitPrice",
}


def _orders(folder: Path, **config: Any) -> dict[str, Any]:
    """segments_inputs with the tiny orders CSV, no customers, and `config` merged in."""
    orders = {"path": str(folder / "orders.csv"), "columns": dict(ORDER_COLUMNS), **config}
    return {"segments_inputs": {"customers": None, "orders": orders}}


def _customers(folder: Path, **config: Any) -> dict[str, Any]:
    customers = {
        "path": str(folder / "customers.csv"),
        "columns": {"customer_id": "CustomerID", "gender": "Gender"},
        **config,
    }
    return {"segments_inputs": {"customers": customers, "orders": None}}


def _clv(folder: Path, **clv: Any) -> dict[str, Any]:
    """The tiny orders input and the project's segmentation with ``clv`` as its clv key."""
    segmentation = copy.deepcopy(project_vars()["segmentation"])
    segmentation["clv"] = clv
    return {**_orders(folder), "segmentation": segmentation}


def _segmentation(**keys: Any) -> dict[str, Any]:
    """The project's segmentation var with ``keys`` set."""
    return {**copy.deepcopy(project_vars()["segmentation"]), **keys}


def _python_message(variables: dict[str, Any]) -> str | None:
    """The Python validator's message for the first var that does not match the schema."""
    for name, value in variables.items():
        try:
            config_schema.validate_var(name, value)
        except ConfigError as error:
            return str(error)
    return None


def _cases(folder: Path) -> dict[str, dict[str, Any]]:
    """name -> {select, vars, expected: substrings of the output, or None when it must compile}."""
    income = {"column": "Annual Income (k$)", "type": "numeric"}
    whitespace = {
        "path": str(folder / "orders.txt"),
        "format": "whitespace",
        "header": True,
        "columns": ["customer_id", "ordered_at", "quantity", "amount"],
    }
    return {
        # Controls: correct configurations of the new formats compile.
        "whitespace_ok": {
            "select": "base_orders",
            "vars": {"segments_inputs": {"customers": None, "orders": whitespace}},
            "expected": None,
        },
        "headerless_csv_ok": {
            "select": "base_orders",
            "vars": _orders(
                folder,
                path=str(folder / "orders_no_header.csv"),
                header=False,
                columns=["order_id", "customer_id", "ordered_at", "quantity", "unit_price"],
            ),
            "expected": None,
        },
        "quote_in_path_ok": {
            "select": "base_orders",
            "vars": _orders(folder, path=str(folder / "it's orders.csv")),
            "expected": None,
        },
        "attributes_ok": {
            "select": "stg_customer_attributes",
            "vars": _customers(folder, attributes={"annual_income": income}),
            "expected": None,
        },
        # Columns
        "unknown_column": {
            "select": "base_orders",
            "vars": _orders(folder, columns={**ORDER_COLUMNS, "ordered_at": "InvoiceDat"}),
            "expected": [
                "segments_inputs.orders.columns.ordered_at",
                "'InvoiceDat' not found",
                "available columns: InvoiceNo, CustomerID, InvoiceDate",
            ],
        },
        "missing_required_mapping": {
            "select": "base_orders",
            "vars": _orders(folder, columns={"customer_id": "CustomerID"}),
            "expected": [
                "required column 'ordered_at'",
                "segments_inputs.orders.columns",
                "InvoiceDate",
            ],
        },
        # Files
        "missing_file": {
            "select": "base_orders",
            "vars": _orders(folder, path=str(folder / "no_such_file.csv")),
            "expected": ["segments_inputs.orders.path", str(folder / "no_such_file.csv")],
        },
        "unknown_format": {
            "select": "base_orders",
            "vars": _orders(folder, format="xlsx"),
            "expected": [
                "segments_inputs.orders.format: unknown value 'xlsx'; "
                "expected one of: csv, csv.gz, parquet, whitespace"
            ],
        },
        "whitespace_without_field_names": {
            "select": "base_orders",
            "vars": {
                "segments_inputs": {
                    "customers": None,
                    "orders": {key: whitespace[key] for key in ("path", "format")},
                }
            },
            "expected": ["segments_inputs.orders.columns", "format whitespace", "field names"],
        },
        "whitespace_field_name_typo": {
            "select": "base_orders",
            "vars": {
                "segments_inputs": {
                    "customers": None,
                    "orders": {**whitespace, "columns": ["customer_id", "ordred_at", "amount"]},
                }
            },
            "expected": ["segments_inputs.orders.columns[1]", "'ordred_at'", "_ordred_at"],
        },
        "header_not_boolean": {
            "select": "base_orders",
            "vars": _orders(folder, header="no"),
            "expected": ["segments_inputs.orders.header", "true or false", "no"],
        },
        "csv_option_set_by_the_engine": {
            "select": "base_orders",
            "vars": _orders(folder, csv_options={"header": False}),
            "expected": [
                "segments_inputs.orders.csv_options.header",
                "segments_inputs.orders.header",
            ],
        },
        # Attributes
        "attribute_unknown_type": {
            "select": "stg_customer_attributes",
            "vars": _customers(folder, attributes={"annual_income": {**income, "type": "number"}}),
            "expected": [
                "segments_inputs.customers.attributes.annual_income.type: unknown value 'number'; "
                "expected one of: numeric, categorical",
            ],
        },
        "attribute_column_not_found": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder, attributes={"annual_income": {**income, "column": "Annual Incme"}}
            ),
            "expected": [
                "segments_inputs.customers.attributes.annual_income.column",
                "'Annual Incme' not found",
                "Annual Income (k$)",
            ],
        },
        "attribute_name_not_an_identifier": {
            "select": "stg_customer_attributes",
            "vars": _customers(folder, attributes={"Annual Income": income}),
            "expected": ["segments_inputs.customers.attributes", "'Annual Income'", "not a valid"],
        },
        "attribute_name_taken": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder, attributes={"gender": {"column": "Gender", "type": "categorical"}}
            ),
            "expected": ["segments_inputs.customers.attributes.gender", "already a column"],
        },
        # Derived attributes (issue 11, 6e): an expression over input columns, checked.
        "attribute_expression_ok": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder,
                attributes={
                    "income_units": {
                        "expression": '"Annual Income (k$)" * 1000',
                        "type": "numeric",
                    },
                    "score": {
                        "expression": 'round(coalesce("Annual Income (k$)", 0) / 2, 1) - -1',
                        "type": "numeric",
                    },
                },
            ),
            "expected": None,
        },
        "attribute_expression_unknown_column": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder,
                attributes={
                    "income_units": {"expression": "Annual_Income * 1000", "type": "numeric"}
                },
            ),
            "expected": [
                "segments_inputs.customers.attributes.income_units.expression",
                "column 'Annual_Income' not found in the input",
                "Annual Income (k$)",
            ],
        },
        "attribute_expression_sql_injection": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder,
                attributes={
                    "income_units": {"expression": "1); drop table y; select (1", "type": "numeric"}
                },
            ),
            "expected": [
                "segments_inputs.customers.attributes.income_units.expression",
                BY_ID["config_attribute_expression_sql"].expected,
            ],
        },
        "attribute_expression_function_not_allowed": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder,
                attributes={
                    "income_units": {"expression": 'exp("Annual Income (k$)")', "type": "numeric"}
                },
            ),
            "expected": [
                "segments_inputs.customers.attributes.income_units.expression",
                "'exp(' is not allowed",
                "abs, coalesce, greatest, least, nullif, round",
            ],
        },
        "attribute_expression_incomplete": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder,
                attributes={
                    "income_units": {"expression": '("Annual Income (k$)" +', "type": "numeric"}
                },
            ),
            "expected": [
                "segments_inputs.customers.attributes.income_units.expression",
                "incomplete",
            ],
        },
        "attribute_expression_two_values": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder,
                attributes={"income_units": {"expression": "Gender CustomerID", "type": "numeric"}},
            ),
            "expected": [
                "segments_inputs.customers.attributes.income_units.expression",
                "follows a value without an operator",
            ],
        },
        "attribute_expression_not_numeric": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder,
                attributes={"income_units": {"expression": "CustomerID", "type": "categorical"}},
            ),
            "expected": [
                "segments_inputs.customers.attributes.income_units.type",
                "an attribute with an expression is numeric",
            ],
        },
        "order_attribute_bad_aggregate": {
            "select": "stg_customer_attributes",
            "vars": _orders(
                folder,
                customer_attributes={
                    "country": {"column": "InvoiceNo", "type": "categorical", "aggregate": "mean"}
                },
            ),
            "expected": [
                "segments_inputs.orders.customer_attributes.country.aggregate",
                "most_frequent",
                "mean",
            ],
        },
        # Rules
        "cancelled_when_column_not_in_input": {
            "select": "base_orders",
            "vars": _orders(
                folder,
                columns={k: v for k, v in ORDER_COLUMNS.items() if k != "order_id"},
                rules={"cancelled_when": {"column": "order_id", "prefix": "C"}},
            ),
            "expected": ["segments_inputs.orders.rules.cancelled_when.column", "no order_id"],
        },
        "reject_non_positive_unknown_column": {
            "select": "base_order_lines_checked",
            "vars": _orders(folder, rules={"reject_non_positive": ["quantity", "discount"]}),
            "expected": [
                "segments_inputs.orders.rules.reject_non_positive[1]: unknown value 'discount'; "
                "expected one of: quantity, unit_price, amount",
            ],
        },
        "deduplicate_not_boolean": {
            "select": "base_order_lines_checked",
            "vars": _orders(folder, rules={"deduplicate_exact_lines": "yes"}),
            "expected": [
                "segments_inputs.orders.rules.deduplicate_exact_lines",
                "true or false",
                "yes",
            ],
        },
        # Unknown keys at every level (the configuration schema, macros/config.sql): the
        # message names the full key path and is the Python validator's (test below).
        "unknown_key_of_an_input": {
            "select": "base_orders",
            "vars": _orders(folder, colums={"customer_id": "CustomerID"}),
            "expected": [
                "segments_inputs.orders.colums: unknown key 'colums'; "
                "expected some of: seed, table, path, format, header, columns"
            ],
        },
        "unknown_key_of_a_rule": {
            "select": "base_orders",
            "vars": _orders(folder, rules={"cancelled_when": {"column": "order_id", "prefx": "C"}}),
            "expected": [
                "segments_inputs.orders.rules.cancelled_when.prefx: unknown key 'prefx'; "
                "expected some of: column, prefix"
            ],
        },
        "unknown_key_of_an_attribute": {
            "select": "stg_customer_attributes",
            "vars": _customers(
                folder, attributes={"annual_income": {**income, "aggregate": "mean"}}
            ),
            "expected": [
                "segments_inputs.customers.attributes.annual_income.aggregate: unknown key "
                "'aggregate'; expected some of: column, expression, type"
            ],
        },
        "unknown_key_of_the_input_checks": {
            "select": "stg_input_checks",
            "vars": {**_orders(folder), "segments_input_checks": {"reject_share": 0.2}},
            "expected": ["segments_input_checks.reject_share: unknown key 'reject_share'"],
        },
        "unknown_key_of_clv": {
            "select": "int_customer_clv_holdout",
            "vars": _clv(folder, horizon=10),
            "expected": ["segmentation.clv.horizon: unknown key 'horizon'"],
        },
        "share_out_of_range": {
            "select": "stg_input_checks",
            "vars": {**_orders(folder), "segments_input_checks": {"reject_warn_share": 1.5}},
            "expected": [
                "segments_input_checks.reject_warn_share: expected a number in [0, 1], got 1.5"
            ],
        },
        # on-run-start (run, build, test, seed) validates every var, segmentation included.
        "on_run_start_unknown_clustering_key": {
            "operation": "segments_check_vars",
            "vars": {"segmentation": _segmentation(clustering={"k_range": [2, 5]})},
            "expected": ["segmentation.clustering.k_range: unknown key 'k_range'"],
        },
        "on_run_start_removed_key": {
            "operation": "segments_check_vars",
            "vars": {"segmentation": _segmentation(profile_columns=["income"])},
            "expected": ["segmentation.profile_columns: unknown key 'profile_columns'"],
        },
        "on_run_start_unknown_feature_key": {
            "operation": "segments_check_vars",
            "vars": {"segmentation": _segmentation(features=[{"name": "income", "wieght": 2}])},
            "expected": ["segmentation.features[0].wieght: unknown key 'wieght'"],
        },
        "on_run_start_project_vars_ok": {
            "operation": "segments_check_vars",
            "vars": {"segmentation": _segmentation()},
            "expected": None,
        },
        # segmentation.clv.holdout_end (the clv_holdout check), validated at compile time
        "clv_holdout_ok": {
            "select": "int_customer_clv_holdout",
            "vars": _clv(folder, calibration_end="1997-09-30", holdout_end="1998-06-30"),
            "expected": None,
        },
        "clv_holdout_without_calibration_end": {
            "select": "int_customer_clv_holdout",
            "vars": _clv(folder, holdout_end="1998-06-30"),
            "expected": [
                "segmentation.clv.holdout_end (1998-06-30) needs segmentation.clv.calibration_end"
            ],
        },
        "clv_holdout_not_after_calibration_end": {
            "select": "int_customer_clv_holdout",
            "vars": _clv(folder, calibration_end="1997-09-30", holdout_end="1997-09-30"),
            "expected": [
                "segmentation.clv.holdout_end (1997-09-30) must be after "
                "segmentation.clv.calibration_end (1997-09-30)"
            ],
        },
        "clv_holdout_not_a_date": {
            "select": "int_customer_clv_holdout",
            "vars": _clv(folder, calibration_end="1997-09-30", holdout_end="30/06/1998"),
            "expected": [
                "var segmentation.clv.holdout_end: expected a date as YYYY-MM-DD, got '30/06/1998'"
            ],
        },
    }


def _write_inputs(folder: Path) -> None:
    (folder / "orders.csv").write_text(ORDERS_CSV)
    (folder / "it's orders.csv").write_text(ORDERS_CSV)
    (folder / "orders_no_header.csv").write_text(ORDERS_CSV.split("\n", 1)[1])
    (folder / "orders.txt").write_text(ORDERS_TXT)
    (folder / "customers.csv").write_text(CUSTOMERS_CSV)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Compile every case in one worker process; name -> {expected, success, output, sql}."""
    folder = tmp_path_factory.mktemp("config_errors")
    _write_inputs(folder)
    cases = _cases(folder)
    (folder / "cases.json").write_text(json.dumps(cases))
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "SEGMENTS_DB_PATH": str(folder / "segments.duckdb"),
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    completed = subprocess.run(
        [sys.executable, __file__, str(folder / "cases.json"), str(folder / "out.json")],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-5000:]
    outputs = json.loads((folder / "out.json").read_text())
    return {name: {**case, **outputs[name]} for name, case in cases.items()}


CASE_NAMES = [
    "whitespace_ok",
    "headerless_csv_ok",
    "quote_in_path_ok",
    "attributes_ok",
    "unknown_column",
    "missing_required_mapping",
    "missing_file",
    "unknown_format",
    "whitespace_without_field_names",
    "whitespace_field_name_typo",
    "header_not_boolean",
    "csv_option_set_by_the_engine",
    "attribute_unknown_type",
    "attribute_column_not_found",
    "attribute_name_not_an_identifier",
    "attribute_name_taken",
    "attribute_expression_ok",
    "attribute_expression_unknown_column",
    "attribute_expression_sql_injection",
    "attribute_expression_function_not_allowed",
    "attribute_expression_incomplete",
    "attribute_expression_two_values",
    "attribute_expression_not_numeric",
    "order_attribute_bad_aggregate",
    "cancelled_when_column_not_in_input",
    "reject_non_positive_unknown_column",
    "deduplicate_not_boolean",
    "unknown_key_of_an_input",
    "unknown_key_of_a_rule",
    "unknown_key_of_an_attribute",
    "unknown_key_of_the_input_checks",
    "unknown_key_of_clv",
    "share_out_of_range",
    "on_run_start_unknown_clustering_key",
    "on_run_start_removed_key",
    "on_run_start_unknown_feature_key",
    "on_run_start_project_vars_ok",
    "clv_holdout_ok",
    "clv_holdout_without_calibration_end",
    "clv_holdout_not_after_calibration_end",
    "clv_holdout_not_a_date",
]


def test_every_case_is_listed(tmp_path: Path) -> None:
    assert sorted(CASE_NAMES) == sorted(_cases(tmp_path))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_configuration(name: str, compiled: dict[str, dict[str, Any]]) -> None:
    case = compiled[name]
    if case["expected"] is None:
        assert case["success"], case["output"]
        return
    assert not case["success"], f"{name} compiled although it is wrong"
    output = case["output"]
    assert "Compilation Error" in output, output
    for text in case["expected"]:
        assert text in output, f"{text!r} not in:\n{output}"


SCHEMA_CASES = [
    name
    for name in CASE_NAMES
    if name.startswith(("unknown_key", "share_out", "on_run_start_unknown", "on_run_start_removed"))
]


@pytest.mark.parametrize("name", SCHEMA_CASES)
def test_jinja_and_python_validators_write_the_same_message(
    name: str, compiled: dict[str, dict[str, Any]]
) -> None:
    """The same wrong value fails both validators with the same message (one schema)."""
    case = compiled[name]
    message = _python_message(case["vars"])
    assert message is not None and message.startswith(case["expected"][0].split(":")[0])
    assert message in case["output"], f"{message!r} not in:\n{case['output']}"


def _base_rows(compiled_sql: str) -> list[tuple[Any, ...]]:
    """Run a compiled base_orders (a path input: no other relation needed) in DuckDB."""
    import duckdb

    names = "customer_id, ordered_at, order_id, quantity, unit_price, amount"
    return duckdb.sql(f"select {names} from ({compiled_sql}) order by all").fetchall()


def test_whitespace_reader_splits_on_blanks_and_skips_the_header(
    compiled: dict[str, dict[str, Any]],
) -> None:
    """Header line skipped, CRLF, tabs and runs of blanks, a blank line, a short line."""
    assert _base_rows(compiled["whitespace_ok"]["sql"]) == [
        ("00001", "19970101", None, "1", None, "11.77"),
        ("00002", "19970112", None, "1", None, "12.00"),
        ("00003", "19970102", None, None, None, None),
    ]


def test_headerless_csv_and_quoted_path_are_read(compiled: dict[str, dict[str, Any]]) -> None:
    expected = [
        ("14527", "2010-12-01 09:41:00", "C536379", "-1", "27.50", None),
        ("17850", "2010-12-01 08:26:00", "536365", "6", "2.55", None),
    ]
    assert _base_rows(compiled["headerless_csv_ok"]["sql"]) == expected
    sql = compiled["quote_in_path_ok"]["sql"]
    assert "it''s orders.csv" in sql
    assert _base_rows(sql) == expected


# ---------------------------------------------------------------------------------------------
# Segmentation settings (Python side)
# ---------------------------------------------------------------------------------------------


def test_a_feature_declared_numeric_and_categorical_is_rejected() -> None:
    config = {
        "features": [
            {"name": "annual_income", "kind": "numeric"},
            {"name": "spending_score"},
            {"name": "annual_income", "kind": "categorical"},
        ]
    }
    with pytest.raises(ConfigError) as error:
        SegmentationSettings.from_config(config)
    message = str(error.value)
    assert message.startswith("segmentation.features[2].name:")
    assert "'annual_income' is declared twice" in message
    assert "segmentation.features[0]" in message


@pytest.mark.parametrize(
    ("clustering", "expected"),
    [
        ({"k": 4}, "segmentation.clustering.k: 4 is outside [2, 3]"),
        ({"k_min": 5, "k_max": 6}, "segmentation.clustering.k_min: 5 is outside [2, 3]"),
    ],
)
def test_k_outside_two_to_customers_minus_one_is_rejected(
    clustering: dict[str, Any], expected: str
) -> None:
    settings = SegmentationSettings.from_config(
        {"features": ["annual_income"], "clustering": clustering}
    )
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        settings.clustering.k_values(4)


def test_dbt_shows_the_k_range_message(tmp_path: Path) -> None:
    """Four customers and k = 4: the ConfigError's message ends dbt's error report verbatim."""
    _write_inputs(tmp_path)
    variables = _customers(
        tmp_path, attributes={"annual_income": {"column": "Annual Income (k$)", "type": "numeric"}}
    )
    variables["segmentation"] = {
        "features": [{"name": "annual_income"}],
        "clustering": {"methods": ["kmeans"], "k": 4},
    }
    run = run_dbt(["run", "-s", "+ml_kmeans_sweep"], tmp_path, vars=variables)
    assert run.returncode != 0
    message = "segmentation.clustering.k: 4 is outside [2, 3] (number of customers - 1 = 3)"
    assert message in run.output, run.output[-4000:]
    assert "ERROR creating python table model main.ml_kmeans_sweep" in run.output
    # The message is the last line of the model's error, right above the summary.
    report = run.output.split("Completed with 1 error", 1)[1]
    assert message in report


# ---------------------------------------------------------------------------------------------
# The worker: parse once, compile each case
# ---------------------------------------------------------------------------------------------


def _compile_cases(cases_path: Path, output_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    cases = json.loads(cases_path.read_text())
    project = ["--project-dir", str(REPO_ROOT), "--quiet"]
    parsed = dbtRunner().invoke(["parse", *project])
    if not parsed.success:
        raise SystemExit(f"dbt parse failed: {parsed.exception}")
    errors: list[str] = []  # run-operation logs its error instead of raising it

    def keep_errors(event: Any) -> None:
        if event.info.level == "error":
            errors.append(str(event.info.msg))

    runner = dbtRunner(manifest=parsed.result, callbacks=[keep_errors])
    outputs = {}
    for name, case in cases.items():
        variables = ["--vars", yaml.safe_dump(case["vars"])]
        if "operation" in case:
            command = ["run-operation", case["operation"], *project, *variables]
        else:
            command = ["compile", "-s", case["select"], *project, *variables]
        errors.clear()
        result = runner.invoke(command)
        texts = [str(result.exception or ""), *errors]
        texts += [str(node.message or "") for node in getattr(result.result, "results", None) or []]
        nodes = getattr(result.result, "results", None) or []
        compiled = result.success and nodes and "operation" not in case
        sql = nodes[0].node.compiled_code if compiled else None
        outputs[name] = {"success": bool(result.success), "output": "\n".join(texts), "sql": sql}
    output_path.write_text(json.dumps(outputs, indent=2))


if __name__ == "__main__":
    _compile_cases(Path(sys.argv[1]), Path(sys.argv[2]))
