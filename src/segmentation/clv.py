"""Predictive customer lifetime value: BG/NBD purchase counts, Gamma-Gamma spend, discounted CLV.

The module implements, with numpy and scipy only, the two probability models that underlie the
"buy till you die" CLV calculation:

* **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an alternative to
  the Pareto/NBD model", *Marketing Science* 24(2)).  While alive, a customer buys according to a
  Poisson process with rate ``lambda ~ Gamma(r, alpha)``; after every purchase the customer drops
  out with probability ``p ~ Beta(a, b)``.  Per customer the model only needs ``frequency`` *x*
  (number of repeat purchase days), ``recency`` *t_x* (time of the last purchase since the first
  one) and ``T`` (time from the first purchase to the end of the calibration window).
* **Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves for customer
  base analysis", *Journal of Marketing Research* 42(4)).  Transaction values of a customer are
  ``Gamma(p, nu)`` with ``nu ~ Gamma(q, gamma)`` across customers; the model is fitted on the
  mean repeat-transaction value of customers with at least one repeat purchase and assumes spend
  is independent of purchase frequency (:func:`frequency_monetary_correlation` is the diagnostic).

Table-level entry points (Arrow in, Arrow out) are :func:`fit_clv` with :class:`ClvSettings`,
returning a :class:`ClvResult` whose :meth:`ClvResult.customers` and :meth:`ClvResult.parameters`
are what the dbt Python models publish.  :func:`summarise_transactions` turns raw transactions
into the frequency/recency/T/monetary summary (mirroring the project's SQL) and
:func:`holdout_check` validates a calibration fit against a holdout window.

Failure modes are explicit: too little data, a non-converging optimiser or a degenerate optimum
never raise; the fit summaries report ``converged=False`` with a message, and the per-customer
outputs are null with a ``clv_status`` saying why.  Invalid *inputs* (negative frequency,
recency greater than T, missing values, ...) raise :class:`ValueError` naming the column, the
offending value and how many rows are affected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1
from threadpoolctl import threadpool_limits

FloatArray = NDArray[np.float64]
TimeUnit = Literal["days", "weeks"]

DAYS_PER_UNIT: Final[dict[str, float]] = {"days": 1.0, "weeks": 7.0}
"""Length of one time unit in days; times in weeks are days / 7."""

DAYS_PER_YEAR: Final[float] = 365.0
"""Days per year used to turn the annual discount rate into per-step discount factors."""

_LOG_BOUND: Final[float] = 20.0
"""Optimisation box for the log-parameters: exp(+-20) spans 2e-9 .. 5e8 in natural units."""

_STATUS_OK: Final[str] = "ok"

_A_NEAR_ONE: Final[float] = 1e-4
"""The BG/NBD expectations divide by (a - 1); within this distance of a = 1 they interpolate."""

BG_NBD_PARAMETERS: Final[tuple[str, ...]] = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS: Final[tuple[str, ...]] = ("p", "q", "gamma")

CUSTOMER_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("expected_purchases", pa.float64()),
        pa.field("probability_alive", pa.float64()),
        pa.field("expected_average_value", pa.float64()),
        pa.field("predicted_clv", pa.float64()),
        pa.field("churn_risk_band", pa.string()),
        pa.field("clv_status", pa.string(), nullable=False),
    ]
)
"""Schema of :meth:`ClvResult.customers`."""

PARAMETER_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("model", pa.string(), nullable=False),
        pa.field("parameter", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("log_likelihood", pa.float64()),
        pa.field("converged", pa.bool_(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
        pa.field("n_customers", pa.int64(), nullable=False),
    ]
)
"""Schema of :meth:`ClvResult.parameters`."""

SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
)
"""Columns :func:`fit_clv` expects in its ``summary`` table."""


# ---------------------------------------------------------------------------------------------
# Parameters and fit summaries
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ``Gamma(r, alpha)``, dropout probability ``Beta(a, b)``."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaParams:
    """Gamma-Gamma parameters: shape ``p`` of a transaction value, ``Gamma(q, gamma)`` scale mix."""

    p: float
    q: float
    gamma: float


@dataclass(frozen=True)
class BgNbdFit:
    """Result of :func:`fit_bg_nbd`.

    Attributes
    ----------
    r, alpha, a, b
        Maximum-likelihood parameters (NaN when the fit was not attempted or failed).
    log_likelihood
        Sum over customers of the (unpenalised) log-likelihood at the returned parameters.
    converged
        True only if the optimiser reported success, the optimum is finite and no parameter
        sits on the optimisation bound.
    message
        ``"ok"`` or the reason the fit is unusable (too few customers, optimiser message, ...).
    iterations
        Optimiser iterations used (0 when the fit was not attempted).
    n_customers
        Customers the fit used.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    message: str
    iterations: int
    n_customers: int

    @property
    def params(self) -> BgNbdParams:
        """The four parameters as a :class:`BgNbdParams`."""
        return BgNbdParams(self.r, self.alpha, self.a, self.b)


@dataclass(frozen=True)
class GammaGammaFit:
    """Result of :func:`fit_gamma_gamma`; same conventions as :class:`BgNbdFit`."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    converged: bool
    message: str
    n_customers: int
    iterations: int = 0

    @property
    def params(self) -> GammaGammaParams:
        """The three parameters as a :class:`GammaGammaParams`."""
        return GammaGammaParams(self.p, self.q, self.gamma)


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------------


def bg_nbd_log_likelihood(
    params: BgNbdParams, frequency: FloatArray, recency: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, equation 6), in log space.

    ``L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``.

    The common factor is taken out and the two terms are combined with ``logaddexp`` so the
    result stays finite for large ``x`` and ``T``.  Inputs are assumed valid (see
    :func:`validate_rft`).
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = frequency
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    term_t = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    term_tx = np.where(
        repeat,
        betaln(a + 1.0, b + x_safe - 1.0) - (r + x) * np.log(alpha + recency),
        -np.inf,
    )
    return np.asarray(common + np.logaddexp(term_t, term_tx), dtype=np.float64)


def bg_nbd_probability_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    In the BG/NBD a customer can only drop out right after a purchase, so a customer without
    repeat purchases (``x = 0``) is alive with probability exactly 1.  Computed in log space.
    """
    x, t_x, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    log_odds = (
        np.log(a)
        - np.log(b + x_safe - 1.0)
        + (r + x_safe) * (np.log(alpha + big_t) - np.log(alpha + t_x))
    )
    # 1 / (1 + exp(log_odds)) without overflow; customers with x = 0 get exactly 1.
    return np.where(repeat, np.exp(-np.logaddexp(0.0, log_odds)), 1.0)


