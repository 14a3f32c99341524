"""Segment lifecycle: fitted models as versioned artefacts, fit-or-score, stable ids, drift.

Every ``dbt build`` fits a *candidate* K-Means model (``ml_preprocessing_spec`` ->
``ml_kmeans_sweep`` -> ``ml_kmeans_centroids``). :func:`decide` compares it with the model that
was active when the build started (the active row of ``segmentation_models``) and either

* **scores**: the active model stays; every customer is assigned with its stored preprocessing
  spec and centroids (in SQL, macro ``segments_score_with_model``), or
* **fits**: the candidate becomes a new model row. Its segments are matched to the previous
  model's (:func:`match_segments`): matched segments keep their id and name, the others get new
  ids, and the previous segments left unmatched are recorded as vanished (the lineage).

``segmentation.lifecycle.mode`` (:class:`LifecycleSettings`): ``refit`` always fits, ``score``
always scores (it fits only when there is no model yet), ``auto`` (the default) fits when there
is no active model, when the fit-relevant configuration changed (:func:`model_config_hash` of
``features`` and ``clustering``), or when the drift of this build's customers against the active
model recommends it (:func:`drift`); otherwise it scores.

Drift (against the model active at the start of the build, or the new model on a first build):
the population stability index (PSI) of every feature against the model's training bins
(:func:`training_bins`, stored in the model), the share of customers whose segment changed since
the previous run, and the mean distance to the assigned centroid against the model's training
mean distance. ``refit_recommended`` is true when any figure passes its configured threshold.

Arrays in, Arrow out; the dbt glue is in :func:`lifecycle_table`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.optimize import linear_sum_assignment

from segmentation import naming, pipeline, preprocessing_tables
from segmentation.config_schema import node_at, validate
from segmentation.settings import ConfigError, SegmentationSettings, _choice

MODES = ("auto", "refit", "score")
PSI_FLOOR = 1e-4
"""Shares below this are raised to it in the PSI, so an empty bin gives a large but finite term."""
NULL_LEVEL = "__null__"
OTHER_BIN = "__other__"
FIT_KEYS = ("features", "clustering")
"""The keys of the ``segmentation`` var whose change makes ``auto`` refit (config hash)."""


@dataclass(frozen=True)
class LifecycleSettings:
    """``segmentation.lifecycle``: when to refit and how segments are matched across refits.

    ``mode``: auto, refit or score (module doc). ``match_max_distance``: a new segment takes the
    id of the previous segment it is paired with by the Hungarian assignment only when their
    centroids are at most this far apart (Euclidean, in the new model's scaled space, where one
    standardised feature has variance 1, so 1.0 is one standard deviation of one feature);
    farther, the segment is new (measured on the demo data three months apart: matched pairs
    0.33-0.58, a segment of new customers that aged 1.39, a genuinely new segment 2.91; the
    centroids of one model are 2.5 or more apart).

    ``refit_recommended`` is true when any of these passes its threshold: the share of features
    whose PSI exceeds ``psi_threshold`` (0.25, the usual "significant shift") is above
    ``drifted_feature_share_threshold`` (0.5; 0 = any drifted feature); the share of customers
    who changed segment since the previous run is above ``changed_share_threshold``; the mean
    distance to the assigned centroid over the model's is above ``distance_ratio_threshold``.
    Why a share of features: features measured against the calendar (tenure, recency) drift
    for the same customers as time passes (PSI 1.0 and 0.46 after three months on the demo data)
    while the segments still fit them (distance ratio 1.15, 7 % changed segment).
    ``psi_bins`` is the number of quantile bins of a numeric feature.
    """

    mode: str = "auto"
    match_max_distance: float = 1.5
    psi_threshold: float = 0.25
    drifted_feature_share_threshold: float = 0.5
    changed_share_threshold: float = 0.25
    distance_ratio_threshold: float = 1.25
    psi_bins: int = 10

    @classmethod
    def from_dict(cls, raw: Any, path: str = "segmentation.lifecycle") -> LifecycleSettings:
        """Parse ``segmentation.lifecycle``; missing keys take the defaults, unknown keys fail.

        Types, ranges, defaults and unknown keys: the configuration schema (config_schema.yml).

        Parameters
        ----------
        raw : mapping or None
            The ``segmentation.lifecycle`` section; None gives the defaults.
        path : str
            The configuration path named in errors.

        Returns
        -------
        LifecycleSettings
            The validated settings.

        Raises
        ------
        ConfigError
            Naming the key, for an unknown key or a value of the wrong type or range.
        """
        c = validate(node_at("segmentation.lifecycle"), {} if raw is None else raw, path)
        return cls(
            mode=c["mode"],
            match_max_distance=float(c["match_max_distance"]),
            psi_threshold=float(c["psi_threshold"]),
            drifted_feature_share_threshold=float(c["drifted_feature_share_threshold"]),
            changed_share_threshold=float(c["changed_share_threshold"]),
            distance_ratio_threshold=float(c["distance_ratio_threshold"]),
            psi_bins=c["psi_bins"],
        )


def lifecycle_settings(config: Mapping[str, Any], mode_override: Any = None) -> LifecycleSettings:
    """``segmentation.lifecycle`` of the parsed var, ``mode`` overridden from the command line.

    ``mode_override`` is the var ``segments_lifecycle_mode`` (None or '' = not set).

    Parameters
    ----------
    config : mapping
        The parsed ``segmentation`` var.
    mode_override : str or None
        ``auto``, ``refit`` or ``score``; None, ``''`` or ``'None'`` means not set.

    Returns
    -------
    LifecycleSettings
        The settings, with ``mode`` replaced when overridden.

    Raises
    ------
    ConfigError
        An invalid ``segmentation.lifecycle`` or an unknown ``mode_override``.
    """
    settings = LifecycleSettings.from_dict(config.get("lifecycle"))
    if mode_override not in (None, "", "None"):
        mode = _choice("var segments_lifecycle_mode", mode_override, MODES)
        settings = LifecycleSettings(**{**settings.__dict__, "mode": mode})
    return settings


def model_config_hash(config: Mapping[str, Any]) -> str:
    """sha256 of the fit-relevant configuration (``features`` and ``clustering``).

    Parameters
    ----------
    config : mapping
        The parsed ``segmentation`` var.

    Returns
    -------
    str
        64 hex characters (``publish.config_hash`` of ``FIT_KEYS``).
    """
    from segmentation.publish import config_hash

    return config_hash({key: config.get(key) for key in FIT_KEYS})


# ----------------------------------------------------------------------------- schemas

BIN_TYPE = pa.struct(
    [
        ("feature", pa.string()),
        ("bin", pa.int64()),
        ("lower", pa.float64()),
        ("upper", pa.float64()),
        ("level", pa.string()),
        ("share", pa.float64()),
    ]
)
CENTROID_TYPE = pa.struct(
    [(field.name, field.type) for field in pipeline.CENTROIDS_SCHEMA if field.name != "k"]
)
SPEC_TYPE = pa.struct(list(preprocessing_tables.SPEC_SCHEMA))
LINEAGE_TYPE = pa.struct(
    [
        ("previous_model_id", pa.int64()),
        ("previous_segment_id", pa.int64()),
        ("previous_segment_name", pa.string()),
        ("segment_id", pa.int64()),
        ("segment_name", pa.string()),
        ("centroid_distance", pa.float64()),
        ("status", pa.string()),
    ]
)
DESCRIPTION_TYPE = pa.struct([("segment_id", pa.int64()), ("description", pa.string())])
PSI_TYPE = pa.struct([("feature", pa.string()), ("psi", pa.float64()), ("is_drifted", pa.bool_())])

MODEL_FIELDS = [
    pa.field("model_id", pa.int64()),
    pa.field("fitted_at", pa.timestamp("us")),
    pa.field("fitted_invocation_id", pa.string()),
    pa.field("data_first_order_date", pa.date32()),
    pa.field("data_last_order_date", pa.date32()),
    pa.field("data_reference_date", pa.date32()),
    pa.field("training_customers", pa.int64()),
    pa.field("config_hash", pa.string()),
    pa.field("k", pa.int64()),
    pa.field("inertia", pa.float64()),
    pa.field("silhouette", pa.float64()),
    pa.field("calinski_harabasz", pa.float64()),
    pa.field("davies_bouldin", pa.float64()),
    pa.field("mean_distance", pa.float64()),
    pa.field("previous_model_id", pa.int64()),
    pa.field("spec", pa.list_(SPEC_TYPE)),
    pa.field("centroids", pa.list_(CENTROID_TYPE)),
    pa.field("training_bins", pa.list_(BIN_TYPE)),
    pa.field("lineage", pa.list_(LINEAGE_TYPE)),
]
MODEL_SCHEMA = pa.schema(MODEL_FIELDS)
LIFECYCLE_SCHEMA = pa.schema(
    [
        pa.field("invocation_id", pa.string()),
        pa.field("run_started_at", pa.timestamp("us")),
        pa.field("mode", pa.string()),
        pa.field("action", pa.string()),
        pa.field("action_reason", pa.string()),
        pa.field("is_new_model", pa.bool_()),
        pa.field("model_is_candidate", pa.bool_()),
        pa.field("drift_model_id", pa.int64()),
        pa.field("customers", pa.int64()),
        pa.field("max_psi", pa.float64()),
        pa.field("max_psi_feature", pa.string()),
        pa.field("changed_segment_share", pa.float64()),
        pa.field("mean_distance", pa.float64()),
        pa.field("model_mean_distance", pa.float64()),
        pa.field("distance_ratio", pa.float64()),
        pa.field("refit_recommended", pa.bool_()),
        pa.field("refit_reason", pa.string()),
        pa.field("feature_psi", pa.list_(PSI_TYPE)),
        *[field for field in MODEL_FIELDS if field.name != "mean_distance"],
        pa.field("model_training_mean_distance", pa.float64()),
        pa.field("segment_descriptions", pa.list_(DESCRIPTION_TYPE)),
    ]
)


# ------------------------------------------------------------------------ training bins


def _bin(
    name: str, i: int, lower: Any, upper: Any, level: str | None, share: float
) -> dict[str, Any]:
    return {
        "feature": name,
        "bin": i,
        "lower": lower,
        "upper": upper,
        "level": level,
        "share": share,
    }


def _numeric_bins(name: str, column: pa.ChunkedArray, n_bins: int, n: int) -> list[dict[str, Any]]:
    """Up to ``n_bins`` right-closed quantile bins of the non-null values (-inf to +inf)."""
    values = np.asarray(pc.cast(column.drop_null(), pa.float64()).to_numpy(zero_copy_only=False))
    edges = (
        np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1]))
        if values.size
        else np.array([])
    )
    counts = np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)
    bounds = [-math.inf, *edges.tolist(), math.inf]
    return [
        _bin(name, i, bounds[i], bounds[i + 1], None, count / n) for i, count in enumerate(counts)
    ]


def _level_bins(name: str, column: pa.ChunkedArray, n: int) -> list[dict[str, Any]]:
    """One bin per observed level (as text), in level order."""
    counts = pc.value_counts(pc.cast(column, pa.string()).drop_null())
    pairs = sorted(
        zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    )
    return [_bin(name, i, None, None, level, count / n) for i, (level, count) in enumerate(pairs)]


def training_bins(features: pa.Table, spec: pa.Table, n_bins: int) -> list[dict[str, Any]]:
    """The PSI reference distribution of every feature of ``spec`` on its training table.

    Numeric features: up to ``n_bins`` quantile bins of the non-null values, right-closed
    ``(lower, upper]`` (the first from -inf, the last to +inf), plus a bin for nulls.
    Categorical and ordinal features: one bin per observed level (as text), plus nulls. Every
    bin's ``share`` is its fraction of the rows; bins with share 0 are kept (null bin).

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units: days, currency of the input, counts).
    spec : pyarrow.Table
        ``ml_preprocessing_spec``; its features are binned, in spec order.
    n_bins : int
        Quantile bins of a numeric feature (``psi_bins``).

    Returns
    -------
    list of dict
        One dict per bin (``BIN_TYPE``): ``feature``, ``bin`` (0.. ; -1 for nulls), ``lower`` and
        ``upper`` (feature units, numeric only), ``level`` (text, categorical/ordinal and the null
        bin), ``share`` (fraction of the n_customers rows, 0..1).
    """
    rows = preprocessing_tables.spec_rows(spec)
    n = features.num_rows
    kinds = {row["feature"]: row["kind"] for row in rows}  # features in spec order
    out: list[dict[str, Any]] = []
    for name in kinds:
        column = features.column(name)
        if kinds[name] == "numeric":
            out += _numeric_bins(name, column, n_bins, n)
        else:
            out += _level_bins(name, column, n)
        out.append(_bin(name, -1, None, None, NULL_LEVEL, int(column.null_count) / n))
    return out


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index ``sum((a - e) * ln(a / e))`` of two share vectors (same bins).

    Shares below ``PSI_FLOOR`` are raised to it (an empty bin would make the index infinite).
    Rules of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 significant shift.

    Parameters
    ----------
    expected, actual : ndarray of float64, shape (n_bins,)
        Shares (0..1) of the reference and the current population in the same bins.

    Returns
    -------
    float
        The PSI, >= 0 (unitless).
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_psi(features: pa.Table, bins: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """PSI of every feature of ``bins`` on ``features`` against the stored training shares.

    Values outside every stored level of a categorical feature fall in an extra bin whose
    expected share is 0 (floored), so a new level shows up as drift.

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units: days, currency of the input, counts).
    bins : sequence of mapping
        Stored training bins (:func:`training_bins`).

    Returns
    -------
    list of dict
        One ``{"feature": str, "psi": float}`` per feature of ``bins``, in first-seen order.
    """
    by_feature: dict[str, list[Mapping[str, Any]]] = {}
    for b in bins:
        by_feature.setdefault(b["feature"], []).append(b)
    n = max(features.num_rows, 1)
    out = []
    for name, feature_bins in by_feature.items():
        column = features.column(name)
        nulls = int(column.null_count)
        value_bins = sorted((b for b in feature_bins if b["bin"] >= 0), key=lambda b: b["bin"])
        null_bin = [b for b in feature_bins if b["bin"] < 0]
        expected = [b["share"] for b in value_bins] + [b["share"] for b in null_bin]
        if value_bins and value_bins[0]["level"] is None:
            edges = np.asarray([b["upper"] for b in value_bins[:-1]], dtype=np.float64)
            values = np.asarray(
                pc.cast(column.drop_null(), pa.float64()).to_numpy(zero_copy_only=False)
            )
            counts = np.bincount(
                np.searchsorted(edges, values, side="left"), minlength=len(value_bins)
            )
            actual = [*(counts / n).tolist(), nulls / n]
        else:
            levels = [b["level"] for b in value_bins]
            # Counted per distinct value in Arrow, not per customer in Python.
            found = pc.value_counts(pc.cast(column, pa.string()).drop_null())
            index = {level: i for i, level in enumerate(levels)}
            counts = np.zeros(len(levels) + 1)
            for value, count in zip(
                found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True
            ):
                counts[index.get(value, len(levels))] += count
            actual = [*(counts[:-1] / n).tolist(), nulls / n, counts[-1] / n]
            expected = [*expected, 0.0]
        out.append({"feature": name, "psi": psi(np.asarray(expected), np.asarray(actual))})
    return out


# ------------------------------------------------------------------------------ scoring


def spec_table(model: Mapping[str, Any]) -> pa.Table:
    """The stored preprocessing spec of a model row as a ``SPEC_SCHEMA`` table.

    Parameters
    ----------
    model : mapping
        A ``segmentation_models`` row (``MODEL_SCHEMA``): ``spec``, ``centroids``, ``model_id``
        ...

    Returns
    -------
    pyarrow.Table
        d rows, schema ``preprocessing_tables.SPEC_SCHEMA``.
    """
    return pa.Table.from_pylist(list(model["spec"]), schema=preprocessing_tables.SPEC_SCHEMA)


def centroid_array(model: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(segment ids (k,), centroids (k, d) in spec position order, names (k,)), ids ascending.

    Parameters
    ----------
    model : mapping
        A ``segmentation_models`` row (``MODEL_SCHEMA``): ``spec``, ``centroids``, ``model_id``
        ...

    Returns
    -------
    ids : ndarray of int64, shape (k,)
        Segment ids, ascending.
    centroids : ndarray of float64, shape (k, d)
        Scaled-space coordinates, columns in spec position order.
    names : list of str, length k
        Segment names.

    Raises
    ------
    ConfigError
        When some (segment, output column) has no centroid value.
    """
    spec = preprocessing_tables.spec_rows(spec_table(model))
    position = {row["output_column"]: row["position"] for row in spec}
    ids = sorted({int(c["segment_id"]) for c in model["centroids"]})
    row_of = {segment: i for i, segment in enumerate(ids)}
    C = np.full((len(ids), len(spec)), np.nan)
    names = [""] * len(ids)
    for c in model["centroids"]:
        i = row_of[int(c["segment_id"])]
        C[i, position[c["output_column"]]] = c["value_scaled"]
        names[i] = c["segment_name"]
    if np.isnan(C).any():
        raise ConfigError(f"segmentation_models: model {model['model_id']} lacks centroid values")
    return np.asarray(ids, dtype=np.int64), C, names


