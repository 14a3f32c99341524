"""The tables of the hierarchical dbt models, over the array functions of ``hierarchical``.

The dbt Python models call (through ``segmentation.pipeline``), in sequence:

1. ``leaves_table(matrix, settings)``: which leaf of the tree each customer sits in
   (``hierarchical.leaf_labels``), rows sorted by ``customer_id``.
2. ``linkage_table(matrix, leaves, settings)``: the merge tree over the leaves in scipy's ``Z``
   convention (one row per merge, ``hierarchical.tree_linkage``), so a BI tool can draw the
   dendrogram.
3. ``assignments_table(linkage, leaves, k)``: the tree cut into k segments
   (``hierarchical.cut_tree``), customers mapped through their leaf.
4. ``metrics_table(...)``: one row per k (``hierarchical.tree_metrics``) and the cophenetic
   correlation of the tree.

This module owns the Arrow side: it checks the tables (customer ids string, unique and
non-null; the matrix numeric and finite, ``checks.table_matrix``; leaves covering exactly the
matrix's customers), works in ``customer_id`` order (sorting only when the input is not sorted
yet, aligning the matrix to the leaves by a hash lookup), so results do not depend on the row
order of the tables, and every error names the table and the column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.cluster.hierarchy import is_valid_linkage

from segmentation.checks import finite_or_none, table_matrix
from segmentation.hierarchical import (
    SCHEMES,
    TreeCut,
    _check_k,
    _group_means,
    cophenetic_correlation,
    cut_tree,
    leaf_labels,
    tree_linkage,
    tree_metrics,
)
from segmentation.settings import ClusteringSettings

_LINKAGE_COLUMNS = ("step", "left_node", "right_node", "distance", "size")


# --------------------------------------------------------------------------------------------
# Input validation and alignment
# --------------------------------------------------------------------------------------------


def _require_columns(table: pa.Table, table_name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(
            f"{table_name}: missing column(s) {', '.join(map(repr, missing))}; "
            f"available columns: {', '.join(table.column_names)}"
        )


def _id_column(table: pa.Table, table_name: str) -> pa.Array:
    """The ``customer_id`` column as one string array; fails if missing, not string or null."""
    _require_columns(table, table_name, ["customer_id"])
    column = table["customer_id"]
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise ValueError(f"{table_name}.customer_id: expected a string column, got {column.type}")
    if column.null_count:
        raise ValueError(f"{table_name}.customer_id: {column.null_count} null value(s)")
    return column.combine_chunks()


def _sorted_ids(table: pa.Table, table_name: str) -> tuple[pa.Array, np.ndarray | None]:
    """The table's ``customer_id`` values sorted ascending, and the sorting row indices.

    The indices are None when the ids are already strictly increasing (the common case for the
    tables this module writes), which is checked in O(n) instead of sorting. Fails naming the
    table if the column is missing, not a string, has nulls or duplicates.
    """
    ids = _id_column(table, table_name)
    n = len(ids)
    if n < 2 or pc.all(pc.less(ids.slice(0, n - 1), ids.slice(1))).as_py():
        return ids, None
    order = pc.sort_indices(ids).to_numpy()
    ids = ids.take(pa.array(order))
    same = pc.equal(ids.slice(1), ids.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    if same.any():
        example = ids[int(np.argmax(same))].as_py()
        raise ValueError(
            f"{table_name}.customer_id: {int(same.sum())} duplicate value(s), e.g. {example!r}"
        )
    return ids, order


def _matrix_arrays(matrix: pa.Table) -> tuple[pa.Array, np.ndarray]:
    """Sorted customer ids (n,) and the feature matrix (n, d) float64 in that row order."""
    ids, order = _sorted_ids(matrix, "matrix")
    X = table_matrix(matrix, "matrix")[0]
    return ids, (X if order is None else X[order])


def _aligned(matrix: pa.Table, leaves: pa.Table) -> tuple[np.ndarray, np.ndarray, str]:
    """The features X (n, d), the leaf id of each row (n,) and the scheme, in customer_id order.

    Checks that ``leaves`` covers exactly the customers of ``matrix``, that its leaf ids are
    0..m-1 with no gap (every leaf holds at least one customer) and that it has one scheme.
    The matrix is aligned to the (sorted) leaves by a hash lookup, so an unsorted matrix costs
    O(n), not another sort.
    """
    _require_columns(leaves, "leaves", ["customer_id", "leaf_id", "scheme"])
    leaf_ids, order = _sorted_ids(leaves, "leaves")
    matrix_ids = _id_column(matrix, "matrix")
    X = table_matrix(matrix, "matrix")[0]
    n = len(leaf_ids)
    if n == 0:
        raise ValueError("leaves: no customer (the matrix and leaves tables are empty)")
    position: np.ndarray | None = None
    if len(matrix_ids) == n and not pc.all(pc.equal(matrix_ids, leaf_ids)).as_py():
        found = pc.index_in(matrix_ids, value_set=leaf_ids)
        if not found.null_count:
            position = found.to_numpy().astype(np.int64)
    aligned = len(matrix_ids) == n and (
        position is None or bool((np.bincount(position, minlength=n) == 1).all())
    )
    if not aligned:
        missing = pc.filter(leaf_ids, pc.invert(pc.is_in(leaf_ids, value_set=matrix_ids)))
        extra = pc.filter(matrix_ids, pc.invert(pc.is_in(matrix_ids, value_set=leaf_ids)))
        detail = [f"{len(matrix_ids)} matrix rows, {n} leaves rows"]
        if len(missing):
            detail.append(
                f"{len(missing)} leaves customer(s) not in matrix, e.g. {missing[0].as_py()!r}"
            )
        if len(extra):
            detail.append(
                f"{len(extra)} matrix customer(s) not in leaves, e.g. {extra[0].as_py()!r}"
            )
        if not len(missing) and not len(extra):
            detail.append("matrix.customer_id has duplicates")
        raise ValueError(
            f"leaves.customer_id: does not match matrix.customer_id ({'; '.join(detail)})"
        )
    if position is not None:
        inverse = np.empty(n, dtype=np.int64)
        inverse[position] = np.arange(n)
        X = X[inverse]
    column = leaves["leaf_id"]
    if not pa.types.is_integer(column.type) or column.null_count:
        raise ValueError(
            f"leaves.leaf_id: expected a non-null integer column, got {column.type} "
            f"with {column.null_count} null(s)"
        )
    leaf = column.to_numpy().astype(np.int64)
    leaf = leaf if order is None else leaf[order]
    if len(leaf) and leaf.min() < 0:
        raise ValueError(f"leaves.leaf_id: negative value {int(leaf.min())}")
    counts = np.bincount(leaf)
    if (counts == 0).any():
        raise ValueError(
            f"leaves.leaf_id: leaf ids must be 0..m-1 without gaps; "
            f"leaf {int(np.argmin(counts))} holds no customer"
        )
    schemes = pc.unique(leaves["scheme"]).to_pylist()
    if len(schemes) != 1 or schemes[0] not in SCHEMES:
        raise ValueError(
            f"leaves.scheme: expected a single value among {', '.join(SCHEMES)}, got {schemes!r}"
        )
    return X, leaf, schemes[0]


# --------------------------------------------------------------------------------------------
# The tables
# --------------------------------------------------------------------------------------------


def leaves_table(matrix: pa.Table, settings: ClusteringSettings) -> pa.Table:
    """How customers map to the leaves of the tree.

    ``matrix``: ``customer_id`` (string) plus numeric feature columns, n rows. Returns n rows
    sorted by ``customer_id``: ``customer_id``, ``leaf_id`` (int64, 0..m-1), ``scheme``
    ("exact" when n <= ``exact_hierarchical_max_rows``: leaf_id is the customer's rank by id;
    "two_stage" above it: leaf_id is the micro-cluster, see ``micro_cluster_labels``).
    """
    ids, X = _matrix_arrays(matrix)
    leaf, scheme = leaf_labels(
        X,
        exact_max_rows=settings.exact_hierarchical_max_rows,
        micro_clusters=settings.micro_clusters,
        seed=settings.seed,
    )
    return pa.table(
        {
            "customer_id": ids,
            "leaf_id": pa.array(leaf, type=pa.int64()),
            "scheme": pa.repeat(pa.scalar(scheme, type=pa.string()), len(ids)),
        }
    )


def linkage_table(matrix: pa.Table, leaves: pa.Table, settings: ClusteringSettings) -> pa.Table:
    """The merge tree over the m leaves, one row per merge in scipy's ``Z`` convention.

    Columns: ``step`` (1..m-1), ``left_node``, ``right_node`` (ids < m are leaves, m + i is the
    cluster formed at step i + 1; left < right), ``distance`` (merge height), ``size`` (customers
    under the new node), ``scheme``, ``linkage_method``, ``n_leaves``, ``n_customers``.
    See ``hierarchical.tree_linkage``.
    """
    X, leaf, scheme = _aligned(matrix, leaves)
    n = len(X)
    method = settings.linkage
    m = int(leaf.max()) + 1
    Z = tree_linkage(
        X, leaf, scheme, method=method, exact_max_rows=settings.exact_hierarchical_max_rows
    )
    steps = len(Z)
    return pa.table(
        {
            "step": pa.array(np.arange(1, steps + 1), type=pa.int64()),
            "left_node": pa.array(Z[:, 0].astype(np.int64), type=pa.int64()),
            "right_node": pa.array(Z[:, 1].astype(np.int64), type=pa.int64()),
            "distance": pa.array(Z[:, 2], type=pa.float64()),
            "size": pa.array(np.rint(Z[:, 3]).astype(np.int64), type=pa.int64()),
            "scheme": pa.array([scheme] * steps, type=pa.string()),
            "linkage_method": pa.array([method] * steps, type=pa.string()),
            "n_leaves": pa.array([m] * steps, type=pa.int64()),
            "n_customers": pa.array([n] * steps, type=pa.int64()),
        }
    )


def linkage_matrix(linkage: pa.Table) -> np.ndarray:
    """Rebuild scipy's Z (m-1, 4) from a ``linkage_table`` result, validated.

    Z[:, 3] is recomputed as the number of *leaves* under each node (scipy's meaning; the table's
    ``size`` counts customers). A table without rows is the tree of a single leaf (m = 1).
    """
    _require_columns(linkage, "linkage", [*_LINKAGE_COLUMNS, "n_leaves"])
    table = linkage.sort_by("step")
    steps = table["step"].to_numpy()
    if not np.array_equal(steps, np.arange(1, len(steps) + 1)):
        raise ValueError("linkage.step: expected the steps 1..m-1 exactly once each")
    if len(steps):
        leaves_in_table = pc.unique(table["n_leaves"]).to_pylist()
        if leaves_in_table != [len(steps) + 1]:
            raise ValueError(
                f"linkage.n_leaves: expected {len(steps) + 1} for {len(steps)} merges, "
                f"got {leaves_in_table}"
            )
    m = len(steps) + 1
    Z = np.empty((m - 1, 4))
    Z[:, 0] = table["left_node"].to_numpy()
    Z[:, 1] = table["right_node"].to_numpy()
    Z[:, 2] = table["distance"].to_numpy()
    leaf_count = np.ones(2 * m - 1)
    for i in range(m - 1):
        a, b = int(Z[i, 0]), int(Z[i, 1])
        if not (0 <= a < m + i and 0 <= b < m + i):
            raise ValueError(f"linkage: step {i + 1} merges node {a} and {b}, not yet formed")
        leaf_count[m + i] = leaf_count[a] + leaf_count[b]
    Z[:, 3] = leaf_count[m:]
    if m > 1:
        is_valid_linkage(Z, throw=True, name="linkage")
    return Z


def assignments_table(linkage: pa.Table, leaves: pa.Table, k: int) -> pa.Table:
    """The hierarchical segment of every customer for a cut of the tree into k clusters.

    Returns one row per customer (sorted by ``customer_id``): ``customer_id``,
    ``hierarchical_segment_id`` (int64, 1 = largest segment by customers, ties by smallest leaf
    id), ``k`` (the requested k) and ``n_segments`` (the number of segments actually formed,
    see ``hierarchical.cut_tree``).
    """
    k = _check_k(k)
    _require_columns(leaves, "leaves", ["customer_id", "leaf_id"])
    ids, order = _sorted_ids(leaves, "leaves")
    if not pa.types.is_integer(leaves["leaf_id"].type) or leaves["leaf_id"].null_count:
        raise ValueError("leaves.leaf_id: expected a non-null integer column")
    leaf = leaves["leaf_id"].to_numpy().astype(np.int64)
    leaf = leaf if order is None else leaf[order]
    Z = linkage_matrix(linkage)
    m = len(Z) + 1
    if len(leaf) and (leaf.min() < 0 or leaf.max() >= m):
        raise ValueError(
            f"leaves.leaf_id: values must lie in 0..{m - 1} (n_leaves of linkage), "
            f"got {int(leaf.min())}..{int(leaf.max())}"
        )
    segment, r = cut_tree(Z, leaf, k)
    n = len(ids)
    return pa.table(
        {
            "customer_id": ids,
            "hierarchical_segment_id": pa.array(segment, type=pa.int64()),
            "k": pa.array(np.full(n, k), type=pa.int64()),
            "n_segments": pa.array(np.full(n, r), type=pa.int64()),
        }
    )


# The columns of metrics_table, also used for the empty table when hierarchical is disabled.
METRICS_SCHEMA = pa.schema(
    [
        ("method", pa.string()),
        ("k", pa.int64()),
        ("n_segments", pa.int64()),
        ("inertia", pa.float64()),
        ("silhouette", pa.float64()),
        ("silhouette_method", pa.string()),
        ("silhouette_rows", pa.int64()),
        ("silhouette_ci_low", pa.float64()),
        ("silhouette_ci_high", pa.float64()),
        ("calinski_harabasz", pa.float64()),
        ("davies_bouldin", pa.float64()),
        ("cophenetic_correlation", pa.float64()),
        ("cophenetic_method", pa.string()),
        ("scheme", pa.string()),
        ("is_selected", pa.bool_()),
        ("selection_reason", pa.string()),
    ]
)


def metrics_table(
    matrix: pa.Table,
    linkage: pa.Table,
    leaves: pa.Table,
    settings: ClusteringSettings,
    k_values: list[int],
    selected_k: int,
) -> pa.Table:
    """Quality of the hierarchical segmentation, one row per k of ``k_values`` (plus selected_k).

    Columns: ``method`` ("hierarchical"), ``k``, ``n_segments`` (segments actually formed, < k on
    tied merge heights), ``inertia`` (within-segment sum of squares over all customers),
    ``silhouette``, ``silhouette_method``, ``silhouette_rows``, ``silhouette_ci_low``,
    ``silhouette_ci_high``, ``calinski_harabasz``, ``davies_bouldin``,
    ``cophenetic_correlation`` and ``cophenetic_method`` (a property of the tree, the same on every
    row; see ``cophenetic_correlation``), ``scheme``, ``is_selected`` (k == selected_k, exactly
    one row; a selected_k missing from k_values is added) and ``selection_reason`` (on the
    selected row only; null elsewhere).

    Cost and sampling: ``hierarchical.tree_metrics`` (above ``exact_silhouette_max_rows``
    customers, Calinski-Harabasz and Davies-Bouldin are on the ``silhouette_rows`` sampled
    customers, so compare them across k within this table).
    """
    selected_k = _check_k(selected_k, "selected_k")
    reason = _selection_reason(settings, selected_k)
    ks = sorted({_check_k(k, "k_values") for k in k_values} | {selected_k})
    X, leaf, scheme = _aligned(matrix, leaves)
    Z = linkage_matrix(linkage)
    m = len(Z) + 1
    if int(leaf.max()) + 1 != m:
        raise ValueError(
            f"leaves.leaf_id: {int(leaf.max()) + 1} leaves but linkage has n_leaves={m}"
        )
    leaf_sizes, leaf_points = _group_means(X, leaf, m)
    coph, coph_method = cophenetic_correlation(
        Z,
        leaf_points,
        exact_max_rows=settings.exact_silhouette_max_rows,
        sample_size=settings.silhouette_sample_size,
        seed=settings.seed,
    )
    cuts = tree_metrics(
        X,
        leaf,
        Z,
        k_values=ks,
        exact_silhouette_max_rows=settings.exact_silhouette_max_rows,
        silhouette_sample_size=settings.silhouette_sample_size,
        seed=settings.seed,
        leaf_means=(leaf_sizes, leaf_points),
    )
    rows = [_metrics_row(cut, coph, coph_method, scheme, selected_k, reason) for cut in cuts]
    return pa.Table.from_pylist(rows, schema=METRICS_SCHEMA)


def _selection_reason(settings: ClusteringSettings, selected_k: int) -> str:
    """Why ``selected_k`` is the hierarchical k; ``ValueError`` if the configuration says else."""
    if settings.hierarchical_k == "same":
        return f"same k as K-Means (k={selected_k})"
    if int(settings.hierarchical_k) == selected_k:
        return f"fixed by configuration (hierarchical_k={selected_k})"
    raise ValueError(
        f"selected_k: {selected_k} contradicts segmentation.clustering.hierarchical_k="
        f"{settings.hierarchical_k}"
    )


def _metrics_row(
    cut: TreeCut, coph: float | None, coph_method: str, scheme: str, selected_k: int, reason: str
) -> dict[str, Any]:
    """One ``METRICS_SCHEMA`` row of a cut of the tree (``hierarchical.tree_metrics``)."""
    return {
        "method": "hierarchical",
        "k": cut.k,
        "n_segments": cut.n_segments,
        "inertia": finite_or_none(cut.inertia),
        "silhouette": finite_or_none(cut.silhouette.value),
        "silhouette_method": cut.silhouette.method,
        "silhouette_rows": int(cut.silhouette.n_rows),
        "silhouette_ci_low": finite_or_none(cut.silhouette.ci_low),
        "silhouette_ci_high": finite_or_none(cut.silhouette.ci_high),
        "calinski_harabasz": finite_or_none(cut.calinski_harabasz),
        "davies_bouldin": finite_or_none(cut.davies_bouldin),
        "cophenetic_correlation": coph,
        "cophenetic_method": coph_method,
        "scheme": scheme,
        "is_selected": cut.k == selected_k,
        "selection_reason": reason if cut.k == selected_k else None,
    }