def _bg_nbd_bracket(params: BgNbdParams, c: FloatArray, z: FloatArray) -> FloatArray:
    """Return ``(c)/(a-1) * [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z)]``.

    This is the Euler-transformed form of ``c/(a-1) [1 - (1-z)^(r+x) 2F1(r+x, b+x; c; z)]``
    with ``c = a+b+x-1`` (identity ``2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)``).  The
    transformed hypergeometric function's first two arguments do not grow with ``x``, so its
    series converges quickly and stays finite where the textbook form overflows.
    """
    r, a, b = params.r, params.a, params.b
    if abs(a - 1.0) < _A_NEAR_ONE:
        # Removable singularity at a = 1, where (1 - ...) / (a - 1) cancels catastrophically:
        # interpolate linearly between a = 1 -+ h (error O(h^2) instead of O(eps / |a - 1|)).
        h = _A_NEAR_ONE
        lo = _bg_nbd_bracket_raw(r, 1.0 - h, b, c - a + 1.0 - h, z)
        hi = _bg_nbd_bracket_raw(r, 1.0 + h, b, c - a + 1.0 + h, z)
        return np.asarray(lo + (a - (1.0 - h)) / (2.0 * h) * (hi - lo), dtype=np.float64)
    return _bg_nbd_bracket_raw(r, a, b, c, z)


def _bg_nbd_bracket_raw(r: float, a: float, b: float, c: FloatArray, z: FloatArray) -> FloatArray:
    """The closed form of ``_bg_nbd_bracket`` itself, valid for ``a`` not too close to 1."""
    f = hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    # 1 - (1-z)^(a-1) f = (1 - (1-z)^(a-1)) f - (f - 1), with expm1/log1p for small z.
    one_minus = -np.expm1((a - 1.0) * np.log1p(-z)) * f - (f - 1.0)
    return np.asarray(c / (a - 1.0) * one_minus, dtype=np.float64)


def bg_nbd_expected_purchases(params: BgNbdParams, t: ArrayLike) -> FloatArray:
    """Unconditional expected number of repeat purchases E[X(t)] of a new customer (eq. 7).

    ``E[X(t)] = (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]``, used for
    the aggregate forecast of a cohort and for sanity checks.
    """
    t_arr = np.asarray(t, dtype=np.float64)
    z = t_arr / (params.alpha + t_arr)
    c = np.full_like(z, params.a + params.b - 1.0)
    return _bg_nbd_bracket(params, c, z)


def bg_nbd_conditional_expected_purchases(
    params: BgNbdParams,
    t: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
) -> FloatArray:
    """Expected purchases in the next ``t`` periods given (x, t_x, T) (FHL 2005, equation 10).

    ``E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
    2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
    / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``.

    The bracket is evaluated through the Euler transformation (see ``_bg_nbd_bracket``); the
    denominator is ``1 / P(alive)``.  ``t`` broadcasts against the customer arrays.
    """
    x, t_x, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    t_arr = np.asarray(t, dtype=np.float64)
    z = t_arr / (params.alpha + big_t + t_arr)
    c = params.a + params.b + x - 1.0
    bracket = _bg_nbd_bracket(params, np.broadcast_to(c, np.broadcast(c, z).shape), z)
    return np.asarray(bracket * bg_nbd_probability_alive(params, x, t_x, big_t), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------------------------


def gamma_gamma_log_likelihood(
    params: GammaGammaParams, frequency: FloatArray, monetary_value: FloatArray
) -> FloatArray:
    """Per-customer log density of the mean repeat value m_x given x (FHL 2005b, eq. 3).

    ``f(m_x | p, q, gamma, x) = G(px+q) / (G(px) G(q)) * gamma^q m_x^(px-1) x^(px)
    / (gamma + m_x x)^(px+q)``, for customers with ``x > 0`` and ``m_x > 0`` only.
    """
    p, q, g = params.p, params.q, params.gamma
    x, m = frequency, monetary_value
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x),
        dtype=np.float64,
    )


def gamma_gamma_log_likelihood_gradient(
    params: GammaGammaParams, frequency: FloatArray, monetary_value: FloatArray
) -> FloatArray:
    """Per-customer gradient of :func:`gamma_gamma_log_likelihood` in (p, q, gamma), shape (3, n).

    ``d/dp = x (psi(px+q) - psi(px) + log m_x + log x - log(gamma + m_x x))``,
    ``d/dq = psi(px+q) - psi(q) + log gamma - log(gamma + m_x x)``,
    ``d/dgamma = q / gamma - (px+q) / (gamma + m_x x)``. With it the optimiser needs one
    likelihood evaluation per step instead of four, and converges without a polishing pass.
    """
    p, q, g = params.p, params.q, params.gamma
    x, m = frequency, monetary_value
    px = p * x
    log_total = np.log(g + m * x)
    psi_sum = digamma(px + q)
    return np.asarray(
        [
            x * (psi_sum - digamma(px) + np.log(m) + np.log(x) - log_total),
            psi_sum - digamma(q) + np.log(g) - log_total,
            q / g - (px + q) / (g + m * x),
        ],
        dtype=np.float64,
    )


