"""Deterministic demo data: raw customer and order exports with a planted segment structure.

The generator writes what a real shop's exports look like, including their mess, so that every
cleaning rule of the dbt project has something to do, and it writes each customer's true persona
alongside, so that the clustering can be scored against the truth.

Planted structure: six personas (``PERSONAS``), five behavioural ones that differ in recency,
frequency, spend, category mix, channel, returns and demographics, and "prospect" customers who
signed up but never ordered.

Planted mess (rates are per row and documented in ``DemoParameters``): missing income and birth
dates; birth dates that give implausible ages; inconsistent spellings of gender, country, region,
category, channel and status (``F``, ``female``, `` Female ``); unparseable signup dates; customer
rows with no id and duplicate customer ids with conflicting attributes; exact duplicate order lines;
order lines with no customer id, with an id that matches no customer, or with an unparseable
timestamp; cancelled orders; returns as separate lines with negative amounts.

All values are written as text, like a CSV export: the dbt staging layer parses and types them.
Everything is vectorised with numpy and pyarrow; customers are generated in chunks with a random
generator seeded by ``(seed, chunk index)``, so any size from 1,000 to 10,000,000 customers streams
to Parquet in bounded memory. The same parameters always give the same bytes.

Command line (from the repository root, in the project's virtual environment)::

    python -m segmentation.demo --customers 2000 --format csv --out seeds/demo
    python -m segmentation.demo --customers 1000000 --format parquet --out /tmp/demo_1m
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Persona:
    """The behaviour and demographics of one planted segment (figures are distribution means)."""

    name: str
    share: float
    mean_orders: float  # orders per customer (1 + Poisson(mean_orders - 1)); 0 = never orders
    recency_days: tuple[int, int]  # range of days between the last active day and the end date
    active_span_days: tuple[int, int]  # range of the ordering window's length in days
    line_amount: float  # median amount of one order line
    categories: tuple[float, ...]  # probabilities over CATEGORIES
    channels: tuple[float, ...]  # probabilities over CHANNELS
    return_rate: float  # share of order lines returned
    cancel_rate: float  # share of orders cancelled
    age: tuple[float, float]  # mean, standard deviation
    income: float  # median annual income
    female_share: float
    acquisition: tuple[float, ...]  # probabilities over ACQUISITION_CHANNELS


CATEGORIES = ("electronics", "fashion", "home", "grocery", "beauty", "sports")
CHANNELS = ("online", "store", "app")
ACQUISITION_CHANNELS = ("search", "social", "referral", "store", "email")
COUNTRIES = {
    "DE": (0.30, ("Bavaria", "Berlin", "Hamburg", "Hesse")),
    "FR": (0.20, ("Ile-de-France", "Occitanie", "Brittany")),
    "GB": (0.18, ("England", "Scotland", "Wales")),
    "NL": (0.10, ("North Holland", "South Holland", "Utrecht")),
    "ES": (0.10, ("Madrid", "Catalonia", "Andalusia")),
    "IT": (0.08, ("Lombardy", "Lazio", "Tuscany")),
    "PL": (0.04, ("Masovia", "Lesser Poland")),
}

PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="champion",
        share=0.12,
        mean_orders=24,
        recency_days=(0, 20),
        active_span_days=(500, 1000),
        line_amount=70.0,
        categories=(0.35, 0.10, 0.30, 0.05, 0.10, 0.10),
        channels=(0.75, 0.05, 0.20),
        return_rate=0.04,
        cancel_rate=0.02,
        age=(44, 7),
        income=92_000,
        female_share=0.45,
        acquisition=(0.35, 0.05, 0.35, 0.05, 0.20),
    ),
    Persona(
        name="loyal_regular",
        share=0.22,
        mean_orders=14,
        recency_days=(5, 60),
        active_span_days=(600, 1000),
        line_amount=22.0,
        categories=(0.02, 0.05, 0.18, 0.65, 0.08, 0.02),
        channels=(0.15, 0.75, 0.10),
        return_rate=0.02,
        cancel_rate=0.02,
        age=(52, 9),
        income=55_000,
        female_share=0.60,
        acquisition=(0.10, 0.05, 0.20, 0.55, 0.10),
    ),
    Persona(
        name="new_customer",
        share=0.15,
        mean_orders=1.6,
        recency_days=(0, 45),
        active_span_days=(0, 40),
        line_amount=35.0,
        categories=(0.10, 0.30, 0.15, 0.10, 0.25, 0.10),
        channels=(0.25, 0.05, 0.70),
        return_rate=0.05,
        cancel_rate=0.05,
        age=(26, 4),
        income=38_000,
        female_share=0.55,
        acquisition=(0.15, 0.60, 0.10, 0.05, 0.10),
    ),
    Persona(
        name="bargain_hunter",
        share=0.20,
        mean_orders=9,
        recency_days=(10, 90),
        active_span_days=(300, 900),
        line_amount=14.0,
        categories=(0.05, 0.55, 0.10, 0.05, 0.15, 0.10),
        channels=(0.55, 0.10, 0.35),
        return_rate=0.30,
        cancel_rate=0.08,
        age=(31, 6),
        income=33_000,
        female_share=0.70,
        acquisition=(0.20, 0.50, 0.05, 0.05, 0.20),
    ),
    Persona(
        name="lapsed",
        share=0.21,
        mean_orders=3.5,
        recency_days=(300, 750),
        active_span_days=(30, 300),
        line_amount=40.0,
        categories=(0.15, 0.15, 0.35, 0.15, 0.10, 0.10),
        channels=(0.30, 0.60, 0.10),
        return_rate=0.06,
        cancel_rate=0.04,
        age=(58, 10),
        income=48_000,
        female_share=0.50,
        acquisition=(0.25, 0.05, 0.10, 0.40, 0.20),
    ),
    Persona(
        name="prospect",
        share=0.10,
        mean_orders=0,
        recency_days=(0, 0),
        active_span_days=(0, 0),
        line_amount=0.0,
        categories=(1 / 6,) * 6,
        channels=(1 / 3,) * 3,
        return_rate=0.0,
        cancel_rate=0.0,
        age=(36, 12),
        income=45_000,
        female_share=0.50,
        acquisition=(0.30, 0.30, 0.10, 0.10, 0.20),
    ),
)

GENDER_SPELLINGS = {
    "female": ("female", "F", "Female", " Female ", "FEMALE", "f"),
    "male": ("male", "M", "Male", "Male ", "MALE", "m"),
}
STATUS_SPELLINGS = {
    "completed": ("completed", "Completed", "COMPLETE", "complete "),
    "cancelled": ("cancelled", "Canceled", "CANCELLED"),
    "returned": ("returned", "Returned", "RETURN"),
}

CUSTOMER_COLUMNS = (
    "customer_id",
    "signup_date",
    "birth_date",
    "gender",
    "income",
    "country",
    "region",
    "acquisition_channel",
)
ORDER_COLUMNS = (
    "order_id",
    "line_number",
    "customer_id",
    "ordered_at",
    "product_category",
    "sales_channel",
    "quantity",
    "amount",
    "status",
)


@dataclass(frozen=True)
class DemoParameters:
    """What to generate. The defaults are the committed seed data (``seeds/demo``).

    Rates are probabilities per row. ``end_date`` is the last possible order day, so the default
    reference date for recency is ``end_date + 1 day``.
    """

    n_customers: int = 2_000
    seed: int = 20_261_126
    end_date: dt.date = dt.date(2025, 12, 31)
    history_days: int = 1_095
    chunk_customers: int = 250_000
    missing_income_rate: float = 0.07
    missing_birth_date_rate: float = 0.06
    implausible_birth_date_rate: float = 0.005
    other_gender_rate: float = 0.02
    missing_gender_rate: float = 0.02
    unparseable_signup_rate: float = 0.003
    missing_customer_id_rate: float = 0.002
    duplicate_customer_rate: float = 0.003
    duplicate_line_rate: float = 0.003
    orphan_line_rate: float = 0.0005
    missing_line_customer_rate: float = 0.0005
    unparseable_timestamp_rate: float = 0.0005

    def __post_init__(self) -> None:
        if not 1_000 <= self.n_customers <= 10_000_000:
            raise ValueError(
                f"n_customers: expected 1,000 to 10,000,000 customers, got {self.n_customers}"
            )
        if self.chunk_customers < 1:
            raise ValueError(f"chunk_customers: expected >= 1, got {self.chunk_customers}")


@dataclass(frozen=True)
class DemoChunk:
    """One chunk of generated raw data; every column is text, as in a CSV export."""

    customers: pa.Table
    orders: pa.Table
    personas: pa.Table


def _pick(rng: np.random.Generator, options: tuple[str, ...], size: int) -> pa.Array:
    """A random spelling per row out of ``options``."""
    return pa.array(np.asarray(options, dtype=object)[rng.integers(0, len(options), size)])


def _money(cents: np.ndarray) -> pa.Array:
    """Format integer cents as text with two decimals (``-12.05``), vectorised."""
    sign = pa.array(np.where(cents < 0, "-", ""))
    whole = pc.cast(pa.array(np.abs(cents) // 100), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(np.abs(cents) % 100), pa.string()), 2, "0")
    return pc.binary_join_element_wise(sign, whole, ".", frac, "")


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded identifiers such as ``C00000042``."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _dates(days: np.ndarray, epoch: dt.date) -> pa.Array:
    """ISO dates ``YYYY-MM-DD`` for day offsets from ``epoch``."""
    values = np.datetime64(epoch, "D") + days.astype("timedelta64[D]")
    return pc.strftime(pa.array(values.astype("datetime64[s]")), format="%Y-%m-%d")


def _blank(rng: np.random.Generator, values: pa.Array, rate: float) -> pa.Array:
    """Replace a share ``rate`` of the values by nulls (a missing field in the export)."""
    mask = rng.random(len(values)) < rate
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def _activity(
    params: DemoParameters, rng: np.random.Generator, persona: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each customer's ordering window [first_day, last_day] and signup day (history days).

    last_day = end - recency; the window spans the persona's active span; sign-up is up to 60
    days before the first order (any day for prospects, who never order).
    """
    size = len(persona)
    rec = np.array([p.recency_days for p in PERSONAS])[persona]
    span = np.array([p.active_span_days for p in PERSONAS])[persona]
    recency = rng.integers(rec[:, 0], rec[:, 1] + 1)
    active_span = rng.integers(span[:, 0], span[:, 1] + 1)
    last_day = params.history_days - recency
    first_day = np.maximum(last_day - active_span, 0)
    signup_day = first_day - rng.integers(0, 60, size)
    is_prospect = np.array([p.mean_orders for p in PERSONAS])[persona] == 0
    signup_day = np.where(is_prospect, rng.integers(-200, params.history_days, size), signup_day)
    return first_day, last_day, signup_day


