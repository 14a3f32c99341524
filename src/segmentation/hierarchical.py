"""Hierarchical (agglomerative) clustering that scales, as table-in / table-out functions.

The dbt Python models call, in sequence:

1. ``leaves_table(matrix, settings)``: which leaf of the tree each customer sits in.
   *Exact* scheme (``n <= exact_hierarchical_max_rows``): every customer is its own leaf,
   ``leaf_id`` = 0-based row rank by ``customer_id``. *Two-stage* scheme above it: a seeded
   K-Means on a seeded sample finds ``micro_clusters`` micro-clusters, every customer is assigned to
   its nearest micro-centroid (chunked, vectorised), and the micro-clusters are the leaves.
2. ``linkage_table(matrix, leaves, settings)``: the merge tree over the leaves in scipy's ``Z``
   convention (one row per merge), so a BI tool can draw the dendrogram. Exact scheme: fastcluster
   (``linkage_vector`` for Ward, O(n) memory; ``linkage`` on the condensed matrix for average and
   complete). Two-stage: ``weighted_linkage`` on the micro-centroids weighted by their sizes.
3. ``assignments_table(linkage, leaves, k)``: ``fcluster(Z, k, "maxclust")`` over the leaves,
   customers mapped through their leaf, segment ids 1..k ordered by size (``n_segments`` records
   a cut that yields fewer than k segments because merge heights tie).
4. ``metrics_table(...)``: one row per k with inertia, silhouette, Calinski-Harabasz,
   Davies-Bouldin (from ``segmentation.metrics``, sampled above ``exact_silhouette_max_rows``)
   and the cophenetic correlation of the tree. ``resolve_k`` says which k is selected and why.

Why two stages: exact agglomerative clustering needs O(n^2) time (and O(n^2) memory except for
Ward's vector algorithm), which is fine for 20,000 customers and hopeless for a million.
Summarising the customers by a few hundred K-Means micro-clusters and running a *size-weighted*
linkage on their centroids keeps the tree meaningful: for Ward the weighted merge cost of two
micro-clusters is exactly the Ward cost of merging the customers they hold (Ward depends on the
customers only through each group's size and centroid), so the only approximation is that
customers are not re-split once they share a micro-cluster. Plain Ward on unweighted centroids
would instead treat a 50-customer and a 5,000-customer micro-cluster alike, which is wrong.

Memory: no n x n matrix is built above ``exact_hierarchical_max_rows``; the two-stage scheme holds
the (n, d) matrix, an (m, m) matrix over the micro-clusters and bounded samples.

Every function works in ``customer_id`` order (sorting only when the input is not sorted yet, and
aligning the matrix to the leaves by a hash lookup), so the results do not depend on the row
order of the Arrow tables; all randomness is seeded from ``ClusteringSettings.seed``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import fastcluster
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.cluster.hierarchy import cophenet, fcluster, is_valid_linkage
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from segmentation.checks import finite_or_none, table_matrix
from segmentation.metrics import cluster_metrics, silhouette_many
from segmentation.settings import LINKAGES, ClusteringSettings

SCHEMES = ("exact", "two_stage")

#: Rows of the K-Means *fit sample* per micro-cluster in the two-stage scheme. Micro-clusters only
#: summarise the data for the linkage, so 40 rows per centroid is plenty; every customer is then
#: assigned to its nearest centroid and the centroids are recomputed on all customers.
MICRO_SAMPLE_PER_CLUSTER = 40
#: Maximum K-Means iterations for the micro-clusters (they need not be fully converged).
MICRO_MAX_ITER = 50
#: Largest number of leaves whose cophenetic correlation is computed over all leaf pairs
#: (4.5 million pairs, two 36 MB condensed vectors); above it a seeded sample of this many leaves.
COPHENETIC_MAX_LEAVES = 3_000

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


def _features(matrix: pa.Table) -> np.ndarray:
    """The feature matrix (n, d) float64 C-contiguous, in the table's row order.

    Every column other than ``customer_id`` is a feature (``checks.table_matrix``: numeric, no
    null, NaN or infinite value; the matrix arrives imputed and scaled).
    """
    return table_matrix(matrix, "matrix")[0]


def _matrix_arrays(matrix: pa.Table) -> tuple[pa.Array, np.ndarray]:
    """Sorted customer ids (n,) and the feature matrix (n, d) float64 in that row order."""
    ids, order = _sorted_ids(matrix, "matrix")
    X = _features(matrix)
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
    X = _features(matrix)
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
# 1. Leaves
# --------------------------------------------------------------------------------------------


def _group_means(X: np.ndarray, labels: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-group sizes (m,) and mean vectors (m, d) of X (n, d) for labels in 0..m-1."""
    counts = np.bincount(labels, minlength=m)
    sums = np.column_stack(
        [np.bincount(labels, weights=X[:, j], minlength=m) for j in range(X.shape[1])]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return counts, means


def micro_cluster_labels(X: np.ndarray, n_clusters: int, seed: int) -> np.ndarray:
    """Deterministic micro-cluster id (0..m-1) of each row of X (n, d), m <= n_clusters.

    K-Means (k-means++, one init, seeded) is fitted on a seeded sample of
    ``MICRO_SAMPLE_PER_CLUSTER * n_clusters`` rows (all rows if fewer), then every row is assigned
    to its nearest fitted centroid by ``KMeans.predict`` (chunked and vectorised: BLAS products
    on row blocks in parallel, O(block x m) memory, never n x m). Micro-clusters left empty
    (possible when the data have fewer distinct points than ``n_clusters``) are dropped. Ids are
    renumbered by size descending, then by the full-data centroid coordinates ascending, so they
    do not depend on K-Means' internal numbering.
    """
    n = len(X)
    n_clusters = min(n_clusters, n)
    rng = np.random.default_rng(seed)
    sample_size = min(n, MICRO_SAMPLE_PER_CLUSTER * n_clusters)
    sample = np.sort(rng.choice(n, size=sample_size, replace=False)) if sample_size < n else None
    fit_rows = X if sample is None else X[sample]
    # One BLAS thread: k-means++ seeding makes hundreds of small matrix products, for which
    # multi-threaded BLAS only adds synchronisation (sklearn parallelises Lloyd with OpenMP).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # Fewer distinct points than micro-clusters: K-Means warns and duplicates centres,
        # which only leaves some micro-clusters empty (dropped below).
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = KMeans(
            n_clusters=n_clusters, n_init=1, max_iter=MICRO_MAX_ITER, random_state=seed
        ).fit(fit_rows)
    labels = model.predict(X).astype(np.int64)
    counts, means = _group_means(X, labels, n_clusters)
    used = np.flatnonzero(counts > 0)
    keys = [means[used, j] for j in reversed(range(X.shape[1]))] + [-counts[used]]
    ranked = used[np.lexsort(keys)]
    new_id = np.full(n_clusters, -1, dtype=np.int64)
    new_id[ranked] = np.arange(len(ranked))
    return new_id[labels]


def leaves_table(matrix: pa.Table, settings: ClusteringSettings) -> pa.Table:
    """How customers map to the leaves of the tree.

    ``matrix``: ``customer_id`` (string) plus numeric feature columns, n rows. Returns n rows
    sorted by ``customer_id``: ``customer_id``, ``leaf_id`` (int64, 0..m-1), ``scheme``
    ("exact" when n <= ``exact_hierarchical_max_rows``: leaf_id is the customer's rank by id;
    "two_stage" above it: leaf_id is the micro-cluster, see ``micro_cluster_labels``).
    """
    ids, X = _matrix_arrays(matrix)
    n = len(ids)
    if n <= settings.exact_hierarchical_max_rows:
        scheme, leaf = "exact", np.arange(n, dtype=np.int64)
    else:
        scheme, leaf = "two_stage", micro_cluster_labels(X, settings.micro_clusters, settings.seed)
    return pa.table(
        {
            "customer_id": ids,
            "leaf_id": pa.array(leaf, type=pa.int64()),
            "scheme": pa.repeat(pa.scalar(scheme, type=pa.string()), n),
        }
    )


# --------------------------------------------------------------------------------------------
# 2. Linkage
# --------------------------------------------------------------------------------------------


def _relabel(merges: np.ndarray, m: int) -> np.ndarray:
    """Turn NN-chain merges of *slots* into scipy's Z (as scipy's ``_hierarchy.label``).

    ``merges`` (m-1, 4): slot x, slot y, distance, size, already stably sorted by distance.
    Node ids follow scipy: leaves 0..m-1, the cluster formed at row i is m + i; each row has
    the smaller id on the left.
    """
    parent = np.arange(2 * m - 1)

    def find(node: int) -> int:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    Z = merges.copy()
    for i in range(m - 1):
        a, b = find(int(merges[i, 0])), find(int(merges[i, 1]))
        Z[i, 0], Z[i, 1] = min(a, b), max(a, b)
        parent[a] = parent[b] = m + i
    return Z


def weighted_linkage(points: np.ndarray, weights: np.ndarray, method: str = "ward") -> np.ndarray:
    """Size-weighted agglomerative clustering of m weighted points; scipy's Z (m-1, 4).

    ``points`` (m, d) are group centroids, ``weights`` (m,) the number of customers in each.
    Z[:, 3] is the summed weight under each node. With unit weights the result equals
    ``scipy.cluster.hierarchy.linkage(points, method)`` (same algorithm, same tie-breaking).

    Distances and Lance-Williams updates (n_* are weights, i.e. customer counts):

    - ``ward``: between groups i, j: d = sqrt(2 n_i n_j / (n_i + n_j)) ||c_i - c_j||, scipy's
      convention (Euclidean distance for two single points); updated by
      d(k, i+j)^2 = ((n_k+n_i) d(k,i)^2 + (n_k+n_j) d(k,j)^2 - n_k d(i,j)^2) / (n_i+n_j+n_k).
      This is exactly the Ward distance of the customers pooled in each group.
    - ``average``: the customer-weighted mean of centroid distances (UPGMA counting customers):
      d(k, i+j) = (n_i d(k,i) + n_j d(k,j)) / (n_i + n_j), starting from ||c_i - c_j||.
      An approximation: within a micro-cluster every customer is taken at its centroid.
    - ``complete``: d(k, i+j) = max(d(k,i), d(k,j)) on centroid distances; weights only enter
      the node sizes (the farthest pair of centroids ignores the micro-clusters' spread).

    Algorithm: the nearest-neighbour chain (all three linkages are reducible), mirroring scipy's
    ``nn_chain`` including its tie-breaking (prefer the previous chain element, then the lowest
    slot), on a dense (m, m) matrix: O(m^2) memory, a Python loop over chain steps and merges
    with O(m) numpy work in each, so m = 2,000 takes well under a second.
    """
    if method not in LINKAGES:
        raise ValueError(
            f"linkage method: unknown value {method!r}; expected one of: {', '.join(LINKAGES)}"
        )
    points = np.asarray(points, dtype=np.float64)
    size = np.asarray(weights, dtype=np.float64).copy()
    m = len(points)
    if points.ndim != 2 or size.shape != (m,):
        raise ValueError(
            f"weighted_linkage: points {points.shape} and weights {size.shape} do not match"
        )
    if (size <= 0).any():
        raise ValueError("weighted_linkage: weights must be positive")
    if m < 2:
        return np.empty((0, 4))

    sq = np.einsum("ij,ij->i", points, points)
    D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * points @ points.T, 0.0))
    if method == "ward":
        D *= np.sqrt(2.0 * np.outer(size, size) / (size[:, None] + size[None, :]))
    np.fill_diagonal(D, np.inf)

    merges = np.empty((m - 1, 4))
    chain: list[int] = []
    active = np.ones(m, dtype=bool)
    for step in range(m - 1):
        if not chain:
            chain.append(int(np.argmax(active)))
        while True:
            x = chain[-1]
            if len(chain) > 1:
                y = chain[-2]
                current = D[x, y]
            else:
                y, current = -1, np.inf
            nearest = int(np.argmin(D[x]))
            if D[x, nearest] < current:
                y, current = nearest, D[x, nearest]
            if len(chain) > 1 and y == chain[-2]:
                break
            chain.append(y)
        del chain[-2:]
        x, y = min(x, y), max(x, y)
        nx, ny = size[x], size[y]
        merges[step] = (x, y, current, nx + ny)
        size[x] = 0.0
        active[x] = False
        size[y] = nx + ny
        with np.errstate(invalid="ignore", over="ignore"):
            if method == "ward":
                t = 1.0 / (nx + ny + size)
                row = np.sqrt(
                    np.maximum(
                        (size + nx) * t * D[x] ** 2
                        + (size + ny) * t * D[y] ** 2
                        - size * t * current**2,
                        0.0,
                    )
                )
            elif method == "average":
                row = (nx * D[x] + ny * D[y]) / (nx + ny)
            else:
                row = np.maximum(D[x], D[y])
        row[~active] = np.inf
        row[y] = np.inf
        D[y, :] = row
        D[:, y] = row
        D[x, :] = np.inf
        D[:, x] = np.inf

    merges = merges[np.argsort(merges[:, 2], kind="mergesort")]
    return _relabel(merges, m)