def gamma_gamma_conditional_expected_value(
    params: GammaGammaParams, frequency: ArrayLike, monetary_value: ArrayLike
) -> FloatArray:
    """E[M | x, m_x] = (gamma + m_x x) p / (p x + q - 1) (FHL 2005b, eq. 5).

    Equivalently a weighted average of the population mean ``gamma p / (q-1)`` and the observed
    mean ``m_x`` with weight ``p x / (p x + q - 1)`` on the latter.  Customers without repeat
    purchases (``x = 0``) get the population mean; their ``m_x`` is ignored.  Requires
    ``q > 1`` (otherwise the population mean spend is infinite): returns NaN then.
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=np.float64), 0.0)
    p, q, g = params.p, params.q, params.gamma
    if not q > 1.0:
        return np.full(x.shape, np.nan)
    return np.asarray((g + m * x) * p / (p * x + q - 1.0), dtype=np.float64)


def frequency_monetary_correlation(frequency: ArrayLike, monetary_value: ArrayLike) -> float:
    """Pearson correlation between frequency and mean repeat value among repeat customers.

    The Gamma-Gamma model assumes spend is independent of purchase frequency; a correlation far
    from 0 (FHL report 0.11 for CDNOW) means the CLV estimates should be read with care.  NaN
    when fewer than two repeat customers or either variable is constant.
    """
    x = np.asarray(frequency, dtype=np.float64)
    m = np.asarray(monetary_value, dtype=np.float64)
    keep = (x > 0) & np.isfinite(m)
    x, m = x[keep], m[keep]
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return math.nan
    return float(np.corrcoef(x, m)[0, 1])


# ---------------------------------------------------------------------------------------------
# Maximum likelihood
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _MleOutcome:
    """Internal result of :func:`_maximise`."""

    values: FloatArray
    log_likelihood: float
    converged: bool
    message: str
    iterations: int


def _maximise(
    log_likelihood: Callable[[FloatArray], float],
    names: Sequence[str],
    n_customers: int,
    penalizer: float,
    max_iterations: int,
    gradient: Callable[[FloatArray], FloatArray] | None = None,
) -> _MleOutcome:
    """Maximise a summed log-likelihood over positive parameters.

    The objective is ``-sum(ll)/n + penalizer * sum(theta^2)`` in the natural parameters
    ``theta = exp(log_theta)``, minimised over ``log_theta`` in a box of +-20 with L-BFGS-B from
    the deterministic start ``theta = 1``; if L-BFGS-B stops without success for a reason other
    than its iteration limit (typically a line search failure near the optimum with
    finite-difference gradients) Nelder-Mead polishes from where it stopped.  scipy errors and
    non-finite objectives are caught and reported, never raised. ``gradient`` (the summed
    log-likelihood's gradient in the natural parameters), when given, replaces the
    finite differences of L-BFGS-B.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)

    def objective(log_theta: FloatArray) -> float:
        theta = np.exp(log_theta)
        with np.errstate(all="ignore"):
            total = log_likelihood(theta)
        if not math.isfinite(total):
            return 1e100
        return -total / n_customers + penalizer * float(np.sum(theta**2))

    def objective_and_gradient(log_theta: FloatArray) -> tuple[float, FloatArray]:
        assert gradient is not None
        theta = np.exp(log_theta)
        with np.errstate(all="ignore"):
            total = log_likelihood(theta)
            slope = np.asarray(gradient(theta), dtype=np.float64)
        if not math.isfinite(total) or not np.all(np.isfinite(slope)):
            return 1e100, np.zeros(len(names))
        value = -total / n_customers + penalizer * float(np.sum(theta**2))
        # d/d(log theta) = theta * d/d(theta)
        return value, theta * (-slope / n_customers + 2.0 * penalizer * theta)

    start = np.zeros(len(names))
    iterations = 0
    try:
        res: OptimizeResult = minimize(
            objective if gradient is None else objective_and_gradient,
            start,
            method="L-BFGS-B",
            jac=gradient is not None,
            bounds=bounds,
            options={"maxiter": max_iterations, "ftol": 1e-14, "gtol": 1e-9},
        )
        iterations += int(res.nit)
        # status 1 = iteration limit: typically a flat ridge towards the bound, where polishing
        # only burns time; other failures (line search near the optimum) are polished.
        if not res.success and res.status != 1:
            res = minimize(
                objective,
                res.x,
                method="Nelder-Mead",
                bounds=bounds,
                options={
                    "maxiter": max_iterations * 2,
                    "xatol": 1e-9,
                    "fatol": 1e-12,
                },
            )
            iterations += int(res.nit)
    except (ValueError, ArithmeticError, FloatingPointError) as exc:
        nan = np.full(len(names), np.nan)
        return _MleOutcome(nan, math.nan, False, f"optimiser error: {exc}", iterations)

    theta = np.exp(res.x)
    with np.errstate(all="ignore"):
        ll = log_likelihood(theta)
    message = _STATUS_OK
    converged = bool(res.success)
    if not converged:
        last = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, theta, strict=True))
        message = f"optimiser did not converge: {res.message} (last values {last})"
    elif not math.isfinite(ll) or float(res.fun) >= 1e100:
        converged, message = False, "log-likelihood is not finite at the optimum"
    else:
        at_bound = [n for n, v in zip(names, res.x, strict=True) if abs(v) > _LOG_BOUND - 1e-3]
        if at_bound:
            converged = False
            message = (
                f"parameter(s) {', '.join(at_bound)} at the optimisation bound "
                f"(exp(+-{_LOG_BOUND:g})): the model is not identified on this data"
            )
    return _MleOutcome(theta, ll, converged, message, iterations)


