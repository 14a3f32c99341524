"""Human-readable segment names generated from the centroid profile.

A centroid coordinate of a numeric or ordinal column, divided by the column's effective weight,
is the segment mean in population standard deviations (a z-score: the matrix is centred and
scaled on the whole population). Each segment is named after its up-to-``max_terms`` most
distinctive such columns, those with ``|z| >= NAME_Z_THRESHOLD`` (0.5), strongest first (ties:
configured feature order), each rendered as the feature's ``high_label`` / ``low_label`` if
configured, else "High <label>" / "Low <label>" (``label`` defaults to the column name with
underscores as spaces), joined with " · " (e.g. "High value · Frequent · Recent"). A segment
within 0.5 standard deviations of the population mean on every numeric feature is "Average".

Names are unique within a run: segments whose names have the same terms (in any order) get
their most over-represented categorical level appended (largest segment share minus population
share, e.g. "Average · Female"), and any remaining clash a numeric suffix " (2)", " (3)" in
segment-id order.
Everything is a pure function of the centroids and the spec, hence deterministic.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from segmentation.preprocessing import OTHER_LEVEL, spec_rows
from segmentation.settings import ConfigError, FeatureSpec, SegmentationSettings

NAME_Z_THRESHOLD = 0.5
SEPARATOR = " · "
AVERAGE = "Average"


def _term(feature: FeatureSpec | None, name: str, z: float) -> str:
    label = (feature.label if feature and feature.label else None) or name.replace("_", " ")
    if z > 0:
        return (feature.high_label if feature and feature.high_label else None) or f"High {label}"
    return (feature.low_label if feature and feature.low_label else None) or f"Low {label}"


def _profile_terms(
    centroid: np.ndarray,
    value_rows: list[dict[str, Any]],
    configured: dict[str, FeatureSpec],
    max_terms: int,
) -> list[str]:
    scored = []
    for row in value_rows:
        z = float(centroid[row["position"]]) / row["weight"]
        if abs(z) >= NAME_Z_THRESHOLD:
            scored.append((-abs(z), row["position"], row["feature"], z))
    scored.sort()
    return [_term(configured.get(feature), feature, z) for _, _, feature, z in scored[:max_terms]]


def _dominant_level(centroid: np.ndarray, one_hot_rows: list[dict[str, Any]]) -> str | None:
    """The categorical level most over-represented in the segment (share minus population)."""
    best: tuple[float, int, str] | None = None
    for row in one_hot_rows:
        lift = float(centroid[row["position"]]) / row["weight"]  # = share - population share
        key = (-lift, row["position"], row["level"])
        if lift > 0 and (best is None or key < best):
            best = key
    return None if best is None else best[2]


def name_segments(
    centroids_scaled: np.ndarray,
    spec: pa.Table,
    settings: SegmentationSettings,
    max_terms: int = 3,
) -> list[str]:
    """One unique name per centroid row of ``centroids_scaled`` (k, d), in row order.

    ``centroids_scaled`` is in the matrix's scaled space, columns in the spec's ``position``
    order. See the module docstring for the rule.
    """
    rows = spec_rows(spec)
    centroids = np.asarray(centroids_scaled, dtype=np.float64)
    if centroids.ndim != 2 or centroids.shape[1] != len(rows):
        raise ConfigError(
            f"segment naming: centroids have shape {centroids.shape}, expected (k, {len(rows)}) "
            "for this preprocessing spec"
        )
    if max_terms < 1:
        raise ValueError(f"max_terms must be >= 1, got {max_terms}")
    configured = {feature.name: feature for feature in settings.features}
    value_rows = [
        r
        for r in rows
        if r["kind"] in ("numeric", "ordinal") and not r["is_missing_indicator"] and r["weight"]
    ]
    one_hot_rows = [
        r
        for r in rows
        if r["kind"] == "categorical"
        and not r["is_missing_indicator"]
        and r["weight"]
        and r["level"] != OTHER_LEVEL
    ]
    terms = [_profile_terms(c, value_rows, configured, max_terms) or [AVERAGE] for c in centroids]
    # Two names clash when they have the same terms in any order ("High income · Low spending"
    # and "Low spending · High income" describe the same profile).
    counts = Counter(tuple(sorted(t)) for t in terms)
    for i, segment_terms in enumerate(terms):
        if counts[tuple(sorted(segment_terms))] > 1:
            level = _dominant_level(centroids[i], one_hot_rows)
            if level is not None:
                terms[i] = [*segment_terms, level]
    names: list[str] = []
    seen: Counter[tuple[str, ...]] = Counter()
    for segment_terms in terms:
        key = tuple(sorted(segment_terms))
        seen[key] += 1
        name = SEPARATOR.join(segment_terms)
        names.append(name if seen[key] == 1 else f"{name} ({seen[key]})")
    return names