def linkage_table(matrix: pa.Table, leaves: pa.Table, settings: ClusteringSettings) -> pa.Table:
    """The merge tree over the m leaves, one row per merge in scipy's ``Z`` convention.

    Columns: ``step`` (1..m-1), ``left_node``, ``right_node`` (ids < m are leaves, m + i is the
    cluster formed at step i + 1; left < right), ``distance`` (merge height), ``size`` (customers
    under the new node), ``scheme``, ``linkage_method``, ``n_leaves``, ``n_customers``.

    Exact scheme: the customers themselves, via fastcluster (``linkage_vector`` for Ward, O(n d)
    memory; ``linkage`` on the condensed distance matrix for average/complete, O(n^2) memory,
    which is why the exact scheme is refused above ``exact_hierarchical_max_rows``). Two-stage:
    ``weighted_linkage`` on the micro-centroids weighted by their customer counts.
    """
    X, leaf, scheme = _aligned(matrix, leaves)
    n = len(X)
    method = settings.linkage
    counts, centroids = _group_means(X, leaf, int(leaf.max()) + 1)
    m = len(counts)
    if scheme == "exact":
        if m != n:
            raise ValueError(
                f"leaves.leaf_id: scheme 'exact' needs one customer per leaf; "
                f"{n} customers in {m} leaves"
            )
        if n > settings.exact_hierarchical_max_rows:
            raise ValueError(
                f"leaves.scheme: 'exact' for {n} customers exceeds "
                f"exact_hierarchical_max_rows={settings.exact_hierarchical_max_rows}; "
                "rebuild the leaves"
            )
        if n < 2:
            Z = np.empty((0, 4))
        elif method == "ward":
            Z = fastcluster.linkage_vector(centroids, method="ward")
        else:
            # condensed matrix: n (n - 1) / 2 float64, 1.6 GB at n = 20,000; updated in place
            Z = fastcluster.linkage(pdist(centroids), method=method, preserve_input=False)
    else:
        Z = weighted_linkage(centroids, counts, method)
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


