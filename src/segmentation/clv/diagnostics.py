"""When not to trust a CLV fit: a per-fit diagnostic a BI reader can see.

Each fitted model gets a diagnostic, ``"ok"``, ``"warning: <reasons>"`` or ``"not fitted:
<message>"``, published in ``clv_parameters.diagnostic`` and, combined, in
``customer_clv.clv_diagnostic`` and ``segment_profiles.clv_diagnostic``. docs/clv.md explains
the rules and what they give on CDNOW and Online Retail. A warning does not null any prediction
(the model did fit); it says the numbers rest on an assumption the data do not support.

Warnings:
* **spend depends on frequency** (Gamma-Gamma): ``|corr(frequency, mean repeat spend)|`` above
  :data:`CORRELATION_WARNING` among the repeat customers. The model assumes independence; FHL
  report 0.11 on CDNOW and treat that as acceptable.
* **parameters at extremes**: a dimensionless parameter (r, a, b, p, q) or a scale parameter
  divided by its fit's scale (alpha / median T, gamma / median spend) outside
  [:data:`EXTREME_LOW`, :data:`EXTREME_HIGH`]: the optimum lies at a corner of the model
  (e.g. a near 0: almost nobody ever drops out), where predictions extrapolate.
* **few repeat customers**: fewer than :data:`FEW_REPEAT_CUSTOMERS` customers with a repeat
  purchase, where the parameters' standard errors are of the order of the parameters.
"""

from __future__ import annotations

import math
from typing import Final

from segmentation.clv.bgnbd import BG_NBD_PARAMETERS, BgNbdFit
from segmentation.clv.gamma_gamma import GAMMA_GAMMA_PARAMETERS, GammaGammaFit

OK: Final[str] = "ok"

CORRELATION_WARNING: Final[float] = 0.3
"""Absolute frequency-spend correlation above which the Gamma-Gamma assumption is violated."""

EXTREME_LOW: Final[float] = 1e-2
EXTREME_HIGH: Final[float] = 1e2
"""Range of the scale-free parameters outside which a fit is 'at an extreme'."""

FEW_REPEAT_CUSTOMERS: Final[int] = 100
"""Repeat customers below which a fit warns (the hard minimums are ClvSettings.min_*)."""


def _extremes(values: dict[str, float]) -> list[str]:
    """Reasons for the scale-free values outside [EXTREME_LOW, EXTREME_HIGH].

    The value itself is left out of the text: at an extreme the optimum is often a ridge where
    the exact value depends on where the optimiser stopped, and the diagnostic must read the
    same on every machine (the values are in clv_parameters).
    """
    reasons = []
    for name, value in values.items():
        if value < EXTREME_LOW:
            reasons.append(f"{name} < {EXTREME_LOW:g} (parameter at an extreme)")
        elif value > EXTREME_HIGH:
            reasons.append(f"{name} > {EXTREME_HIGH:g} (parameter at an extreme)")
    return reasons


def _few(n_repeat: int) -> list[str]:
    if n_repeat < FEW_REPEAT_CUSTOMERS:
        return [f"few repeat customers: {n_repeat} < {FEW_REPEAT_CUSTOMERS}"]
    return []


def _verdict(reasons: list[str]) -> str:
    return "warning: " + "; ".join(reasons) if reasons else OK


def bg_nbd_diagnostic(fit: BgNbdFit, n_repeat_customers: int) -> str:
    """``"ok"``, ``"warning: ..."`` or ``"not fitted: <message>"`` for a BG/NBD fit.

    ``n_repeat_customers`` counts the customers with frequency > 0 in the whole input.

    Parameters
    ----------
    fit : BgNbdFit
        The fit; r, a, b and alpha / ``fit.scale`` are checked against the extremes.
    n_repeat_customers : int
        Customers with frequency > 0 in the whole input.

    Returns
    -------
    str
        The diagnostic text.
    """
    if not fit.converged:
        return f"not fitted: {fit.message}"
    values = {name: float(getattr(fit, name)) for name in BG_NBD_PARAMETERS}
    values["alpha / time scale"] = values.pop("alpha") / fit.scale
    return _verdict(_extremes(values) + _few(n_repeat_customers))


def gamma_gamma_diagnostic(fit: GammaGammaFit, correlation: float) -> str:
    """The same for a Gamma-Gamma fit, with the frequency-spend correlation check.

    Parameters
    ----------
    fit : GammaGammaFit
        The fit; p, q and gamma / ``fit.scale`` are checked, ``fit.n_customers`` is the repeat
        customer count.
    correlation : float
        Frequency-spend Pearson correlation; NaN skips that check.

    Returns
    -------
    str
        ``"ok"``, ``"warning: ..."`` or ``"not fitted: <message>"``.
    """
    if not fit.converged:
        return f"not fitted: {fit.message}"
    reasons = []
    if math.isfinite(correlation) and abs(correlation) > CORRELATION_WARNING:
        reasons.append(
            f"spend depends on frequency: correlation {correlation:.2f} beyond "
            f"+-{CORRELATION_WARNING:g} (the model assumes independence)"
        )
    values = {name: float(getattr(fit, name)) for name in GAMMA_GAMMA_PARAMETERS}
    values["gamma / spend scale"] = values.pop("gamma") / fit.scale
    return _verdict(reasons + _extremes(values) + _few(fit.n_customers))


def combined_diagnostic(bg_nbd: str, gamma_gamma: str) -> str:
    """One line for a customer row: ``"ok"`` or each model's non-ok diagnostic, named.

    Parameters
    ----------
    bg_nbd, gamma_gamma : str
        The two models' diagnostics.

    Returns
    -------
    str
        ``"ok"``, or the non-ok ones prefixed with the model and joined with ``"; "``.
    """
    parts = [
        f"{model} {text}" for model, text in (("bg_nbd", bg_nbd), ("gamma_gamma", gamma_gamma))
    ]
    bad = [part for part, text in zip(parts, (bg_nbd, gamma_gamma), strict=True) if text != OK]
    return "; ".join(bad) if bad else OK
