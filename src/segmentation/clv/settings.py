"""Settings of the CLV models (the keys of segmentation.clv), validated on construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

import numpy as np

TimeUnit = Literal["days", "weeks"]

DAYS_PER_UNIT: Final[dict[str, float]] = {"days": 1.0, "weeks": 7.0}
"""Length of one time unit in days; times in weeks are days / 7."""

DAYS_PER_YEAR: Final[float] = 365.0
"""Days per year used to turn the annual discount rate into per-step discount factors."""


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

        Parameters
        ----------
        d : mapping or None
            ``segmentation.clv`` without the SQL-only keys.

        Returns
        -------
        ClvSettings
            The validated settings.

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
        """How many of ``n_customers`` the models are fitted on (fit_sample_max_customers).

        Parameters
        ----------
        n_customers : int
            Customers available.

        Returns
        -------
        int
            ``min(n_customers, fit_sample_max_customers)``.
        """
        return min(n_customers, self.fit_sample_max_customers)

    @property
    def unit_days(self) -> float:
        """Days per time unit (1 or 7).

        Returns
        -------
        float
            Days per period.
        """
        return DAYS_PER_UNIT[self.time_unit]

    @property
    def horizon(self) -> float:
        """The horizon in the configured time unit.

        Returns
        -------
        float
            ``horizon_days / unit_days``, in periods.
        """
        return self.horizon_days / self.unit_days

    @property
    def discount_step(self) -> float:
        """The discounting step in the configured time unit.

        Returns
        -------
        float
            ``discount_step_days / unit_days``, in periods.
        """
        return self.discount_step_days / self.unit_days
