"""The catalogue of bad inputs: one entry per case, with the fixture and the expected outcome.

Data cases (layers ``customers`` and ``orders``) contribute rows to ONE customers table and ONE
orders table that a single dbt build stages (``test_bad_inputs.py``); each row carries a tag
(customers: ``acquisition_channel``, orders: ``product_category``) so that its fate can be
found in ``stg_customers`` / ``stg_order_lines`` or in ``rejects`` (``raw_record``). Each data
case lists ``checks``: SQL run on the built database and the exact rows it must return.
Cases whose outcome is a failed build (``outcome == "error"`` in a data layer) and the Python
cases (``features``, ``clustering``, ``configuration``) are checked by dedicated tests keyed by
the case id. ``docs/troubleshooting.md`` has one line per case, generated from these facts; it is
their only copy in the docs (``test_docs.py`` fails when another page repeats them).

``outcome`` is one of: reject (a rejects reason), flag (kept, with a flag or a nulled value),
kept (kept as given, by design), fallback (a documented fallback), error (the build or the call
fails with a message naming the key/table/column/value), gap (accepted silently although it is
probably wrong: pinned here so a fix shows up, and listed as a gap in the troubleshooting page;
no case is a gap at present, the outcome stays for the next one found).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CUSTOMER_COLUMNS = (
    "customer_id", "signup_date", "birth_date", "age", "gender", "income", "country", "region",
    "acquisition_channel",
)  # fmt: skip
ORDER_COLUMNS = (
    "customer_id", "ordered_at", "order_id", "line_number", "product_category", "sales_channel",
    "quantity", "unit_price", "amount", "status",
)  # fmt: skip
REFERENCE_DATE = "2024-01-01"


@dataclass(frozen=True)
class Case:
    """One bad input and what the engine does with it."""

    id: str
    layer: str  # customers | orders | features | clustering | configuration
    input: str  # the bad input, in words
    outcome: str  # reject | flag | kept | fallback | error | gap
    expected: str  # the reason code, flag, message fragment or fallback
    behaviour: str  # what the engine does, one sentence
    customers: tuple[dict[str, Any], ...] = ()
    orders: tuple[dict[str, Any], ...] = ()
    checks: tuple[tuple[str, list[tuple[Any, ...]]], ...] = field(default=())

    @property
    def is_grouped(self) -> bool:
        """Checked on the shared dbt build (a data case that does not fail the build)."""
        data = self.layer in ("customers", "orders") and self.outcome != "error"
        return data and bool(self.customers or self.orders or self.checks)


def customer(customer_id: Any, tag: str, **values: Any) -> dict[str, Any]:
    """A raw customer row (all text); ``tag`` becomes its acquisition_channel."""
    row = dict.fromkeys(CUSTOMER_COLUMNS)
    row.update(customer_id=customer_id, acquisition_channel=tag, signup_date="2020-01-01")
    row.update(values)
    return row


def order(customer_id: Any, tag: str, **values: Any) -> dict[str, Any]:
    """A raw order line (all text); ``tag`` becomes its product_category."""
    row = dict.fromkeys(ORDER_COLUMNS)
    row.update(
        customer_id=customer_id, product_category=tag, ordered_at="2023-06-01 10:00:00",
        quantity="1", amount="10.00",
    )  # fmt: skip
    row.update(values)
    return row


def customer_reject(tag: str) -> str:
    """SQL: reason of the rejected customer row(s) with this tag."""
    return (
        "select reason from rejects where source = 'customers' and "
        f"json_extract_string(raw_record, '$.acquisition_channel') = '{tag}' order by reason"
    )


def order_reject(tag: str, detail: bool = False) -> str:
    """SQL: reason (and detail) of the rejected order line(s) with this tag."""
    columns = "reason, detail" if detail else "reason"
    return (
        f"select {columns} from rejects where source = 'orders' and "
        f"json_extract_string(raw_record, '$.product_category') = '{tag}' order by all"
    )


def staged_customer(tag: str, columns: str) -> str:
    return f"select {columns} from stg_customers where acquisition_channel = '{tag}' order by all"


def staged_line(tag: str, columns: str) -> str:
    return f"select {columns} from stg_order_lines where product_category = '{tag}' order by all"


# Every order of the grouped build needs a kept customer: this one (and the data cases' own).
BASELINE_CUSTOMERS = (customer("C-OK", "ok", gender="F", income="40000", birth_date="1985-03-01"),)

CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------------------ customers
    Case(
        "customer_duplicate_id_conflicting",
        "customers",
        "two rows with customer_id C-DUP and conflicting attributes (female, income 50000, "
        "born 1980 vs male with nothing else)",
        "reject",
        "duplicate_customer_id",
        "the most complete row is kept (ties: smallest source_row_key); the other goes to rejects "
        "with detail \"customer_id = 'C-DUP' occurs in 2 rows; kept the most complete one\"",
        customers=(
            customer("C-DUP", "dup-full", gender="F", income="50000", birth_date="1980-05-05"),
            customer("C-DUP", "dup-sparse", gender="M", signup_date=None),
        ),
        checks=(
            (customer_reject("dup-sparse"), [("duplicate_customer_id",)]),
            (
                staged_customer("dup-full", "customer_id, gender, income"),
                [("C-DUP", "female", 50000.0)],
            ),
            (
                "select count(*) from rejects where record_key = 'C-DUP' and "
                "detail like '%occurs in 2 rows; kept the most complete one%'",
                [(1,)],
            ),
        ),
    ),
    Case(
        "customer_null_id",
        "customers",
        "customer_id is NULL",
        "reject",
        "missing_customer_id",
        "rejected with detail 'customer_id is missing'",
        customers=(customer(None, "null-id"),),
        checks=((customer_reject("null-id"), [("missing_customer_id",)]),),
    ),
    Case(
        "customer_empty_id",
        "customers",
        "customer_id is '' (empty text)",
        "reject",
        "missing_customer_id",
        "empty text is null after trimming: rejected",
        customers=(customer("", "empty-id"),),
        checks=((customer_reject("empty-id"), [("missing_customer_id",)]),),
    ),
    Case(
        "customer_blank_id",
        "customers",
        "customer_id is '   ' (blanks only)",
        "reject",
        "missing_customer_id",
        "trimmed to empty, so null: rejected",
        customers=(customer("   ", "blank-id"),),
        checks=((customer_reject("blank-id"), [("missing_customer_id",)]),),
    ),
    Case(
        "customer_id_whitespace",
        "customers",
        "ids 'C-WS' and '  C-WS  ' (differ by blanks)",
        "reject",
        "duplicate_customer_id",
        "ids are trimmed, so the two rows are the same customer: one is kept, one rejected",
        customers=(
            customer("C-WS", "ws-plain", gender="F"),
            customer("  C-WS  ", "ws-padded"),
        ),
        checks=(
            (customer_reject("ws-padded"), [("duplicate_customer_id",)]),
            (staged_customer("ws-plain", "customer_id"), [("C-WS",)]),
        ),
    ),
    Case(
        "customer_id_case",
        "customers",
        "ids 'C-Case' and 'c-case' (differ by case only)",
        "kept",
        "two customers",
        "case is kept: ids are case-sensitive, so these are two distinct customers",
        customers=(customer("C-Case", "case-upper"), customer("c-case", "case-lower")),
        checks=(
            (
                "select customer_id from stg_customers where lower(customer_id) = 'c-case' "
                "order by all",
                [("C-Case",), ("c-case",)],
            ),
        ),
    ),
    Case(
        "customer_future_birth_date",
        "customers",
        "birth_date 2999-01-01 (after the reference date)",
        "flag",
        "is_age_implausible",
        "the birth date is set to null, age_years is null, is_age_implausible = true",
        customers=(customer("C-FUTURE", "future-birth", birth_date="2999-01-01"),),
        checks=(
            (
                staged_customer("future-birth", "birth_date, age_years, is_age_implausible"),
                [(None, None, True)],
            ),
        ),
    ),
    Case(
        "customer_age_zero",
        "customers",
        "age 0",
        "flag",
        "is_age_implausible",
        "outside segments_plausible_age [16, 100]: age_years null, is_age_implausible = true",
        customers=(customer("C-AGE0", "age-zero", age="0"),),
        checks=((staged_customer("age-zero", "age_years, is_age_implausible"), [(None, True)]),),
    ),
    Case(
        "customer_age_150",
        "customers",
        "age 150",
        "flag",
        "is_age_implausible",
        "outside segments_plausible_age [16, 100]: age_years null, is_age_implausible = true",
        customers=(customer("C-AGE150", "age-150", age="150"),),
        checks=((staged_customer("age-150", "age_years, is_age_implausible"), [(None, True)]),),
    ),
    Case(
        "customer_income_negative",
        "customers",
        "income -100",
        "flag",
        "is_income_implausible",
        "income set to null (imputed later), is_income_implausible = true",
        customers=(customer("C-INCNEG", "income-negative", income="-100"),),
        checks=(
            (staged_customer("income-negative", "income, is_income_implausible"), [(None, True)]),
        ),
    ),
    Case(
        "customer_income_absurd",
        "customers",
        "income 1e12",
        "flag",
        "is_income_implausible",
        "outside segments_plausible_income [0, 10000000]: income set to null (imputed later), "
        "is_income_implausible = true (base_customers_checked.is_income_out_of_range = true)",
        customers=(customer("C-INCBIG", "income-absurd", income="1e12"),),
        checks=(
            (staged_customer("income-absurd", "income, is_income_implausible"), [(None, True)]),
            (
                "select is_income_out_of_range, is_income_negative from base_customers_checked "
                "where customer_id = 'C-INCBIG'",
                [(True, False)],
            ),
        ),
    ),
    Case(
        "customer_unknown_gender",
        "customers",
        "gender 'zz'",
        "fallback",
        "gender 'other', is_gender_unlisted",
        "any non-empty gender that is no known spelling becomes 'other' and "
        "base_customers_checked.is_gender_unlisted = true",
        customers=(customer("C-GENDER", "gender-unknown", gender="zz"),),
        checks=(
            (
                "select gender, is_gender_unlisted from base_customers_checked "
                "where customer_id = 'C-GENDER'",
                [("other", True)],
            ),
        ),
    ),
    Case(
        "customer_control_characters",
        "customers",
        "control characters in text: customer_id 'C-CTRL\\x01', region 'North\\tHolland\\x07'; "
        "an order line of customer 'C-CTRL\\x02' with sales_channel 'web\\r\\n'",
        "fallback",
        "control characters removed",
        "segments_clean_text removes ASCII control characters from every text column: a tab, "
        "newline or carriage return (with the blanks around it) becomes one space, any other is "
        "dropped; so the customer is C-CTRL, the region North Holland, and the order line is "
        "C-CTRL's (not unknown_customer_id) with sales_channel web",
        customers=(customer("C-CTRL\x01", "control-chars", region="North\tHolland\x07"),),
        orders=(order("C-CTRL\x02", "control-chars", sales_channel="web\r\n"),),
        checks=(
            (
                staged_customer("control-chars", "customer_id, region"),
                [("C-CTRL", "North Holland")],
            ),
            (staged_line("control-chars", "customer_id, sales_channel"), [("C-CTRL", "web")]),
        ),
    ),
    Case(
        "customer_country_all_null",
        "customers",
        "the country column is null in every row",
        "kept",
        "country null",
        "no reject and no error in staging: every customer is kept with country null (as a "
        "clustering feature it would fail: see feature_all_null)",
        checks=(("select count(*), count(country) from stg_customers", [(13, 0)]),),
    ),
    Case(
        "input_csv_latin1",
        "orders",
        "an input CSV file (here the orders) encoded in latin-1 (bytes 0xFC, 0xCE)",
        "error",
        "This file is not utf-8 encoded",
        "base_orders fails: 'Invalid unicode (byte sequence mismatch) detected. This file is "
        "not utf-8 encoded.' with the file name; fix: csv_options: {encoding: latin-1}",
    ),
    Case(
        "customer_csv_latin1_with_encoding",
        "customers",
        "a latin-1 customers CSV with segments_inputs.customers.csv_options: {encoding: latin-1}",
        "fallback",
        "decoded",
        "read correctly: 'München' and 'Île' arrive as UTF-8 text",
    ),
    # --------------------------------------------------------------------------------- orders
    Case(
        "order_unknown_customer",
        "orders",
        "an order line for customer C-GHOST, not in customers",
        "reject",
        "unknown_customer_id",
        "rejected: \"customer_id = 'C-GHOST' is not a customer of the customers input\"",
        orders=(order("C-GHOST", "ghost"),),
        checks=(
            (
                order_reject("ghost", detail=True),
                [
                    (
                        "unknown_customer_id",
                        "customer_id = 'C-GHOST' is not a customer of the customers input",
                    )
                ],
            ),
        ),
    ),
    Case(
        "order_missing_customer",
        "orders",
        "an order line without customer_id",
        "reject",
        "missing_customer_id",
        "rejected: 'customer_id is missing'",
        orders=(order(None, "no-customer"),),
        checks=((order_reject("no-customer"), [("missing_customer_id",)]),),
    ),
    Case(
        "order_negative_amount",
        "orders",
        "amount -25.00 with no status",
        "fallback",
        "is_return",
        "a negative amount is treated as a return: kept, status completed, is_return = true",
        orders=(order("C-OK", "negative-amount", amount="-25.00"),),
        checks=(
            (
                staged_line("negative-amount", "amount, status, is_return"),
                [(-25.0, "completed", True)],
            ),
        ),
    ),
    Case(
        "order_returned_positive_amount",
        "orders",
        "purchases of 100 and 50, then a line 'returned' of +50 (a refund marked by its status)",
        "kept",
        "returned_value 50, net_revenue 100, return_rate 1/3",
        "a line is a return when its status says so or its amount is negative, and its value "
        "counts as a positive returned amount whatever its sign: monetary_value 150, "
        "returned_value 50, net_revenue 100, return_rate 0.333 (the same as with -50); it used "
        "to give returned_value -50 and return_rate -0.333. Returns above the purchases of the "
        "window give return_rate 1 (docs/use_your_own_data.md, Returns)",
        customers=(customer("C-RET", "returned-positive"),),
        orders=(
            order("C-RET", "returned-positive", order_id="R1", amount="100.00"),
            order(
                "C-RET",
                "returned-positive",
                order_id="R2",
                amount="50.00",
                ordered_at="2023-06-02 10:00:00",
            ),
            order(
                "C-RET",
                "returned-positive",
                order_id="R3",
                amount="50.00",
                status="returned",
                ordered_at="2023-06-03 10:00:00",
            ),
        ),
        checks=(
            (
                "select monetary_value, returned_value, net_revenue, round(return_rate, 6) "
                "from int_customer_orders where customer_id = 'C-RET'",
                [(150.0, 50.0, 100.0, 0.333333)],
            ),
        ),
    ),
    Case(
        "order_zero_amount",
        "orders",
        "amount 0 with status completed",
        "reject",
        "zero_amount",
        "rejected: \"amount = '0.00' on a completed line is not a purchase "
        '(rules.reject_zero_amount)"; a zero-amount cancelled or returned line is kept, and '
        "rules.reject_zero_amount: false keeps zero-value purchases (CDNOW's free CDs)",
        orders=(order("C-OK", "zero-amount", amount="0", status="completed"),),
        checks=(
            (
                order_reject("zero-amount", detail=True),
                [
                    (
                        "zero_amount",
                        "amount = '0.00' on a completed line is not a purchase "
                        "(rules.reject_zero_amount)",
                    )
                ],
            ),
        ),
    ),
    Case(
        "order_amount_currency_symbol",
        "orders",
        "amount '€1,234.50'",
        "reject",
        "unparseable_amount",
        "rejected: \"amount = '€1,234.50' is not a number in the range of decimal(18, 2)\"; "
        "currency symbols are not stripped",
        orders=(order("C-OK", "amount-euro", amount="€1,234.50"),),
        checks=(
            (
                order_reject("amount-euro", detail=True),
                [
                    (
                        "unparseable_amount",
                        "amount = '€1,234.50' is not a number in the range of decimal(18, 2)",
                    )
                ],
            ),
        ),
    ),
    Case(
        "order_amount_decimal_comma",
        "orders",
        "amount '1.234,50' (European format)",
        "reject",
        "unparseable_amount",
        "rejected as unparseable_amount: only '.' is a decimal separator",
        orders=(order("C-OK", "amount-comma", amount="1.234,50"),),
        checks=((order_reject("amount-comma"), [("unparseable_amount",)]),),
    ),
    Case(
        "order_amount_thousands_separator",
        "orders",
        "amount '1,234.50'",
        "reject",
        "unparseable_amount",
        "rejected as unparseable_amount: thousands separators are not removed",
        orders=(order("C-OK", "amount-thousands", amount="1,234.50"),),
        checks=((order_reject("amount-thousands"), [("unparseable_amount",)]),),
    ),
    Case(
        "order_timestamp_unparseable",
        "orders",
        "ordered_at '31/12/2020' (no datetime_formats)",
        "reject",
        "unparseable_ordered_at",
        "rejected: \"ordered_at = '31/12/2020' is not a timestamp\"; add "
        "rules.datetime_formats: ['%d/%m/%Y'] to accept it",
        orders=(order("C-OK", "ts-unparseable", ordered_at="31/12/2020"),),
        checks=(
            (
                order_reject("ts-unparseable", detail=True),
                [("unparseable_ordered_at", "ordered_at = '31/12/2020' is not a timestamp")],
            ),
        ),
    ),
    Case(
        "order_timestamp_future",
        "orders",
        "ordered_at 2999-01-01",
        "reject",
        "future_ordered_at",
        "rejected: \"ordered_at = '2999-01-01' is after the reference date 2024-01-01 (var "
        'segments_reference_date)"; without the var a line is judged against the build date '
        "(current_date), so it can no longer move the default reference date",
        orders=(order("C-OK", "ts-future", ordered_at="2999-01-01"),),
        checks=(
            (
                order_reject("ts-future", detail=True),
                [
                    (
                        "future_ordered_at",
                        "ordered_at = '2999-01-01' is after the reference date 2024-01-01 "
                        "(var segments_reference_date)",
                    )
                ],
            ),
        ),
    ),
    Case(
        "order_timestamp_before_1970",
        "orders",
        "ordered_at 1900-01-01",
        "reject",
        "ordered_at_before_1970",
        "rejected: \"ordered_at = '1900-01-01' is before 1970-01-01\" (a placeholder date, not "
        "an order)",
        orders=(order("C-OK", "ts-1900", ordered_at="1900-01-01"),),
        checks=(
            (
                order_reject("ts-1900", detail=True),
                [("ordered_at_before_1970", "ordered_at = '1900-01-01' is before 1970-01-01")],
            ),
        ),
    ),
    Case(
        "order_id_shared_through_a_control_character",
        "orders",
        "order_id 'O-CTRL\\x01' (line 1, customer C-OK) and 'O-CTRL' (line 2, customer "
        "C-Case): the same order id once its control character is removed",
        "reject",
        "order_id_conflict",
        "order ids are compared cleaned: the two lines are one order O-CTRL of two customers "
        "(a tie, so both lines are rejected); the candidates for this check are found by "
        "cleaned order id, so a control character cannot hide a shared order",
        orders=(
            order("C-OK", "ctrl-shared", order_id="O-CTRL\x01", line_number="1"),
            order("C-Case", "ctrl-shared", order_id="O-CTRL", line_number="2"),
        ),
        checks=(
            (
                order_reject("ctrl-shared", detail=True),
                [
                    (
                        "order_id_conflict",
                        "order_id = 'O-CTRL' belongs to 2 customers; no customer has most of "
                        "its 2 lines, none is kept",
                    )
                ]
                * 2,
            ),
        ),
    ),
    Case(
        "order_unicode_space_padding",
        "orders",
        "an order line whose customer_id is '\\u00a0C-OK\\u3000' and sales_channel "
        "'\\u2003web\\u00a0' (no-break, em and ideographic spaces around the values)",
        "kept",
        "trimmed",
        "every text value is trimmed of spaces, Unicode space separators included, at either "
        "end: the line is C-OK's (not unknown_customer_id) with sales_channel web",
        orders=(order("\u00a0C-OK\u3000", "unicode-padded", sales_channel="\u2003web\u00a0"),),
        checks=((staged_line("unicode-padded", "customer_id, sales_channel"), [("C-OK", "web")]),),
    ),
    Case(
        "order_leading_space_only",
        "orders",
        "an order line whose customer_id is '  C-OK' and sales_channel ' web' (ASCII spaces "
        "before the value, none after)",
        "kept",
        "trimmed",
        "a value is trimmed when it only starts with a space: the line is C-OK's (not "
        "unknown_customer_id) with sales_channel web",
        orders=(order("  C-OK", "leading-space", sales_channel=" web"),),
        checks=((staged_line("leading-space", "customer_id, sales_channel"), [("C-OK", "web")]),),
    ),
    Case(
        "order_id_shared_by_two_customers",
        "orders",
        "order_id O-SHARED used by customers C-OK and C-Case, line_number 1 each; order "
        "O-SHARED2 with 2 lines of C-OK, 1 of C-Case and 1 of the unknown C-GHOST2",
        "reject",
        "order_id_conflict",
        "an order's otherwise usable lines must name one customer: the customer with the most "
        "of them keeps them and the others' lines are rejected (\"order_id = 'O-SHARED2' "
        "belongs to 2 customers; kept the lines of customer_id 'C-OK' (2 of 3 lines)\"); on a "
        'tie every line is rejected ("...; no customer has most of its 2 lines, none is '
        'kept"); lines rejected for another reason (C-GHOST2: unknown_customer_id) do not count',
        orders=(
            order("C-OK", "shared-order", order_id="O-SHARED", line_number="1"),
            order("C-Case", "shared-order", order_id="O-SHARED", line_number="1"),
            order("C-OK", "shared-major", order_id="O-SHARED2", line_number="1"),
            order("C-OK", "shared-major", order_id="O-SHARED2", line_number="2"),
            order("C-Case", "shared-minor", order_id="O-SHARED2", line_number="3"),
            order("C-GHOST2", "shared-ghost", order_id="O-SHARED2", line_number="4"),
        ),
        checks=(
            (
                order_reject("shared-order", detail=True),
                [
                    (
                        "order_id_conflict",
                        "order_id = 'O-SHARED' belongs to 2 customers; no customer has most of "
                        "its 2 lines, none is kept",
                    )
                ]
                * 2,
            ),
            (
                staged_line("shared-major", "order_id, line_number, customer_id"),
                [("O-SHARED2", 1, "C-OK"), ("O-SHARED2", 2, "C-OK")],
            ),
            (
                order_reject("shared-minor", detail=True),
                [
                    (
                        "order_id_conflict",
                        "order_id = 'O-SHARED2' belongs to 2 customers; kept the lines of "
                        "customer_id 'C-OK' (2 of 3 lines)",
                    )
                ],
            ),
            (order_reject("shared-ghost"), [("unknown_customer_id",)]),
        ),
    ),
    Case(
        "order_unknown_status",
        "orders",
        "status 'shipped'",
        "reject",
        "unknown_status",
        "rejected; map it with rules.status_values: {shipped: completed}",
        orders=(order("C-OK", "status-shipped", status="shipped"),),
        checks=((order_reject("status-shipped"), [("unknown_status",)]),),
    ),
    Case(
        "order_exact_duplicate_line",
        "orders",
        "the same order line exported twice",
        "reject",
        "duplicate_order_line",
        "one copy is kept, the other rejected as duplicate_order_line",
        orders=(
            order("C-OK", "dup-line", order_id="O-DUP", line_number="1"),
            order("C-OK", "dup-line", order_id="O-DUP", line_number="1"),
        ),
        checks=(
            (order_reject("dup-line"), [("duplicate_order_line",)]),
            (staged_line("dup-line", "order_id"), [("O-DUP",)]),
        ),
    ),
    Case(
        "order_table_empty",
        "orders",
        "an orders table with zero rows (customers present)",
        "error",
        "segments_inputs.orders: the input has no rows",
        'stg_input_checks fails at staging (check empty_input): "the inputs are not usable '
        "(stg_input_checks): segments_inputs.orders: the input has no rows; point "
        "segments_inputs.orders at an export with data, or remove segments_inputs.orders to "
        'segment on customer attributes alone"; stg_customers, stg_order_lines and everything '
        "downstream are skipped",
    ),
    # ------------------------------------------ instants, formats, unusable inputs (issue 11)
    # Checked by tests/python/test_input_parsing.py (own small builds; DBT_CHECKED).
    Case(
        "order_timestamp_utc_offset",
        "orders",
        "ordered_at '2023-06-30T23:30:00-07:00' and '2023-07-01T02:00:00Z' for one customer "
        "(also +0200, +02, ' +02:00')",
        "kept",
        "2023-07-01 06:30 UTC",
        "the offset is applied: stg_order_lines.ordered_at is the UTC instant (2023-07-01 06:30 "
        "and 02:00), order_date its date in var segments_timezone (default UTC), so the "
        "customer has one purchase day (int_customer_clv_summary.purchase_days 1)",
    ),
    Case(
        "order_timestamp_z_format",
        "orders",
        "rules.datetime_formats ['%d/%m/%Y %H:%M %z'] with '30/06/2023 23:30 -0700'",
        "kept",
        "2023-07-01 06:30 UTC",
        "a %z/%Z format gives an instant, converted to UTC; ordered_at stays a TIMESTAMP "
        "holding UTC (the contract of stg_order_lines no longer fails)",
    ),
    Case(
        "order_timestamp_epoch_seconds",
        "orders",
        "ordered_at '1679330640' (Unix epoch seconds)",
        "kept",
        "2023-03-20 16:44 UTC",
        "with rules.timestamp_unit: epoch_seconds (or epoch_milliseconds) a number is an epoch; "
        "without the rule it does not parse (unparseable_ordered_at, and stg_input_checks "
        "names rules.timestamp_unit)",
    ),
    Case(
        "input_timestamptz_column",
        "customers",
        "a Parquet column of type TIMESTAMP WITH TIME ZONE (signup_date 2022-12-31 23:30-05)",
        "kept",
        "signup_date 2023-01-01",
        "read as its UTC instant (2023-01-01 04:30), never as text in the session time zone: "
        "the same tables under TZ=UTC and TZ=Asia/Tokyo",
    ),
    Case(
        "order_naive_timestamp_business_timezone",
        "orders",
        "naive '2023-07-01 00:30:00' with var segments_timezone: America/Los_Angeles",
        "kept",
        "ordered_at 2023-07-01 07:30 UTC, order_date 2023-07-01",
        "a time without an offset is local to segments_timezone; order dates, recency and "
        "tenure are taken in it (an offset time 2023-07-01 02:00Z is order_date 2023-06-30)",
    ),
    Case(
        "order_dates_never_parse",
        "orders",
        "month-first ordered_at '04-09-2012', '12-25-2012' without rules.datetime_formats",
        "error",
        "segments_inputs.orders: no value of column ordered_at parses as a timestamp (3 values; "
        "tried: ISO 8601, YYYYMMDD)",
        "stg_input_checks fails with the message, three example values and the key "
        "segments_inputs.orders.rules.datetime_formats (and the reject share: '100.0 % of the "
        "rows (3 of 3) are rejected as unparseable_ordered_at'); stg_order_lines, "
        "stg_customers and everything after them are skipped",
    ),
    Case(
        "order_amounts_decimal_comma",
        "orders",
        "amounts '1.234,50' with csv_options {delim: ';'} and no number_format",
        "error",
        "segments_inputs.orders: no value of column amount parses as a number (3 values)",
        "stg_input_checks fails naming the column, example values and "
        "segments_inputs.orders.rules.number_format",
    ),
    Case(
        "order_amounts_number_format",
        "orders",
        "amounts '1.234,50' with rules.number_format {decimal: ',', thousands: '.'}",
        "kept",
        "1234.50",
        "the separators are rewritten before parsing: amount, unit_price, quantity, income, "
        "age and numeric attributes",
    ),
    Case(
        "customer_signup_day_month_swapped",
        "customers",
        "month-first signup dates ('12-25-2012', '01-15-2013', '04-09-2012') read with "
        "rules.datetime_formats ['%d-%m-%Y']",
        "flag",
        "66.7 % of the values of column signup_date (2 of 3) do not parse",
        "a dbt warning from stg_input_checks (above segments_input_checks."
        "unparseable_warn_share, default 0.05) with examples and the key; dates landing after "
        "the latest plausible date warn the same way (dates_after_latest_date)",
    ),
    Case(
        "customer_income_dot_thousands_without_decimals",
        "customers",
        "income '1.500', '2.250', '3.000' (European thousands, no decimals) without "
        "rules.number_format",
        "flag",
        "100.0 % of the values of column income (3 of 3) look like thousands grouped with '.' "
        "and no decimals, e.g. '1.500', '2.250', '3.000'",
        "read as decimals (1.5: right for a US price, so parsing is unchanged) with a dbt "
        "warning from stg_input_checks (above segments_input_checks.unparseable_warn_share) "
        "naming the column, examples and rules.number_format {decimal: ',', thousands: '.'}; "
        "amounts, prices, quantities and numeric attributes alike",
    ),
    Case(
        "customer_birth_year_only",
        "customers",
        "birth_date '1957' (a year) or '1980-03' (a year and month)",
        "kept",
        "1957-07-01, 1980-03-15",
        "read as mid-year / mid-month, so the age is right to within half a year (not "
        "unparseable, not is_age_implausible)",
    ),
    Case(
        "customer_tenure_unknown",
        "customers",
        "a customer with no signup date (or no signup column) and no purchase",
        "kept",
        "tenure_days null",
        "tenure is unknown, not 0",
    ),
    Case(
        "order_missing_customer_share",
        "orders",
        "27 % of the order lines without a customer id (UCI Online Retail: 25 %)",
        "flag",
        "27.3 % of the rows (3 of 11) are rejected as missing_customer_id",
        "a dbt warning at staging (above segments_input_checks.reject_warn_share, default "
        "0.1); the lines are rejected and the build goes on. Above reject_error_share (default "
        "0.5) for one reason or all together, stg_input_checks stops the build",
    ),
    Case(
        "input_whitespace_mixed_line_endings",
        "orders",
        "a whitespace-separated file mixing CRLF and LF line endings",
        "kept",
        "every line read",
        "read with strict_mode off; the stray carriage returns are trimmed (was: 'CSV Parser "
        "state machine reached an invalid state' from a not_null test)",
    ),
    Case(
        "input_csv_mixed_line_endings",
        "orders",
        "a CSV file mixing CRLF and LF line endings",
        "error",
        "mixes CRLF and LF line endings, which DuckDB's strict CSV parser refuses; set "
        "segments_inputs.orders.csv_options: {strict_mode: false} to read it",
        "base_orders fails naming the file and the key (was: DuckDB's sniffer error naming no "
        "option); with csv_options {strict_mode: false} every line is read. Not relaxed by "
        "default: the relaxed parser also accepts rows with more fields than the header",
    ),
    Case(
        "input_zero_byte_file",
        "customers",
        "a zero-byte customers file",
        "error",
        "segments_inputs.customers.path: the file",
        "base_customers fails with \"...path: the file '<path>' is empty (0 bytes); point "
        'segments_inputs.customers.path at an export with data" (was: required column '
        "'customer_id' not found ... available columns: column0)",
    ),
    # ------------------------------------------------------------------------------- features
    Case(
        "feature_constant",
        "features",
        "a numeric feature with the same value for everyone",
        "fallback",
        "weight 0, note 'constant'",
        "preprocessing_spec gives it scale 1, weight 0 and the note 'constant (every value ... "
        "after imputation): ... contributes nothing to distances'",
    ),
    Case(
        "feature_all_null",
        "features",
        "a numeric feature that is null for every customer",
        "error",
        "every value is null",
        "ConfigError 'customer_features.<name>: every value is null (N rows); nothing to impute "
        "or scale - fix the upstream model or remove the feature from segmentation.features'",
    ),
    Case(
        "feature_single_value",
        "features",
        "a feature with one non-null value, the rest null",
        "fallback",
        "imputed to that value, then constant",
        "the median is that value, every null is imputed with it, so the column is constant: "
        "weight 0 with the 'constant' note",
    ),
    Case(
        "feature_huge_values",
        "features",
        "a numeric attribute with every value around 1e160, or one value of 1e200 among 1..59",
        "kept",
        "finite scale; note 'values span more orders of magnitude than float64 keeps apart'",
        "the standard deviation is computed on the values divided by a power of two near their "
        "largest magnitude, so it is exact and finite (it used to overflow to inf and make the "
        "feature 0 for every customer); EDA moments likewise (eda_numeric_summary gives them, "
        "or null with a note naming the feature; it used to fail with 'SKEW is out of range!'). "
        "One value of 1e200 among small ones would leave the others indistinguishable around "
        "the mean: the column is centred at its median instead (the spec row's note says so), "
        "the others stay apart and the huge value is an outlier (outlier_fence, is_outlier)",
    ),
    Case(
        "feature_ordinal_level_case",
        "features",
        "ordinal levels [bronze, silver, gold] and values GOLD, Silver, ' bronze '",
        "kept",
        "matched ignoring case and blanks",
        "values match the configured levels ignoring case and surrounding blanks, as staging "
        "matches contract categories: GOLD is the level gold (code 1); the spec stores the "
        "configured spelling; levels that differ only in case are a ConfigError "
        "(segmentation.features[i].levels: levels must be distinct (ignoring case ...))",
    ),
    # ----------------------------------------------------------------------------- clustering
    Case(
        "clustering_fewer_customers_than_k",
        "clustering",
        "k: 5 with 4 customers",
        "error",
        "segmentation.clustering.k: 5 is outside [2, 3]",
        "ConfigError 'segmentation.clustering.k: 5 is outside [2, 3] (number of customers - 1 "
        "= 3)'; with k: auto the range is cut to n - 1 (k_min above it is the same error on k_min)",
    ),
    Case(
        "clustering_k_range_invalid",
        "clustering",
        "k_min 5, k_max 3 (and k_min 1)",
        "error",
        "segmentation.clustering.k_max: 3 is below k_min 5",
        "ConfigError naming the key; k_min 1 gives 'segmentation.clustering.k_min: expected an "
        "integer >= 2, got 1'",
    ),
    Case(
        "clustering_two_customers",
        "clustering",
        "only two customers",
        "error",
        "clustering needs at least 3 customers, got 2",
        "ConfigError 'segmentation.clustering: clustering needs at least 3 customers, got 2'",
    ),
    Case(
        "clustering_identical_customers",
        "clustering",
        "six customers with identical features",
        "fallback",
        "one segment: the feature matrix has 1 distinct row among 6 customers",
        "every feature is constant (weight 0), so K-Means cannot form 2 non-empty segments: the "
        "sweep falls back to ONE segment (a single clustering_metrics row with k = 1, every "
        "customer in segment 1 'Average', silhouette null) with the selection reason 'one "
        "segment: the feature matrix has 1 distinct row among 6 customers (identical features), "
        "fewer than the smallest k of k = 2..4; ...'; the hierarchical tree is cut at k = 1 too. "
        "With fewer distinct rows than k_max, the k above are not fitted and the reason says so; "
        "with fewer (but at least 2) than k_min or a fixed k, k = the distinct rows is fitted",
    ),
    Case(
        "clustering_fixed_k_above_distinct_rows",
        "clustering",
        "k: 4 with 12 customers but only 3 distinct feature rows",
        "fallback",
        "k = 4 asked but the feature matrix has only 3 distinct rows: fitted k = 3",
        "K-Means cannot make 4 non-empty segments of 3 distinct rows: k = min(k, distinct rows) "
        "= 3 is fitted (the 3 groups the automatic sweep finds) and the selection reason says "
        "'segmentation.clustering.k = 4 capped at 3, the largest k fitted; k = 4 asked but the "
        "feature matrix has only 3 distinct rows: fitted k = 3 (min(k, distinct rows)) "
        "instead'; with a single distinct row it is one segment (clustering_identical_customers)",
    ),
    Case(
        "clustering_extreme_outlier",
        "clustering",
        "one customer with spend 1e9 among 59 with spend ~100",
        "flag",
        "is_outlier",
        "a feature value more than segmentation.clustering.outlier_fence (default 3) times the "
        "column's 5-95 % range beyond it makes the customer an outlier: left out of the K-Means "
        "fit (fit_rows 59, outlier_rows 1 in clustering_metrics, and the selection reason says "
        "'1 outlier(s) ... left out of the fit and assigned to the nearest segment'), assigned "
        "to the nearest centroid and flagged customer_segments.is_outlier = true; so it no longer "
        "claims a one-customer segment, whatever the number of customers. outlier_fence: null "
        "turns the rule off",
    ),
    # -------------------------------------------------------------------------- configuration
    Case(
        "config_unknown_feature",
        "configuration",
        "segmentation.features name 'recency'",
        "error",
        "unknown column 'recency' in customer_features",
        "ConfigError 'segmentation.features[0].name: unknown column 'recency' in "
        "customer_features; available columns: ...' (check_columns)",
    ),
    Case(
        "config_feature_declared_twice",
        "configuration",
        "the same feature listed twice",
        "error",
        "'frequency' is declared twice",
        "ConfigError \"segmentation.features[1].name: 'frequency' is declared twice (also "
        'segmentation.features[0])"',
    ),
    Case(
        "config_negative_weight",
        "configuration",
        "weight: -1",
        "error",
        "segmentation.features[0].weight: expected a number > 0, got -1",
        "ConfigError naming the key and the value",
    ),
    Case(
        "config_unknown_transform",
        "configuration",
        "transform: log2",
        "error",
        "segmentation.features[0].transform: unknown value 'log2'",
        "ConfigError \"...: unknown value 'log2'; expected one of: none, log1p\"",
    ),
    Case(
        "config_feature_name_sql",
        "configuration",
        "feature name 'x; drop table y'",
        "error",
        "'x; drop table y' is not a valid column name",
        "ConfigError: feature names must be lower-case identifiers",
    ),
    Case(
        "config_attribute_expression_sql",
        "configuration",
        "segments_inputs.customers.attributes.income_units.expression: "
        "'1); drop table y; select (1'",
        "error",
        "unexpected '; drop table y; sele' at character 3",
        "a derived attribute's expression is checked token by token (numbers, input columns, "
        "+ - * /, parentheses, the functions abs, coalesce, greatest, least, nullif, round) and "
        "rebuilt from the tokens: anything else fails at compile time naming the key, e.g. "
        "\"...income_units.expression: unexpected '; drop table y; sele' at character 3 of "
        '..."; an unknown column names the columns of the input; no SQL is executed',
    ),
    Case(
        "config_datetime_format_epoch_directive",
        "configuration",
        "rules.datetime_formats ['%s'] (or a typo such as '%Q')",
        "error",
        "directive '%s' is not a strptime directive DuckDB can parse",
        "compile error naming segments_inputs.<input>.rules.datetime_formats; for %s it points "
        "to rules.timestamp_unit",
    ),
    Case(
        "config_datetime_format_cannot_describe_a_date",
        "configuration",
        "rules.datetime_formats ['%d/%M/%Y'] (%M is minutes: a typo for %m), or a format without "
        "a year, month or day, or seconds without minutes",
        "error",
        "'%d/%M/%Y' cannot describe a date: %M is minutes but there is no hour (%H or %I); "
        "did you mean %m (month)?",
        "compile error naming segments_inputs.<input>.rules.datetime_formats and the likely fix "
        "(the typo would otherwise read 08/02/2023 as 2023-01-08 00:02, months as minutes)",
    ),
    Case(
        "config_unknown_var",
        "configuration",
        "--vars '{segment_timezone: America/Los_Angeles}' (a typo of segments_timezone)",
        "error",
        "unknown var 'segment_timezone' (--vars); did you mean 'segments_timezone'?",
        "on-run-start fails the command before any model runs, naming the unknown key, the "
        "closest known var and the list of known vars (was: ignored, the default applied)",
    ),
    Case(
        "config_unknown_timezone",
        "configuration",
        "var segments_timezone: Mars/Olympus",
        "error",
        "var segments_timezone: unknown time zone 'Mars/Olympus'",
        "compile error naming the var (checked against DuckDB's IANA time zone list)",
    ),
    Case(
        "config_input_column_sql",
        "configuration",
        "segments_inputs.customers.columns.customer_id: 'x; drop table y'",
        "error",
        "column 'x; drop table y' not found in the customers input",
        "the value is only ever a quoted identifier: base_customers fails with "
        "\"segments_inputs.customers.columns.customer_id: column 'x; drop table y' not found in "
        'the customers input; available columns: ..."; no SQL is executed (table y survives)',
    ),
)

BY_ID = {case.id: case for case in CASES}
assert len(BY_ID) == len(CASES), "duplicate case id"


def grouped_customers() -> list[dict[str, Any]]:
    """Every raw customer row of the grouped build (country null everywhere)."""
    rows = [row for case in CASES if case.is_grouped for row in case.customers]
    return [*BASELINE_CUSTOMERS, *rows]


def grouped_orders() -> list[dict[str, Any]]:
    """Every raw order line of the grouped build."""
    return [row for case in CASES if case.is_grouped for row in case.orders]


# ------------------------------------------------------------------ docs/troubleshooting.md

PAGE_SECTIONS = (
    ("customers", "Customers input"),
    ("orders", "Orders input"),
    ("features", "Features (preprocessing)"),
    ("clustering", "Clustering"),
    ("configuration", "Configuration"),
)
PAGE_HEADER = """# Troubleshooting: bad inputs and what the engine does

