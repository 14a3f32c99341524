"""Maximum likelihood over positive parameters, shared by the BG/NBD and Gamma-Gamma fitters."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import OptimizeResult, minimize

from segmentation.clv.validation import FloatArray

_LOG_BOUND: Final[float] = 20.0
"""Optimisation box for the log-parameters: exp(+-20) spans 2e-9 .. 5e8. The fitters pass
rescaled data (times / median T, amounts / median spend), so the box is in those units and holds
whatever the currency or time unit of the input."""

_STATUS_OK: Final[str] = "ok"

_LBFGSB_ABNORMAL: Final[int] = 2
"""scipy's L-BFGS-B status when the line search found no decrease ("ABNORMAL")."""

FLAT_STOP_SE_FRACTION: Final[float] = 0.01
"""An L-BFGS-B stop without a decrease is accepted when the gradient says the optimum is closer
than this fraction of a standard error: see :func:`_accept_flat_stop`."""


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
    value_and_gradient: Callable[[FloatArray], tuple[float, FloatArray]] | None = None,
) -> _MleOutcome:
    """Maximise a summed log-likelihood over positive parameters.

    The objective is ``-sum(ll)/n + penalizer * sum(theta^2)`` in the natural parameters
    ``theta = exp(log_theta)``, minimised over ``log_theta`` in a box of +-20 with L-BFGS-B from
    the deterministic start ``theta = 1``; if L-BFGS-B stops without success for a reason other
    than its iteration limit (typically a line search failure near the optimum with
    finite-difference gradients) Nelder-Mead polishes from where it stopped, unless an exact
    gradient shows the stop is already flat (:func:`_accept_flat_stop`).  scipy errors and
    non-finite objectives are caught and reported, never raised. ``value_and_gradient`` (the
    summed log-likelihood and its gradient in the natural parameters, computed together so that
    they share their terms), when given, replaces the finite differences of L-BFGS-B, and a
    converged result is then refined by :func:`_newton_polish` so that the optimum does not
    depend on rounding in the data.
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
        assert value_and_gradient is not None
        theta = np.exp(log_theta)
        with np.errstate(all="ignore"):
            total, slope = value_and_gradient(theta)
            slope = np.asarray(slope, dtype=np.float64)
        if not math.isfinite(total) or not np.all(np.isfinite(slope)):
            return 1e100, np.zeros(len(names))
        value = -total / n_customers + penalizer * float(np.sum(theta**2))
        # d/d(log theta) = theta * d/d(theta)
        return value, theta * (-slope / n_customers + 2.0 * penalizer * theta)

    res, iterations, error = _minimise(
        objective if value_and_gradient is None else objective_and_gradient,
        objective,
        np.zeros(len(names)),
        bounds,
        max_iterations,
        exact_gradient=value_and_gradient is not None,
        n_customers=n_customers,
    )
    if res is None:
        nan = np.full(len(names), np.nan)
        return _MleOutcome(nan, math.nan, False, f"optimiser error: {error}", iterations)

    if value_and_gradient is not None and res.success:
        res.x = _newton_polish(lambda v: objective_and_gradient(v)[1], res.x, bounds)
    theta = np.exp(res.x)
    with np.errstate(all="ignore"):
        ll = log_likelihood(theta)
    converged, message = _diagnose(res, ll, names, theta)
    return _MleOutcome(theta, ll, converged, message, iterations)


def _minimise(
    first: Callable[[FloatArray], float | tuple[float, FloatArray]],
    objective: Callable[[FloatArray], float],
    start: FloatArray,
    bounds: list[tuple[float, float]],
    max_iterations: int,
    *,
    exact_gradient: bool,
    n_customers: int,
) -> tuple[OptimizeResult | None, int, Exception | None]:
    """Minimise from ``start``: L-BFGS-B, then Nelder-Mead when needed (see :func:`_maximise`).

    L-BFGS-B runs on ``first`` (with its gradient when ``exact_gradient``); when it stops
    without success other than by its iteration limit, Nelder-Mead polishes ``objective``.
    Returns scipy's result, the iterations of both and None; on a scipy error (ValueError,
    ArithmeticError, FloatingPointError), None, the iterations so far and the error.
    """
    iterations = 0
    try:
        res: OptimizeResult = minimize(
            first,
            start,
            method="L-BFGS-B",
            jac=exact_gradient,
            bounds=bounds,
            options={"maxiter": max_iterations, "ftol": 1e-14, "gtol": 1e-9},
        )
        iterations += int(res.nit)
        if exact_gradient and not res.success and res.status == _LBFGSB_ABNORMAL:
            res = _accept_flat_stop(res, n_customers)
        # status 1 = iteration limit: typically a flat ridge towards the bound, where polishing
        # only burns time; other failures (line search near the optimum) are polished.
        if not res.success and res.status != 1:
            res = minimize(
                objective,
                res.x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": max_iterations * 2, "xatol": 1e-9, "fatol": 1e-12},
            )
            iterations += int(res.nit)
    except (ValueError, ArithmeticError, FloatingPointError) as exc:
        return None, iterations, exc
    return res, iterations, None


def _diagnose(
    res: OptimizeResult, ll: float, names: Sequence[str], theta: FloatArray
) -> tuple[bool, str]:
    """(converged, message) of an optimiser result: not converged, not finite or at a bound."""
    if not res.success:
        last = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, theta, strict=True))
        return False, f"optimiser did not converge: {res.message} (last values {last})"
    if not math.isfinite(ll) or float(res.fun) >= 1e100:
        return False, "log-likelihood is not finite at the optimum"
    at_bound = [n for n, v in zip(names, res.x, strict=True) if abs(v) > _LOG_BOUND - 1e-3]
    if at_bound:
        return False, (
            f"parameter(s) {', '.join(at_bound)} at the optimisation bound "
            f"(exp(+-{_LOG_BOUND:g})): the model is not identified on this data"
        )
    return True, _STATUS_OK


def _accept_flat_stop(res: OptimizeResult, n_customers: int) -> OptimizeResult:
    """Mark an exact-gradient L-BFGS-B stop without a line-search decrease as converged if flat.

    With the exact gradient, the line search fails only where the objective (a mean over
    customers) no longer decreases in double precision along the search direction: on a flat
    ridge such as the Gamma-Gamma's ``p -> infinity`` with ``p * gamma`` fixed (data without
    spread of spend within a customer: the demo data) or right at the optimum. Nelder-Mead
    cannot do better there; at 44,000 customers it spent 2,000 iterations (30 s, the largest
    node of a 100,000-customer build) and then reported "not converged", nulling every CLV.

    The stop is accepted when every gradient component of the mean objective in the
    log-parameters is below ``FLAT_STOP_SE_FRACTION / sqrt(n)``: with curvature ``h`` per
    customer, the distance to the optimum is ``g / h`` and a standard error is
    ``1 / sqrt(n h)``, so (for ``h`` of order 1, as for these log-parameters) the stop is within
    1 % of a standard error of the optimum: closer than the data can tell. Otherwise the
    result is returned unchanged (and polished by Nelder-Mead).
    """
    slope = np.asarray(res.jac, dtype=np.float64)
    tolerance = FLAT_STOP_SE_FRACTION / math.sqrt(max(n_customers, 1))
    if slope.size and np.all(np.isfinite(slope)) and float(np.max(np.abs(slope))) <= tolerance:
        res.success = True
        res.message = f"flat stop accepted: {res.message}"
    return res


def _unique_rows(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of the given columns and their multiplicities.

    Customers with identical inputs contribute identical likelihood terms, so the likelihood is
    evaluated once per distinct row and weighted by its count (the 23,570 CDNOW customers have
    8,685 distinct (x, t_x, T) rows); the result is the same sum, computed faster.
    The rows come in lexicographic order (as ``np.unique(..., axis=0)`` gives them, by a
    lexsort that is several times faster than its sort of structured rows).
    """
    order = np.lexsort(columns[::-1])
    ordered = [np.asarray(column, dtype=np.float64)[order] for column in columns]
    first = np.ones(order.size, dtype=bool)
    if order.size > 1:
        first[1:] = np.logical_or.reduce([column[1:] != column[:-1] for column in ordered])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, order.size))
    return [column[starts] for column in ordered], counts.astype(np.float64)


