"""Test-only reference for the CLV inputs: raw transactions -> frequency/recency/T/monetary value.

The warehouse computes the summary in SQL (models/intermediate/int_customer_clv_summary.sql); this
pandas version is an independent implementation the tests compare it with, and the source of the
calibration/holdout split of the published CDNOW analysis. It is not part of the package: nothing
in production calls it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import ArrayLike

from segmentation.clv.settings import DAYS_PER_UNIT, TimeUnit
from segmentation.clv.validation import _as_float_array, _example


def _daily_transactions(
    customer_ids: ArrayLike, dates: ArrayLike, values: ArrayLike | None
) -> pd.DataFrame:
    """Transactions merged to one row per (customer, calendar day) with the day's total value.

    Raises
    ------
    ValueError
        If the inputs differ in length, a customer id or date is missing or unparseable, or a
        value is missing or infinite.
    """
    ids = pd.Series(np.asarray(customer_ids, dtype=object))
    n = len(ids)
    if ids.isna().any():
        raise ValueError(f"customer_ids: {int(ids.isna().sum())} missing value(s)")
    raw = pd.Series(np.asarray(dates))
    try:
        try:
            day = pd.to_datetime(raw)
        except ValueError:  # strings in several formats: parse element by element
            day = pd.to_datetime(raw, format="mixed")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dates: cannot be parsed as dates ({exc})") from exc
    day = day.dt.normalize()
    value = np.zeros(n) if values is None else _as_float_array(values, "values")
    if not len(day) == value.size == n:
        raise ValueError(
            f"customer_ids, dates and values must have the same length, got "
            f"{n}, {len(day)} and {value.size}"
        )
    if day.isna().any():
        raise ValueError(f"dates: {int(day.isna().sum())} missing value(s)")
    if not np.isfinite(value).all():
        bad = value[~np.isfinite(value)]
        raise ValueError(f"values: {bad.size} missing or infinite value(s) (e.g. {_example(bad)})")
    frame = pd.DataFrame({"customer_id": ids.astype(str), "date": day, "value": value})
    return frame.groupby(["customer_id", "date"], as_index=False, sort=True)["value"].sum()


def summarise_transactions(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    values: ArrayLike,
    calibration_end: Any,
    time_unit: TimeUnit = "weeks",
) -> pa.Table:
    """Frequency / recency / T / monetary value per customer from raw transactions.

    Transactions after ``calibration_end`` are ignored and customers whose first purchase is
    after it are absent.  Purchases on the same calendar day are merged into one (their values
    summed).  With day indices counted from the customer's first purchase day:

    * ``frequency`` = number of distinct purchase days - 1 (repeat purchases),
    * ``recency`` = (last purchase day - first purchase day) / unit,
    * ``T`` = (``calibration_end`` day - first purchase day) / unit, i.e. the calibration end
      is counted like a purchase day (this reproduces the published CDNOW summary: a first
      purchase on 1997-01-01 with calibration end 1997-09-30 gives T = 272 / 7 = 38.86 weeks),
    * ``monetary_value`` = mean value of the repeat purchase days (first day excluded; the
      definition FHL use for the Gamma-Gamma model), null when ``frequency`` is 0,

    where ``unit`` is 7 days for ``"weeks"`` and 1 day for ``"days"``.

    Returns
    -------
    pyarrow.Table
        Columns ``customer_id`` (string, sorted), ``frequency`` (int64), ``recency``, ``T``,
        ``monetary_value`` (float64) — the input of :func:`fit_clv`.
    """
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError(f"time_unit must be one of {sorted(DAYS_PER_UNIT)}, got {time_unit!r}")
    unit = DAYS_PER_UNIT[time_unit]
    end = pd.Timestamp(calibration_end).normalize()
    daily = _daily_transactions(customer_ids, dates, values)
    daily = daily[daily["date"] <= end]
    grouped = daily.groupby("customer_id", sort=True)
    first = grouped["date"].transform("min")
    daily = daily.assign(is_first=daily["date"].eq(first))
    stats = grouped.agg(first=("date", "min"), last=("date", "max"), n_days=("date", "size"))
    repeat_value = daily.loc[~daily["is_first"]].groupby("customer_id")["value"].mean()
    stats["monetary_value"] = repeat_value.reindex(stats.index)
    return pa.table(
        {
            "customer_id": pa.array(stats.index.to_numpy(dtype=str), type=pa.string()),
            "frequency": pa.array((stats["n_days"] - 1).to_numpy(np.int64)),
            "recency": pa.array((stats["last"] - stats["first"]).dt.days.to_numpy() / unit),
            "T": pa.array((end - stats["first"]).dt.days.to_numpy() / unit),
            "monetary_value": pa.array(
                stats["monetary_value"].to_numpy(np.float64), from_pandas=True
            ),
        }
    )


def holdout_purchases(
    customer_ids: ArrayLike, dates: ArrayLike, calibration_end: Any, holdout_end: Any
) -> pd.Series:
    """Distinct purchase days per customer in ``(calibration_end, holdout_end]`` (0 if none)."""
    cal_end = pd.Timestamp(calibration_end).normalize()
    hold_end = pd.Timestamp(holdout_end).normalize()
    daily = _daily_transactions(customer_ids, dates, None)
    in_holdout = daily[(daily["date"] > cal_end) & (daily["date"] <= hold_end)]
    return in_holdout.groupby("customer_id").size()