def _unique_rows(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of the given columns and their multiplicities.

    Customers with identical inputs contribute identical likelihood terms, so the likelihood is
    evaluated once per distinct row and weighted by its count (the 23,570 CDNOW customers have
    8,685 distinct (x, t_x, T) rows); the result is the same sum, computed faster.
    """
    unique, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [unique[:, k] for k in range(unique.shape[1])], counts.astype(np.float64)


def _too_few(what: str, have: int, need: int, setting: str) -> str | None:
    """Reason string when ``have < need``, else None."""
    if have < need:
        return f"too few {what}: {have} < {need} ({setting})"
    return None


def fit_bg_nbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    penalizer: float = 0.0,
    min_customers: int = 100,
    min_repeat_customers: int = 20,
    max_iterations: int = 1000,
) -> BgNbdFit:
    """Fit the BG/NBD model by maximum likelihood.

    Parameters
    ----------
    frequency, recency, T
        Per-customer repeat purchase count, time of last purchase and age, all in one time unit.
    penalizer
        L2 penalty on the natural parameters (see ``_maximise``); 0 gives the plain MLE.
    min_customers, min_repeat_customers
        Minimum data: below them the fit is not attempted and ``converged`` is False.
    max_iterations
        Iteration limit of L-BFGS-B (Nelder-Mead, if needed, gets twice as many).

    Returns
    -------
    BgNbdFit
        Parameters, log-likelihood and convergence status; never raises on a failed fit.

    Raises
    ------
    ValueError
        Only for invalid inputs (see :func:`validate_rft`).
    """
    x, t_x, big_t = validate_rft(frequency, recency, T)
    n = int(x.size)
    n_repeat = int(np.count_nonzero(x > 0))
    reason = _too_few("customers", n, min_customers, "min_customers") or _too_few(
        "repeat customers", n_repeat, min_repeat_customers, "min_repeat_customers"
    )
    if reason is not None:
        nan = math.nan
        return BgNbdFit(nan, nan, nan, nan, nan, False, reason, 0, n)

    (ux, ut_x, ut), weight = _unique_rows(x, t_x, big_t)

    def ll(theta: FloatArray) -> float:
        return float(weight @ bg_nbd_log_likelihood(BgNbdParams(*theta), ux, ut_x, ut))

    out = _maximise(ll, BG_NBD_PARAMETERS, n, penalizer, max_iterations)
    r, alpha, a, b = (float(v) for v in out.values)
    message = out.message
    if not out.converged and min(a, b) > 1e4:
        message += (
            "; a and b diverge together: the data show no evidence of customer dropout "
            "(a penalizer keeps them finite)"
        )
    return BgNbdFit(r, alpha, a, b, out.log_likelihood, out.converged, message, out.iterations, n)


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    *,
    penalizer: float = 0.0,
    min_repeat_customers: int = 20,
    max_iterations: int = 1000,
) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model on the customers with ``frequency > 0``.

    ``monetary_value`` is the mean value of a customer's *repeat* transactions (the first
    purchase excluded, same-day purchases merged), as in FHL's CDNOW analysis.  Repeat customers
    whose mean value is exactly 0 are left out of the likelihood (its density is 0 there);
    ``n_customers`` counts the customers actually used.  A fit whose
    ``q <= 1`` is reported as not converged because the population mean spend
    ``gamma p / (q - 1)`` does not exist then.

    Raises
    ------
    ValueError
        Only for invalid inputs (see :func:`validate_monetary`).
    """
    x = _as_float_array(frequency, "frequency")
    _check_finite(x, "frequency")
    m = validate_monetary(x, monetary_value)
    used = (x > 0) & (m > 0)
    x_rep, m_rep = x[used], m[used]
    n = int(x_rep.size)
    reason = _too_few("repeat customers", n, min_repeat_customers, "min_repeat_customers")
    if reason is not None:
        nan = math.nan
        return GammaGammaFit(nan, nan, nan, nan, False, reason, n, 0)

    (ux, um), weight = _unique_rows(x_rep, m_rep)

    def ll(theta: FloatArray) -> float:
        return float(weight @ gamma_gamma_log_likelihood(GammaGammaParams(*theta), ux, um))

    def gradient(theta: FloatArray) -> FloatArray:
        per_customer = gamma_gamma_log_likelihood_gradient(GammaGammaParams(*theta), ux, um)
        return np.asarray(per_customer @ weight, dtype=np.float64)

    out = _maximise(ll, GAMMA_GAMMA_PARAMETERS, n, penalizer, max_iterations, gradient)
    p, q, g = (float(v) for v in out.values)
    converged, message = out.converged, out.message
    if converged and not q > 1.0:
        converged = False
        message = f"q = {q:.4g} <= 1: the population mean spend gamma*p/(q-1) is undefined"
    return GammaGammaFit(p, q, g, out.log_likelihood, converged, message, n, out.iterations)


# ---------------------------------------------------------------------------------------------
# CLV and churn bands
# ---------------------------------------------------------------------------------------------


def discounted_expected_purchases(
    params: BgNbdParams,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    *,
    horizon: float,
    step: float,
    annual_discount_rate: float,
    unit_days: float,
) -> FloatArray:
    """Sum over steps of expected purchases in the step times the step's discount factor.

    With step boundaries ``s_k = min(k * step, horizon)``, ``k = 1..K``, ``K = ceil(horizon /
    step)`` (time unit of the fit) the result is
    ``sum_k (E[Y(s_k)|x,t_x,T] - E[Y(s_{k-1})|x,t_x,T]) / (1 + d)^(s_k * unit_days / 365)``
    with ``s_0 = 0``: purchases expected during a step are discounted from the step's end.
    Increments are clipped at 0 against rounding noise.
    """
    x, t_x, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    n_steps = max(1, math.ceil(horizon / step - 1e-9))
    bounds = np.minimum(np.arange(1, n_steps + 1) * step, horizon)
    cumulative = bg_nbd_conditional_expected_purchases(
        params, bounds[:, None], x[None, :], t_x[None, :], big_t[None, :]
    )
    increments = np.maximum(np.diff(cumulative, axis=0, prepend=0.0), 0.0)
    discount = (1.0 + annual_discount_rate) ** (-(bounds * unit_days / DAYS_PER_YEAR))
    return np.asarray(discount @ increments, dtype=np.float64)


def churn_risk_band(
    probability_alive: ArrayLike, *, high_below: float = 0.3, medium_below: float = 0.7
) -> NDArray[np.object_]:
    """``"high"`` if P(alive) < high_below, ``"medium"`` if < medium_below, else ``"low"``.

    NaN probabilities map to None.
    """
    p = np.asarray(probability_alive, dtype=np.float64)
    band = np.where(p < high_below, "high", np.where(p < medium_below, "medium", "low"))
    out = band.astype(object)
    out[~np.isfinite(p)] = None
    return out


# ---------------------------------------------------------------------------------------------
# Settings and table-level entry point
# ---------------------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    """True for ints and floats but not bools."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


@dataclass(frozen=True)
class ClvSettings:
    """Configuration of :func:`fit_clv`; every field is validated on construction.

    Attributes
    ----------
    time_unit
        ``"days"`` or ``"weeks"``: the unit of frequency/recency/T in the summary (and of the
        fitted ``alpha``).
    horizon_days
        CLV and expected-purchase horizon in days (converted to the time unit).
    annual_discount_rate
        Annual discount rate ``d >= 0`` for the CLV.
    discount_step_days
        Length of one discounting step in days (default a twelfth of a year: monthly steps).
    min_customers, min_repeat_customers
        BG/NBD minimums (customers, customers with frequency > 0).
    min_gamma_gamma_customers
        Gamma-Gamma minimum (customers with frequency > 0).
    bg_nbd_penalizer, gamma_gamma_penalizer
        L2 penalties (0 = plain maximum likelihood).
    churn_high_below, churn_medium_below
        P(alive) thresholds of the churn-risk bands; ``0 <= high <= medium <= 1``.
    max_iterations
        Optimiser iteration limit.
    fit_sample_max_customers
        Above this many customers both models are fitted on a seeded uniform sample of this
        size (the same sample for both; every customer is still scored). The parameters are
        population figures: at 50,000 customers their standard errors are already far below the
        differences that change a prediction, and the fit stays about 2 s whatever the size.
    fit_sample_seed
        Seed of that sample (drawn over the customers sorted by id, so the row order of the
        input does not matter).
    """

    time_unit: TimeUnit = "weeks"
    horizon_days: float = 365.0
    annual_discount_rate: float = 0.10
    discount_step_days: float = DAYS_PER_YEAR / 12.0
    min_customers: int = 100
    min_repeat_customers: int = 20
    min_gamma_gamma_customers: int = 20
    bg_nbd_penalizer: float = 0.0
    gamma_gamma_penalizer: float = 0.0
    churn_high_below: float = 0.3
    churn_medium_below: float = 0.7
    max_iterations: int = 1000
    fit_sample_max_customers: int = 50_000
    fit_sample_seed: int = 0

    def __post_init__(self) -> None:
        """Validate every setting, naming it and the bad value in a ValueError."""
        if self.time_unit not in DAYS_PER_UNIT:
            raise ValueError(
                f"time_unit must be one of {sorted(DAYS_PER_UNIT)}, got {self.time_unit!r}"
            )
        positive = ("horizon_days", "discount_step_days")
        non_negative = ("annual_discount_rate", "bg_nbd_penalizer", "gamma_gamma_penalizer")
        probabilities = ("churn_high_below", "churn_medium_below")
        for name in (*positive, *non_negative, *probabilities):
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(float(value)):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            object.__setattr__(self, name, float(value))
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in probabilities:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if self.churn_high_below > self.churn_medium_below:
            raise ValueError(
                f"churn_high_below must be <= churn_medium_below, got "
                f"{self.churn_high_below!r} > {self.churn_medium_below!r}"
            )
        for name in (
            "min_customers",
            "min_repeat_customers",
            "min_gamma_gamma_customers",
            "max_iterations",
            "fit_sample_max_customers",
        ):
            value = getattr(self, name)
            is_whole = _is_number(value) and float(value).is_integer()
            if not is_whole or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
            object.__setattr__(self, name, int(value))
        seed = self.fit_sample_seed
        if not (_is_number(seed) and float(seed).is_integer() and seed >= 0):
            raise ValueError(f"fit_sample_seed must be an integer >= 0, got {seed!r}")
        object.__setattr__(self, "fit_sample_seed", int(seed))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> ClvSettings:
        """Build settings from a (dbt config) mapping; ``None`` gives the defaults.

        Raises
        ------
        ValueError
            If a key is not a setting (the unknown keys are named) or a value is invalid.
        """
        if d is None:
            return cls()
        if not isinstance(d, Mapping):
            raise ValueError(f"CLV settings must be a mapping, got {type(d).__name__}")
        allowed = [f.name for f in fields(cls)]
        unknown = sorted(str(k) for k in d if k not in allowed)
        if unknown:
            raise ValueError(
                f"unknown CLV setting(s): {', '.join(repr(k) for k in unknown)}; "
                f"allowed: {', '.join(allowed)}"
            )
        return cls(**dict(d))

    def fit_size(self, n_customers: int) -> int:
        """How many of ``n_customers`` the models are fitted on (fit_sample_max_customers)."""
        return min(n_customers, self.fit_sample_max_customers)

    @property
    def unit_days(self) -> float:
        """Days per time unit (1 or 7)."""
        return DAYS_PER_UNIT[self.time_unit]

    @property
    def horizon(self) -> float:
        """The horizon in the configured time unit."""
        return self.horizon_days / self.unit_days

    @property
    def discount_step(self) -> float:
        """The discounting step in the configured time unit."""
        return self.discount_step_days / self.unit_days


@dataclass(frozen=True)
class ClvResult:
    """Output of :func:`fit_clv`: the two fits and the per-customer predictions.

    The per-customer arrays are aligned with the input summary (same order, same length; NaN /
    None where a prediction is null).  :meth:`customers` and :meth:`parameters` turn them into
    the Arrow tables the dbt models publish.

    Attributes
    ----------
    settings
        The settings used.
    bg_nbd, gamma_gamma
        The two fit summaries (``converged`` False with a ``message`` when a fit failed).
    frequency_spend_correlation
        Pearson correlation of frequency and mean repeat value among repeat customers.
    customer_id
        Input customer ids as an Arrow string array.
    expected_purchases, probability_alive, expected_average_value, predicted_clv
        Per-customer predictions (see :func:`fit_clv`).
    churn_risk_band, clv_status
        Per-customer band (``"high"``/``"medium"``/``"low"``/None) and status (``"ok"`` or why).
    n_repeat_customers
        Customers with frequency > 0 in the input.
    """

    settings: ClvSettings
    bg_nbd: BgNbdFit
    gamma_gamma: GammaGammaFit
    frequency_spend_correlation: float
    customer_id: pa.Array
    expected_purchases: FloatArray
    probability_alive: FloatArray
    expected_average_value: FloatArray
    predicted_clv: FloatArray
    churn_risk_band: NDArray[np.object_]
    clv_status: NDArray[np.object_]
    n_repeat_customers: int

    def customers(self) -> pa.Table:
        """One row per input customer, in input order (see :data:`CUSTOMER_SCHEMA`).

        Predictions are null where the model they need did not fit (or, rarely, was not finite
        for that customer); ``clv_status`` is ``"ok"`` or says why.
        """

        def col(values: FloatArray) -> pa.Array:
            return pa.array(values, type=pa.float64(), from_pandas=True)

        return pa.Table.from_arrays(
            [
                self.customer_id,
                col(self.expected_purchases),
                col(self.probability_alive),
                col(self.expected_average_value),
                col(self.predicted_clv),
                pa.array(self.churn_risk_band.tolist(), type=pa.string()),
                pa.array(self.clv_status.tolist(), type=pa.string()),
            ],
            schema=CUSTOMER_SCHEMA,
        )

    def parameters(self) -> pa.Table:
        """One row per (model, parameter) plus diagnostics: :func:`parameters_table`."""
        return parameters_table(
            self.bg_nbd, self.gamma_gamma, self.frequency_spend_correlation, self.n_repeat_customers
        )


def parameters_table(
    bg: BgNbdFit, gg: GammaGammaFit, correlation: float, n_repeat_customers: int
) -> pa.Table:
    """One row per (model, parameter) plus diagnostics (see :data:`PARAMETER_SCHEMA`).

    Rows with ``kind == "parameter"`` hold the fitted values (null when not fitted); rows
    with ``kind == "diagnostic"`` hold ``frequency_spend_correlation`` (the Pearson
    correlation the Gamma-Gamma independence assumption wants near 0) and
    ``repeat_customers`` (customers with frequency > 0 in the whole input).
    """
    rows: list[dict[str, Any]] = []

    def add(model: str, name: str, kind: str, value: float, fit: BgNbdFit | GammaGammaFit) -> None:
        rows.append(
            {
                "model": model,
                "parameter": name,
                "kind": kind,
                "value": value if math.isfinite(value) else None,
                "log_likelihood": fit.log_likelihood if math.isfinite(fit.log_likelihood) else None,
                "converged": fit.converged,
                "message": fit.message,
                "n_customers": fit.n_customers,
            }
        )

    for name in BG_NBD_PARAMETERS:
        add("bg_nbd", name, "parameter", float(getattr(bg, name)), bg)
    for name in GAMMA_GAMMA_PARAMETERS:
        add("gamma_gamma", name, "parameter", float(getattr(gg, name)), gg)
    add("gamma_gamma", "frequency_spend_correlation", "diagnostic", correlation, gg)
    add("gamma_gamma", "repeat_customers", "diagnostic", float(n_repeat_customers), gg)
    return pa.Table.from_pylist(rows, schema=PARAMETER_SCHEMA)


def _summary_column(summary: pa.Table, name: str) -> FloatArray:
    """A numeric summary column as float64 with nulls as NaN; ValueError naming bad columns."""
    column = summary.column(name)
    try:
        as_float = pc.cast(column, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"{name}: cannot be read as numbers ({column.type}): {exc}") from exc
    return np.asarray(as_float.to_numpy(zero_copy_only=False), dtype=np.float64)


def fit_clv(summary: pa.Table, settings: ClvSettings | None = None) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on a customer summary and predict CLV for every customer.

    Parameters
    ----------
    summary
        Columns ``customer_id`` (unique, non-null; cast to string), ``frequency``, ``recency``,
        ``T`` (in ``settings.time_unit``) and ``monetary_value`` (mean repeat-purchase value;
        null/0 when frequency is 0), e.g. the output of :func:`summarise_transactions`.
    settings
        :class:`ClvSettings`; defaults when None.

    Returns
    -------
    ClvResult
        With, per customer (horizon ``H = settings.horizon``, time unit of the fit):

        * ``expected_purchases = E[Y(H) | x, t_x, T]`` (BG/NBD),
        * ``probability_alive = P(alive | x, t_x, T)``,
        * ``expected_average_value = E[M | x, m_x]`` (Gamma-Gamma; population mean for x = 0),
        * ``predicted_clv = expected_average_value * sum_k (E[Y(s_k)] - E[Y(s_{k-1})])
          / (1 + d)^(s_k days / 365)`` over steps ``s_k = min(k * step, H)`` (see
          :func:`discounted_expected_purchases`), ``d`` the annual discount rate,
        * ``churn_risk_band`` from ``probability_alive`` and the thresholds,
        * ``clv_status``: ``"ok"`` or the reason the row's predictions are null.

    Raises
    ------
    ValueError
        For a missing column, duplicate or null ``customer_id`` or invalid values (see
        :func:`validate_rft` and :func:`validate_monetary`); never for a failed fit.
    """
    settings = settings if settings is not None else ClvSettings()
    ids, x, t_x, big_t, m = _validated_summary(summary)
    bg, gg, correlation = fit_models(ids, x, t_x, big_t, m, settings)
    return score_clv(ids, x, t_x, big_t, m, bg, gg, correlation, settings)


def fit_clv_parameters(summary: pa.Table, settings: ClvSettings | None = None) -> pa.Table:
    """Fit both models on a customer summary and return only :func:`parameters_table`.

    What the warehouse publishes before scoring (``ml_clv_parameters``): the same fits as
    :func:`fit_clv`, without predicting for every customer. Same inputs and errors as fit_clv.
    """
    settings = settings if settings is not None else ClvSettings()
    ids, x, t_x, big_t, m = _validated_summary(summary)
    bg, gg, correlation = fit_models(ids, x, t_x, big_t, m, settings)
    return parameters_table(bg, gg, correlation, int(np.count_nonzero(x > 0)))


def fit_sample_index(ids: pa.Array, settings: ClvSettings) -> NDArray[np.int64] | None:
    """Positions of the customers the models are fitted on; None means all of them.

    Above ``settings.fit_sample_max_customers`` a seeded uniform sample of that size, drawn over
    the customers sorted by id so that it does not depend on the input's row order.
    """
    n = len(ids)
    size = settings.fit_size(n)
    if size == n:
        return None
    by_id = np.asarray(pc.sort_indices(ids).to_numpy(), dtype=np.int64)
    rng = np.random.default_rng(settings.fit_sample_seed)
    return np.sort(by_id[rng.choice(n, size=size, replace=False)])


def fit_models(
    ids: pa.Array,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    m: FloatArray,
    settings: ClvSettings,
) -> tuple[BgNbdFit, GammaGammaFit, float]:
    """BG/NBD and Gamma-Gamma fitted on :func:`fit_sample_index`; frequency-spend correlation.

    BLAS is held to one thread: the likelihood works on vectors too small to gain from more,
    and inside ``dbt build`` other models use the second core (measured: the fit took three
    times longer with OpenBLAS threads competing with DuckDB's).
    """
    sample = fit_sample_index(ids, settings)
    fx, ft_x, fbig_t, fm = (x, t_x, big_t, m) if sample is None else (
        x[sample], t_x[sample], big_t[sample], m[sample]
    )  # fmt: skip
    with threadpool_limits(limits=1):
        bg = fit_bg_nbd(
            fx,
            ft_x,
            fbig_t,
            penalizer=settings.bg_nbd_penalizer,
            min_customers=settings.min_customers,
            min_repeat_customers=settings.min_repeat_customers,
            max_iterations=settings.max_iterations,
        )
        gg = fit_gamma_gamma(
            fx,
            fm,
            penalizer=settings.gamma_gamma_penalizer,
            min_repeat_customers=settings.min_gamma_gamma_customers,
            max_iterations=settings.max_iterations,
        )
    return bg, gg, frequency_monetary_correlation(x, m)


def _validated_summary(
    summary: pa.Table,
) -> tuple[pa.Array, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Ids and validated frequency, recency, T and monetary value of a summary table."""
    missing = [c for c in SUMMARY_COLUMNS if c not in summary.column_names]
    if missing:
        raise ValueError(
            f"summary is missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(SUMMARY_COLUMNS)}"
        )
    ids = pc.cast(summary.column("customer_id"), pa.string()).combine_chunks()
    if ids.null_count:
        raise ValueError(f"customer_id: {ids.null_count} null value(s)")
    counts = pc.value_counts(ids)
    duplicated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    if len(duplicated):
        raise ValueError(
            f"customer_id: {len(duplicated)} duplicated value(s) "
            f"(e.g. {duplicated[:3].to_pylist()}); one summary row per customer"
        )
    x, t_x, big_t = validate_rft(
        _summary_column(summary, "frequency"),
        _summary_column(summary, "recency"),
        _summary_column(summary, "T"),
    )
    m = validate_monetary(x, _summary_column(summary, "monetary_value"))
    return ids, x, t_x, big_t, m


def score_clv(
    ids: pa.Array,
    x: np.ndarray,
    t_x: np.ndarray,
    big_t: np.ndarray,
    m: np.ndarray,
    bg: BgNbdFit,
    gg: GammaGammaFit,
    correlation: float,
    settings: ClvSettings,
) -> ClvResult:
    """Predictions of given fits for validated per-customer inputs (the scoring half of fit_clv).

    Kept separate so that a warehouse can fit once (on all customers or a sample) and score with
    the published parameters; a model that did not converge gives null predictions with the
    reason in ``clv_status``, and a non-finite prediction nulls that customer's row.
    """
    n = int(x.size)

    nan = np.full(n, np.nan)
    status = np.full(n, _STATUS_OK, dtype=object)
    reasons: list[str] = []
    expected, alive, clv_units = nan.copy(), nan.copy(), nan.copy()
    if bg.converged:
        with np.errstate(all="ignore"):
            expected = bg_nbd_conditional_expected_purchases(
                bg.params, settings.horizon, x, t_x, big_t
            )
            alive = bg_nbd_probability_alive(bg.params, x, t_x, big_t)
            clv_units = discounted_expected_purchases(
                bg.params,
                x,
                t_x,
                big_t,
                horizon=settings.horizon,
                step=settings.discount_step,
                annual_discount_rate=settings.annual_discount_rate,
                unit_days=settings.unit_days,
            )
    else:
        reasons.append(f"bg_nbd not fitted: {bg.message}")
    value = nan.copy()
    if gg.converged:
        with np.errstate(all="ignore"):
            value = gamma_gamma_conditional_expected_value(gg.params, x, m)
    else:
        reasons.append(f"gamma_gamma not fitted: {gg.message}")
    # Per customer, every output of a fitted model must be finite; otherwise null it and say so.
    produced = ([expected, alive, clv_units] if bg.converged else []) + (
        [value] if gg.converged else []
    )
    broken = np.zeros(n, dtype=bool)
    for arr in produced:
        broken |= ~np.isfinite(arr)
    for arr in (expected, alive, clv_units, value):
        arr[broken] = np.nan
    clv = clv_units * value
    if reasons:
        status[:] = "; ".join(reasons)
    if broken.any():
        status[broken] = "; ".join(
            ["numerical failure: non-finite prediction for this customer", *reasons]
        )

    bands = churn_risk_band(
        alive, high_below=settings.churn_high_below, medium_below=settings.churn_medium_below
    )
    return ClvResult(
        settings=settings,
        bg_nbd=bg,
        gamma_gamma=gg,
        frequency_spend_correlation=correlation,
        customer_id=ids,
        expected_purchases=expected,
        probability_alive=alive,
        expected_average_value=value,
        predicted_clv=clv,
        churn_risk_band=bands,
        clv_status=status,
        n_repeat_customers=int(np.count_nonzero(x > 0)),
    )


# ---------------------------------------------------------------------------------------------
# Transactions -> summary, holdout validation
# ---------------------------------------------------------------------------------------------


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


def holdout_check(
    customer_ids: ArrayLike,
    dates: ArrayLike,
    calibration_end: Any,
    holdout_end: Any,
    *,
    settings: ClvSettings | None = None,
    max_bucket: int = 7,
) -> pd.DataFrame:
    """Fit BG/NBD on a calibration window and compare its holdout forecast with what happened.

    The calibration summary comes from :func:`summarise_transactions` (transactions up to and
    including ``calibration_end``).  For every calibration customer the forecast is
    ``E[Y(t*) | x, t_x, T]`` with ``t* = (holdout_end - calibration_end)`` in the time unit; the
    actual count is the number of distinct purchase days in ``(calibration_end, holdout_end]``.

    Returns
    -------
    pandas.DataFrame
        One row per calibration-frequency bucket ``"0" .. "<max_bucket>+"`` and a final
        ``"total"`` row, with columns ``bucket``, ``n_customers``, ``actual_repeat_purchases``,
        ``predicted_repeat_purchases``, ``mean_actual``, ``mean_predicted`` and
        ``relative_error`` ((predicted - actual) / actual).  The BG/NBD fit is in
        ``frame.attrs["bg_nbd"]`` and ``t*`` in ``frame.attrs["holdout_periods"]``; when the fit
        did not converge the predictions are NaN.
    """
    settings = settings if settings is not None else ClvSettings()
    unit = settings.unit_days
    cal_end = pd.Timestamp(calibration_end).normalize()
    hold_end = pd.Timestamp(holdout_end).normalize()
    if hold_end <= cal_end:
        raise ValueError(
            f"holdout_end ({hold_end.date()}) must be after calibration_end ({cal_end.date()})"
        )
    if isinstance(max_bucket, bool) or not isinstance(max_bucket, int) or max_bucket < 1:
        raise ValueError(f"max_bucket must be an integer >= 1, got {max_bucket!r}")
    daily = _daily_transactions(customer_ids, dates, None)
    summary = summarise_transactions(
        daily["customer_id"].to_numpy(),
        daily["date"].to_numpy(),
        np.zeros(len(daily)),
        cal_end,
        settings.time_unit,
    ).to_pandas()
    in_holdout = daily[(daily["date"] > cal_end) & (daily["date"] <= hold_end)]
    actual = in_holdout.groupby("customer_id").size()
    summary["actual"] = actual.reindex(summary["customer_id"]).fillna(0).to_numpy(np.float64)

    fit = fit_bg_nbd(
        summary["frequency"],
        summary["recency"],
        summary["T"],
        penalizer=settings.bg_nbd_penalizer,
        min_customers=settings.min_customers,
        min_repeat_customers=settings.min_repeat_customers,
        max_iterations=settings.max_iterations,
    )
    t_star = (hold_end - cal_end).days / unit
    if fit.converged:
        summary["predicted"] = bg_nbd_conditional_expected_purchases(
            fit.params, t_star, summary["frequency"], summary["recency"], summary["T"]
        )
    else:
        summary["predicted"] = np.nan

    labels = [str(k) for k in range(max_bucket)] + [f"{max_bucket}+"]
    summary["bucket"] = pd.Categorical(
        np.array(labels, dtype=object)[np.minimum(summary["frequency"], max_bucket)],
        categories=labels,
        ordered=True,
    )
    table = summary.groupby("bucket", observed=False).agg(
        n_customers=("customer_id", "size"),
        actual_repeat_purchases=("actual", "sum"),
        predicted_repeat_purchases=("predicted", lambda s: s.sum(min_count=1)),
    )
    table.index = table.index.astype(str)
    table.loc["total"] = table.sum(min_count=1)
    table = table.reset_index(names="bucket")
    table["n_customers"] = table["n_customers"].astype(np.int64)
    table["mean_actual"] = table["actual_repeat_purchases"] / table["n_customers"]
    table["mean_predicted"] = table["predicted_repeat_purchases"] / table["n_customers"]
    table["relative_error"] = (
        table["predicted_repeat_purchases"] - table["actual_repeat_purchases"]
    ) / table["actual_repeat_purchases"]
    table.attrs["bg_nbd"] = fit
    table.attrs["holdout_periods"] = t_star
    return table