# --------------------------------------------------------------------------------------------
# 3. Assignments
# --------------------------------------------------------------------------------------------


def _segments_of_leaves(Z: np.ndarray, leaf_sizes: np.ndarray, k: int) -> np.ndarray:
    """Segment id (1..r, r <= k) of each of the m leaves for a cut into at most k clusters.

    ``fcluster(Z, k, "maxclust")`` cuts at a height; when several merges tie at that height it
    returns fewer than k clusters (r < k), which is kept as is (callers record r). Segments are
    renumbered by customer count descending, ties by their smallest leaf id.
    """
    m = len(leaf_sizes)
    raw = (
        np.ones(m, dtype=np.int64)
        if m < 2
        else fcluster(Z, k, criterion="maxclust").astype(np.int64)
    )
    r = int(raw.max())
    sizes = np.bincount(raw, weights=leaf_sizes, minlength=r + 1)[1:]
    first_leaf = np.full(r, m, dtype=np.int64)
    np.minimum.at(first_leaf, raw - 1, np.arange(m))
    ranked = np.lexsort((first_leaf, -sizes))
    new_id = np.empty(r, dtype=np.int64)
    new_id[ranked] = np.arange(1, r + 1)
    return new_id[raw - 1]


def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {k!r}")
    return int(k)