def score(features: pa.Table, model: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Python scoring with a stored model: (segment ids (n,), distances (n,)) in row order.

    Applies the stored spec (``preprocessing_tables.apply_spec_table``) and assigns every row to
    its nearest stored centroid (:func:`nearest_direct`; ties to the lower segment id). The SQL
    scoring (macro ``segments_score_with_model``) computes the same; a test checks they agree.

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units: days, currency of the input, counts).
    model : mapping
        A ``segmentation_models`` row (``MODEL_SCHEMA``): ``spec``, ``centroids``, ``model_id``
        ...

    Returns
    -------
    segment_ids : ndarray of int64, shape (n_customers,)
        The model's segment ids.
    distances : ndarray of float64, shape (n_customers,)
        Euclidean distance to the centroid, in the model's scaled space.

    Raises
    ------
    ConfigError
        Input errors of ``preprocessing_tables.apply_spec_table`` (table, column, value), or a
        model lacking centroid values.
    """
    assigned = _assign(features, model)
    return assigned.ids[assigned.labels], assigned.distances


@dataclass(frozen=True)
class _Assignment:
    """One assignment of a build's customers to a model (once per model and build).

    :func:`drift` and :func:`describe_model` share it. ``X`` (n, d) the scaled matrix under the
    model's spec, ``ids`` (k,) the model's segment ids, ``labels`` (n,) each row's 0-based
    nearest centroid, ``distances`` (n,) its distance; ``model_id`` says which model it is.
    """

    model_id: Any
    X: np.ndarray
    ids: np.ndarray
    labels: np.ndarray
    distances: np.ndarray


def _assign(features: pa.Table, model: Mapping[str, Any]) -> _Assignment:
    """Assign ``features`` to the model's centroids (:func:`score`, :func:`describe_model`)."""
    X = preprocessing_tables.apply_spec_table(features, spec_table(model))
    ids, C, _ = centroid_array(model)
    labels, distances = nearest_direct(X, C)
    return _Assignment(model.get("model_id"), X, ids, labels, distances)