<!-- Generated from tests/python/bad_inputs.py by `python tests/python/bad_inputs.py`; do not
edit by hand (tests/python/test_bad_inputs.py fails when this page is out of date). -->

One line per case of the bad-input catalogue (`tests/python/bad_inputs.py`, tested by
`tests/python/test_bad_inputs.py`): the input, what the engine does, and the exact reject
reason, flag or error message. Outcomes: **reject** (a row of `rejects` with the reason; every
input row is either staged or rejected), **flag** (kept, value nulled and flagged),
**kept** / **fallback** (by design), **error** (the build or the call stops with the message),
**gap** (accepted silently although probably wrong; see *Known gaps* below).
"""


def case_line(case: Case) -> str:
    """The case's line of the troubleshooting page."""
    return (
        f"- `{case.id}` — **{case.input}** → {case.outcome}: {case.behaviour} "
        f"(expected: `{case.expected}`)"
    )


REJECT_REASONS_SEED = Path(__file__).resolve().parents[2] / "seeds" / "reject_reasons.csv"


def reject_reasons() -> list[dict[str, str]]:
    """The rows of the seed ``reject_reasons`` (reason, input_name, column_name, message, doc)."""
    with REJECT_REASONS_SEED.open(newline="") as handle:
        return list(csv.DictReader(handle))