def assignments_table(linkage: pa.Table, leaves: pa.Table, k: int) -> pa.Table:
    """The hierarchical segment of every customer for a cut of the tree into k clusters.

    Returns one row per customer (sorted by ``customer_id``): ``customer_id``,
    ``hierarchical_segment_id`` (int64, 1 = largest segment by customers, ties by smallest leaf
    id), ``k`` (the requested k) and ``n_segments`` (the number of segments actually formed).
    ``n_segments < k`` happens when merge distances tie at the cut (``fcluster``'s maxclust never
    splits tied merges) or when there are fewer than k leaves; it is recorded, not an error.
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
    segment_of_leaf = _segments_of_leaves(Z, np.bincount(leaf, minlength=m), k)
    segment = segment_of_leaf[leaf]
    n = len(ids)
    r = int(segment_of_leaf.max()) if m else 0
    return pa.table(
        {
            "customer_id": ids,
            "hierarchical_segment_id": pa.array(segment, type=pa.int64()),
            "k": pa.array(np.full(n, k), type=pa.int64()),
            "n_segments": pa.array(np.full(n, r), type=pa.int64()),
        }
    )


# --------------------------------------------------------------------------------------------
# 4. Metrics and the choice of k
# --------------------------------------------------------------------------------------------


def resolve_k(settings: ClusteringSettings, kmeans_selected_k: int) -> tuple[int, str]:
    """The k of the hierarchical segments and why: K-Means' k ("same") or the configured one."""
    if settings.hierarchical_k == "same":
        k = _check_k(kmeans_selected_k, "kmeans_selected_k")
        return k, f"same k as K-Means (k={k})"
    k = int(settings.hierarchical_k)
    return k, f"fixed by configuration (hierarchical_k={k})"


