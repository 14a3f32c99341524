"""Issue 11 (input parsing): instants, parse report, staging checks, number format, line endings.

One small pair of inputs (orders: a ';'-separated CSV with UTC offsets, a %z format, an epoch,
decimal commas; customers: Parquet with a typed TIMESTAMP WITH TIME ZONE signup date and
year-only birth dates) is built three times: under TZ=UTC and TZ=Asia/Tokyo (the tables must be
identical), and with segments_timezone America/Los_Angeles. One run with unusable inputs must
stop at staging with messages naming input, column, examples and key; one reads a whitespace
file with mixed CRLF/LF line endings. Cases are in the catalogue (bad_inputs.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bad_inputs import BY_ID
from dbt_harness import DbtRun, assert_input_source, run_dbt

REFERENCE_DATE = "2024-01-01"

# customer_id; ordered_at; amount (decimal comma, thousands point)
ORDER_LINES = [
    ("A", "2023-06-30T23:30:00-07:00", "10,00"),  # 2023-07-01 06:30 UTC
    ("A", "2023-07-01T02:00:00Z", "20,00"),  # same UTC day: one purchase day
    ("B", "2023-07-01 00:30:00", "15,00"),  # naive, near midnight: business time zone
    ("B", "2023-07-02T01:00:00+0200", "5,00"),  # 2023-07-01 23:00 UTC
    ("C", "2023-06-15 10:00:00 +02:00", "1.234,50"),  # 08:00 UTC; 1234.50
    ("C", "2023-06-20T12:00:00+02", "2,50"),  # 10:00 UTC
    ("D", "1679330640", "7,00"),  # epoch seconds: 2023-03-20 16:44:00 UTC
    ("E", "30/06/2023 23:30 -0700", "3,00"),  # %z format: 2023-07-01 06:30 UTC
    ("", "2023-05-01", "1,00"),  # missing customer ids: 3 of 11 lines (27 %), a warning
    ("", "2023-05-02", "1,00"),
    ("", "2023-05-03", "1,00"),
]
UTC_INSTANTS = {
    ("A", "10.00"): dt.datetime(2023, 7, 1, 6, 30),
    ("A", "20.00"): dt.datetime(2023, 7, 1, 2, 0),
    ("B", "15.00"): dt.datetime(2023, 7, 1, 0, 30),
    ("B", "5.00"): dt.datetime(2023, 7, 1, 23, 0),
    ("C", "1234.50"): dt.datetime(2023, 6, 15, 8, 0),
    ("C", "2.50"): dt.datetime(2023, 6, 20, 10, 0),
    ("D", "7.00"): dt.datetime(2023, 3, 20, 16, 44),
    ("E", "3.00"): dt.datetime(2023, 7, 1, 6, 30),
}


def _write_inputs(folder: Path) -> dict[str, Any]:
    orders = folder / "orders.csv"
    lines = ["customer_id;ordered_at;amount"] + [";".join(line) for line in ORDER_LINES]
    orders.write_text("\n".join(lines) + "\n")
    customers = folder / "customers.parquet"
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            f"""
            copy (
                select * from (values
                    ('A', timestamptz '2022-12-31 23:30:00-05', '1957'),
                    ('B', timestamptz '2023-01-01 00:15:00+09', '1980-03'),
                    ('C', null, '1970-05-05'),
                    ('D', null, '86400000'),
                    ('E', null, null),
                    ('G', null, null)
                ) as t(customer_id, signup_date, birth_date)
            ) to '{customers}' (format parquet)
            """
        )
    rules = {"number_format": {"decimal": ",", "thousands": "."}}
    return {
        # D's birth date is epoch milliseconds: 1970-01-02.
        "customers": {"path": str(customers), "rules": {"timestamp_unit": "epoch_milliseconds"}},
        "orders": {
            "path": str(orders),
            "csv_options": {"delim": ";"},
            "rules": {
                **rules,
                "timestamp_unit": "epoch_seconds",
                "datetime_formats": ["%d/%m/%Y %H:%M %z"],
            },
        },
    }


def _build(
    folder: Path, tz: str, business_tz: str | None = None, select: tuple[str, ...] = ()
) -> DbtRun:
    folder.mkdir(parents=True, exist_ok=True)
    vars_: dict[str, Any] = {
        "segments_inputs": _write_inputs(folder),
        "segments_reference_date": REFERENCE_DATE,
    }
    if business_tz is not None:
        vars_["segments_timezone"] = business_tz
    select = select or (
        "+customer_features", "+int_customer_clv_summary", "stg_parse_report", "stg_input_checks",
    )  # fmt: skip
    return run_dbt(
        ["run", "-s", *select],
        folder, vars=vars_, env={"TZ": tz},
    )  # fmt: skip


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DbtRun]:
    root = tmp_path_factory.mktemp("input_parsing")
    return {
        "utc": _build(root / "utc", "UTC"),
        "tokyo": _build(root / "tokyo", "Asia/Tokyo"),
        "los_angeles": _build(
            root / "la", "Asia/Tokyo", "America/Los_Angeles", select=("+stg_order_lines",)
        ),
    }


TABLES = {
    "stg_order_lines": "select * from stg_order_lines",
    "stg_customers": "select * from stg_customers",
    "base_customers": "select * from base_customers",
    "customer_features": "select * from customer_features",
    "int_customer_clv_summary": "select * from int_customer_clv_summary",
    "stg_parse_report": "select * from stg_parse_report",
    "stg_input_checks": "select * from stg_input_checks",
}


def test_builds_pass_with_a_reject_share_warning(builds: dict[str, DbtRun]) -> None:
    for name, run in builds.items():
        assert run.returncode == 0, (name, run.output[-4000:])
    run = builds["utc"]
    # 3 of 11 lines without a customer id: logged as a warning, the build goes on.
    assert "27.3 % of the rows (3 of 11) are rejected as missing_customer_id" in run.output
    assert run.query(
        "select level from stg_input_checks where subject = 'missing_customer_id'"
    ) == [("warn",)]


def test_results_do_not_depend_on_the_process_time_zone(builds: dict[str, DbtRun]) -> None:
    for table, sql in TABLES.items():
        ordered = f"select * from ({sql}) order by all"
        assert builds["utc"].query(ordered) == builds["tokyo"].query(ordered), table


def test_offsets_epochs_and_z_formats_are_utc_instants(builds: dict[str, DbtRun]) -> None:
    rows = builds["tokyo"].query(
        "select customer_id, cast(amount as varchar), ordered_at from stg_order_lines"
    )
    assert {(c, a): t for c, a, t in rows} == UTC_INSTANTS


def test_same_utc_day_is_one_purchase_day(builds: dict[str, DbtRun]) -> None:
    run = builds["tokyo"]
    # Before the fix, A's -07:00 line was staged 2023-06-30 23:30: two purchase days.
    # BG/NBD frequency counts repeat purchase days: 0 for one day.
    assert run.query(
        "select frequency, first_purchase_date, last_purchase_date "
        "from int_customer_clv_summary where customer_id = 'A'"
    ) == [(0, dt.date(2023, 7, 1), dt.date(2023, 7, 1))]
    assert run.query(
        "select last_order_at, recency_days from customer_features where customer_id = 'A'"
    ) == [(dt.datetime(2023, 7, 1, 6, 30), 184)]


def test_number_format_reads_decimal_commas(builds: dict[str, DbtRun]) -> None:
    assert builds["utc"].query(
        "select monetary_value from customer_features where customer_id = 'C'"
    ) == [(1237.0,)]


def test_typed_timestamptz_and_year_only_birth_dates(builds: dict[str, DbtRun]) -> None:
    rows = builds["tokyo"].query(
        "select customer_id, signup_date, birth_date, age_years, is_age_implausible "
        "from stg_customers where customer_id in ('A', 'B', 'D') order by 1"
    )
    assert rows == [
        # 2022-12-31 23:30-05 is 2023-01-01 04:30 UTC; 1957 is read as mid-1957.
        ("A", dt.date(2023, 1, 1), dt.date(1957, 7, 1), 66, False),
        # 2023-01-01 00:15+09 is 2022-12-31 15:15 UTC; 1980-03 is 1980-03-15.
        ("B", dt.date(2022, 12, 31), dt.date(1980, 3, 15), 43, False),
        # '86400000' with timestamp_unit: epoch_milliseconds.
        ("D", None, dt.date(1970, 1, 2), 53, False),
    ]


def test_unknown_tenure_is_null(builds: dict[str, DbtRun]) -> None:
    run = builds["utc"]
    # G: no signup date and no order; D: first purchase 2023-03-20.
    assert run.query(
        "select customer_id, tenure_days from customer_features "
        "where customer_id in ('D', 'G') order by 1"
    ) == [("D", 287), ("G", None)]


def test_business_time_zone_moves_dates_not_instants(builds: dict[str, DbtRun]) -> None:
    run = builds["los_angeles"]
    rows = run.query(
        "select customer_id, ordered_at, order_date from stg_order_lines "
        "where customer_id in ('A', 'B') order by 1, 2"
    )
    assert rows == [
        # Offsets keep their instant; the dates are Los Angeles dates.
        ("A", dt.datetime(2023, 7, 1, 2, 0), dt.date(2023, 6, 30)),
        ("A", dt.datetime(2023, 7, 1, 6, 30), dt.date(2023, 6, 30)),
        # The naive 2023-07-01 00:30 is Los Angeles time: 07:30 UTC.
        ("B", dt.datetime(2023, 7, 1, 7, 30), dt.date(2023, 7, 1)),
        ("B", dt.datetime(2023, 7, 1, 23, 0), dt.date(2023, 7, 1)),
    ]


def test_parse_report(builds: dict[str, DbtRun]) -> None:
    rows = builds["utc"].query(
        "select input_name, column_name, values_present, values_parsed, values_unparseable "
        "from stg_parse_report order by 1, 2"
    )
    assert rows == [
        ("customers", "birth_date", 4, 4, 0),
        ("customers", "signup_date", 2, 2, 0),
        ("orders", "amount", 11, 11, 0),
        ("orders", "ordered_at", 11, 11, 0),
    ]


# ------------------------------------------------------------------ inputs that stop at staging


@pytest.fixture(scope="module")
def unusable(tmp_path_factory: pytest.TempPathFactory) -> DbtRun:
    """orders: month-first dates without a format and European amounts without number_format;
    customers: signup dates month-first read with a day-first format, incomes with '.'-grouped
    thousands and no number_format, birth dates (31.12.1957) no format reads."""
    folder = tmp_path_factory.mktemp("unusable_inputs")
    orders = folder / "orders.csv"
    orders.write_text(
        "customer_id;ordered_at;amount\n"
        "A;04-09-2012;1.234,50\nB;12-25-2012;10,00\nC;01-15-2013;7,25\n"
    )
    customers = folder / "customers.csv"
    customers.write_text(
        "customer_id,signup_date,income,birth_date\n"
        "A,04-09-2012,1.500,31.12.1957\nB,12-25-2012,2.250,01.02.1960\n"
        "C,01-15-2013,3.000,15.06.1971\n"
    )
    inputs = {
        "customers": {"path": str(customers), "rules": {"datetime_formats": ["%d-%m-%Y"]}},
        "orders": {"path": str(orders), "csv_options": {"delim": ";"}},
    }
    return run_dbt(
        ["run", "-s", "+stg_order_lines", "+stg_customers"],
        folder,
        vars={"segments_inputs": inputs, "segments_reference_date": REFERENCE_DATE},
    )


def test_a_column_that_never_parses_stops_at_staging(unusable: DbtRun) -> None:
    out = unusable.output
    assert unusable.returncode != 0
    assert "Failure in model stg_input_checks" in out, out[-3000:]
    case = BY_ID["order_dates_never_parse"]
    assert case.expected in out
    assert "'01-15-2013', '04-09-2012', '12-25-2012'" in out
    assert "segments_inputs.orders.rules.datetime_formats" in out
    # The error echoes what was tried, with the configured formats.
    assert (
        "no value of column birth_date parses as a date (3 values; "
        "tried: ISO 8601, YYYYMMDD, '%d-%m-%Y')" in out
    )
    case = BY_ID["order_amounts_decimal_comma"]
    assert case.expected in out and "segments_inputs.orders.rules.number_format" in out
    # Every line is rejected: the reject share stops the build too, with an example.
    assert "100.0 % of the rows (3 of 3) are rejected as unparseable_ordered_at" in out
    results = unusable.node_results()
    skipped = {uid.split(".")[-1]: status for uid, status in results.items()}
    assert skipped["stg_order_lines"] == "skipped" and skipped["stg_customers"] == "skipped"


def test_dot_grouped_thousands_without_number_format_warn(unusable: DbtRun) -> None:
    case = BY_ID["customer_income_dot_thousands_without_decimals"]
    assert case.expected in unusable.output, unusable.output[-3000:]
    assert (
        "set segments_inputs.customers.rules.number_format: {decimal: ',', thousands: '.'}"
        in unusable.output
    )
    # Parsing is unchanged (1.500 is a legal US number): only the warning is new.
    assert unusable.query(
        "select values_parsed, values_thousands_like from stg_parse_report "
        "where column_name = 'income'"
    ) == [(3, 3)]


def test_a_day_first_format_on_month_first_dates_warns(unusable: DbtRun) -> None:
    case = BY_ID["customer_signup_day_month_swapped"]
    assert case.expected in unusable.output
    assert "'01-15-2013', '12-25-2012'" in unusable.output


# ------------------------------------------------------------------------- configuration checks


@pytest.mark.parametrize(
    ("case_id", "rules", "extra_vars"),
    [
        ("config_datetime_format_epoch_directive", {"datetime_formats": ["%s"]}, {}),
        (
            "config_datetime_format_cannot_describe_a_date",
            {"datetime_formats": ["%d/%m/%Y %H:%M", "%d/%M/%Y"]},
            {},
        ),
        ("config_unknown_timezone", {}, {"segments_timezone": "Mars/Olympus"}),
    ],
)
def test_configuration_is_refused_naming_the_key(
    tmp_path: Path, case_id: str, rules: dict[str, Any], extra_vars: dict[str, Any]
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("customer_id,ordered_at,amount\nA,2023-01-01,1\n")
    inputs = {"customers": None, "orders": {"path": str(orders), "rules": rules}}
    run = run_dbt(
        ["compile", "-s", "base_order_lines_checked"],
        tmp_path,
        vars={"segments_inputs": inputs, **extra_vars},
    )
    assert run.returncode != 0
    assert BY_ID[case_id].expected in run.output, run.output[-3000:]


# ---------------------------------------------------------------------------- line endings


def test_whitespace_file_with_mixed_line_endings_loads(tmp_path: Path) -> None:
    orders = tmp_path / "orders.txt"
    orders.write_bytes(
        b"00001 19970101 1 11.77\r\n00001 19970118 2 20.00\n\n00002   19970102 1 5.00\r\n"
        b"00003 19970103 3 9.50"
    )
    inputs = {
        "customers": None,
        "orders": {
            "path": str(orders),
            "format": "whitespace",
            "columns": ["customer_id", "ordered_at", "quantity", "amount"],
        },
    }
    run = run_dbt(
        # The parse report aggregates the masks base_order_lines_checked writes: its parents too.
        ["run", "-s", "+stg_parse_report"],
        tmp_path,
        vars={"segments_inputs": inputs},
    )
    assert run.returncode == 0, run.output[-3000:]
    assert run.query("select customer_id, amount from base_orders order by 1, 2") == [
        ("00001", "11.77"), ("00001", "20.00"), ("00002", "5.00"), ("00003", "9.50"),
    ]  # fmt: skip
    assert run.query(
        "select values_present, values_parsed from stg_parse_report "
        "where column_name = 'ordered_at'"
    ) == [(4, 4)]


def test_csv_with_mixed_line_endings_and_zero_byte_file_are_refused_naming_the_key(
    tmp_path: Path,
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_bytes(
        b"customer_id,ordered_at,amount\r\nA,2023-01-01,1.50\nB,2023-01-02,2.00\r\n"
        b"C,2023-01-03,3.25\n"
    )
    customers = tmp_path / "customers.csv"
    customers.write_bytes(b"")
    inputs = {"customers": {"path": str(customers)}, "orders": {"path": str(orders)}}
    run = run_dbt(
        ["run", "-s", "base_orders", "base_customers"], tmp_path, vars={"segments_inputs": inputs}
    )
    assert run.returncode != 0
    mixed = BY_ID["input_csv_mixed_line_endings"]
    assert mixed.expected in run.output, run.output[-3000:]
    assert f"the file '{orders}' mixes CRLF and LF" in run.output
    empty = BY_ID["input_zero_byte_file"]
    assert empty.expected in run.output, run.output[-3000:]
    assert f"the file '{customers}' is empty (0 bytes)" in run.output
    assert "column0" not in run.output

    # The opt-in the message names reads every line right.
    inputs = {
        "customers": None,
        "orders": {"path": str(orders), "csv_options": {"strict_mode": False}},
    }
    run = run_dbt(["run", "-s", "base_orders"], tmp_path, vars={"segments_inputs": inputs})
    assert run.returncode == 0, run.output[-3000:]
    assert run.query("select customer_id, ordered_at, amount from base_orders order by 1") == [
        ("A", "2023-01-01", "1.50"), ("B", "2023-01-02", "2.00"), ("C", "2023-01-03", "3.25"),
    ]  # fmt: skip


def test_path_inputs_are_dbt_sources(builds: dict[str, DbtRun]) -> None:
    """A CSV and a Parquet path input are the sources segments_inputs.orders / .customers."""
    run = builds["utc"]
    folder = run.db_path.parent
    assert_input_source(run, "orders", "path", f"read_csv('{folder / 'orders.csv'}')")
    assert_input_source(run, "customers", "path", f"read_parquet('{folder / 'customers.parquet'}')")
