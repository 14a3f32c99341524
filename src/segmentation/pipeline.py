"""Table-level entry points of the dbt Python models: configuration in, Arrow tables out.

Each function here is what one thin model under ``models/ml/`` calls: it parses the
``segmentation`` var (``SegmentationSettings.from_config``), converts the Arrow inputs the model
read from the warehouse, calls the algorithm modules and returns an Arrow table for dbt to
materialise. Keeping the glue here (not in the models) means pytest can run the whole chain
without dbt, on the same functions the models use.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation import (
    hierarchical,
    hierarchical_tables,
    kmeans,
    metrics,
    naming,
    preprocessing,
    preprocessing_tables,
)
from segmentation.checks import finite_or_none, table_matrix
from segmentation.settings import ClusteringSettings, SegmentationSettings

ID_COLUMN = "customer_id"
Config = Mapping[str, Any] | str | None


def by_customer(table: pa.Table) -> pa.Table:
    """The table in customer_id order, so results never depend on the warehouse's row order.

    The dbt models already read their inputs ordered (DuckDB sorts in parallel); the check is
    O(n) and the pyarrow sort only runs for callers that did not.

    Parameters
    ----------
    table : pyarrow.Table, n rows
        Any table with a ``customer_id`` column.

    Returns
    -------
    pyarrow.Table, n rows
        ``table`` itself when already strictly ascending by ``customer_id``, else a sorted copy.
    """
    ids = table.column(ID_COLUMN)
    if len(ids) < 2 or pc.all(pc.less(ids[:-1], ids[1:])).as_py():
        return table
    return table.sort_by(ID_COLUMN)


def feature_columns(relation: Any, names: Iterable[str]) -> Any:
    """``relation`` narrowed to ``customer_id`` and the feature columns ``names``.

    ``customer_features`` has many more columns than the segmentation uses (mix shares,
    attributes, timestamps, text); sorting and converting only the needed ones to Arrow is what
    keeps reading it cheap at a million customers. When a name is not a column the relation is
    returned whole, so the error about the missing column still lists every available column.

    Parameters
    ----------
    relation : duckdb.DuckDBPyRelation
        A relation with a ``customer_id`` column (what ``dbt.ref`` returns).
    names : iterable of str
        Feature column names (duplicates and ``customer_id`` are ignored).

    Returns
    -------
    duckdb.DuckDBPyRelation
        The projection on ``customer_id`` and ``names``, or ``relation`` itself.
    """
    wanted = list(dict.fromkeys([ID_COLUMN, *names]))
    if not set(wanted) <= set(relation.columns):
        return relation
    return relation.select(*('"' + name.replace('"', '""') + '"' for name in wanted))


def configured_features(config: Config) -> list[str]:
    """The feature names of ``segmentation.features`` (``ConfigError`` when invalid).

    Parameters
    ----------
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    list of str
        The configured feature columns, in configured order.
    """
    return [feature.name for feature in _settings(config).features]


def spec_features(spec: pa.Table) -> list[str]:
    """The feature names of an ``ml_preprocessing_spec`` table (its ``feature`` column).

    Parameters
    ----------
    spec : pyarrow.Table
        ``ml_preprocessing_spec``.

    Returns
    -------
    list of str
        Distinct feature names in table order (empty without a ``feature`` column).
    """
    if "feature" not in spec.column_names:
        return []
    return list(dict.fromkeys(str(name) for name in spec.column("feature").to_pylist()))


def _settings(config: Config) -> SegmentationSettings:
    return SegmentationSettings.from_config(config)


def _hierarchical_enabled(settings: SegmentationSettings) -> bool:
    return "hierarchical" in settings.clustering.methods


def matrix_array(matrix: pa.Table, table_name: str = "ml_feature_matrix") -> np.ndarray:
    """The float64 (n, d) array of a feature-matrix table (every column but customer_id).

    Raises ``ValueError`` naming ``table_name`` and the column (``checks.table_matrix``).

    Parameters
    ----------
    matrix : pyarrow.Table, n rows
        ``customer_id`` plus d numeric columns.
    table_name : str
        Named in error messages.

    Returns
    -------
    ndarray of float64, shape (n, d)
        The columns other than ``customer_id``, in table order.

    Raises
    ------
    ValueError
        No feature column, a non-numeric column, nulls, or NaN / infinite values.
    """
    return table_matrix(matrix, table_name)[0]


DBT_RUN_VARIABLE = "segments_dbt_run"


def dbt_run(session: Any) -> dict[str, Any]:
    """The running dbt command, as the model's pre-hook recorded it (empty outside dbt).

    The models ``segment_publication`` and ``ml_segmentation_lifecycle`` have a pre-hook that
    renders the live ``invocation_id`` and ``flags`` into the DuckDB variable
    ``segments_dbt_run`` (JSON) on the model's connection; a model config would be rendered at
    parse time and keep an earlier command's values under partial parsing.

    Parameters
    ----------
    session : duckdb.DuckDBPyConnection
        The model's connection (``session`` argument of the dbt Python model).

    Returns
    -------
    dict
        ``invocation_id`` (str), ``which`` (the command, e.g. "build"), ``empty`` and
        ``full_refresh`` (bool), ``selected_tests`` (the number of data tests the command
        selected, from dbt's ``selected_resources``); ``{}`` when the variable is not set.
    """
    value = session.execute(f"select getvariable('{DBT_RUN_VARIABLE}')").fetchall()[0][0]
    return json.loads(value) if value else {}


def preprocessing_spec(features: pa.Table, config: Config) -> pa.Table:
    """Fit the preprocessing spec on customer_features (``preprocessing_tables.fit_spec_table``).

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features``: ``customer_id`` plus the configured feature columns, in their
        input units (days, currency of the input, counts); any row order.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table
        ``ml_preprocessing_spec``: one row per output column of the matrix.

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key), or
        when ``customer_features`` has no rows, lacks a configured column, or a feature is
        unusable (non-numeric, all null, negative under log1p, non-finite, an ordinal value
        outside its levels); ``preprocessing.fit_spec`` names table, column and value.
    """
    return preprocessing_tables.fit_spec_table(
        by_customer(features), _settings(config), table_name="customer_features"
    )


def feature_matrix(features: pa.Table, spec: pa.Table) -> pa.Table:
    """Apply the fitted spec: customer_id plus one float64 column per spec output column.

    Parameters
    ----------
    features : pyarrow.Table, n_customers rows
        ``customer_features`` (input units); any row order.
    spec : pyarrow.Table
        ``ml_preprocessing_spec`` (:func:`preprocessing_spec`).

    Returns
    -------
    pyarrow.Table, n_customers rows
        ``ml_feature_matrix`` in ``customer_id`` order: ``customer_id`` plus d float64 columns
        (scaled, unitless).
    """
    return preprocessing_tables.transform_table(by_customer(features), spec)


# ---------------------------------------------------------------------------------------------
# K-Means: the tables of ml_kmeans_sweep and ml_kmeans_centroids
# ---------------------------------------------------------------------------------------------

SWEEP_SCHEMA = pa.schema(
    [
        pa.field("k", pa.int64(), nullable=False),
        pa.field("inertia", pa.float64(), nullable=False),
        pa.field("silhouette", pa.float64()),
        pa.field("silhouette_method", pa.string(), nullable=False),
        pa.field("silhouette_rows", pa.int64(), nullable=False),
        pa.field("silhouette_ci_low", pa.float64()),
        pa.field("silhouette_ci_high", pa.float64()),
        pa.field("simplified_silhouette", pa.float64()),
        pa.field("calinski_harabasz", pa.float64()),
        pa.field("davies_bouldin", pa.float64()),
        pa.field("fit_rows", pa.int64(), nullable=False),
        pa.field("n_rows", pa.int64(), nullable=False),
        pa.field("outlier_rows", pa.int64(), nullable=False),
        pa.field("n_iter", pa.int64(), nullable=False),
        pa.field("is_selected", pa.bool_(), nullable=False),
        pa.field("selection_reason", pa.string()),
        pa.field("centroids", pa.list_(pa.list_(pa.float64())), nullable=False),
        pa.field("cluster_sizes", pa.list_(pa.int64()), nullable=False),
    ]
)
"""Columns of ml_kmeans_sweep: one row per fitted k (:func:`sweep_table`)."""

CENTROIDS_SCHEMA = pa.schema(
    [
        pa.field("k", pa.int64(), nullable=False),
        pa.field("segment_id", pa.int64(), nullable=False),
        pa.field("segment_name", pa.string(), nullable=False),
        pa.field("segment_description", pa.string(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("output_column", pa.string(), nullable=False),
        pa.field("feature", pa.string(), nullable=False),
        pa.field("value_scaled", pa.float64(), nullable=False),
        pa.field("value_original", pa.float64()),
    ]
)
"""Columns of ml_kmeans_centroids: one row per (segment, output column)."""


def _clustering(settings: ClusteringSettings | SegmentationSettings) -> ClusteringSettings:
    return settings.clustering if isinstance(settings, SegmentationSettings) else settings


def kmeans_parameters(settings: ClusteringSettings, n_rows: int) -> dict[str, Any]:
    """The keyword arguments of :func:`kmeans.kmeans_sweep` from ``segmentation.clustering``.

    Parameters
    ----------
    settings : ClusteringSettings
        ``segmentation.clustering``.
    n_rows : int
        Rows of the matrix to fit; bounds the k range (``settings.k_values``).

    Returns
    -------
    dict
        ``k_values``, ``k``, ``n_init``, ``seed``, ``fit_sample_max_rows``, ``outlier_fence``,
        ``exact_silhouette_max_rows``, ``silhouette_sample_size``, ``min_segment_share``.
    """
    return {
        "k_values": settings.k_values(n_rows),
        "k": settings.k,
        "n_init": settings.n_init,
        "seed": settings.seed,
        "fit_sample_max_rows": settings.fit_sample_max_rows,
        "outlier_fence": settings.outlier_fence,
        "exact_silhouette_max_rows": settings.exact_silhouette_max_rows,
        "silhouette_sample_size": settings.silhouette_sample_size,
        "min_segment_share": settings.min_segment_share,
    }


def sweep_table(sweep: kmeans.KMeansSweep) -> pa.Table:
    """A :class:`kmeans.KMeansSweep` as the ml_kmeans_sweep table (:data:`SWEEP_SCHEMA`).

    One row per k: metrics (undefined ones null), ``centroids`` (k lists of d floats, scaled
    space) and ``cluster_sizes`` in segment-id order; ``is_selected`` and ``selection_reason``
    on the chosen k only.

    Parameters
    ----------
    sweep : kmeans.KMeansSweep
        The result of :func:`kmeans.kmeans_sweep`.

    Returns
    -------
    pyarrow.Table
        One row per fitted k, schema :data:`SWEEP_SCHEMA`.
    """
    rows = []
    for fit in sweep.fits:
        estimate = fit.silhouette
        undefined = estimate.method == "undefined"
        chosen = fit.k == sweep.selected_k
        rows.append(
            {
                "k": fit.k,
                "inertia": fit.inertia,
                "silhouette": None if undefined else estimate.value,
                "silhouette_method": estimate.method,
                "silhouette_rows": estimate.n_rows,
                "silhouette_ci_low": None if undefined else estimate.ci_low,
                "silhouette_ci_high": None if undefined else estimate.ci_high,
                "simplified_silhouette": finite_or_none(fit.simplified_silhouette),
                "calinski_harabasz": fit.calinski_harabasz,
                "davies_bouldin": fit.davies_bouldin,
                "fit_rows": fit.fit_rows,
                "n_rows": sweep.n_rows,
                "outlier_rows": sweep.outlier_rows,
                "n_iter": fit.n_iter,
                "is_selected": chosen,
                "selection_reason": sweep.selection_reason if chosen else None,
                "centroids": fit.centroids.tolist(),
                "cluster_sizes": fit.cluster_sizes.tolist(),
            }
        )
    return pa.Table.from_pylist(rows, schema=SWEEP_SCHEMA)


def kmeans_sweep_table(
    matrix: pa.Table,
    settings: ClusteringSettings | SegmentationSettings,
    table_name: str = "ml_feature_matrix",
) -> pa.Table:
    """:func:`kmeans.kmeans_sweep` on a feature-matrix table, as the ml_kmeans_sweep table.

    ``matrix`` is ``customer_id`` plus the float64 matrix columns (every other column is used,
    in table order). The result does not depend on the row order (``kmeans.canonical_fit_rows``).
    Returns :func:`sweep_table`.

    Parameters
    ----------
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.
    settings : ClusteringSettings or SegmentationSettings
        Clustering settings (the ``clustering`` section is taken from full settings).
    table_name : str
        Named in error messages.

    Returns
    -------
    pyarrow.Table
        One row per fitted k, schema :data:`SWEEP_SCHEMA`.

    Raises
    ------
    ValueError
        The matrix is unusable (:func:`matrix_array`), or as :func:`kmeans.kmeans_sweep` raises.
    """
    clustering = _clustering(settings)
    X = matrix_array(matrix, table_name)
    return sweep_table(kmeans.kmeans_sweep(X, **kmeans_parameters(clustering, X.shape[0])))


def kmeans_sweep(matrix: pa.Table, config: Config) -> pa.Table:
    """Model ml_kmeans_sweep: K-Means over the configured k range with metrics and the chosen k.

    Parameters
    ----------
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table
        ``ml_kmeans_sweep`` (:func:`kmeans_sweep_table`, schema :data:`SWEEP_SCHEMA`).

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key).
    ValueError
        As :func:`kmeans_sweep_table`.
    """
    return kmeans_sweep_table(by_customer(matrix), _settings(config))


def selected_row(sweep: pa.Table) -> dict[str, Any]:
    """The ml_kmeans_sweep row with ``is_selected``; ``ValueError`` unless there is exactly one.

    Parameters
    ----------
    sweep : pyarrow.Table
        ``ml_kmeans_sweep`` (schema :data:`SWEEP_SCHEMA`).

    Returns
    -------
    dict
        The selected row as a Python dict (column name to value).

    Raises
    ------
    ValueError
        When zero or several rows have ``is_selected``.
    """
    rows = [row for row in sweep.to_pylist() if row["is_selected"]]
    if len(rows) != 1:
        raise ValueError(f"ml_kmeans_sweep: expected exactly one selected k, found {len(rows)}")
    return rows[0]


def _original_units(centroids: np.ndarray, spec: preprocessing.PreprocessingSpec) -> np.ndarray:
    """Centroids (k, d) in original units, column by column (see :func:`kmeans_centroids_table`)."""
    original = np.empty_like(centroids)
    for column in spec.columns:
        j = column.position
        if column.is_value_column:
            original[:, j] = preprocessing.inverse_numeric(spec, column.feature, centroids[:, j])
        else:
            shares = preprocessing.unscale_column(spec, column.output_column, centroids[:, j])
            original[:, j] = np.clip(shares, 0.0, 1.0)
    return original


def kmeans_centroids_table(
    sweep: pa.Table, spec: pa.Table, settings: SegmentationSettings, X: np.ndarray
) -> pa.Table:
    """The selected segments, one row per (segment_id, output_column) (:data:`CENTROIDS_SCHEMA`).

    ``value_scaled`` is the centroid coordinate in the matrix space; ``value_original`` is, for
    numeric features, the value in original units (``preprocessing.inverse_numeric``: weight,
    scaling and log1p undone); for ordinal features the mean ordinal code in [0, 1]; for one-hot
    columns the level's share in the segment and for missing indicators the share of missing
    values (un-weighted 0..1 values, clipped to [0, 1] against rounding noise).
    ``segment_name`` and ``segment_description`` describe the customers of ``X`` (the scaled
    feature matrix, (n, d) in the spec's column order) nearest to each centroid
    (``naming.describe_segments``). Raises ``ValueError`` when the centroids do not have the
    spec's columns.

    Parameters
    ----------
    sweep : pyarrow.Table
        ``ml_kmeans_sweep`` (schema :data:`SWEEP_SCHEMA`) with one selected row.
    spec : pyarrow.Table
        ``ml_preprocessing_spec`` with d output columns.
    settings : SegmentationSettings
        Used for naming the segments.
    X : ndarray of float64, shape (n, d)
        The scaled feature matrix, in the spec's column order.

    Returns
    -------
    pyarrow.Table, k * d rows
        Schema :data:`CENTROIDS_SCHEMA`, ordered by segment_id then spec position.

    Raises
    ------
    ValueError
        No or several selected rows (:func:`selected_row`), or centroids not of shape (k, d).
    """
    row = selected_row(sweep)
    centroids = np.asarray(row["centroids"], dtype=np.float64)
    sizes = row["cluster_sizes"]
    k = len(sizes)
    fitted = preprocessing_tables.spec_from_table(spec)
    columns = fitted.columns
    if centroids.shape != (k, len(columns)):
        raise ValueError(
            f"ml_kmeans_sweep.centroids: shape {centroids.shape} does not match the "
            f"{len(columns)} output columns of ml_preprocessing_spec"
        )
    labels, _ = kmeans.assign_nearest(X, centroids)
    described = naming.describe_segments(X, labels, fitted, settings, n_segments=k)
    original = _original_units(centroids, fitted)
    data: dict[str, list[Any]] = {name: [] for name in CENTROIDS_SCHEMA.names}
    for s in range(k):
        for column in columns:
            j = column.position
            data["k"].append(k)
            data["segment_id"].append(s + 1)
            data["segment_name"].append(described[s].name)
            data["segment_description"].append(described[s].description)
            data["size"].append(sizes[s])
            data["output_column"].append(column.output_column)
            data["feature"].append(column.feature)
            data["value_scaled"].append(float(centroids[s, j]))
            data["value_original"].append(float(original[s, j]))
    return pa.table(data, schema=CENTROIDS_SCHEMA)


def kmeans_centroids(sweep: pa.Table, spec: pa.Table, config: Config, matrix: pa.Table) -> pa.Table:
    """Model ml_kmeans_centroids: the selected fit's centroids, with names and descriptions.

    Names and descriptions are those of the customers of ``matrix`` nearest to each centroid.

    Parameters
    ----------
    sweep : pyarrow.Table
        ``ml_kmeans_sweep`` with one selected row.
    spec : pyarrow.Table
        ``ml_preprocessing_spec``.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.

    Returns
    -------
    pyarrow.Table, k * d rows
        ``ml_kmeans_centroids`` (:func:`kmeans_centroids_table`, :data:`CENTROIDS_SCHEMA`).

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key).
    ValueError
        As :func:`kmeans_centroids_table` and :func:`matrix_array`.
    """
    return kmeans_centroids_table(sweep, spec, _settings(config), matrix_array(by_customer(matrix)))


def _centroid_array(centroids: pa.Table, output_columns: list[str]) -> np.ndarray:
    """Pivot the long centroid table to a (k, d) array, rows by segment_id 1..k."""
    segment = centroids.column("segment_id").to_numpy()
    column = centroids.column("output_column").to_pylist()
    value = centroids.column("value_scaled").to_numpy(zero_copy_only=False)
    k = int(segment.max()) if len(segment) else 0
    position = {name: j for j, name in enumerate(output_columns)}
    unknown = sorted(set(column) - set(position))
    if unknown:
        raise ValueError(
            f"ml_kmeans_centroids: output_column(s) {unknown} are not columns of ml_feature_matrix"
        )
    array = np.full((k, len(output_columns)), np.nan)
    array[segment - 1, [position[name] for name in column]] = value
    if np.isnan(array).any():
        raise ValueError("ml_kmeans_centroids: a segment lacks a value for some output column")
    return array


def kmeans_assignments(matrix: pa.Table, centroids: pa.Table, config: Config) -> pa.Table:
    """Every customer's nearest centroid (segment id), its distance, silhouette and outlier flag.

    Assignment is vectorised and chunked over all customers. The per-customer silhouette is
    computed exactly up to ``exact_silhouette_max_rows`` customers and on the same seeded sample
    as the sweep above it; other customers get null (and everyone when there is one segment).
    ``is_outlier``: the customer was left out of the K-Means fit (``preprocessing.outlier_mask``
    with ``segmentation.clustering.outlier_fence``, the rule the sweep applies).

    Parameters
    ----------
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.
    centroids : pyarrow.Table, k * d rows
        ``ml_kmeans_centroids`` (:data:`CENTROIDS_SCHEMA`); ``value_scaled`` is used.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table, n_customers rows
        In ``customer_id`` order: ``customer_id``, ``kmeans_segment_id`` (int64, 1..k),
        ``distance_to_centroid`` (float64, Euclidean, scaled space), ``silhouette`` (float64 in
        [-1, 1] or null), ``is_outlier`` (bool).

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key).
    ValueError
        An ``output_column`` of ``centroids`` is not a matrix column, a segment lacks a value for
        some column, or the matrix is unusable (:func:`matrix_array`).
    """
    clustering = _settings(config).clustering
    matrix = by_customer(matrix)
    X = matrix_array(matrix)
    output_columns = [name for name in matrix.column_names if name != ID_COLUMN]
    labels, distances = kmeans.assign_nearest(X, _centroid_array(centroids, output_columns))
    silhouette = np.full(len(labels), np.nan)
    if len(labels):
        estimate = metrics.silhouette(
            X,
            labels,
            exact_max_rows=clustering.exact_silhouette_max_rows,
            sample_size=clustering.silhouette_sample_size,
            seed=clustering.seed,
        )
        if estimate.method != "undefined":
            silhouette[estimate.sample_index] = estimate.per_row
    return pa.table(
        {
            ID_COLUMN: matrix.column(ID_COLUMN),
            "kmeans_segment_id": pa.array(labels, pa.int64()),
            "distance_to_centroid": pa.array(distances, pa.float64()),
            "silhouette": pa.array(silhouette, pa.float64(), from_pandas=True),
            "is_outlier": pa.array(
                preprocessing.outlier_mask(X, clustering.outlier_fence), pa.bool_()
            ),
        }
    )


def selected_k(sweep: pa.Table) -> int:
    """The k of the ml_kmeans_sweep row with ``is_selected`` (:func:`selected_row`).

    Parameters
    ----------
    sweep : pyarrow.Table
        ``ml_kmeans_sweep``.

    Returns
    -------
    int
        The selected number of segments.

    Raises
    ------
    ValueError
        When zero or several rows have ``is_selected``.
    """
    return int(selected_row(sweep)["k"])


LEAVES_SCHEMA = pa.schema(
    [(ID_COLUMN, pa.string()), ("leaf_id", pa.int64()), ("scheme", pa.string())]
)
LINKAGE_SCHEMA = pa.schema(
    [
        ("step", pa.int64()),
        ("left_node", pa.int64()),
        ("right_node", pa.int64()),
        ("distance", pa.float64()),
        ("size", pa.int64()),
        ("scheme", pa.string()),
        ("linkage_method", pa.string()),
        ("n_leaves", pa.int64()),
        ("n_customers", pa.int64()),
    ]
)
ASSIGNMENTS_SCHEMA = pa.schema(
    [
        (ID_COLUMN, pa.string()),
        ("hierarchical_segment_id", pa.int64()),
        ("hierarchical_segment_name", pa.string()),
        ("hierarchical_segment_description", pa.string()),
        ("k", pa.int64()),
    ]
)


def hierarchical_leaves(matrix: pa.Table, config: Config) -> pa.Table:
    """Customers to tree leaves (exact or two-stage); empty when hierarchical is disabled.

    Parameters
    ----------
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table, n_customers rows (0 when disabled)
        Schema :data:`LEAVES_SCHEMA`: ``customer_id``, ``leaf_id`` (int64), ``scheme``
        ("exact" or "two_stage"); see ``hierarchical_tables.leaves_table``.

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key).
    """
    settings = _settings(config)
    if not _hierarchical_enabled(settings):
        return LEAVES_SCHEMA.empty_table()
    return hierarchical_tables.leaves_table(by_customer(matrix), settings.clustering)


def hierarchical_linkage(matrix: pa.Table, leaves: pa.Table, config: Config) -> pa.Table:
    """The merge tree over the leaves; empty when hierarchical is disabled.

    Parameters
    ----------
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.
    leaves : pyarrow.Table
        ``ml_hierarchical_leaves`` (:func:`hierarchical_leaves`).
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table, n_leaves - 1 rows (0 when disabled)
        Schema :data:`LINKAGE_SCHEMA`: one row per merge, ``distance`` the merge height in the
        scaled space (``segmentation.clustering.linkage``, Ward by default).

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key).
    """
    settings = _settings(config)
    if not _hierarchical_enabled(settings):
        return LINKAGE_SCHEMA.empty_table()
    return hierarchical_tables.linkage_table(by_customer(matrix), leaves, settings.clustering)


def hierarchical_assignments(
    matrix: pa.Table,
    leaves: pa.Table,
    linkage: pa.Table,
    sweep: pa.Table,
    spec: pa.Table,
    config: Config,
) -> pa.Table:
    """Cut the tree at the hierarchical k; segment ids by size, names and descriptions.

    Names and descriptions are those of each segment's customers (``naming.describe_segments``).

    Parameters
    ----------
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.
    leaves : pyarrow.Table
        ``ml_hierarchical_leaves``.
    linkage : pyarrow.Table
        ``ml_hierarchical_linkage``.
    sweep : pyarrow.Table
        ``ml_kmeans_sweep``; its selected k is used unless ``clustering.hierarchical_k`` is set.
    spec : pyarrow.Table
        ``ml_preprocessing_spec`` (for names and descriptions).
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table, n_customers rows (0 when disabled)
        Schema :data:`ASSIGNMENTS_SCHEMA`: ``customer_id``, ``hierarchical_segment_id`` (int64,
        1..k), ``hierarchical_segment_name``, ``hierarchical_segment_description``, ``k``.

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key).
    ValueError
        No or several selected k in ``sweep`` (:func:`selected_row`).
    """
    settings = _settings(config)
    if not _hierarchical_enabled(settings):
        return ASSIGNMENTS_SCHEMA.empty_table()
    k, _reason = hierarchical.resolve_k(settings.clustering.hierarchical_k, selected_k(sweep))
    matrix = by_customer(matrix)
    assigned = hierarchical_tables.assignments_table(linkage, leaves, k)
    rows = pc.index_in(
        assigned.column(ID_COLUMN), value_set=matrix.column(ID_COLUMN).combine_chunks()
    ).to_numpy()
    X = matrix_array(matrix)[rows]
    labels = assigned.column("hierarchical_segment_id").to_numpy()
    fitted = preprocessing_tables.spec_from_table(spec)
    described = naming.describe_segments(X, labels, fitted, settings, n_segments=int(labels.max()))

    def per_customer(values: list[str]) -> pa.Array:
        # Dictionary-encoded (one string per segment), decoded by Arrow in C, not in Python.
        indices = pa.array(labels - 1, pa.int32())
        return pa.DictionaryArray.from_arrays(indices, pa.array(values)).cast(pa.string())

    return pa.table(
        {
            ID_COLUMN: assigned.column(ID_COLUMN),
            "hierarchical_segment_id": assigned.column("hierarchical_segment_id"),
            "hierarchical_segment_name": per_customer([d.name for d in described]),
            "hierarchical_segment_description": per_customer([d.description for d in described]),
            "k": assigned.column("k"),
        }
    )


def hierarchical_metrics(
    matrix: pa.Table,
    leaves: pa.Table,
    linkage: pa.Table,
    sweep: pa.Table,
    config: Config,
) -> pa.Table:
    """Metrics of the tree cut at every k of the K-Means sweep's range.

    Parameters
    ----------
    matrix : pyarrow.Table, n_customers rows
        ``ml_feature_matrix``: ``customer_id`` plus the d float64 matrix columns (scaled space,
        unitless); any row order.
    leaves, linkage : pyarrow.Table
        ``ml_hierarchical_leaves`` and ``ml_hierarchical_linkage``.
    sweep : pyarrow.Table
        ``ml_kmeans_sweep``: its k values, plus the hierarchical k, are evaluated.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table
        One row per k (``hierarchical_tables.METRICS_SCHEMA``; 0 rows when disabled).

    Raises
    ------
    ConfigError
        When ``config`` is not valid (``SegmentationSettings.from_config`` names the key).
    ValueError
        No or several selected k in ``sweep`` (:func:`selected_row`).
    """
    settings = _settings(config)
    if not _hierarchical_enabled(settings):
        return hierarchical_tables.METRICS_SCHEMA.empty_table()
    selected, _reason = hierarchical.resolve_k(
        settings.clustering.hierarchical_k, selected_k(sweep)
    )
    k_values = sorted({*(int(k) for k in sweep.column("k").to_pylist()), selected})
    return hierarchical_tables.metrics_table(
        by_customer(matrix),
        linkage,
        leaves,
        settings.clustering,
        k_values=k_values,
        selected_k=selected,
    )


# ---------------------------------------------------------------------------------------------
# Predictive CLV: BG/NBD + Gamma-Gamma (models ml_clv_parameters and ml_customer_clv)
# ---------------------------------------------------------------------------------------------
# Fit once, score with the published fit: ml_clv_parameters fits (clv.fit_clv, 15-20 s at
# 100k customers with two years of daily history), ml_customer_clv scores every customer with
# the parameters it published (about 1 s), as K-Means sweep -> centroids -> assignments do.
# Imported here, not at the top, so that this section is self-contained.

import math  # noqa: E402

from segmentation import clv  # noqa: E402
from segmentation.clv.tables import HOLDOUT_SCHEMA, calibration_holdout_table  # noqa: E402
from segmentation.settings import ConfigError  # noqa: E402

CLV_SUMMARY_TABLE = "int_customer_clv_summary"
CLV_PARAMETERS_TABLE = "ml_clv_parameters"
CLV_HOLDOUT_TABLE = "int_customer_clv_holdout"
CLV_SQL_ONLY_KEYS = ("calibration_end", "holdout_end")
"""Keys of ``segmentation.clv`` read by the SQL summary only (left out of ``ClvSettings``)."""
CLV_NO_PURCHASES = "no purchases up to the calibration end"
"""``clv_status`` of customers without a purchase in the calibration window (not scored)."""


def clv_settings(config: Config) -> clv.ClvSettings:
    """``segmentation.clv`` as :class:`clv.ClvSettings` (defaults when absent or null).

    The SQL-only keys (:data:`CLV_SQL_ONLY_KEYS`) are left out; an unknown key or an invalid
    value raises a ``ConfigError`` naming ``segmentation.clv`` and the key.

    Parameters
    ----------
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    clv.ClvSettings
        The validated CLV settings.

    Raises
    ------
    ConfigError
        ``config`` is not valid JSON or not a mapping, ``segmentation.clv`` is not a mapping, or
        a key of it is unknown or invalid.
    """
    raw: Any = config
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ConfigError(f"segmentation: not valid JSON ({error})") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"segmentation: expected a mapping, got {raw!r}")
    section = raw.get("clv")
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise ConfigError(f"segmentation.clv: expected a mapping of CLV settings, got {section!r}")
    try:
        return clv.ClvSettings.from_dict(
            {key: value for key, value in section.items() if key not in CLV_SQL_ONLY_KEYS}
        )
    except ValueError as error:
        raise ConfigError(f"segmentation.clv: {error}") from None


def _clv_split(summary: pa.Table, settings: clv.ClvSettings) -> tuple[pa.Table, pa.Table]:
    """Split the summary into the customers with purchases (fit columns) and those without.

    ``summary`` is ``int_customer_clv_summary``: the columns of :data:`clv.SUMMARY_COLUMNS`,
    frequency null for customers without a purchase up to the calibration end, and optionally
    ``time_unit``, which must then be the configured one.
    """
    missing = [name for name in clv.SUMMARY_COLUMNS if name not in summary.column_names]
    if missing:
        raise ValueError(
            f"{CLV_SUMMARY_TABLE}: missing column(s) {', '.join(missing)}; "
            f"available columns: {', '.join(summary.column_names)}"
        )
    if "time_unit" in summary.column_names:
        units = sorted(pc.unique(summary.column("time_unit").drop_null()).to_pylist())
        if units and units != [settings.time_unit]:
            raise ValueError(
                f"{CLV_SUMMARY_TABLE}.time_unit: the summary is in {', '.join(units)} but "
                f"segmentation.clv.time_unit is {settings.time_unit!r}; rebuild the summary"
            )
    has_purchases = pc.is_valid(summary.column("frequency"))
    purchased = summary.filter(has_purchases).select(list(clv.SUMMARY_COLUMNS))
    return purchased, summary.filter(pc.invert(has_purchases))


def clv_parameters(summary: pa.Table, config: Config) -> pa.Table:
    """Fit BG/NBD and Gamma-Gamma on the customers with purchases; the parameters table.

    Returns :meth:`clv.ClvResult.parameters` (schema :data:`clv.PARAMETER_SCHEMA`): one row per
    (model, parameter) plus the diagnostics, with the fit status (``converged`` False and the
    reason in ``message`` when a fit failed or was not attempted).

    Parameters
    ----------
    summary : pyarrow.Table, n_customers rows
        ``int_customer_clv_summary``: ``customer_id``, ``frequency`` (repeat purchases), ``recency``
        and ``T`` (in ``segmentation.clv.time_unit`` periods), ``monetary_value`` (mean repeat
        spend, currency of the input); ``frequency`` null for customers without a purchase.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table
        ``ml_clv_parameters`` (schema :data:`clv.PARAMETER_SCHEMA`).

    Raises
    ------
    ConfigError
        Invalid ``segmentation.clv`` (:func:`clv_settings`).
    ValueError
        ``summary`` lacks a column of :data:`clv.SUMMARY_COLUMNS`, or its ``time_unit`` differs
        from the configured one, or the values are invalid (``clv.validate_rft``).
    """
    settings = clv_settings(config)
    purchased, _unscored = _clv_split(summary, settings)
    return clv.fit_clv_parameters(purchased, settings)


def _clv_fits(
    parameters: pa.Table, n_customers: int
) -> tuple[clv.BgNbdFit, clv.GammaGammaFit, float]:
    """The two fits and the frequency-spend correlation as published in ``parameters``."""
    rows = {(row["model"], row["parameter"]): row for row in parameters.to_pylist()}
    names = [("bg_nbd", name) for name in clv.BG_NBD_PARAMETERS]
    names += [("gamma_gamma", name) for name in clv.GAMMA_GAMMA_PARAMETERS]
    names += [("gamma_gamma", "frequency_spend_correlation"), ("gamma_gamma", "repeat_customers")]
    names += [("bg_nbd", "time_scale"), ("gamma_gamma", "spend_scale")]
    missing = [f"{model}.{name}" for model, name in names if (model, name) not in rows]
    if missing:
        raise ValueError(f"{CLV_PARAMETERS_TABLE}: missing row(s) {', '.join(missing)}")

    def value(model: str, name: str) -> float:
        found = rows[(model, name)]["value"]
        return math.nan if found is None else float(found)

    def status(model: str) -> dict[str, Any]:
        row = rows[(model, clv.BG_NBD_PARAMETERS[0] if model == "bg_nbd" else "p")]
        ll = row["log_likelihood"]
        return {
            "log_likelihood": math.nan if ll is None else float(ll),
            "converged": bool(row["converged"]),
            "message": str(row["message"]),
            "iterations": 0,
            "n_customers": int(row["n_customers"]),
        }

    bg = clv.BgNbdFit(
        *(value("bg_nbd", n) for n in clv.BG_NBD_PARAMETERS),
        **status("bg_nbd"),
        scale=value("bg_nbd", "time_scale"),
    )
    gg = clv.GammaGammaFit(
        *(value("gamma_gamma", n) for n in clv.GAMMA_GAMMA_PARAMETERS),
        **status("gamma_gamma"),
        scale=value("gamma_gamma", "spend_scale"),
    )
    if bg.n_customers != n_customers:
        raise ValueError(
            f"{CLV_PARAMETERS_TABLE}: fitted on {bg.n_customers} customers but "
            f"{CLV_SUMMARY_TABLE} gives {n_customers} (customers with purchases, at most "
            f"segmentation.clv.fit_sample_max_customers); rebuild {CLV_PARAMETERS_TABLE}"
        )
    return bg, gg, value("gamma_gamma", "frequency_spend_correlation")


def _clv_score(
    purchased: pa.Table,
    bg: clv.BgNbdFit,
    gg: clv.GammaGammaFit,
    correlation: float,
    settings: clv.ClvSettings,
) -> clv.ClvResult:
    """Predictions of given fits for the customers of a summary, through :func:`clv.score_clv`.

    The same function scores inside :func:`clv.fit_clv`; tests/python/test_clv_dbt.py checks
    that both give identical customer tables.
    """
    ids = pc.cast(purchased.column(ID_COLUMN), pa.string()).combine_chunks()
    x, t_x, big_t = clv.validate_rft(
        *(
            np.asarray(
                pc.cast(purchased.column(name), pa.float64()).to_numpy(zero_copy_only=False),
                dtype=np.float64,
            )
            for name in ("frequency", "recency", "T")
        )
    )
    m = clv.validate_monetary(
        x,
        pc.cast(purchased.column("monetary_value"), pa.float64()).to_numpy(zero_copy_only=False),
    )
    return clv.score_clv(ids, x, t_x, big_t, m, bg, gg, correlation, settings)


def customer_clv(summary: pa.Table, parameters: pa.Table, config: Config) -> pa.Table:
    """Predicted CLV for every customer of the summary (schema :data:`clv.CUSTOMER_SCHEMA`).

    ``parameters`` is the output of :func:`clv_parameters` on the same summary and config (the
    model ml_clv_parameters); the customers are scored with it, without refitting. Customers with
    purchases get :meth:`clv.ClvResult.customers` (predictions null with the reason in
    ``clv_status`` when a fit failed); customers without a purchase up to the calibration end get
    null predictions and ``clv_status`` :data:`CLV_NO_PURCHASES`.

    Parameters
    ----------
    summary : pyarrow.Table, n_customers rows
        ``int_customer_clv_summary`` (see :func:`clv_parameters`).
    parameters : pyarrow.Table
        ``ml_clv_parameters`` fitted on the same summary and config.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table, n_customers rows
        Schema :data:`clv.CUSTOMER_SCHEMA`: the scored customers first, then those without a
        purchase.

    Raises
    ------
    ConfigError
        Invalid ``segmentation.clv`` (:func:`clv_settings`).
    ValueError
        ``summary`` lacks a column or has another ``time_unit``; ``parameters`` lacks a row, or
        was fitted on another number of customers than the summary gives (rebuild it).
    """
    settings = clv_settings(config)
    purchased, unscored = _clv_split(summary, settings)
    bg, gg, correlation = _clv_fits(parameters, settings.fit_size(purchased.num_rows))
    result = _clv_score(purchased, bg, gg, correlation, settings)
    scored = result.customers()
    n = unscored.num_rows
    empty = pa.nulls(n, pa.float64())
    rows = pa.Table.from_arrays(
        [
            pc.cast(unscored.column(ID_COLUMN), pa.string()).combine_chunks(),
            empty,
            empty,
            empty,
            empty,
            pa.nulls(n, pa.string()),
            pa.repeat(pa.scalar(CLV_NO_PURCHASES, pa.string()), n),
            pa.repeat(pa.scalar(result.diagnostic(), pa.string()), n),
        ],
        schema=clv.CUSTOMER_SCHEMA,
    )
    return pa.concat_tables([scored, rows])


def clv_holdout(
    summary: pa.Table, holdout: pa.Table, parameters: pa.Table, config: Config
) -> pa.Table:
    """Calibration/holdout table of the published BG/NBD fit (model ml_clv_holdout).

    ``holdout`` is ``int_customer_clv_holdout``: per customer with a calibration purchase, the
    purchases in the holdout window and its length ``holdout_periods``; it has no rows when
    ``segmentation.clv.holdout_end`` is not set, and neither has the result. Both tables must
    list the same customers in the same order (the models order them by customer id).
    Returns :func:`clv.tables.calibration_holdout_table` (schema ``HOLDOUT_SCHEMA``).

    Parameters
    ----------
    summary : pyarrow.Table, n_customers rows
        ``int_customer_clv_summary`` (see :func:`clv_parameters`).
    holdout : pyarrow.Table, n_purchasers rows or none
        ``int_customer_clv_holdout``: ``customer_id``, ``holdout_purchases`` (count) and
        ``holdout_periods`` (the holdout length in ``time_unit`` periods, one value).
    parameters : pyarrow.Table
        ``ml_clv_parameters``.
    config : mapping, str or None
        The ``segmentation`` var (a mapping, or its JSON as dbt renders it).

    Returns
    -------
    pyarrow.Table
        Schema ``HOLDOUT_SCHEMA``; no rows when ``holdout`` has none.

    Raises
    ------
    ConfigError
        Invalid ``segmentation.clv`` (:func:`clv_settings`).
    ValueError
        ``summary`` lacks a column or has another ``time_unit``; ``holdout`` does not list the
        customers with purchases in the same order; ``parameters`` lacks a row or was fitted on
        another number of customers; ``holdout_periods`` is not one non-null value.
    """
    settings = clv_settings(config)
    purchased, _unscored = _clv_split(summary, settings)
    if holdout.num_rows == 0:
        return HOLDOUT_SCHEMA.empty_table()
    ids = pc.cast(purchased.column(ID_COLUMN), pa.string()).combine_chunks()
    holdout_ids = pc.cast(holdout.column(ID_COLUMN), pa.string()).combine_chunks()
    if not ids.equals(holdout_ids):
        raise ValueError(
            f"{CLV_HOLDOUT_TABLE}: {holdout.num_rows} customers, not the {purchased.num_rows} "
            f"customers with purchases of {CLV_SUMMARY_TABLE} in the same order; rebuild both"
        )
    bg, _gg, _correlation = _clv_fits(parameters, settings.fit_size(purchased.num_rows))
    periods = pc.unique(holdout.column("holdout_periods")).to_pylist()
    if len(periods) != 1 or periods[0] is None:
        raise ValueError(f"{CLV_HOLDOUT_TABLE}.holdout_periods: expected one value, got {periods}")

    def column(table: pa.Table, name: str) -> np.ndarray:
        return np.asarray(
            pc.cast(table.column(name), pa.float64()).to_numpy(zero_copy_only=False),
            dtype=np.float64,
        )

    return calibration_holdout_table(
        column(purchased, "frequency"),
        column(purchased, "recency"),
        column(purchased, "T"),
        column(holdout, "holdout_purchases"),
        bg.params if bg.converged else None,
        float(periods[0]),
    )