def _sampled_cophenetic(Z: np.ndarray, points: np.ndarray, sample: np.ndarray) -> float:
    """Cophenetic correlation over the pairs of the sampled leaves only (O(s^2) memory).

    ``sample`` (s,) are sorted leaf ids; ``points`` (m, d) the leaf coordinates. The cophenetic
    distance of two leaves is the height of the merge that first joins them: walking the merges
    in order, every (left, right) pair of sampled leaves gets that merge's height.
    """
    m = len(points)
    s = len(sample)
    position = np.full(m, -1, dtype=np.int64)
    position[sample] = np.arange(s)
    members: dict[int, np.ndarray] = {}
    empty = np.empty(0, dtype=np.int64)
    coph = np.zeros((s, s))
    for i in range(m - 1):
        sides = []
        for node in (int(Z[i, 0]), int(Z[i, 1])):
            if node < m:
                sides.append(position[node : node + 1] if position[node] >= 0 else empty)
            else:
                sides.append(members.pop(node, empty))
        left, right = sides
        if len(left) and len(right):
            coph[np.ix_(left, right)] = Z[i, 2]
            coph[np.ix_(right, left)] = Z[i, 2]
        if len(left) or len(right):
            members[m + i] = np.concatenate(sides)
    upper = np.triu_indices(s, 1)
    return float(np.corrcoef(coph[upper], pdist(points[sample]))[0, 1])


def cophenetic_correlation(
    Z: np.ndarray, points: np.ndarray, settings: ClusteringSettings
) -> tuple[float | None, str]:
    """Cophenetic correlation of the tree Z against Euclidean distances between its leaves.

    ``points`` (m, d) are the leaves: customers (exact scheme) or micro-centroids (two-stage; the
    pairs are unweighted, so it measures how faithfully the tree of micro-clusters represents
    their centroids, not the customers). All leaf pairs (scipy ``cophenet``) when m <= min(
    ``exact_silhouette_max_rows``, ``COPHENETIC_MAX_LEAVES``), otherwise the pairs of a seeded
    sample of min(m, ``silhouette_sample_size``, ``COPHENETIC_MAX_LEAVES``) leaves, computed
    from the merges without the m x m matrix. Returns (value clipped to [-1, 1], or None when
    undefined, e.g. fewer than 3 leaves or all distances equal; "exact" | "sampled").
    """
    m = len(points)
    if m < 3:
        return None, "exact"
    size = min(m, settings.silhouette_sample_size, COPHENETIC_MAX_LEAVES)
    with np.errstate(invalid="ignore", divide="ignore"):
        if m <= min(settings.exact_silhouette_max_rows, COPHENETIC_MAX_LEAVES) or size == m:
            value = float(cophenet(Z, pdist(points))[0])
            method = "exact"
        else:
            rng = np.random.default_rng(settings.seed)
            sample = np.sort(rng.choice(m, size=max(size, 3), replace=False))
            value = _sampled_cophenetic(Z, points, sample)
            method = "sampled"
    return (float(np.clip(value, -1.0, 1.0)) if np.isfinite(value) else None), method


