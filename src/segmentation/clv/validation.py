"""Validation of the per-customer CLV inputs (frequency, recency, T, monetary value)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def _example(values: FloatArray) -> str:
    """Format up to three offending values for an error message."""
    shown = ", ".join(repr(float(v)) for v in values[:3])
    return shown + (", ..." if values.size > 3 else "")


def _as_float_array(values: ArrayLike, name: str) -> FloatArray:
    """Convert to a 1-D float64 array, raising a ValueError naming ``name`` if impossible."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: values are not numeric ({exc})") from exc
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    return arr


def _check_finite(arr: FloatArray, name: str) -> None:
    """Raise if ``arr`` has NaN/null or infinite values."""
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name}: {int(bad.sum())} missing (null/NaN) or infinite value(s) "
            f"(e.g. {_example(arr[bad])}); every customer needs a finite {name}"
        )


def validate_rft(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validate the BG/NBD inputs and return them as float arrays.

    Parameters
    ----------
    frequency : array_like of float, shape (n_customers,)
        Repeat purchases x (whole numbers >= 0).
    recency : array_like of float, shape (n_customers,)
        t_x in periods, 0 <= t_x <= T.
    T : array_like of float, shape (n_customers,)
        Customer age in periods, >= 0.

    Returns
    -------
    x, t_x, T : ndarray of float64, shape (n_customers,)
        Arrays of other shapes are flattened; ``t_x`` is clipped to ``T`` within a relative
        tolerance of 1e-9.

    Raises
    ------
    ValueError
        Naming the column, the offending value(s) and their count when a value is missing or
        infinite, ``frequency`` is negative or not a whole number, ``recency`` is negative or
        greater than ``T``, ``recency`` is positive although ``frequency`` is 0, or the three
        arrays have different lengths.
    """
    x = _as_float_array(frequency, "frequency")
    t_x = _as_float_array(recency, "recency")
    big_t = _as_float_array(T, "T")
    if not x.size == t_x.size == big_t.size:
        raise ValueError(
            f"frequency, recency and T must have the same length, got "
            f"{x.size}, {t_x.size} and {big_t.size}"
        )
    for arr, name in ((x, "frequency"), (t_x, "recency"), (big_t, "T")):
        _check_finite(arr, name)
        negative = arr < 0
        if negative.any():
            raise ValueError(
                f"{name}: {int(negative.sum())} negative value(s) (e.g. {_example(arr[negative])})"
            )
    fractional = x != np.round(x)
    if fractional.any():
        raise ValueError(
            f"frequency: {int(fractional.sum())} non-integer value(s) "
            f"(e.g. {_example(x[fractional])}); frequency counts repeat purchase days"
        )
    tolerance = 1e-9 * np.maximum(1.0, big_t)
    too_late = t_x > big_t + tolerance
    if too_late.any():
        raise ValueError(
            f"recency: {int(too_late.sum())} value(s) greater than T "
            f"(e.g. recency {_example(t_x[too_late])} with T {_example(big_t[too_late])})"
        )
    inconsistent = (x == 0) & (t_x > 0)
    if inconsistent.any():
        raise ValueError(
            f"recency: {int(inconsistent.sum())} positive value(s) for customers with "
            f"frequency 0 (e.g. {_example(t_x[inconsistent])}); recency must be 0 without "
            "repeat purchases"
        )
    return x, np.minimum(t_x, big_t), big_t


def validate_monetary(frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
    """Validate mean repeat-purchase values; return them with NaN where frequency is 0.

    Customers with ``frequency == 0`` have no repeat purchase, so their value is ignored (null,
    0 or anything else).  Customers with ``frequency > 0`` need a finite value >= 0; a value of
    exactly 0 (only free repeat orders, which real data such as CDNOW contains) is valid but
    cannot enter the Gamma-Gamma likelihood, so :func:`fit_gamma_gamma` leaves it out of the fit
    while :func:`gamma_gamma_conditional_expected_value` still predicts for it.

    Parameters
    ----------
    frequency : array_like of float, shape (n_customers,)
        Repeat purchases x.
    monetary_value : array_like of float, shape (n_customers,)
        Mean repeat transaction value, currency of the input.

    Returns
    -------
    ndarray of float64, shape (n_customers,)
        ``monetary_value``, NaN where x = 0.

    Raises
    ------
    ValueError
        Naming ``monetary_value``, the offending values and their count.
    """
    x = _as_float_array(frequency, "frequency")
    m = _as_float_array(monetary_value, "monetary_value")
    if x.size != m.size:
        raise ValueError(
            f"frequency and monetary_value must have the same length, got {x.size} and {m.size}"
        )
    repeat = x > 0
    m_rep = m[repeat]
    missing = ~np.isfinite(m_rep)
    if missing.any():
        raise ValueError(
            f"monetary_value: {int(missing.sum())} missing (null/NaN) or infinite value(s) for "
            f"customers with frequency > 0 (e.g. {_example(m_rep[missing])})"
        )
    negative = m_rep < 0
    if negative.any():
        raise ValueError(
            f"monetary_value: {int(negative.sum())} negative value(s) for customers with "
            f"frequency > 0 (e.g. {_example(m_rep[negative])}); spend must be >= 0"
        )
    return np.where(repeat, m, np.nan)