def reject_reasons_table() -> str:
    """The troubleshooting page's table of reject reasons, generated from the seed."""
    rows = [
        "## Reject reasons\n",
        "Every row of `rejects` has one reason, the first that applies in this order (generated",
        "from the seed `seeds/reject_reasons.csv`; `{...}` in a message is the value, quoted).\n",
        "| input | reason | column | detail | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in reject_reasons():
        cells = (
            row["input_name"],
            f"`{row['reason']}`",
            row["column_name"],
            row["message"],
            row["doc"],
        )
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def troubleshooting_page() -> str:
    """docs/troubleshooting.md: the reject reasons, one line per case by layer, the known gaps."""
    parts = [PAGE_HEADER, reject_reasons_table()]
    for layer, title in PAGE_SECTIONS:
        lines = [case_line(case) for case in CASES if case.layer == layer]
        parts.append(f"## {title}\n\n" + "\n".join(lines) + "\n")
    gaps = [case for case in CASES if case.outcome == "gap"]
    known = (
        "Behaviour pinned by the tests (so that a fix shows up) but probably wrong:\n\n"
        + "\n".join(f"- `{case.id}` ({case.input}): {case.behaviour}" for case in gaps)
        if gaps
        else "None: every case of the catalogue has a tested outcome other than gap. A case found\n"
        "to be accepted silently although probably wrong is added with outcome gap, and listed\n"
        "here until it is fixed."
    )
    parts.append(f"## Known gaps\n\n{known}\n")
    return "\n".join(parts)


if __name__ == "__main__":
    import sys

    root = Path(__file__).resolve().parents[2]
    target = root / "docs" / "troubleshooting.md"
    target.write_text(troubleshooting_page())
    print(f"wrote {target} ({len(CASES)} cases)", file=sys.stderr)