def _assigned(
    features: pa.Table, model: Mapping[str, Any], known: _Assignment | None
) -> _Assignment:
    """``known`` when it is the assignment to ``model`` (same model id), else a new one."""
    if known is not None and known.model_id == model.get("model_id"):
        return known
    return _assign(features, model)


def describe_model(
    features: pa.Table,
    model: Mapping[str, Any],
    settings: SegmentationSettings,
    assigned: _Assignment | None = None,
) -> list[dict[str, Any]]:
    """The description sentence of every segment of ``model``, of this build's customers in it.

    Each customer is assigned as :func:`score` does (the model's spec and centroids, ties to the
    lower id: the customers of ``segment_scores``), and ``naming.describe_segments`` describes
    each segment's customers against the others. The model's ids are kept: a sentence belongs
    to the stable segment id, whatever ids this build's candidate fit gave its own segments.

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units: days, currency of the input, counts).
    model : mapping
        A ``segmentation_models`` row (``MODEL_SCHEMA``): ``spec``, ``centroids``, ``model_id``
        ...
    settings : SegmentationSettings
        Its ``features`` give the labels of the sentences.
    assigned : _Assignment, optional
        This build's assignment of ``features`` to ``model`` when already made (by
        :func:`drift`); used when its model id is the model's, else the customers are assigned.

    Returns
    -------
    list of dict
        ``DESCRIPTION_TYPE`` rows (segment_id, description), one per model segment, ids
        ascending (a segment without customers is described as "no customers").

    Raises
    ------
    ConfigError
        As :func:`score`.
    """
    assigned = _assigned(features, model, assigned)
    ids = assigned.ids
    spec = preprocessing_tables.spec_from_table(spec_table(model))
    described = naming.describe_segments(
        assigned.X, assigned.labels + 1, spec, settings, n_segments=len(ids)
    )
    return [
        {"segment_id": int(i), "description": d.description}
        for i, d in zip(ids.tolist(), described, strict=True)
    ]


