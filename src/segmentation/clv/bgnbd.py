"""BG/NBD purchase-count model (Fader, Hardie & Lee 2005, Marketing Science 24(2))."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betaln, digamma, gammaln, hyp2f1

from segmentation.clv._mle import _distinct, _maximise, _too_few, _unique_rows
from segmentation.clv.settings import DAYS_PER_YEAR
from segmentation.clv.validation import FloatArray, validate_rft

_A_NEAR_ONE: Final[float] = 1e-4
"""The BG/NBD expectations divide by (a - 1); within this distance of a = 1 they interpolate."""

BG_NBD_PARAMETERS: Final[tuple[str, ...]] = ("r", "alpha", "a", "b")

PROFILE_STEP: Final[float] = 10.0
"""Factor applied to ``a`` and ``b`` together by :func:`dropout_not_identified`."""

PROFILE_FLAT_DROP: Final[float] = 0.01
"""Log-likelihood drop (whole sample) below which that profile counts as flat."""

NOT_IDENTIFIED: Final[str] = (
    "not identified: the likelihood does not decrease as a and b grow together (the data show "
    "no evidence of heterogeneous dropout); set segmentation.clv.bg_nbd_penalizer to keep them "
    "finite"
)
"""Message of a BG/NBD fit whose dropout parameters are not identified."""


@dataclass(frozen=True)
class BgNbdParams:
    """BG/NBD parameters: purchase rate ``Gamma(r, alpha)``, dropout probability ``Beta(a, b)``."""

    r: float
    alpha: float
    a: float
    b: float


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
    scale
        The time unit the optimiser worked in, in the caller's unit (the median ``T``): the
        fit is of ``alpha / scale`` on times divided by ``scale`` (NaN when not attempted).
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
    scale: float = math.nan

    @property
    def params(self) -> BgNbdParams:
        """The four parameters as a :class:`BgNbdParams`.

        Returns
        -------
        BgNbdParams
            ``r``, ``alpha`` (caller's time unit), ``a``, ``b``.
        """
        return BgNbdParams(self.r, self.alpha, self.a, self.b)


def bg_nbd_log_likelihood(
    params: BgNbdParams, frequency: FloatArray, recency: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, equation 6), in log space.

    ``L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))``.

    The common factor is taken out and the two terms are combined with ``logaddexp`` so the
    result stays finite for large ``x`` and ``T``.  Inputs are assumed valid (see
    :func:`validate_rft`).

    Parameters
    ----------
    params : BgNbdParams
        ``r``, ``alpha`` (in the time unit of the inputs), ``a``, ``b``.
    frequency : ndarray of float64, shape (n_customers,)
        Repeat purchases x (whole numbers >= 0).
    recency : ndarray of float64, shape (n_customers,)
        Time of the last purchase since the first, t_x, in periods (0 when x = 0).
    T : ndarray of float64, shape (n_customers,)
        Age: time from the first purchase to the calibration end, in the same periods.

    Returns
    -------
    ndarray of float64, shape (n_customers,)
        log L per customer (natural log).

    References
    ----------
    Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
    Pareto/NBD model", Marketing Science 24(2), 275-284.
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


def bg_nbd_log_likelihood_gradient(
    params: BgNbdParams, frequency: FloatArray, recency: FloatArray, T: FloatArray
) -> FloatArray:
    """Per-customer gradient of :func:`bg_nbd_log_likelihood` in (r, alpha, a, b), shape (4, n).

    With ``A = B(a, b+x) (alpha+T)^-(r+x)`` and ``B = [x > 0] B(a+1, b+x-1) (alpha+t_x)^-(r+x)``
    and their shares ``w_A = A/(A+B)``, ``w_B = B/(A+B)`` (psi the digamma function):

    * ``d/dr = psi(r+x) - psi(r) + log alpha - w_A log(alpha+T) - w_B log(alpha+t_x)``,
    * ``d/dalpha = r/alpha - (r+x) (w_A/(alpha+T) + w_B/(alpha+t_x))``,
    * ``d/da = psi(a+b) - psi(a) + w_A psi(a) + w_B psi(a+1) - psi(a+b+x)``,
    * ``d/db = psi(a+b) - psi(b) + w_A psi(b+x) + w_B psi(b+x-1) - psi(a+b+x)``.

    An exact gradient lets the optimiser converge to the optimum itself rather than to where
    finite differences stop resolving it, so the fit does not depend on the time unit.

    Parameters
    ----------
    params : BgNbdParams
        ``r``, ``alpha`` (in the time unit of the inputs), ``a``, ``b``.
    frequency : ndarray of float64, shape (n_customers,)
        Repeat purchases x (whole numbers >= 0).
    recency : ndarray of float64, shape (n_customers,)
        Time of the last purchase since the first, t_x, in periods (0 when x = 0).
    T : ndarray of float64, shape (n_customers,)
        Age: time from the first purchase to the calibration end, in the same periods.

    Returns
    -------
    ndarray of float64, shape (4, n_customers)
        Rows d/dr, d/dalpha, d/da, d/db of each customer's log-likelihood.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    x = frequency
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    log_a = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    log_b = np.where(
        repeat, betaln(a + 1.0, b + x_safe - 1.0) - (r + x) * np.log(alpha + recency), -np.inf
    )
    total = np.logaddexp(log_a, log_b)
    w_a = np.exp(log_a - total)
    w_b = np.exp(log_b - total)
    psi_abx = digamma(a + b + x)
    psi_ab = digamma(a + b)
    return np.asarray(
        [
            digamma(r + x)
            - digamma(r)
            + np.log(alpha)
            - w_a * np.log(alpha + T)
            - w_b * np.log(alpha + recency),
            r / alpha - (r + x) * (w_a / (alpha + T) + w_b / (alpha + recency)),
            psi_ab - digamma(a) + w_a * digamma(a) + w_b * digamma(a + 1.0) - psi_abx,
            psi_ab
            - digamma(b)
            + w_a * digamma(b + x)
            + w_b * np.where(repeat, digamma(b + x_safe - 1.0), 0.0)
            - psi_abx,
        ],
        dtype=np.float64,
    )


class _BgNbdLikelihood:
    """Summed BG/NBD log-likelihood and its gradient over weighted rows, computed together.

    The same sums as ``weight @ bg_nbd_log_likelihood(...)`` and
    ``bg_nbd_log_likelihood_gradient(...) @ weight`` (equal up to summation order), but the
    terms that depend on ``x`` alone (gammaln, betaln, digamma) are evaluated on the distinct
    purchase counts and the logarithms of ``alpha + T`` and ``alpha + t_x`` on the distinct
    times, then gathered per row; and the value and the gradient share the two likelihood
    terms (the optimiser asks for both at every point). The sums over rows are of the
    ``x``-only terms times the count weight of each ``x``.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, weight: FloatArray) -> None:
        self.x, self.ix = _distinct(x)
        self.ages, self.i_age = _distinct(T)
        self.recencies, self.i_recency = _distinct(t_x)
        self.weight = weight
        self.weight_x = np.bincount(self.ix, weights=weight, minlength=self.x.size)
        self.total_weight = float(np.sum(weight))
        self.repeat = self.x > 0
        self.x_safe = np.where(self.repeat, self.x, 1.0)

    def _terms(self, theta: FloatArray) -> tuple[FloatArray, ...]:
        """Per-row ``log A``, ``log B``, ``log(A + B)`` and ``r + x``; per-time logs."""
        r, alpha, a, b = (float(v) for v in theta)
        rx = r + self.x
        beta_t = betaln(a, b + self.x)
        beta_tx = np.where(self.repeat, betaln(a + 1.0, b + self.x_safe - 1.0), -np.inf)
        log_age = np.log(alpha + self.ages)
        log_recency = np.log(alpha + self.recencies)
        rx_row = rx[self.ix]
        log_a = beta_t[self.ix] - rx_row * log_age[self.i_age]
        log_b = beta_tx[self.ix] - rx_row * log_recency[self.i_recency]
        total = np.logaddexp(log_a, log_b)
        return log_a, log_b, total, rx_row, log_age, log_recency

    def _common(self, theta: FloatArray) -> float:
        """Weighted sum of the per-x common factor ``G(r+x) alpha^r / (G(r) B(a, b))``."""
        r, alpha, a, b = (float(v) for v in theta)
        common = gammaln(r + self.x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
        return float(self.weight_x @ common)

    def value(self, theta: FloatArray) -> float:
        """Sum over rows of weight times the log-likelihood at ``theta = (r, alpha, a, b)``."""
        total = self._terms(theta)[2]
        return self._common(theta) + float(self.weight @ total)

    def value_and_gradient(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """The summed log-likelihood and its gradient in (r, alpha, a, b), shape (4,)."""
        r, alpha, a, b = (float(v) for v in theta)
        log_a, log_b, total, rx_row, log_age, log_recency = self._terms(theta)
        value = self._common(theta) + float(self.weight @ total)
        w_a = np.exp(log_a - total)
        w_b = np.exp(log_b - total)
        weighted_a, weighted_b = self.weight * w_a, self.weight * w_b
        share_a = np.bincount(self.ix, weights=weighted_a, minlength=self.x.size)
        share_b = np.bincount(self.ix, weights=weighted_b, minlength=self.x.size)
        n = self.total_weight
        psi_abx = float(self.weight_x @ digamma(a + b + self.x))
        psi_ab = digamma(a + b)
        d_r = (
            float(self.weight_x @ digamma(r + self.x))
            - n * (digamma(r) - np.log(alpha))
            - float(weighted_a @ log_age[self.i_age])
            - float(weighted_b @ log_recency[self.i_recency])
        )
        d_alpha = n * r / alpha - float(
            rx_row
            @ (
                weighted_a / (alpha + self.ages)[self.i_age]
                + weighted_b / (alpha + self.recencies)[self.i_recency]
            )
        )
        d_a = (
            n * (psi_ab - digamma(a))
            + digamma(a) * float(np.sum(share_a))
            + digamma(a + 1.0) * float(np.sum(share_b))
            - psi_abx
        )
        psi_bx1 = np.where(self.repeat, digamma(b + self.x_safe - 1.0), 0.0)
        d_b = (
            n * (psi_ab - digamma(b))
            + float(share_a @ digamma(b + self.x))
            + float(share_b @ psi_bx1)
            - psi_abx
        )
        return value, np.array([d_r, d_alpha, d_a, d_b], dtype=np.float64)


def bg_nbd_probability_alive(
    params: BgNbdParams, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    In the BG/NBD a customer can only drop out right after a purchase, so a customer without
    repeat purchases (``x = 0``) is alive with probability exactly 1.  Computed in log space.

    Parameters
    ----------
    params : BgNbdParams
        ``r``, ``alpha`` (in the time unit of the inputs), ``a``, ``b``.
    frequency : array_like of float, shape (n_customers,)
        Repeat purchases x (whole numbers >= 0).
    recency : array_like of float, shape (n_customers,)
        Time of the last purchase since the first, t_x, in periods (0 when x = 0).
    T : array_like of float, shape (n_customers,)
        Age: time from the first purchase to the calibration end, in the same periods.

    Returns
    -------
    ndarray of float64, shape (n_customers,)
        P(alive) in [0, 1] at ``T`` (Fader, Hardie & Lee 2008, "Computing P(alive) using the
        BG/NBD model", technical note).
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

    Parameters
    ----------
    params : BgNbdParams
        ``r``, ``alpha`` (in the time unit of the inputs), ``a``, ``b``.
    t : array_like of float, any shape
        Length of the period from the first purchase, in the time unit of ``alpha``.

    Returns
    -------
    ndarray of float64, shape of ``t``
        Expected repeat purchases (count) in (0, t].
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

    Parameters
    ----------
    params : BgNbdParams
        ``r``, ``alpha`` (in the time unit of the inputs), ``a``, ``b``.
    t : array_like of float
        Forecast horizon(s) after ``T``, in periods; broadcast against the customer arrays.
    frequency : array_like of float, shape (n_customers,)
        Repeat purchases x (whole numbers >= 0).
    recency : array_like of float, shape (n_customers,)
        Time of the last purchase since the first, t_x, in periods (0 when x = 0).
    T : array_like of float, shape (n_customers,)
        Age: time from the first purchase to the calibration end, in the same periods.

    Returns
    -------
    ndarray of float64, broadcast shape of ``t`` and (n_customers,)
        Expected purchases (count) in (T, T + t].
    """
    x, t_x, big_t = (np.asarray(v, dtype=np.float64) for v in (frequency, recency, T))
    t_arr = np.asarray(t, dtype=np.float64)
    bracket = _conditional_bracket(params, t_arr, x, big_t)
    return np.asarray(bracket * bg_nbd_probability_alive(params, x, t_x, big_t), dtype=np.float64)


_DISTINCT_MIN_ROWS = 10_000
"""From this many customers the bracket is evaluated once per distinct (x, T) pair."""


def _conditional_bracket(
    params: BgNbdParams, t_arr: np.ndarray, x: np.ndarray, big_t: np.ndarray
) -> FloatArray:
    """The bracket of :func:`bg_nbd_conditional_expected_purchases`, a function of (t, x, T).

    The hypergeometric function is most of the cost of scoring, and customers share few
    distinct (x, T) pairs (whole purchase counts, ages in whole days): with many customers in
    the last axis it is evaluated once per distinct pair and spread back, which gives every
    customer the value of its own inputs.
    """

    def direct(xs: np.ndarray, ts: np.ndarray) -> FloatArray:
        z = t_arr / (params.alpha + ts + t_arr)
        c = params.a + params.b + xs - 1.0
        return _bg_nbd_bracket(params, np.broadcast_to(c, np.broadcast(c, z).shape), z)

    n = x.shape[-1] if x.ndim else 0
    per_step = t_arr.ndim == 0 or t_arr.shape[-1] == 1  # t does not vary by customer
    customers_last = per_step and x.shape == big_t.shape and x.ndim >= 1 and x.size == n
    if not customers_last or n < _DISTINCT_MIN_ROWS:
        return direct(x, big_t)
    flat_x, flat_t = x.reshape(-1), big_t.reshape(-1)
    order = np.lexsort((flat_t, flat_x))
    sorted_x, sorted_t = flat_x[order], flat_t[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (sorted_x[1:] != sorted_x[:-1]) | (sorted_t[1:] != sorted_t[:-1])
    if np.count_nonzero(new) > n // 2:
        return direct(x, big_t)
    inverse = np.empty(n, dtype=np.intp)
    inverse[order] = np.cumsum(new) - 1
    shape = (*x.shape[:-1], -1)
    values = direct(sorted_x[new].reshape(shape), sorted_t[new].reshape(shape))
    return np.asarray(values[..., inverse], dtype=np.float64)


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
        L2 penalty on the parameters of the rescaled problem (``r``, ``alpha / scale``, ``a``,
        ``b``; see ``_maximise``), so it means the same in days and weeks; 0 gives the MLE.
    min_customers, min_repeat_customers
        Minimum data: below them the fit is not attempted and ``converged`` is False.
    max_iterations
        Iteration limit of L-BFGS-B (Nelder-Mead, if needed, gets twice as many).

    Returns
    -------
    BgNbdFit
        Parameters (``alpha`` in the unit of ``recency`` and ``T``), log-likelihood and
        convergence status; never raises on a failed fit. The optimiser works on times divided
        by their median, so ``r``, ``a``, ``b`` do not depend on the time unit and ``alpha``
        scales with it. When :func:`dropout_not_identified` holds at the optimum, ``converged``
        is False with :data:`NOT_IDENTIFIED` as message.

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
        return BgNbdFit(nan, nan, nan, nan, nan, False, reason, 0, n, nan)

    # Fit on times in units of the median T, report alpha in the caller's unit (r, a, b are
    # dimensionless): days or weeks, the optimiser starts at the same place and sees the same
    # problem. With alpha = s alpha' and times t = s t', each customer's likelihood is
    # s^-x times the rescaled one.
    scale = time_scale(big_t)
    (ux, ut_x, ut), weight = _unique_rows(x, t_x / scale, big_t / scale)
    log_jacobian = -math.log(scale) * float(np.sum(x))

    likelihood = _BgNbdLikelihood(ux, ut_x, ut, weight)
    ll = likelihood.value
    out = _maximise(
        ll, BG_NBD_PARAMETERS, n, penalizer, max_iterations, likelihood.value_and_gradient
    )
    r, alpha_scaled, a, b = (float(v) for v in out.values)
    converged, message = out.converged, out.message

    def penalized(theta: FloatArray) -> float:
        return ll(theta) - n * penalizer * float(np.sum(theta**2))

    if all(math.isfinite(v) for v in (r, alpha_scaled, a, b)) and dropout_not_identified(
        BgNbdParams(r, alpha_scaled, a, b), penalized
    ):
        # The same verdict wherever the optimiser stopped on the ridge (at the bound, at the
        # iteration limit, or "converged" at a = 977, b = 4450 as on one machine).
        converged, message = False, NOT_IDENTIFIED
    return BgNbdFit(
        r,
        alpha_scaled * scale,
        a,
        b,
        out.log_likelihood + log_jacobian,
        converged,
        message,
        out.iterations,
        n,
        scale,
    )


def time_scale(T: FloatArray) -> float:
    """Unit the BG/NBD is fitted in: the median of the positive ``T`` (1.0 if there is none).

    Parameters
    ----------
    T : ndarray of float64, shape (n_customers,)
        Customer ages in periods.

    Returns
    -------
    float
        The median positive ``T`` in periods, or 1.0.
    """
    positive = T[T > 0]
    return float(np.median(positive)) if positive.size else 1.0


def dropout_not_identified(
    params: BgNbdParams, log_likelihood: Callable[[FloatArray], float]
) -> bool:
    """True when the (penalized) likelihood is flat or rising as ``a`` and ``b`` grow together.

    Multiplying ``a`` and ``b`` by :data:`PROFILE_STEP` keeps the mean dropout probability
    ``a / (a + b)`` and shrinks its spread across customers ten-fold. At a real maximum the
    log-likelihood drops; on the ridge of data without evidence of heterogeneous dropout it
    drops by less than :data:`PROFILE_FLAT_DROP` (or rises), whatever point of the ridge the
    optimiser stopped at. The test uses only the fitted parameters, so every machine gives the
    same verdict.

    Parameters
    ----------
    params : BgNbdParams
        ``r``, ``alpha`` (in the time unit of the inputs), ``a``, ``b``.
    log_likelihood : callable
        Maps a float64 array (r, alpha, a, b), shape (4,), to the sample's (penalized)
        log-likelihood, a float.

    Returns
    -------
    bool
        False also when either log-likelihood is not finite.
    """
    fitted = log_likelihood(np.array([params.r, params.alpha, params.a, params.b]))
    stretched = log_likelihood(
        np.array([params.r, params.alpha, params.a * PROFILE_STEP, params.b * PROFILE_STEP])
    )
    if not (math.isfinite(fitted) and math.isfinite(stretched)):
        return False
    return stretched > fitted - PROFILE_FLAT_DROP


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

    Parameters
    ----------
    params : BgNbdParams
        ``r``, ``alpha`` (in the time unit of the inputs), ``a``, ``b``.
    frequency : array_like of float, shape (n_customers,)
        Repeat purchases x (whole numbers >= 0).
    recency : array_like of float, shape (n_customers,)
        Time of the last purchase since the first, t_x, in periods (0 when x = 0).
    T : array_like of float, shape (n_customers,)
        Age: time from the first purchase to the calibration end, in the same periods.
    horizon : float
        Forecast horizon in periods (the fit's time unit), > 0.
    step : float
        Discounting step in periods, > 0.
    annual_discount_rate : float
        d, per year (0.1 for 10 %).
    unit_days : float
        Days per period (1 for days, 7 for weeks).

    Returns
    -------
    ndarray of float64, shape (n_customers,)
        Discounted expected purchases (count) over the horizon.
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

    Parameters
    ----------
    probability_alive : array_like of float, shape (n_customers,)
        P(alive) in [0, 1], NaN allowed.
    high_below, medium_below : float
        Thresholds on P(alive).

    Returns
    -------
    ndarray of object, shape (n_customers,)
        ``"high"``, ``"medium"``, ``"low"`` or None.
    """
    p = np.asarray(probability_alive, dtype=np.float64)
    band = np.where(p < high_below, "high", np.where(p < medium_below, "medium", "low"))
    out = band.astype(object)
    out[~np.isfinite(p)] = None
    return out