def _distinct(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """Distinct values, sorted, and each element's position among them (``values == d[i]``).

    The likelihoods take their special functions (gammaln, digamma) of the purchase count and
    their logarithms of the times on these few distinct values (about 40 counts and 1,000 ages
    in 50,000 customers) and gather them per row, instead of evaluating them once per row.
    """
    distinct, index = np.unique(values, return_inverse=True)
    return distinct, np.asarray(index, dtype=np.intp).reshape(-1)


def _too_few(what: str, have: int, need: int, setting: str) -> str | None:
    """Reason string when ``have < need``, else None."""
    if have < need:
        return f"too few {what}: {have} < {need} ({setting})"
    return None


_NEWTON_STEPS: Final[int] = 8
"""Newton steps at most in :func:`_newton_polish`."""


def _newton_polish(
    slope: Callable[[FloatArray], FloatArray],
    x: FloatArray,
    bounds: Sequence[tuple[float, float]],
) -> FloatArray:
    """Newton's method on the gradient from where L-BFGS-B stopped, in the log-parameters.

    L-BFGS-B stops when the objective no longer changes in double precision, but near the
    optimum the objective is flat to ~1e-16 over parameter changes of ~1e-7 (``f`` is quadratic
    there), so where it stops depends on rounding: rescaling the data moved p and q by 2e-7.
    The gradient still resolves the optimum, so a few Newton steps on it (Hessian by central
    differences of the exact gradient) land on the same point, to ~1e-10, for any rescaling.
    A step is taken only while the Hessian is positive definite and the step small (we are at
    a minimum already); otherwise the L-BFGS-B point is kept.
    """
    lower = np.array([lo for lo, _ in bounds])
    upper = np.array([hi for _, hi in bounds])
    current = np.asarray(x, dtype=np.float64).copy()
    h = 1e-5
    eye = np.eye(current.size)
    for _ in range(_NEWTON_STEPS):
        g = slope(current)
        columns = [(slope(current + h * e) - slope(current - h * e)) / (2.0 * h) for e in eye]
        hessian = np.column_stack(columns)
        hessian = (hessian + hessian.T) / 2.0
        try:
            np.linalg.cholesky(hessian)
            step = np.linalg.solve(hessian, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1e-2:
            break
        candidate = current - step
        if np.any(candidate <= lower) or np.any(candidate >= upper):
            break
        current = candidate
        if np.max(np.abs(step)) < 1e-13:
            break
    return current