def _person(
    params: DemoParameters, rng: np.random.Generator, persona: np.ndarray, start: dt.date
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Birth date, gender and income as export text, with implausible and missing values."""
    size = len(persona)

    def attr(name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in PERSONAS])[persona]

    age = np.clip(rng.normal(attr("age")[:, 0], attr("age")[:, 1]), 18, 90)
    birth_day = params.history_days - (age * 365.25).astype(np.int64) - rng.integers(0, 365, size)
    birth_date = _dates(birth_day, start)
    odd = rng.random(size) < params.implausible_birth_date_rate
    odd_values = _pick(rng, ("1899-01-01", "1900-01-01", "2031-05-05", "1875-07-14"), size)
    birth_date = pc.if_else(pa.array(odd), odd_values, birth_date)
    birth_date = _blank(rng, birth_date, params.missing_birth_date_rate)

    is_female = rng.random(size) < attr("female_share")
    gender = pc.if_else(
        pa.array(is_female),
        _pick(rng, GENDER_SPELLINGS["female"], size),
        _pick(rng, GENDER_SPELLINGS["male"], size),
    )
    other = rng.random(size) < params.other_gender_rate
    gender = pc.if_else(pa.array(other), _pick(rng, ("X", "diverse", "Other"), size), gender)
    gender = _blank(rng, gender, params.missing_gender_rate)

    income_cents = (attr("income") * rng.lognormal(0, 0.25, size)).round(-2).astype(np.int64) * 100
    income = _blank(rng, _money(income_cents), params.missing_income_rate)
    return birth_date, gender, income


def _place(rng: np.random.Generator, size: int) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Country and region as export text, and the case style (0-9) that garbles some of them.

    case_style 0: country in lower case, 1: country with a trailing space, 2: region in upper
    case, 3: acquisition channel in upper case (applied by the caller).
    """
    codes = tuple(COUNTRIES)
    country_p = np.array([COUNTRIES[c][0] for c in codes])
    country_index = rng.choice(len(codes), size=size, p=country_p / country_p.sum())
    region_pick = rng.integers(0, 1_000_000, size)
    region_table = [np.asarray(COUNTRIES[c][1], dtype=object) for c in codes]
    regions = np.empty(size, dtype=object)
    for c, names in enumerate(region_table):
        rows = country_index == c
        regions[rows] = names[region_pick[rows] % len(names)]
    country = pa.array(np.asarray(codes, dtype=object)[country_index])
    case_style = rng.integers(0, 10, size)
    country = pc.if_else(pa.array(case_style == 0), pc.utf8_lower(country), country)
    country = pc.if_else(
        pa.array(case_style == 1), pc.binary_join_element_wise(" ", country, ""), country
    )
    region = pa.array(regions)
    region = pc.if_else(pa.array(case_style == 2), pc.utf8_upper(region), region)
    return country, region, case_style


def _customers_chunk(
    params: DemoParameters, rng: np.random.Generator, first: int, size: int
) -> tuple[pa.Table, pa.Table, dict[str, np.ndarray]]:
    """Customers ``first .. first + size - 1``: raw rows, true personas and their behaviour.

    The steps draw from ``rng`` in a fixed order, so the same parameters give the same bytes.
    """
    shares = np.array([p.share for p in PERSONAS])
    persona = rng.choice(len(PERSONAS), size=size, p=shares / shares.sum())
    index = np.arange(first, first + size)
    customer_id = _ids("C", index + 1, 8)
    start = params.end_date - dt.timedelta(days=params.history_days)
    first_day, last_day, signup_day = _activity(params, rng, persona)
    birth_date, gender, income = _person(params, rng, persona, start)
    country, region, case_style = _place(rng, size)

    acq_p = np.array([p.acquisition for p in PERSONAS])[persona]
    acq_index = (rng.random(size)[:, None] > np.cumsum(acq_p, axis=1)).sum(axis=1)
    acq_index = np.minimum(acq_index, len(ACQUISITION_CHANNELS) - 1)
    acquisition = pa.array(np.asarray(ACQUISITION_CHANNELS, dtype=object)[acq_index])
    acquisition = pc.if_else(pa.array(case_style == 3), pc.utf8_upper(acquisition), acquisition)

    signup_date = _dates(signup_day, start)
    bad_signup = rng.random(size) < params.unparseable_signup_rate
    signup_date = pc.if_else(
        pa.array(bad_signup), _pick(rng, ("n/a", "31/02/2024", "unknown"), size), signup_date
    )

    customers = pa.table(
        {
            "customer_id": customer_id,
            "signup_date": signup_date,
            "birth_date": birth_date,
            "gender": gender,
            "income": income,
            "country": country,
            "region": region,
            "acquisition_channel": acquisition,
        }
    )
    personas = pa.table(
        {
            "customer_id": customer_id,
            "persona": pa.array(np.asarray([p.name for p in PERSONAS], dtype=object)[persona]),
        }
    )
    behaviour = {
        "persona": persona,
        "first_day": first_day,
        "last_day": last_day,
        "index": index,
    }
    return customers, personas, behaviour


def _messy_customers(
    params: DemoParameters, rng: np.random.Generator, customers: pa.Table
) -> pa.Table:
    """Add customer rows with no id and duplicate ids with conflicting attributes."""
    n = customers.num_rows
    dup = np.flatnonzero(rng.random(n) < params.duplicate_customer_rate)
    duplicates = customers.take(pa.array(dup))
    if len(dup):
        conflicting = _money(rng.integers(10_000, 200_000, len(dup)) * 100)
        duplicates = duplicates.set_column(
            duplicates.schema.get_field_index("income"), "income", conflicting
        )
    no_id = np.flatnonzero(rng.random(n) < params.missing_customer_id_rate)
    nameless = customers.take(pa.array(no_id))
    blank = pa.array(np.where(rng.random(len(no_id)) < 0.5, "", " "), pa.string())
    null_id = pa.array(rng.random(len(no_id)) < 0.5)
    nameless = nameless.set_column(
        0, "customer_id", pc.if_else(null_id, pa.scalar(None, pa.string()), blank)
    )
    return pa.concat_tables([customers, duplicates, nameless])


def _orders_of_customers(
    rng: np.random.Generator, behaviour: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """One row per order: its customer (position in the chunk), persona, time and channel.

    The last order of every customer falls on its last active day; the others are spread
    uniformly over the active window. ``seconds`` count from the start of the history.
    """
    persona = behaviour["persona"]
    mean_orders = np.array([p.mean_orders for p in PERSONAS])[persona]
    n_orders = np.where(mean_orders > 0, 1 + rng.poisson(np.maximum(mean_orders - 1, 0)), 0)
    n_orders = np.minimum(n_orders, 999)
    cust = np.repeat(np.arange(len(persona)), n_orders)
    order_seq = np.arange(len(cust)) - np.repeat(np.cumsum(n_orders) - n_orders, n_orders)
    order_persona = persona[cust]
    first_day = behaviour["first_day"][cust]
    last_day = behaviour["last_day"][cust]
    is_last = order_seq == n_orders[cust] - 1
    day = np.where(is_last, last_day, first_day + rng.random(len(cust)) * (last_day - first_day))
    day = np.floor(day).astype(np.int64)
    seconds = day * 86_400 + rng.integers(8 * 3600, 22 * 3600, len(cust))
    cancel_rate = np.array([p.cancel_rate for p in PERSONAS])[order_persona]
    cancelled = rng.random(len(cust)) < cancel_rate
    channel_p = np.array([p.channels for p in PERSONAS])[order_persona]
    channel = (rng.random(len(cust))[:, None] > np.cumsum(channel_p, axis=1)).sum(axis=1)
    return {
        "cust": cust,
        "persona": order_persona,
        "number": behaviour["index"][cust] * 1_000 + order_seq,
        "seconds": seconds,
        "cancelled": cancelled,
        "channel": np.minimum(channel, len(CHANNELS) - 1),
    }


def _lines_of_orders(
    rng: np.random.Generator, orders: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Lines of the orders: 1 + Poisson(0.7), at most 5 per order; category, quantity, cents.

    ``status`` is 0 (completed) or 1 (the order was cancelled).
    """
    n_lines = np.minimum(1 + rng.poisson(0.7, len(orders["cust"])), 5)
    order = np.repeat(np.arange(len(orders["cust"])), n_lines)
    line_number = np.arange(len(order)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    line_persona = orders["persona"][order]
    cat_p = np.array([p.categories for p in PERSONAS])[line_persona]
    category = (rng.random(len(order))[:, None] > np.cumsum(cat_p, axis=1)).sum(axis=1)
    category = np.minimum(category, len(CATEGORIES) - 1)
    quantity = 1 + rng.poisson(0.4, len(order))
    median = np.array([p.line_amount for p in PERSONAS])[line_persona]
    category_factor = np.array([2.5, 1.0, 1.4, 0.6, 0.8, 1.1])[category]
    cents = np.maximum(
        (median * category_factor * quantity * rng.lognormal(0, 0.35, len(order)) * 100), 99
    ).astype(np.int64)
    return {
        "order": order,
        "line": line_number,
        "persona": line_persona,
        "category": category,
        "quantity": quantity,
        "cents": cents,
        "status": np.where(orders["cancelled"][order], 1, 0),
        "seconds": orders["seconds"][order],
    }


def _with_returns(
    params: DemoParameters, rng: np.random.Generator, lines: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The lines plus a return line for a share of the completed ones, sorted by order, line.

    A return repeats the line with a negative amount, status 2 and a time days later; the
    return of line N is written as line 100 + N of the same order.
    """
    return_rate = np.array([p.return_rate for p in PERSONAS])[lines["persona"]]
    returned = np.flatnonzero(
        (lines["status"] == 0) & (rng.random(len(lines["order"])) < return_rate)
    )
    end_seconds = (params.history_days + 1) * 86_400 - 1
    ret_seconds = np.minimum(
        lines["seconds"][returned] + rng.integers(2, 30, len(returned)) * 86_400, end_seconds
    )
    combined = {
        "order": np.concatenate([lines["order"], lines["order"][returned]]),
        "line": np.concatenate([lines["line"], lines["line"][returned] + 100]),
        "seconds": np.concatenate([lines["seconds"], ret_seconds]),
        "category": np.concatenate([lines["category"], lines["category"][returned]]),
        "quantity": np.concatenate([lines["quantity"], lines["quantity"][returned]]),
        "cents": np.concatenate([lines["cents"], -lines["cents"][returned]]),
        "status": np.concatenate([lines["status"], np.full(len(returned), 2)]),
    }
    sort = np.lexsort((combined["line"], combined["order"]))
    return {name: values[sort] for name, values in combined.items()}


def _order_lines_table(
    params: DemoParameters,
    rng: np.random.Generator,
    lines: dict[str, np.ndarray],
    orders: dict[str, np.ndarray],
    behaviour: dict[str, np.ndarray],
) -> pa.Table:
    """The order lines as export text, with planted mess.

    Unparseable times, orphan and blank customer ids, and inconsistent spellings of status,
    category and channel.
    """
    m = len(lines["order"])
    start = np.datetime64(params.end_date - dt.timedelta(days=params.history_days), "s")
    timestamps = pa.array(start + lines["seconds"].astype("timedelta64[s]"))
    ordered_at = pc.strftime(timestamps, format="%Y-%m-%d %H:%M:%S")
    bad_time = rng.random(m) < params.unparseable_timestamp_rate
    ordered_at = pc.if_else(
        pa.array(bad_time), _pick(rng, ("not a date", "2024-13-45 10:00:00", ""), m), ordered_at
    )
    customer_id = _ids("C", behaviour["index"][orders["cust"]][lines["order"]] + 1, 8)
    orphan = rng.random(m) < params.orphan_line_rate
    customer_id = pc.if_else(pa.array(orphan), _ids("X", np.arange(m), 8), customer_id)
    customer_id = _blank(rng, customer_id, params.missing_line_customer_rate)

    status_text = pa.array(np.empty(m, dtype=object))
    for code, key in enumerate(("completed", "cancelled", "returned")):
        status_text = pc.if_else(
            pa.array(lines["status"] == code), _pick(rng, STATUS_SPELLINGS[key], m), status_text
        )
    category_text = pa.array(np.asarray(CATEGORIES, dtype=object)[lines["category"]])
    case_style = rng.integers(0, 12, m)
    category_text = pc.if_else(
        pa.array(case_style == 0), pc.utf8_upper(category_text), category_text
    )
    category_text = pc.if_else(
        pa.array(case_style == 1),
        pc.binary_join_element_wise(category_text, " ", ""),
        category_text,
    )
    channel_text = pa.array(np.asarray(CHANNELS, dtype=object)[orders["channel"][lines["order"]]])
    channel_text = pc.if_else(pa.array(case_style == 2), pc.utf8_upper(channel_text), channel_text)
    return pa.table(
        {
            "order_id": _ids("O", orders["number"][lines["order"]], 11),
            "line_number": pc.cast(pa.array(lines["line"]), pa.string()),
            "customer_id": customer_id,
            "ordered_at": ordered_at,
            "product_category": category_text,
            "sales_channel": channel_text,
            "quantity": pc.cast(pa.array(lines["quantity"]), pa.string()),
            "amount": _money(lines["cents"]),
            "status": status_text,
        }
    )


def _orders_chunk(
    params: DemoParameters, rng: np.random.Generator, behaviour: dict[str, np.ndarray]
) -> pa.Table:
    """Order lines for one chunk of customers, with cancellations, returns and planted mess.

    The steps draw from ``rng`` in a fixed order, so the same parameters give the same bytes.
    """
    orders = _orders_of_customers(rng, behaviour)
    lines = _with_returns(params, rng, _lines_of_orders(rng, orders))
    table = _order_lines_table(params, rng, lines, orders, behaviour)
    dup = np.flatnonzero(rng.random(table.num_rows) < params.duplicate_line_rate)
    if len(dup):
        # An exact copy of the line right after it, as a double export would produce.
        positions = np.sort(np.concatenate([np.arange(table.num_rows), dup]))
        table = table.take(pa.array(positions))
    return table


def generate(params: DemoParameters | None = None) -> Iterator[DemoChunk]:
    """Yield the demo data chunk by chunk (``params.chunk_customers`` customers each)."""
    params = params or DemoParameters()
    for chunk, first in enumerate(range(0, params.n_customers, params.chunk_customers)):
        size = min(params.chunk_customers, params.n_customers - first)
        rng = np.random.default_rng([params.seed, chunk])
        customers, personas, behaviour = _customers_chunk(params, rng, first, size)
        orders = _orders_chunk(params, rng, behaviour)
        customers = _messy_customers(params, rng, customers)
        yield DemoChunk(customers=customers, orders=orders, personas=personas)


OUTPUT_NAMES = {
    "customers": "raw_customers",
    "orders": "raw_orders",
    "personas": "demo_customer_personas",
}


def write(params: DemoParameters, out_dir: Path, file_format: str = "csv") -> dict[str, int]:
    """Write ``raw_customers``, ``raw_orders`` and ``demo_customer_personas`` files.

    CSV files are single files (used for the committed seeds); Parquet output streams one row
    group per chunk, so memory stays bounded at any size. Returns the row count per file.
    """
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format: expected 'csv' or 'parquet', got {file_format!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter | pacsv.CSVWriter] = {}
    counts = dict.fromkeys(OUTPUT_NAMES, 0)
    try:
        for chunk in generate(params):
            for key, name in OUTPUT_NAMES.items():
                table: pa.Table = getattr(chunk, key)
                if key not in writers:
                    path = out_dir / f"{name}.{file_format}"
                    writers[key] = (
                        pacsv.CSVWriter(
                            path,
                            table.schema,
                            write_options=pacsv.WriteOptions(quoting_style="needed", eol="\n"),
                        )
                        if file_format == "csv"
                        else pq.ParquetWriter(path, table.schema, compression="zstd")
                    )
                writers[key].write_table(table)
                counts[key] += table.num_rows
    finally:
        for writer in writers.values():
            writer.close()
    return counts


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: ``python -m segmentation.demo --customers N --out DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=DemoParameters.n_customers)
    parser.add_argument("--seed", type=int, default=DemoParameters.seed)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    params = DemoParameters(n_customers=args.customers, seed=args.seed)
    counts = write(params, args.out, args.format)
    for key, count in counts.items():
        print(f"{OUTPUT_NAMES[key]}: {count:,} rows")


if __name__ == "__main__":
    main()
