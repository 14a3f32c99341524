"""Predictive customer lifetime value: BG/NBD purchase counts, Gamma-Gamma spend, discounted CLV.

One module per model, as in the reference implementation (CamDavidsonPilon/lifetimes, whose
``fitters`` package has one module per model and whose ``utils`` hold the table glue):

* :mod:`segmentation.clv.bgnbd` -- the **BG/NBD** model (Fader, Hardie & Lee 2005, "Counting your
  customers the easy way", *Marketing Science* 24(2)): likelihood, fit, P(alive), expected
  purchases, discounted purchases, churn bands.
* :mod:`segmentation.clv.gamma_gamma` -- the **Gamma-Gamma** spend model (Fader, Hardie & Lee
  2005, "RFM and CLV: using iso-value curves", *Journal of Marketing Research* 42(4)).
* :mod:`segmentation.clv.diagnostics` -- when not to trust a fit (non-identification,
  spend-frequency correlation, parameters at extremes, few repeat customers).
* :mod:`segmentation.clv.holdout` -- calibration/holdout check (actual vs predicted purchases).
* :mod:`segmentation.clv.settings` -- :class:`ClvSettings`, the validated ``segmentation.clv``.
* :mod:`segmentation.clv.tables` -- Arrow in, Arrow out: :func:`fit_clv`, :class:`ClvResult`,
  the parameter table the dbt models publish.
* :mod:`segmentation.clv.validation` and ``_mle`` -- input checks and the shared optimiser.

Both fitters are scale-free: they fit on rescaled values (times divided by the median ``T``,
amounts by the median spend) and report parameters in the caller's units, so a currency with
large units or a time unit of days gives the same fit as dollars and weeks.

Failure modes are explicit: too little data, a non-converging optimiser or a model that is not
identified never raise; the fit summaries report ``converged=False`` with a message, and the
per-customer outputs are null with a ``clv_status`` saying why. Invalid *inputs* raise
:class:`ValueError` naming the column, the offending value and how many rows are affected.
"""

from segmentation.clv.bgnbd import (
    BG_NBD_PARAMETERS,
    BgNbdFit,
    BgNbdParams,
    bg_nbd_conditional_expected_purchases,
    bg_nbd_expected_purchases,
    bg_nbd_log_likelihood,
    bg_nbd_probability_alive,
    churn_risk_band,
    discounted_expected_purchases,
    fit_bg_nbd,
)
from segmentation.clv.gamma_gamma import (
    GAMMA_GAMMA_PARAMETERS,
    GammaGammaFit,
    GammaGammaParams,
    fit_gamma_gamma,
    frequency_monetary_correlation,
    gamma_gamma_conditional_expected_value,
    gamma_gamma_log_likelihood,
    gamma_gamma_log_likelihood_gradient,
)
from segmentation.clv.settings import DAYS_PER_UNIT, DAYS_PER_YEAR, ClvSettings, TimeUnit
from segmentation.clv.tables import (
    CUSTOMER_SCHEMA,
    PARAMETER_SCHEMA,
    SUMMARY_COLUMNS,
    ClvResult,
    fit_clv,
    fit_clv_parameters,
    fit_models,
    fit_sample_description,
    fit_sample_index,
    parameters_table,
    score_clv,
)
from segmentation.clv.validation import validate_monetary, validate_rft

__all__ = [
    "BG_NBD_PARAMETERS",
    "CUSTOMER_SCHEMA",
    "DAYS_PER_UNIT",
    "DAYS_PER_YEAR",
    "GAMMA_GAMMA_PARAMETERS",
    "PARAMETER_SCHEMA",
    "SUMMARY_COLUMNS",
    "BgNbdFit",
    "BgNbdParams",
    "ClvResult",
    "ClvSettings",
    "GammaGammaFit",
    "GammaGammaParams",
    "TimeUnit",
    "bg_nbd_conditional_expected_purchases",
    "bg_nbd_expected_purchases",
    "bg_nbd_log_likelihood",
    "bg_nbd_probability_alive",
    "churn_risk_band",
    "discounted_expected_purchases",
    "fit_bg_nbd",
    "fit_clv",
    "fit_clv_parameters",
    "fit_gamma_gamma",
    "fit_models",
    "fit_sample_description",
    "fit_sample_index",
    "frequency_monetary_correlation",
    "gamma_gamma_conditional_expected_value",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_log_likelihood_gradient",
    "parameters_table",
    "score_clv",
    "validate_monetary",
    "validate_rft",
]
