"""Calibration/holdout check of the BG/NBD: actual vs predicted purchases in a holdout window.

The standard validation of the model (Fader, Hardie & Lee 2005, figure 4; lifetimes'
``calibration_and_holdout_data`` and ``plot_calibration_purchases_vs_holdout_purchases``): fit
on purchases up to a calibration end, forecast each customer's purchases over the following
``t*`` periods with ``E[Y(t*) | x, t_x, T]``, and compare with the purchases that happened, by
calibration frequency. docs/clv.md shows the CDNOW figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from segmentation.clv.bgnbd import BgNbdParams, bg_nbd_conditional_expected_purchases
from segmentation.clv.validation import _as_float_array, validate_rft


@dataclass(frozen=True)
class HoldoutRow:
    """One row of the calibration/holdout check (a calibration-frequency bucket, or the total).

    ``calibration_frequency`` is ``"0"`` .. ``"<max_bucket>+"`` or ``"total"``;
    ``n_customers`` the customers in it; ``actual_purchases`` / ``predicted_purchases`` the sums
    of holdout purchases (predicted null without a fit); ``mean_actual`` / ``mean_predicted`` per
    customer (null for an empty bucket); ``relative_error = (predicted - actual) / actual`` (null
    when actual is 0 or there is no fit); ``holdout_periods`` the window ``t*``.
    """

    calibration_frequency: str
    n_customers: int
    actual_purchases: float
    predicted_purchases: float | None
    mean_actual: float | None
    mean_predicted: float | None
    relative_error: float | None
    holdout_periods: float


TOTAL: Final[str] = "total"
"""``calibration_frequency`` of the row over all customers."""


def calibration_holdout(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    holdout_purchases: ArrayLike,
    params: BgNbdParams | None,
    holdout_periods: float,
    *,
    max_bucket: int = 7,
) -> list[HoldoutRow]:
    """Actual vs predicted holdout purchases per calibration frequency, and in total.

    Parameters
    ----------
    frequency, recency, T
        Calibration summary per customer, shape (n,), in the time unit of ``params``.
    holdout_purchases
        Purchases (distinct purchase days) of each customer in the holdout window, shape (n,).
    params
        The BG/NBD fitted on the calibration window; None when it did not fit (predictions are
        then null).
    holdout_periods
        Length ``t*`` of the holdout window in the time unit, > 0.
    max_bucket
        Calibration frequencies from ``max_bucket`` up are pooled in the row ``"<max_bucket>+"``.

    Returns
    -------
    list of HoldoutRow, length max_bucket + 2
        Rows ``"0" .. "<max_bucket>+"`` then ``"total"``, with
        the customers, actual and predicted purchases (sums), their means per customer and
        ``relative_error = (predicted - actual) / actual``. Sums are taken over the customers in
        a fixed order (the input's), which callers make canonical (sorted by customer id).

    Raises
    ------
    ValueError
        For invalid calibration inputs (see :func:`validate_rft`), negative or missing holdout
        purchases, lengths that differ, ``holdout_periods <= 0`` or ``max_bucket < 1``.
    """
    x, t_x, big_t = validate_rft(frequency, recency, T)
    actual = _as_float_array(holdout_purchases, "holdout_purchases")
    if actual.size != x.size:
        raise ValueError(
            f"holdout_purchases: {actual.size} value(s) for {x.size} calibration customers"
        )
    if not (np.isfinite(actual).all() and (actual >= 0).all()):
        raise ValueError("holdout_purchases: every value must be a finite count >= 0")
    if not (np.isfinite(holdout_periods) and holdout_periods > 0):
        raise ValueError(f"holdout_periods must be > 0, got {holdout_periods!r}")
    if isinstance(max_bucket, bool) or not isinstance(max_bucket, int) or max_bucket < 1:
        raise ValueError(f"max_bucket must be an integer >= 1, got {max_bucket!r}")
    if params is None:
        predicted = np.full(x.size, np.nan)
    else:
        with np.errstate(all="ignore"):
            predicted = bg_nbd_conditional_expected_purchases(
                params, holdout_periods, x, t_x, big_t
            )
    bucket = np.minimum(x, max_bucket).astype(np.int64)
    labels = [str(k) for k in range(max_bucket)] + [f"{max_bucket}+"]
    rows: list[HoldoutRow] = []
    for label, keep in [
        *((labels[k], bucket == k) for k in range(max_bucket + 1)),
        (TOTAL, np.ones(x.size, dtype=bool)),
    ]:
        n = int(np.count_nonzero(keep))
        got = float(np.sum(actual[keep]))
        want = float(np.sum(predicted[keep])) if params is not None else None
        rows.append(
            HoldoutRow(
                calibration_frequency=label,
                n_customers=n,
                actual_purchases=got,
                predicted_purchases=want,
                mean_actual=got / n if n else None,
                mean_predicted=want / n if n and want is not None else None,
                relative_error=(want - got) / got if want is not None and got else None,
                holdout_periods=float(holdout_periods),
            )
        )
    return rows
