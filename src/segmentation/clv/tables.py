"""Arrow glue: summary table in, customer and parameter tables out (what the dbt models publish)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from segmentation.clv._mle import _STATUS_OK
from segmentation.clv.bgnbd import (
    BG_NBD_PARAMETERS,
    BgNbdFit,
    BgNbdParams,
    bg_nbd_conditional_expected_purchases,
    bg_nbd_probability_alive,
    churn_risk_band,
    discounted_expected_purchases,
    fit_bg_nbd,
)
from segmentation.clv.diagnostics import (
    bg_nbd_diagnostic,
    combined_diagnostic,
    gamma_gamma_diagnostic,
)
from segmentation.clv.gamma_gamma import (
    GAMMA_GAMMA_PARAMETERS,
    GammaGammaFit,
    fit_gamma_gamma,
    frequency_monetary_correlation,
    gamma_gamma_conditional_expected_value,
)
from segmentation.clv.holdout import calibration_holdout
from segmentation.clv.settings import ClvSettings
from segmentation.clv.validation import FloatArray, validate_monetary, validate_rft

CUSTOMER_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("expected_purchases", pa.float64()),
        pa.field("probability_alive", pa.float64()),
        pa.field("expected_average_value", pa.float64()),
        pa.field("predicted_clv", pa.float64()),
        pa.field("churn_risk_band", pa.string()),
        pa.field("clv_status", pa.string(), nullable=False),
        pa.field("clv_diagnostic", pa.string(), nullable=False),
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
        pa.field("diagnostic", pa.string(), nullable=False),
        pa.field("fit_sample", pa.string(), nullable=False),
    ]
)
"""Schema of :meth:`ClvResult.parameters`."""

HOLDOUT_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        pa.field("calibration_frequency", pa.string(), nullable=False),
        pa.field("n_customers", pa.int64(), nullable=False),
        pa.field("actual_purchases", pa.float64(), nullable=False),
        pa.field("predicted_purchases", pa.float64()),
        pa.field("mean_actual", pa.float64()),
        pa.field("mean_predicted", pa.float64()),
        pa.field("relative_error", pa.float64()),
        pa.field("holdout_periods", pa.float64(), nullable=False),
    ]
)
"""Schema of :func:`calibration_holdout_table` (the fields of :class:`HoldoutRow`)."""

SUMMARY_COLUMNS: Final[tuple[str, ...]] = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
)
"""Columns :func:`fit_clv` expects in its ``summary`` table."""


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
        for that customer); ``clv_status`` is ``"ok"`` or says why; ``clv_diagnostic`` is the
        fits' :func:`~segmentation.clv.diagnostics.combined_diagnostic` (the same on every row).

        Returns
        -------
        pyarrow.Table, n_customers rows
            Schema :data:`CUSTOMER_SCHEMA`: ``expected_purchases`` (count over the horizon),
            ``probability_alive`` ([0, 1]), ``expected_average_value`` and ``predicted_clv``
            (currency of the input), ``churn_risk_band``, ``clv_status``, ``clv_diagnostic``.
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
                # From the object arrays directly (None is null), not through Python lists.
                pa.array(self.churn_risk_band, type=pa.string()),
                pa.array(self.clv_status, type=pa.string()),
                pa.repeat(pa.scalar(self.diagnostic(), pa.string()), len(self.customer_id)),
            ],
            schema=CUSTOMER_SCHEMA,
        )

    def diagnostic(self) -> str:
        """``"ok"`` or what is wrong with either fit (:mod:`segmentation.clv.diagnostics`).

        Returns
        -------
        str
            ``"ok"`` or ``"<model> <diagnostic>"`` for each model whose diagnostic is not ok.
        """
        return combined_diagnostic(
            bg_nbd_diagnostic(self.bg_nbd, self.n_repeat_customers),
            gamma_gamma_diagnostic(self.gamma_gamma, self.frequency_spend_correlation),
        )

    def parameters(self) -> pa.Table:
        """One row per (model, parameter) plus diagnostics: :func:`parameters_table`.

        Returns
        -------
        pyarrow.Table, 11 rows
            Schema :data:`PARAMETER_SCHEMA`.
        """
        return parameters_table(
            self.bg_nbd,
            self.gamma_gamma,
            self.frequency_spend_correlation,
            self.n_repeat_customers,
            fit_sample=fit_sample_description(len(self.customer_id), self.settings),
        )


def fit_sample_description(n_customers: int, settings: ClvSettings) -> str:
    """What the fits were computed on, as published in ``clv_parameters.fit_sample``.

    ``"all customers"`` up to ``settings.fit_sample_max_customers``, above it
    ``"seeded sample of <size> of <n> customers (fit_sample_max_customers)"`` (see
    :func:`fit_sample_index`).

    Parameters
    ----------
    n_customers : int
        Customers in the input summary.
    settings : ClvSettings
        The CLV settings (``fit_sample_max_customers``, ``fit_sample_seed``, ...).

    Returns
    -------
    str
        The description (also names ``fit_sample_seed`` when sampled).
    """
    size = settings.fit_size(n_customers)
    if size == n_customers:
        return "all customers"
    return (
        f"seeded sample of {size} of {n_customers} customers "
        f"(fit_sample_max_customers = {settings.fit_sample_max_customers}, "
        f"fit_sample_seed = {settings.fit_sample_seed})"
    )


def parameters_table(
    bg: BgNbdFit,
    gg: GammaGammaFit,
    correlation: float,
    n_repeat_customers: int,
    fit_sample: str = "all customers",
) -> pa.Table:
    """One row per (model, parameter) plus diagnostics (see :data:`PARAMETER_SCHEMA`).

    Rows with ``kind == "parameter"`` hold the fitted values (null when not fitted); rows
    with ``kind == "diagnostic"`` hold ``frequency_spend_correlation`` (the Pearson
    correlation the Gamma-Gamma independence assumption wants near 0) and
    ``repeat_customers`` (customers with frequency > 0 in the whole input), ``time_scale`` and
    ``spend_scale`` (the units each model was fitted in: median T, median repeat spend).
    ``diagnostic`` is the model's :mod:`~segmentation.clv.diagnostics` verdict on every row;
    ``fit_sample`` says what the fits used (:func:`fit_sample_description`), on every row.

    Parameters
    ----------
    bg : BgNbdFit
        The BG/NBD fit (``alpha`` in periods of the fit's time unit).
    gg : GammaGammaFit
        The Gamma-Gamma fit (``gamma`` in the currency of the input).
    correlation : float
        Frequency-spend Pearson correlation, NaN allowed.
    n_repeat_customers : int
        Customers with frequency > 0 in the whole input.
    fit_sample : str
        :func:`fit_sample_description` of the fit.

    Returns
    -------
    pyarrow.Table, 11 rows
        Schema :data:`PARAMETER_SCHEMA`: 4 BG/NBD and 3 Gamma-Gamma parameter rows, then
        ``time_scale`` (periods), ``frequency_spend_correlation``, ``repeat_customers`` and
        ``spend_scale`` (currency); non-finite values are null.
    """
    rows: list[dict[str, Any]] = []
    verdicts = {
        "bg_nbd": bg_nbd_diagnostic(bg, n_repeat_customers),
        "gamma_gamma": gamma_gamma_diagnostic(gg, correlation),
    }

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
                "diagnostic": verdicts[model],
                "fit_sample": fit_sample,
            }
        )

    for name in BG_NBD_PARAMETERS:
        add("bg_nbd", name, "parameter", float(getattr(bg, name)), bg)
    for name in GAMMA_GAMMA_PARAMETERS:
        add("gamma_gamma", name, "parameter", float(getattr(gg, name)), gg)
    add("bg_nbd", "time_scale", "diagnostic", bg.scale, bg)
    add("gamma_gamma", "frequency_spend_correlation", "diagnostic", correlation, gg)
    add("gamma_gamma", "repeat_customers", "diagnostic", float(n_repeat_customers), gg)
    add("gamma_gamma", "spend_scale", "diagnostic", gg.scale, gg)
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
        null/0 when frequency is 0), e.g. the model int_customer_clv_summary.
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

    Parameters
    ----------
    summary : pyarrow.Table, n_customers rows
        As for :func:`fit_clv` (:data:`SUMMARY_COLUMNS`).
    settings : ClvSettings or None
        Defaults when None.

    Returns
    -------
    pyarrow.Table, 11 rows
        :func:`parameters_table` (schema :data:`PARAMETER_SCHEMA`).

    Raises
    ------
    ValueError
        As :func:`fit_clv`: missing column, null or duplicate ``customer_id``, non-numeric or
        invalid values; never for a failed fit.
    """
    settings = settings if settings is not None else ClvSettings()
    ids, x, t_x, big_t, m = _validated_summary(summary)
    bg, gg, correlation = fit_models(ids, x, t_x, big_t, m, settings)
    return parameters_table(
        bg,
        gg,
        correlation,
        int(np.count_nonzero(x > 0)),
        fit_sample=fit_sample_description(len(ids), settings),
    )


def fit_sample_index(ids: pa.Array, settings: ClvSettings) -> NDArray[np.int64]:
    """Positions of the customers the models are fitted on, in customer-id order.

    All customers, or above ``settings.fit_sample_max_customers`` a seeded uniform sample of
    that size drawn over the customers sorted by id. Either way the positions come sorted by
    customer id, so the fit (and every sum in it) sees the same values in the same order
    whatever the input's row order: the result is byte-identical.

    Parameters
    ----------
    ids : pyarrow.Array of string, length n_customers
        Customer ids in input order.
    settings : ClvSettings
        The CLV settings (``fit_sample_max_customers``, ``fit_sample_seed``, ...).

    Returns
    -------
    ndarray of int64, shape (settings.fit_size(n_customers),)
        Positions into ``ids``, in ascending customer-id order.
    """
    return _fit_sample_positions(_id_order(ids), settings)


def _id_order(ids: pa.Array) -> NDArray[np.int64]:
    """Positions that sort ``ids`` (customer-id order)."""
    return np.asarray(pc.sort_indices(ids).to_numpy(), dtype=np.int64)


def _fit_sample_positions(by_id: NDArray[np.int64], settings: ClvSettings) -> NDArray[np.int64]:
    """:func:`fit_sample_index` from the customer-id order ``by_id``."""
    n = len(by_id)
    size = settings.fit_size(n)
    if size == n:
        return by_id
    rng = np.random.default_rng(settings.fit_sample_seed)
    return by_id[np.sort(rng.choice(n, size=size, replace=False))]


def fit_models(
    ids: pa.Array,
    x: FloatArray,
    t_x: FloatArray,
    big_t: FloatArray,
    m: FloatArray,
    settings: ClvSettings,
) -> tuple[BgNbdFit, GammaGammaFit, float]:
    """BG/NBD and Gamma-Gamma fitted on :func:`fit_sample_index`; frequency-spend correlation.

    Everything is computed in customer-id order (the correlation over all customers), so the
    input's row order cannot change a bit of the result. BLAS is held to one thread: the
    likelihood works on vectors too small to gain from more, and inside ``dbt build`` other
    models use the second core (measured: the fit took three times longer with OpenBLAS
    threads competing with DuckDB's).

    Parameters
    ----------
    ids : pyarrow.Array of string, length n_customers
        Customer ids (unique, non-null).
    x : ndarray of float64, shape (n_customers,)
        Repeat purchases (validated by :func:`validate_rft`).
    t_x, big_t : ndarray of float64, shape (n_customers,)
        Recency and age T in ``settings.time_unit`` periods.
    m : ndarray of float64, shape (n_customers,)
        Mean repeat value, currency of the input; NaN where x = 0 (:func:`validate_monetary`).
    settings : ClvSettings
        The CLV settings (``fit_sample_max_customers``, ``fit_sample_seed``, ...).

    Returns
    -------
    bg : BgNbdFit
        From :func:`fit_bg_nbd` (Fader, Hardie & Lee 2005, Marketing Science 24(2)).
    gg : GammaGammaFit
        From :func:`fit_gamma_gamma` (Fader, Hardie & Lee 2005, JMR 42(4)).
    correlation : float
        :func:`frequency_monetary_correlation` over all customers, or NaN.

    Raises
    ------
    ValueError
        Only for invalid inputs (as :func:`fit_bg_nbd` and :func:`fit_gamma_gamma`); a failed
        fit is reported in the fit, not raised.
    """
    by_id = _id_order(ids)
    sample = _fit_sample_positions(by_id, settings)
    fx, ft_x, fbig_t, fm = x[sample], t_x[sample], big_t[sample], m[sample]
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
        correlation = frequency_monetary_correlation(x[by_id], m[by_id])
    return bg, gg, correlation


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
    # Duplicates sit next to each other in id order: a sort and one comparison are a few times
    # cheaper than counting every id (1M ids: 0.06 s instead of 0.17 s); the counts are taken
    # only to name the duplicates in the error.
    ordered = ids.take(pc.sort_indices(ids))
    if len(ordered) > 1 and pc.any(pc.equal(ordered[1:], ordered[:-1])).as_py():
        counts = pc.value_counts(ids)
        duplicated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
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

    Parameters
    ----------
    ids : pyarrow.Array of string, length n_customers
        Customer ids (unique, non-null).
    x : ndarray of float64, shape (n_customers,)
        Repeat purchases (validated by :func:`validate_rft`).
    t_x, big_t : ndarray of float64, shape (n_customers,)
        Recency and age T in ``settings.time_unit`` periods.
    m : ndarray of float64, shape (n_customers,)
        Mean repeat value, currency of the input; NaN where x = 0 (:func:`validate_monetary`).
    bg : BgNbdFit
        The BG/NBD fit; not converged gives null purchases, P(alive) and CLV.
    gg : GammaGammaFit
        The Gamma-Gamma fit; not converged gives null value and CLV.
    correlation : float
        Frequency-spend correlation, kept for the diagnostic.
    settings : ClvSettings
        Horizon, discount step and rate, time unit, churn thresholds.

    Returns
    -------
    ClvResult
        Arrays of shape (n_customers,) in input order: ``expected_purchases`` (count over the
        horizon), ``probability_alive``, ``expected_average_value`` and ``predicted_clv``
        (currency of the input, discounted), ``churn_risk_band``, ``clv_status``.
    """
    n = int(x.size)

    nan = np.full(n, np.nan)
    reasons: list[str] = []
    expected, alive, clv_units = nan.copy(), nan.copy(), nan.copy()
    if bg.converged:
        expected, alive, clv_units = _bg_nbd_predictions(bg, x, t_x, big_t, settings)
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
    broken = _null_where_broken(produced, (expected, alive, clv_units, value), n)
    clv = clv_units * value
    status = _statuses(n, reasons, broken)

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


def _bg_nbd_predictions(
    bg: BgNbdFit, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray, settings: ClvSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected purchases over the horizon, P(alive) and discounted expected purchases (n,)."""
    with np.errstate(all="ignore"):
        expected = bg_nbd_conditional_expected_purchases(bg.params, settings.horizon, x, t_x, big_t)
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
    return expected, alive, clv_units


def _null_where_broken(
    produced: list[np.ndarray], outputs: tuple[np.ndarray, ...], n: int
) -> np.ndarray:
    """Rows (n,) where a ``produced`` array is not finite; ``outputs`` set NaN there, in place."""
    broken = np.zeros(n, dtype=bool)
    for arr in produced:
        broken |= ~np.isfinite(arr)
    for arr in outputs:
        arr[broken] = np.nan
    return broken


def _statuses(n: int, reasons: list[str], broken: np.ndarray) -> np.ndarray:
    """``clv_status`` (n,): ok, the models' reasons, or a numerical failure of that customer."""
    status = np.full(n, _STATUS_OK, dtype=object)
    if reasons:
        status[:] = "; ".join(reasons)
    if broken.any():
        status[broken] = "; ".join(
            ["numerical failure: non-finite prediction for this customer", *reasons]
        )
    return status


def calibration_holdout_table(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    holdout_purchases: ArrayLike,
    params: BgNbdParams | None,
    holdout_periods: float,
    *,
    max_bucket: int = 7,
) -> pa.Table:
    """:func:`segmentation.clv.holdout.calibration_holdout` as a table.

    Same parameters and errors; returns its rows as a pyarrow Table of schema
    :data:`HOLDOUT_SCHEMA`, ``max_bucket + 2`` rows in the same order.
    """
    rows = calibration_holdout(
        frequency, recency, T, holdout_purchases, params, holdout_periods, max_bucket=max_bucket
    )
    return pa.Table.from_pylist([asdict(row) for row in rows], schema=HOLDOUT_SCHEMA)