def nearest_direct(
    X: np.ndarray, C: np.ndarray, chunk_rows: int = 4_096
) -> tuple[np.ndarray, np.ndarray]:
    """0-based nearest centroid (n,) and Euclidean distance (n,) of every row of X (n, d).

    Squared differences summed directly (no BLAS product, so no process-wide BLAS thread limit
    is touched while other dbt threads compute), chunked so memory stays O(chunk_rows k d);
    ties go to the lower index, as in the SQL scoring.

    Parameters
    ----------
    X : ndarray of float64, shape (n, d)
        Points in the scaled space.
    C : ndarray of float64, shape (k, d)
        Centroids in the same space.
    chunk_rows : int
        Rows per chunk.

    Returns
    -------
    labels : ndarray of int64, shape (n,)
        Index 0..k-1 into ``C``.
    distances : ndarray of float64, shape (n,)
        Euclidean distance to that centroid.
    """
    n = X.shape[0]
    labels = np.empty(n, dtype=np.int64)
    distances = np.empty(n, dtype=np.float64)
    for start in range(0, n, chunk_rows):
        chunk = X[start : start + chunk_rows]
        d2 = ((chunk[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
        best = d2.argmin(axis=1)
        labels[start : start + chunk_rows] = best
        distances[start : start + chunk_rows] = np.sqrt(d2[np.arange(len(chunk)), best])
    return labels, distances


# ----------------------------------------------------------------------------- matching


def to_spec_space(values: np.ndarray, old_spec: pa.Table, new_spec: pa.Table) -> np.ndarray:
    """Map (k, d_old) points of ``old_spec``'s scaled space into ``new_spec``'s (k, d_new).

    Per output column (matched by name): undo the old weight and scaling (the point in
    transformed units, e.g. log1p of spend, or a level's share), apply the new centring, scaling
    and weight. A column the old spec lacks takes the new column's centre (0 after scaling).

    Parameters
    ----------
    values : ndarray of float64, shape (k, d_old)
        Points in the old spec's scaled space.
    old_spec, new_spec : pyarrow.Table
        ``preprocessing_tables.SPEC_SCHEMA`` tables with d_old and d_new rows.

    Returns
    -------
    ndarray of float64, shape (k, d_new)
        The points in the new spec's scaled space.
    """
    old_rows = {r["output_column"]: r for r in preprocessing_tables.spec_rows(old_spec)}
    new_rows = preprocessing_tables.spec_rows(new_spec)
    out = np.zeros((values.shape[0], len(new_rows)))
    for row in new_rows:
        old = old_rows.get(row["output_column"])
        if old is None:
            continue
        j_old = old["position"]
        raw = (
            np.full(values.shape[0], old["center"])
            if old["weight"] == 0
            else values[:, j_old] / old["weight"] * old["scale"] + old["center"]
        )
        out[:, row["position"]] = (raw - row["center"]) / row["scale"] * row["weight"]
    return out


def match_segments(
    new_centroids: np.ndarray,
    old_centroids: np.ndarray,
    max_distance: float,
) -> tuple[list[int | None], np.ndarray]:
    """Pair new segments with old ones: for each new row the old row index, or None (new).

    Hungarian assignment (``scipy.optimize.linear_sum_assignment``) on the Euclidean distances
    of the (k_new, d) and (k_old, d) centroids, both in the new scaled space; a pair farther
    apart than ``max_distance`` is not a match. Returns the pairing and the (k_new, k_old)
    distance matrix.

    Parameters
    ----------
    new_centroids : ndarray of float64, shape (k_new, d)
        Candidate centroids, new scaled space.
    old_centroids : ndarray of float64, shape (k_old, d)
        Previous centroids mapped into the same space (:func:`to_spec_space`).
    max_distance : float
        Largest Euclidean distance of a match (``match_max_distance``).

    Returns
    -------
    pairing : list of int or None, length k_new
        Old row index per new row, or None.
    distances : ndarray of float64, shape (k_new, k_old)
        Euclidean distances.

    References
    ----------
    Kuhn (1955), "The Hungarian method for the assignment problem"; Crouse (2016) for the
    algorithm of ``linear_sum_assignment``.
    """
    diff = new_centroids[:, None, :] - old_centroids[None, :, :]
    distances = np.sqrt((diff**2).sum(axis=2))
    pairing: list[int | None] = [None] * new_centroids.shape[0]
    if old_centroids.shape[0] == 0:
        return pairing, distances
    rows, cols = linear_sum_assignment(distances)
    for r, c in zip(rows, cols, strict=True):
        if distances[r, c] <= max_distance:
            pairing[int(r)] = int(c)
    return pairing, distances


def stable_ids(
    candidate: pa.Table,
    candidate_spec: pa.Table,
    previous: Mapping[str, Any] | None,
    next_id: int,
    max_distance: float,
) -> tuple[dict[int, tuple[int, str]], list[dict[str, Any]]]:
    """Stable (id, name) of every candidate segment and the lineage rows.

    ``candidate`` is ``ml_kmeans_centroids`` (ids 1..k by size). Without a previous model the
    ids stay. Otherwise matched segments (:func:`match_segments`) take the previous id and
    name; unmatched ones take ``next_id``, ``next_id + 1``, ... in candidate order (a new name
    equal to a kept one gets a numeric suffix); previous segments left unmatched are listed
    with status vanished.

    Parameters
    ----------
    candidate : pyarrow.Table
        ``ml_kmeans_centroids`` (``pipeline.CENTROIDS_SCHEMA``).
    candidate_spec : pyarrow.Table
        ``ml_preprocessing_spec`` of the candidate.
    previous : mapping or None
        The previous model row (``MODEL_SCHEMA``), or None.
    next_id : int
        First id for a new segment.
    max_distance : float
        ``match_max_distance`` (scaled space).

    Returns
    -------
    mapping : dict of int to (int, str)
        Candidate segment id to (stable id, name).
    lineage : list of dict
        ``LINEAGE_TYPE`` rows: status ``"matched"``, ``"new"`` or ``"vanished"``.

    Raises
    ------
    ConfigError
        When a centroid table lacks values (:func:`centroid_array`).
    """
    cand = {"centroids": candidate.to_pylist(), "spec": candidate_spec.to_pylist(), "model_id": 0}
    cand_ids, cand_C, cand_names = centroid_array(cand)
    mapping: dict[int, tuple[int, str]] = {}
    lineage: list[dict[str, Any]] = []
    if previous is None:
        for cid, name in zip(cand_ids.tolist(), cand_names, strict=True):
            mapping[cid] = (cid, name)
            lineage.append(_lineage(None, None, None, cid, name, None, "new"))
        return mapping, lineage
    model_id = previous["model_id"]
    old_ids, old_C, old_names = centroid_array(previous)
    old_in_new = to_spec_space(old_C, spec_table(previous), candidate_spec)
    pairing, distances = match_segments(cand_C, old_in_new, max_distance)
    kept_names = {old_names[p] for p in pairing if p is not None}
    for i, cid in enumerate(cand_ids.tolist()):
        p = pairing[i]
        if p is not None:
            mapping[cid] = (int(old_ids[p]), old_names[p])
            lineage.append(
                _lineage(
                    model_id,
                    int(old_ids[p]),
                    old_names[p],
                    *mapping[cid],
                    float(distances[i, p]),
                    "matched",
                )
            )
            continue
        name = _unused_name(cand_names[i], kept_names)
        kept_names.add(name)
        mapping[cid] = (next_id, name)
        next_id += 1
        distance = float(distances[i].min()) if distances.shape[1] else None
        lineage.append(_lineage(model_id, None, None, *mapping[cid], distance, "new"))
    matched_old = {p for p in pairing if p is not None}
    for j, oid in enumerate(old_ids.tolist()):
        if j not in matched_old:
            distance = float(distances[:, j].min())
            lineage.append(_lineage(model_id, oid, old_names[j], None, None, distance, "vanished"))
    return mapping, lineage


def _unused_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name 2``, ``name 3``, ... the first not in ``taken``."""
    candidate, suffix = name, 2
    while candidate in taken:
        candidate, suffix = f"{name} {suffix}", suffix + 1
    return candidate


def _lineage(
    previous_model_id: int | None,
    previous_segment_id: int | None,
    previous_segment_name: str | None,
    segment_id: int | None,
    segment_name: str | None,
    centroid_distance: float | None,
    status: str,
) -> dict[str, Any]:
    """One ``LINEAGE_TYPE`` row."""
    return {
        "previous_model_id": previous_model_id,
        "previous_segment_id": previous_segment_id,
        "previous_segment_name": previous_segment_name,
        "segment_id": segment_id,
        "segment_name": segment_name,
        "centroid_distance": centroid_distance,
        "status": status,
    }


# -------------------------------------------------------------------------------- drift


@dataclass
class Drift:
    """Drift of one build's customers against a model (:func:`drift`)."""

    customers: int
    feature_psi: list[dict[str, Any]]
    changed_segment_share: float | None
    mean_distance: float
    model_mean_distance: float
    refit_recommended: bool
    refit_reason: str | None

    @property
    def max_psi(self) -> tuple[float | None, str | None]:
        """The largest PSI and its feature (None, None without features).

        Returns
        -------
        psi : float or None
            The largest PSI (ties: the alphabetically last feature).
        feature : str or None
            Its feature.
        """
        if not self.feature_psi:
            return None, None
        top = max(self.feature_psi, key=lambda r: (r["psi"], r["feature"]))
        return top["psi"], top["feature"]

    @property
    def distance_ratio(self) -> float | None:
        """Mean distance over the model's training mean distance (None when that is 0).

        Returns
        -------
        float or None
            ``mean_distance / model_mean_distance`` (unitless).
        """
        if self.model_mean_distance <= 0:
            return None
        return self.mean_distance / self.model_mean_distance


def _changed_share(
    ids: pa.ChunkedArray,
    segments: np.ndarray,
    previous: Mapping[str, int] | pa.Table | None,
) -> float | None:
    """Share of the customers in ``ids`` and in ``previous`` whose segment differs (None: none).

    A hash lookup in Arrow, not a Python loop over the customers; a customer listed twice in
    ``previous`` counts with its last segment, as a dict built from its rows would.
    """
    if previous is None or len(previous) == 0:
        return None
    if isinstance(previous, pa.Table):
        keys = previous.column("customer_id").combine_chunks()
        values = previous.column("segment_id").to_numpy(zero_copy_only=False)
    else:
        keys = pa.array(list(previous.keys()), pa.string())
        values = np.asarray(list(previous.values()))
    keys, values = keys[::-1], values[::-1]  # index_in finds the first: make it the last
    found = pc.index_in(pc.cast(ids, keys.type), value_set=keys)
    present = ~np.asarray(pc.is_null(found).to_numpy(zero_copy_only=False), dtype=bool)
    if not present.any():
        return None
    position = np.asarray(pc.fill_null(found, 0).to_numpy(zero_copy_only=False))[present]
    return float(np.count_nonzero(values[position] != segments[present]) / present.sum())


def drift(
    features: pa.Table,
    model: Mapping[str, Any],
    previous_membership: Mapping[str, int] | pa.Table | None,
    settings: LifecycleSettings,
    assigned: _Assignment | None = None,
) -> Drift:
    """PSI per feature, changed-segment share and distance ratio of ``features`` under ``model``.

    ``previous_membership`` maps customer_id to the segment of the previous run (None: no
    previous run); the changed share counts the customers present in both.

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units: days, currency of the input, counts).
    model : mapping
        A ``segmentation_models`` row (``MODEL_SCHEMA``): ``spec``, ``centroids``, ``model_id``
        ...
    previous_membership : mapping of str to int, pyarrow.Table or None
        customer_id to the previous run's segment id (a table: columns ``customer_id`` and
        ``segment_id``).
    settings : LifecycleSettings
        ``segmentation.lifecycle``.
    assigned : _Assignment, optional
        This build's assignment of ``features`` to ``model`` when already made; used when its
        model id is the model's, else the customers are assigned (:func:`score`).

    Returns
    -------
    Drift
        ``feature_psi`` (with ``is_drifted``), ``changed_segment_share`` (0..1 or None),
        ``mean_distance`` and ``model_mean_distance`` (scaled space), ``refit_recommended`` and
        ``refit_reason``.

    Raises
    ------
    ConfigError
        From :func:`score` (input errors, a model lacking centroid values).
    """
    psis = [
        {**r, "is_drifted": r["psi"] > settings.psi_threshold}
        for r in feature_psi(features, model["training_bins"])
    ]
    assigned = _assigned(features, model, assigned)
    segments, distances = assigned.ids[assigned.labels], assigned.distances
    changed = _changed_share(
        features.column(preprocessing_tables.ID_COLUMN), segments, previous_membership
    )
    mean_distance = float(distances.mean()) if distances.size else 0.0
    result = Drift(
        customers=features.num_rows,
        feature_psi=psis,
        changed_segment_share=changed,
        mean_distance=mean_distance,
        model_mean_distance=float(model["mean_distance"]),
        refit_recommended=False,
        refit_reason=None,
    )
    reasons = []
    drifted = sorted((r for r in psis if r["is_drifted"]), key=lambda r: -r["psi"])
    if psis and len(drifted) / len(psis) > settings.drifted_feature_share_threshold:
        listed = ", ".join(f"{r['feature']} {r['psi']:.3f}" for r in drifted)
        reasons.append(
            f"{len(drifted)} of {len(psis)} features have PSI > psi_threshold "
            f"{settings.psi_threshold:g} ({listed}), more than drifted_feature_share_threshold "
            f"{settings.drifted_feature_share_threshold:g}"
        )
    if changed is not None and changed > settings.changed_share_threshold:
        reasons.append(
            f"{changed:.1%} of customers changed segment > changed_share_threshold "
            f"{settings.changed_share_threshold:g}"
        )
    ratio = result.distance_ratio
    if ratio is not None and ratio > settings.distance_ratio_threshold:
        reasons.append(
            f"mean distance to centroid {ratio:.3f} x the model's > distance_ratio_threshold "
            f"{settings.distance_ratio_threshold:g}"
        )
    result.refit_recommended = bool(reasons)
    result.refit_reason = "; ".join(reasons) if reasons else None
    return result


# --------------------------------------------------------------------------- the decision

SAME_FIT_TOLERANCE = 1e-9
"""Spec numbers and centroid coordinates closer than this count as the same fit."""


def same_fit(model: Mapping[str, Any], spec: pa.Table, centroids: pa.Table) -> bool:
    """Whether ``model`` is this build's candidate fit up to segment ids.

    True for a re-run on the same data: the same spec columns and numbers, and every candidate
    centroid at (numerically) zero distance from one of the model's.

    Parameters
    ----------
    model : mapping
        A ``segmentation_models`` row (``MODEL_SCHEMA``): ``spec``, ``centroids``, ``model_id``
        ...
    spec : pyarrow.Table
        This build's ``ml_preprocessing_spec``.
    centroids : pyarrow.Table
        This build's ``ml_kmeans_centroids``.

    Returns
    -------
    bool
        Same spec columns, centre/scale/weight within ``SAME_FIT_TOLERANCE`` and every
        candidate centroid within it of a distinct model centroid.
    """
    old_rows = preprocessing_tables.spec_rows(spec_table(model))
    new_rows = preprocessing_tables.spec_rows(spec)
    if [r["output_column"] for r in old_rows] != [r["output_column"] for r in new_rows]:
        return False
    keys = ("center", "scale", "weight")
    old = np.asarray([[r[key] for key in keys] for r in old_rows], dtype=np.float64)
    new = np.asarray([[r[key] for key in keys] for r in new_rows], dtype=np.float64)
    if not np.allclose(old, new, rtol=0, atol=SAME_FIT_TOLERANCE):
        return False
    cand = {"centroids": centroids.to_pylist(), "spec": spec.to_pylist(), "model_id": 0}
    _, cand_C, _ = centroid_array(cand)
    _, model_C, _ = centroid_array(model)
    if cand_C.shape != model_C.shape:
        return False
    pairing, _ = match_segments(cand_C, model_C, SAME_FIT_TOLERANCE)
    return all(p is not None for p in pairing)


@dataclass
class RunContext:
    """What a build knows besides the tables: its id, start time and the data window."""

    invocation_id: str
    run_started_at: datetime
    first_order_date: Any = None
    last_order_date: Any = None
    reference_date: Any = None


def _candidate_model(
    features: pa.Table,
    spec: pa.Table,
    sweep: pa.Table,
    centroids: pa.Table,
    mean_distance: float,
    config: Mapping[str, Any],
    settings: LifecycleSettings,
    previous: Mapping[str, Any] | None,
    next_id: int,
    context: RunContext,
) -> dict[str, Any]:
    selected = pipeline.selected_row(sweep)
    mapping, lineage = stable_ids(centroids, spec, previous, next_id, settings.match_max_distance)
    stored = []
    for row in centroids.to_pylist():
        sid, name = mapping[int(row["segment_id"])]
        stored.append(
            {**{k: v for k, v in row.items() if k != "k"}, "segment_id": sid, "segment_name": name}
        )
    stored.sort(key=lambda r: (r["segment_id"], r["output_column"]))
    return {
        "model_id": (previous["model_id"] + 1) if previous else 1,
        "fitted_at": context.run_started_at,
        "fitted_invocation_id": context.invocation_id,
        "data_first_order_date": context.first_order_date,
        "data_last_order_date": context.last_order_date,
        "data_reference_date": context.reference_date,
        "training_customers": features.num_rows,
        "config_hash": model_config_hash(config),
        "k": len(selected["cluster_sizes"]),
        "inertia": selected["inertia"],
        "silhouette": selected["silhouette"],
        "calinski_harabasz": selected["calinski_harabasz"],
        "davies_bouldin": selected["davies_bouldin"],
        "mean_distance": mean_distance,
        "previous_model_id": previous["model_id"] if previous else None,
        "spec": preprocessing_tables.spec_rows(spec),
        "centroids": stored,
        "training_bins": training_bins(features, spec, settings.psi_bins),
        "lineage": lineage,
    }


def _action(
    active: Mapping[str, Any] | None,
    mode: str,
    current_hash: str,
    measured: Drift | None,
) -> tuple[str, str]:
    """Fit or score, and why: the rule of docs/lifecycle.md.

    No active model: fit. Mode refit: fit; mode score: score (noting a changed configuration).
    Mode auto: fit when the fit-relevant configuration changed or drift recommends a refit,
    else score.
    """
    if active is None:
        return "fit", "no active model"
    if mode == "refit":
        return "fit", "mode refit"
    if mode == "score":
        reason = "mode score"
        if active["config_hash"] != current_hash:
            reason += " (the fit-relevant configuration changed since the model was fitted)"
        return "score", reason
    if active["config_hash"] != current_hash:
        return "fit", "configuration changed (features or clustering)"
    if measured is not None and measured.refit_recommended:
        return "fit", f"drift: {measured.refit_reason}"
    return "score", "mode auto: active model, same configuration, no drift"


def decide(
    features: pa.Table,
    spec: pa.Table,
    sweep: pa.Table,
    centroids: pa.Table,
    candidate_mean_distance: float,
    config: Mapping[str, Any],
    settings: LifecycleSettings,
    active: Mapping[str, Any] | None,
    max_segment_id: int,
    previous_membership: Mapping[str, int] | pa.Table | None,
    context: RunContext,
) -> dict[str, Any]:
    """One build's lifecycle row (``LIFECYCLE_SCHEMA``): fit or score, drift, the model to use.

    ``active`` is the model active when the build started (a ``MODEL_SCHEMA`` row) or None;
    ``max_segment_id`` the largest segment id any earlier model used (new ids continue after
    it). The returned row carries the model the build's customers are scored with: the
    candidate, relabelled with stable ids, when the action is fit; else ``active``.

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units: days, currency of the input, counts).
    spec, sweep, centroids : pyarrow.Table
        This build's ``ml_preprocessing_spec``, ``ml_kmeans_sweep``, ``ml_kmeans_centroids``.
    candidate_mean_distance : float
        Mean distance to the assigned centroid under the candidate (scaled space).
    config : mapping
        The parsed ``segmentation`` var.
    settings : LifecycleSettings
        ``segmentation.lifecycle``.
    active : mapping or None
        The active model row.
    max_segment_id : int
        Largest segment id used so far (0 when none).
    previous_membership : mapping of str to int, pyarrow.Table or None
        customer_id to the previous run's segment id (see :func:`drift`).
    context : RunContext
        Invocation id, start time and data window.

    Returns
    -------
    dict
        One row of ``LIFECYCLE_SCHEMA``.

    Raises
    ------
    ConfigError
        When the action is score but ``features`` lacks a feature of the active model; from
        :func:`drift` / :func:`score` for input errors.
    ValueError
        When fitting and ``sweep`` has no or several selected rows (``pipeline.selected_row``).
    """
    return _decide(
        features,
        spec,
        sweep,
        centroids,
        candidate_mean_distance,
        config,
        settings,
        active,
        max_segment_id,
        previous_membership,
        context,
    )[0]


def _decide(
    features: pa.Table,
    spec: pa.Table,
    sweep: pa.Table,
    centroids: pa.Table,
    candidate_mean_distance: float,
    config: Mapping[str, Any],
    settings: LifecycleSettings,
    active: Mapping[str, Any] | None,
    max_segment_id: int,
    previous_membership: Mapping[str, int] | pa.Table | None,
    context: RunContext,
) -> tuple[dict[str, Any], _Assignment | None]:
    """:func:`decide`, and the last assignment of the customers it made (to reuse)."""
    current_hash = model_config_hash(config)
    missing: list[str] = []
    if active is not None:
        needed = sorted({row["feature"] for row in active["spec"]})
        missing = [name for name in needed if name not in features.column_names]
    assigned = None
    measured = None
    if active is not None and not missing:
        assigned = _assign(features, active)
        measured = drift(features, active, previous_membership, settings, assigned)
    action, reason = _action(active, settings.mode, current_hash, measured)
    if action == "score" and missing:
        raise ConfigError(
            f"segmentation.lifecycle.mode: cannot score with model {active['model_id']}: "  # type: ignore[index]
            f"customer_features lacks its feature(s) {', '.join(missing)}; refit "
            "(mode refit or auto) or restore the columns"
        )
    if action == "fit":
        model = _candidate_model(
            features,
            spec,
            sweep,
            centroids,
            candidate_mean_distance,
            config,
            settings,
            active,
            max_segment_id + 1,
            context,
        )
    else:
        model = dict(active)  # type: ignore[arg-type]
    if measured is None:
        assigned = _assign(features, model)
        measured = drift(features, model, previous_membership, settings, assigned)
    row = _lifecycle_row(
        context, settings, action, reason, model, measured, active, spec, centroids
    )
    return row, assigned


def _lifecycle_row(
    context: RunContext,
    settings: LifecycleSettings,
    action: str,
    reason: str,
    model: Mapping[str, Any],
    measured: Drift,
    active: Mapping[str, Any] | None,
    spec: pa.Table,
    centroids: pa.Table,
) -> dict[str, Any]:
    """The ``LIFECYCLE_SCHEMA`` row of :func:`decide`'s outcome: the action, drift and model."""
    max_psi, max_feature = measured.max_psi
    row = {
        "invocation_id": context.invocation_id,
        "run_started_at": context.run_started_at,
        "mode": settings.mode,
        "action": action,
        "action_reason": reason,
        "is_new_model": action == "fit",
        "model_is_candidate": action == "fit" or same_fit(model, spec, centroids),
        "drift_model_id": active["model_id"] if active else model["model_id"],
        "customers": measured.customers,
        "max_psi": max_psi,
        "max_psi_feature": max_feature,
        "changed_segment_share": measured.changed_segment_share,
        "mean_distance": measured.mean_distance,
        "model_mean_distance": measured.model_mean_distance,
        "distance_ratio": measured.distance_ratio,
        "refit_recommended": measured.refit_recommended,
        "refit_reason": measured.refit_reason,
        "feature_psi": measured.feature_psi,
        "model_training_mean_distance": model["mean_distance"],
    }
    for field in MODEL_FIELDS:
        if field.name != "mean_distance":
            row[field.name] = model[field.name]
    return row


def needed_features(config: Any, models: pa.Table | None) -> list[str]:
    """The ``customer_features`` columns :func:`lifecycle_table` reads, besides customer_id.

    The configured features (the candidate's spec) and every feature of a stored model's spec
    (the active model may predate a configuration change).

    Parameters
    ----------
    config : mapping, str or None
        The ``segmentation`` var.
    models : pyarrow.Table or None
        Previous ``segmentation_models`` (None on a first build).

    Returns
    -------
    list of str
        Feature names, configured ones first.

    Raises
    ------
    ConfigError
        Invalid configuration (``SegmentationSettings.from_config`` names the key).
    """
    segmentation = SegmentationSettings.from_config(config)
    names = [feature.name for feature in segmentation.features]
    if models is not None and "spec" in models.column_names:
        for spec in models.column("spec").to_pylist():
            names += [str(row["feature"]) for row in spec or [] if row.get("feature")]
    return list(dict.fromkeys(names))


def _mean(values: np.ndarray) -> float:
    """The mean of (n,) float64 values, the same to the last bit in any order.

    An exact sum (math.fsum, Shewchuk's algorithm); 0.0 for none. The assignments are read in
    no particular order (DuckDB scans in parallel), and a floating-point sum depends on it.
    """
    return math.fsum(values) / len(values) if len(values) else 0.0


def lifecycle_table(
    features: pa.Table,
    spec: pa.Table,
    sweep: pa.Table,
    centroids: pa.Table,
    assignments: pa.Table,
    config: Mapping[str, Any] | str | None,
    mode_override: Any,
    models: pa.Table | None,
    membership: pa.Table | None,
    context: RunContext,
) -> pa.Table:
    """The dbt glue of :func:`decide`: Arrow in, the one-row lifecycle table out.

    ``models`` is the previous ``segmentation_models`` table (None on a first build),
    ``membership`` the previous run's rows of ``segment_membership_history`` (customer_id,
    segment_id) or None; ``assignments`` is ``ml_kmeans_assignments`` (its mean distance is the
    candidate's training mean distance). ``segment_descriptions`` describes the customers of
    every segment of the model the build uses, under its stable ids (:func:`describe_model`).

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units: days, currency of the input, counts).
    spec, sweep, centroids, assignments : pyarrow.Table
        ``ml_preprocessing_spec``, ``ml_kmeans_sweep``, ``ml_kmeans_centroids``,
        ``ml_kmeans_assignments``.
    config : mapping, str or None
        The ``segmentation`` var.
    mode_override : str or None
        The var ``segments_lifecycle_mode``.
    models : pyarrow.Table or None
        Previous ``segmentation_models``.
    membership : pyarrow.Table or None
        Previous run's (customer_id, segment_id).
    context : RunContext
        Invocation id, start time and data window.

    Returns
    -------
    pyarrow.Table
        One row, schema ``LIFECYCLE_SCHEMA``.

    Raises
    ------
    ConfigError
        Invalid configuration or override; ``models`` lacking a column or not having exactly
        one active model; and as :func:`decide`.
    ValueError
        As :func:`decide`.
    """
    from segmentation.pipeline import by_customer

    segmentation = SegmentationSettings.from_config(config)
    raw = segmentation.raw
    settings = lifecycle_settings(raw, mode_override)
    active = None
    max_segment_id = 0
    if models is not None and models.num_rows:
        missing = [f.name for f in MODEL_FIELDS if f.name not in models.column_names]
        if missing or "is_active" not in models.column_names:
            raise ConfigError(
                f"segmentation_models: column(s) {', '.join(missing or ['is_active'])} missing "
                "(the table was built by another version of the package); start the registry "
                "over with dbt build --full-refresh"
            )
        rows = models.to_pylist()
        active_rows = [r for r in rows if r.get("is_active")]
        if len(active_rows) != 1:
            raise ConfigError(
                f"segmentation_models: expected exactly one active model, found "
                f"{len(active_rows)}; rebuild it with dbt build --full-refresh"
            )
        active = active_rows[0]
        max_segment_id = max(int(c["segment_id"]) for r in rows for c in r["centroids"])
    previous = membership if membership is not None and membership.num_rows else None
    distances = assignments.column("distance_to_centroid").to_numpy(zero_copy_only=False)
    features = by_customer(features)
    row, assigned = _decide(
        features,
        spec,
        sweep,
        centroids,
        _mean(distances),
        raw,
        settings,
        active,
        max_segment_id,
        previous,
        context,
    )
    # The customers were assigned to the model in use for its drift when it is the active
    # model or a first fit (a refit measured drift against the previous model).
    row["segment_descriptions"] = describe_model(features, row, segmentation, assigned)
    return pa.Table.from_pylist([row], schema=LIFECYCLE_SCHEMA)
