"""The feature and clustering configuration, parsed and validated at the boundary.

The configuration is the dbt var ``segmentation`` (see ``dbt_project.yml``). dbt hands it to the
Python models as JSON (``"{{ tojson(var('segmentation')) }}"`` in the model's YAML config), so
``SegmentationSettings.from_config`` accepts a JSON string or an already-parsed mapping.

Every error is a ``ConfigError`` (a ``ValueError``) whose message starts with the key path, e.g.
``segmentation.features[2].transform: unknown value 'log2'; expected one of: none, log1p``, so a
user who mistyped a YAML file sees where, without a stack trace from deep inside pandas.

Types, allowed values, ranges, defaults and unknown keys come from the one configuration schema
(``config_schema.yml``, :mod:`segmentation.config_schema`), which the Jinja side reads too; this
module adds the checks between keys (a transform only for numeric features, ``k_min <= k_max``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from segmentation.config_schema import ConfigError, node_at, validate
from segmentation.names import IDENTIFIER

KINDS = ("numeric", "categorical", "ordinal")
TRANSFORMS = ("none", "log1p")
IMPUTATIONS = ("median", "mean", "most_frequent", "constant")
METHODS = ("kmeans", "hierarchical")
LINKAGES = ("ward", "average", "complete")


__all__ = ["ClusteringSettings", "ConfigError", "FeatureSpec", "SegmentationSettings"]


def _choice(path: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(f"{path}: unknown value {value!r}; expected one of: {', '.join(choices)}")
    return value


def _integer(path: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{path}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class FeatureSpec:
    """One clustering feature: a column of ``customer_features`` and how it enters the distance.

    ``kind`` is numeric, categorical (one-hot encoded) or ordinal (``levels`` gives the order,
    mapped to 0..1). ``transform`` applies before imputation statistics and scaling (log1p for
    skewed money and count features). ``weight`` multiplies the scaled column(s); one-hot columns
    are additionally down-weighted by the encoder so a many-level variable does not dominate.
    ``min_level_share`` groups rarer categorical levels into one ``__other__`` level.
    ``label``, ``high_label`` and ``low_label`` are the words used in generated segment names
    (e.g. recency: high_label "Lapsed", low_label "Recent"); they default to the column name.
    """

    name: str
    kind: str = "numeric"
    transform: str = "none"
    impute: str = "median"
    impute_value: float | str | None = None
    missing_indicator: bool = False
    weight: float = 1.0
    levels: tuple[str, ...] = ()
    min_level_share: float = 0.01
    label: str | None = None
    high_label: str | None = None
    low_label: str | None = None

    @classmethod
    def from_dict(cls, raw: Any, path: str) -> FeatureSpec:
        """Parse one entry of ``segmentation.features``; a bare string means a numeric feature."""
        item = validate(node_at("segmentation.features")["items"], raw, path)
        name = item["name"]
        if not IDENTIFIER.match(name):
            raise ConfigError(
                f"{path}.name: {name!r} is not a valid column name "
                "(lowercase letters, digits and underscores, not starting with a digit)"
            )
        kind, transform = item["kind"], item["transform"]
        impute = item.get("impute", "median" if kind == "numeric" else "most_frequent")
        impute_value = item["impute_value"]
        if impute == "constant" and impute_value is None:
            raise ConfigError(f"{path}.impute_value: required when impute is 'constant'")
        if kind != "numeric" and transform != "none":
            raise ConfigError(
                f"{path}.transform: {transform!r} applies to numeric features only; "
                f"{name!r} is {kind}"
            )
        if kind != "numeric" and impute in ("median", "mean"):
            raise ConfigError(
                f"{path}.impute: {impute!r} needs a numeric feature; {name!r} is {kind} "
                "(use most_frequent or constant)"
            )
        levels = item["levels"]
        if kind == "ordinal":
            if len(levels) < 2:
                raise ConfigError(f"{path}.levels: an ordinal feature needs a list of >= 2 levels")
            levels = [str(level) for level in levels]
            if len({level.strip().lower() for level in levels}) != len(levels):
                raise ConfigError(
                    f"{path}.levels: levels must be distinct (ignoring case and surrounding "
                    f"blanks, as they are matched), got {list(levels)!r}"
                )
        elif levels:
            raise ConfigError(f"{path}.levels: only ordinal features take levels")
        return cls(
            name=name,
            kind=kind,
            transform=transform,
            impute=impute,
            impute_value=impute_value,
            missing_indicator=item["missing_indicator"],
            weight=float(item["weight"]),
            levels=tuple(levels),
            min_level_share=float(item["min_level_share"]),
            label=item["label"],
            high_label=item["high_label"],
            low_label=item["low_label"],
        )


@dataclass(frozen=True)
class ClusteringSettings:
    """How segments are found: methods, the k range, seeds and the size thresholds.

    ``k`` is ``"auto"`` (chosen by the documented rule: best silhouette, cross-checked with the
    inertia elbow) or a fixed integer. Above ``fit_sample_max_rows`` customers K-Means is fitted on
    a seeded sample and every customer is assigned to its nearest centroid; silhouette is exact up
    to ``exact_silhouette_max_rows`` and estimated on a seeded sample of
    ``silhouette_sample_size`` above it; hierarchical clustering is exact up to
    ``exact_hierarchical_max_rows`` and two-stage (``micro_clusters`` K-Means micro-clusters, then
    weighted linkage) above it.

    ``outlier_fence`` (default 3; null disables): a customer with a feature-matrix value more than
    ``outlier_fence`` times the column's 5-95 % range beyond that range is an outlier
    (``preprocessing.outlier_mask``): K-Means is fitted without the outliers, which are then
    assigned to their nearest centroid and flagged (customer_segments.is_outlier).
    """

    methods: tuple[str, ...] = METHODS
    k: int | str = "auto"
    k_min: int = 2
    k_max: int = 10
    seed: int = 42
    n_init: int = 10
    linkage: str = "ward"
    hierarchical_k: int | str = "same"
    fit_sample_max_rows: int = 50_000
    exact_silhouette_max_rows: int = 10_000
    silhouette_sample_size: int = 10_000
    exact_hierarchical_max_rows: int = 20_000
    micro_clusters: int = 500
    min_segment_share: float = 0.02
    outlier_fence: float | None = 3.0

    @classmethod
    def from_dict(cls, raw: Any, path: str = "segmentation.clustering") -> ClusteringSettings:
        """Parse ``segmentation.clustering``; missing keys take the documented defaults."""
        c = validate(node_at("segmentation.clustering"), {} if raw is None else raw, path)
        methods = c["methods"]
        methods = tuple([methods] if isinstance(methods, str) else methods)
        if len(set(methods)) != len(methods):
            raise ConfigError(f"{path}.methods: a method is listed twice: {list(methods)!r}")
        if c["k_max"] < c["k_min"]:
            raise ConfigError(f"{path}.k_max: {c['k_max']} is below k_min {c['k_min']}")
        k = c["k"]
        if k != "auto":
            k = _integer(f"{path}.k", k, minimum=2)
        hk = c["hierarchical_k"]
        if hk != "same":
            hk = _integer(f"{path}.hierarchical_k", hk, minimum=2)
        fence = c["outlier_fence"]
        return cls(
            methods=methods,
            k=k,
            k_min=c["k_min"],
            k_max=c["k_max"],
            seed=c["seed"],
            n_init=c["n_init"],
            linkage=c["linkage"],
            hierarchical_k=hk,
            fit_sample_max_rows=c["fit_sample_max_rows"],
            exact_silhouette_max_rows=c["exact_silhouette_max_rows"],
            silhouette_sample_size=c["silhouette_sample_size"],
            exact_hierarchical_max_rows=c["exact_hierarchical_max_rows"],
            micro_clusters=c["micro_clusters"],
            min_segment_share=float(c["min_segment_share"]),
            outlier_fence=None if fence is None else float(fence),
        )

    def k_values(self, n_rows: int) -> list[int]:
        """The k to fit: the configured range (or the fixed k), checked against the row count.

        k must leave at least one customer more than segments (silhouette needs 2 <= k <= n - 1);
        the error names the key and the number of customers.
        """
        if n_rows < 3:
            raise ConfigError(
                f"segmentation.clustering: clustering needs at least 3 customers, got {n_rows}"
            )
        if self.k != "auto":
            if not 2 <= int(self.k) <= n_rows - 1:
                raise ConfigError(
                    f"segmentation.clustering.k: {self.k} is outside [2, {n_rows - 1}] "
                    f"(number of customers - 1 = {n_rows - 1})"
                )
            return [int(self.k)]
        if self.k_min > n_rows - 1:
            raise ConfigError(
                f"segmentation.clustering.k_min: {self.k_min} is outside [2, {n_rows - 1}] "
                f"(number of customers - 1 = {n_rows - 1})"
            )
        return list(range(self.k_min, min(self.k_max, n_rows - 1) + 1))


@dataclass(frozen=True)
class SegmentationSettings:
    """The whole ``segmentation`` var: the feature list and the clustering settings."""

    features: tuple[FeatureSpec, ...]
    clustering: ClusteringSettings = field(default_factory=ClusteringSettings)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The parsed var itself (for the sections other modules validate, e.g. ``lifecycle``)."""

    @classmethod
    def from_config(cls, raw: Mapping[str, Any] | str | None) -> SegmentationSettings:
        """Parse the ``segmentation`` var (a mapping, or its JSON as dbt renders it)."""
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as error:
                raise ConfigError(f"segmentation: not valid JSON ({error})") from None
        # Every key at every level, segmentation.clv included (config_schema.yml).
        validate(node_at("segmentation"), raw, "segmentation")
        items = raw["features"]
        features = tuple(
            FeatureSpec.from_dict(item, f"segmentation.features[{i}]")
            for i, item in enumerate(items)
        )
        seen: dict[str, int] = {}
        for i, spec in enumerate(features):
            if spec.name in seen:
                raise ConfigError(
                    f"segmentation.features[{i}].name: {spec.name!r} is declared twice "
                    f"(also segmentation.features[{seen[spec.name]}])"
                )
            seen[spec.name] = i
        clustering = ClusteringSettings.from_dict(raw.get("clustering"))
        from segmentation.lifecycle import LifecycleSettings  # imports this module

        LifecycleSettings.from_dict(raw.get("lifecycle"))
        return cls(features=features, clustering=clustering, raw=dict(raw))

    def check_columns(self, table_name: str, columns: Iterable[str]) -> None:
        """Fail with the table, the feature and the available columns if a feature is missing."""
        available = list(columns)
        for i, spec in enumerate(self.features):
            if spec.name not in available:
                raise ConfigError(
                    f"segmentation.features[{i}].name: unknown column {spec.name!r} in "
                    f"{table_name}; available columns: {', '.join(available)}"
                )