def _between_leaves(points: np.ndarray, sizes: np.ndarray, segments: np.ndarray) -> float:
    """Sum over leaves of size x squared distance from the leaf centroid to its segment's.

    ``points`` (m, d) leaf centroids, ``sizes`` (m,) customers per leaf, ``segments`` (m,) the
    segment (1..r) of each leaf. Added to the within-leaf sum of squares it gives the exact
    within-segment sum of squares (inertia) of the customers.
    """
    r = int(segments.max())
    weight = np.bincount(segments, weights=sizes, minlength=r + 1)
    centres = (
        np.column_stack(
            [
                np.bincount(segments, weights=sizes * points[:, j], minlength=r + 1)
                for j in range(points.shape[1])
            ]
        )
        / np.maximum(weight, 1)[:, None]
    )
    return float((sizes * ((points - centres[segments]) ** 2).sum(axis=1)).sum())


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

    Cost is bounded whatever n: up to ``exact_silhouette_max_rows`` customers everything is exact
    on all rows (``segmentation.metrics``). Above it, the silhouette of every k is estimated on
    one seeded sample of ``silhouette_sample_size`` customers (``silhouette_many`` shares the
    distance computation across k), Calinski-Harabasz and Davies-Bouldin are computed on those
    same ``silhouette_rows`` sampled customers (so compare them across k within this table), and
    the inertia stays exact on all customers through the leaf decomposition (within-leaf sum of
    squares, computed once, plus the size-weighted spread of leaf centroids around their segment
    centroid: O(m d) per k).
    """
    selected_k = _check_k(selected_k, "selected_k")
    if settings.hierarchical_k == "same":
        reason = f"same k as K-Means (k={selected_k})"
    elif int(settings.hierarchical_k) == selected_k:
        reason = f"fixed by configuration (hierarchical_k={selected_k})"
    else:
        raise ValueError(
            f"selected_k: {selected_k} contradicts segmentation.clustering.hierarchical_k="
            f"{settings.hierarchical_k}"
        )
    ks = sorted({_check_k(k, "k_values") for k in k_values} | {selected_k})
    X, leaf, scheme = _aligned(matrix, leaves)
    Z = linkage_matrix(linkage)
    m = len(Z) + 1
    if int(leaf.max()) + 1 != m:
        raise ValueError(
            f"leaves.leaf_id: {int(leaf.max()) + 1} leaves but linkage has n_leaves={m}"
        )
    leaf_sizes, leaf_points = _group_means(X, leaf, m)
    coph, coph_method = cophenetic_correlation(Z, leaf_points, settings)
    sampled = len(X) > settings.exact_silhouette_max_rows
    within_leaves = float(((X - leaf_points[leaf]) ** 2).sum()) if sampled else 0.0

    segments_of_leaves = [_segments_of_leaves(Z, leaf_sizes, k) for k in ks]
    labelings = [segments[leaf] for segments in segments_of_leaves]
    estimates = silhouette_many(
        X,
        labelings,
        exact_max_rows=settings.exact_silhouette_max_rows,
        sample_size=settings.silhouette_sample_size,
        seed=settings.seed,
    )
    rows: list[dict[str, Any]] = []
    for k, segments, labels, estimate in zip(
        ks, segments_of_leaves, labelings, estimates, strict=True
    ):
        r = int(segments.max())
        if sampled:
            index = estimate.sample_index
            scores = cluster_metrics(X[index], labels[index])
            scores["inertia"] = within_leaves + _between_leaves(leaf_points, leaf_sizes, segments)
        else:
            scores = cluster_metrics(X, labels)
        rows.append(
            {
                "method": "hierarchical",
                "k": k,
                "n_segments": r,
                "inertia": finite_or_none(scores.get("inertia")),
                "silhouette": finite_or_none(estimate.value),
                "silhouette_method": estimate.method,
                "silhouette_rows": int(estimate.n_rows),
                "silhouette_ci_low": finite_or_none(estimate.ci_low),
                "silhouette_ci_high": finite_or_none(estimate.ci_high),
                "calinski_harabasz": finite_or_none(scores.get("calinski_harabasz")),
                "davies_bouldin": finite_or_none(scores.get("davies_bouldin")),
                "cophenetic_correlation": coph,
                "cophenetic_method": coph_method,
                "scheme": scheme,
                "is_selected": k == selected_k,
                "selection_reason": reason if k == selected_k else None,
            }
        )
    return pa.Table.from_pylist(rows, schema=METRICS_SCHEMA)
