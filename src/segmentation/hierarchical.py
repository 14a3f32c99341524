"""Hierarchical (agglomerative) clustering that scales: arrays in, arrays and dataclasses out.

1. ``leaf_labels(X, ...)``: which leaf of the tree each row sits in. *Exact* scheme
   (``n <= exact_max_rows``): every row is its own leaf. *Two-stage* scheme above it: a seeded
   K-Means on a seeded sample finds ``micro_clusters`` micro-clusters, every row is assigned to
   its nearest micro-centroid (chunked, vectorised), and the micro-clusters are the leaves.
2. ``tree_linkage(X, leaf, scheme, ...)``: the merge tree over the leaves in scipy's ``Z``
   convention. Exact scheme: fastcluster (``linkage_vector`` for Ward, O(n) memory; ``linkage``
   on the condensed matrix for average and complete). Two-stage: ``weighted_linkage`` on the
   micro-centroids weighted by their sizes.
3. ``cut_tree(Z, leaf, k)``: ``fcluster(Z, k, "maxclust")`` over the leaves, rows mapped
   through their leaf, segment ids 1..k ordered by size (fewer than k segments when merge
   heights tie).
4. ``tree_metrics(X, leaf, Z, ...)``: per k, inertia, silhouette, Calinski-Harabasz,
   Davies-Bouldin (``segmentation.metrics``, sampled above ``exact_silhouette_max_rows``);
   ``cophenetic_correlation`` of the tree; ``resolve_k`` says which k is selected and why.

The tables of the dbt models (and their checks) are built in ``segmentation.hierarchical_tables``.

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

All randomness is seeded (``seed``, ``ClusteringSettings.seed``); ``hierarchical_tables`` puts
the rows in ``customer_id`` order first, so results do not depend on the warehouse's row order.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import fastcluster
import numpy as np
from scipy.cluster.hierarchy import cophenet, fcluster
from scipy.spatial.distance import pdist
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from segmentation.metrics import SilhouetteEstimate, cluster_metrics, silhouette_many
from segmentation.settings import LINKAGES

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
    """Deterministic micro-cluster id of each row (the leaves of the two-stage scheme).

    K-Means (k-means++, one init, seeded) is fitted on a seeded sample of
    ``MICRO_SAMPLE_PER_CLUSTER * n_clusters`` rows (all rows if fewer), then every row is assigned
    to its nearest fitted centroid by ``KMeans.predict`` (chunked and vectorised, never n x m
    memory). Micro-clusters left empty (fewer distinct points than ``n_clusters``) are dropped.
    Ids are renumbered by size descending, then by the full-data centroid coordinates ascending,
    so they do not depend on K-Means' internal numbering.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The feature matrix.
    n_clusters : int
        Micro-clusters asked (at most n are made).
    seed : int
        Seeds the sample and K-Means.

    Returns
    -------
    ndarray of int64, shape (n,)
        Micro-cluster id 0..m-1, m <= n_clusters.
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


def leaf_labels(
    X: np.ndarray, *, exact_max_rows: int = 20_000, micro_clusters: int = 500, seed: int = 42
) -> tuple[np.ndarray, str]:
    """The leaf of the tree each row sits in, and the scheme.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The feature matrix, rows in customer_id order.
    exact_max_rows : int
        ``exact_hierarchical_max_rows``: up to it every row is its own leaf.
    micro_clusters, seed : int
        Above it, the leaves are ``micro_clusters`` seeded K-Means micro-clusters
        (:func:`micro_cluster_labels`).

    Returns
    -------
    leaf : ndarray of int64, shape (n,)
        Leaf id 0..m-1 of every row ("exact": the row's position).
    scheme : {"exact", "two_stage"}
        Which of the two it was.
    """
    n = len(X)
    if n <= exact_max_rows:
        return np.arange(n, dtype=np.int64), "exact"
    return micro_cluster_labels(X, micro_clusters, seed), "two_stage"


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


def _nn_chain_pair(D: np.ndarray, chain: list[int], active: np.ndarray) -> tuple[int, int, float]:
    """Walk the nearest-neighbour chain to the next reciprocal pair (x, y) and their distance.

    As scipy's ``nn_chain``: start from the lowest active slot when the chain is empty, prefer
    the previous chain element on ties, then the lowest slot. ``chain`` is updated in place
    (the pair is removed).
    """
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
    return x, y, float(current)


def _lance_williams(
    method: str,
    dx: np.ndarray,
    dy: np.ndarray,
    nx: float,
    ny: float,
    size: np.ndarray,
    current: float,
) -> np.ndarray:
    """Distances (m,) from every slot to the merge of x and y (see :func:`weighted_linkage`).

    ``dx``, ``dy`` are the rows of x and y, ``nx``, ``ny`` their weights, ``size`` (m,) the
    weights of all slots (already updated), ``current`` the distance of x and y.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        if method == "ward":
            t = 1.0 / (nx + ny + size)
            return np.sqrt(
                np.maximum(
                    (size + nx) * t * dx**2 + (size + ny) * t * dy**2 - size * t * current**2,
                    0.0,
                )
            )
        if method == "average":
            return (nx * dx + ny * dy) / (nx + ny)
        return np.maximum(dx, dy)


def weighted_linkage(points: np.ndarray, weights: np.ndarray, method: str = "ward") -> np.ndarray:
    """Size-weighted agglomerative clustering of m weighted points, scipy's ``Z``.

    Distances and Lance-Williams updates (Lance and Williams 1967; n_* are weights, i.e.
    customer counts):

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
    ``nn_chain`` including its tie-breaking (:func:`_nn_chain_pair`), on a dense (m, m) matrix:
    O(m^2) memory, a Python loop over merges with O(m) numpy work in each (m = 2,000 takes well
    under a second).

    Parameters
    ----------
    points : ndarray of shape (m, d)
        Group centroids.
    weights : ndarray of shape (m,)
        Customers in each group, > 0.
    method : {"ward", "average", "complete"}
        The linkage (above).

    Returns
    -------
    Z : ndarray of shape (m-1, 4)
        scipy's convention; ``Z[:, 3]`` the summed weight under each node. With unit weights it
        equals ``scipy.cluster.hierarchy.linkage(points, method)``.

    Raises
    ------
    ValueError
        Unknown method, shapes that do not match, or a weight <= 0.
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
        x, y, current = _nn_chain_pair(D, chain, active)
        x, y = min(x, y), max(x, y)
        nx, ny = size[x], size[y]
        merges[step] = (x, y, current, nx + ny)
        size[x] = 0.0
        active[x] = False
        size[y] = nx + ny
        row = _lance_williams(method, D[x], D[y], nx, ny, size, current)
        row[~active] = np.inf
        row[y] = np.inf
        D[y, :] = row
        D[:, y] = row
        D[x, :] = np.inf
        D[:, x] = np.inf

    merges = merges[np.argsort(merges[:, 2], kind="mergesort")]
    return _relabel(merges, m)


def tree_linkage(
    X: np.ndarray,
    leaf: np.ndarray,
    scheme: str,
    *,
    method: str = "ward",
    exact_max_rows: int = 20_000,
) -> np.ndarray:
    """The merge tree over the m leaves in scipy's ``Z`` convention, shape (m-1, 4).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The feature matrix.
    leaf : ndarray of int, shape (n,)
        Leaf id 0..m-1 of every row (:func:`leaf_labels`).
    scheme : {"exact", "two_stage"}
        "exact": one row per leaf, linkage of the rows; "two_stage": weighted linkage of the
        leaf centroids.
    method : {"ward", "average", "complete"}
        The linkage.
    exact_max_rows : int
        The exact scheme is refused above it (its memory is O(n^2) except for Ward).

    Returns
    -------
    Z : ndarray of shape (m-1, 4)
        Left node, right node (ids < m are leaves, m + i the node formed at row i), merge
        height, and the customers under the new node (``Z[:, 3]``).

    Exact scheme: the customers themselves, via fastcluster (``linkage_vector`` for Ward, O(n d)
    memory; ``linkage`` on the condensed distance matrix for average/complete, O(n^2) memory).
    Two-stage: :func:`weighted_linkage` on the micro-centroids weighted by their customer counts.

    Raises
    ------
    ValueError
        The exact scheme with more than one customer per leaf or above ``exact_max_rows``.
    """
    n = len(X)
    counts, centroids = _group_means(X, leaf, int(leaf.max()) + 1)
    m = len(counts)
    if scheme != "exact":
        return weighted_linkage(centroids, counts, method)
    if m != n:
        raise ValueError(
            f"leaves.leaf_id: scheme 'exact' needs one customer per leaf; "
            f"{n} customers in {m} leaves"
        )
    if n > exact_max_rows:
        raise ValueError(
            f"leaves.scheme: 'exact' for {n} customers exceeds "
            f"exact_hierarchical_max_rows={exact_max_rows}; rebuild the leaves"
        )
    if n < 2:
        return np.empty((0, 4))
    if method == "ward":
        return fastcluster.linkage_vector(centroids, method="ward")
    # condensed matrix: n (n - 1) / 2 float64, 1.6 GB at n = 20,000; updated in place
    return fastcluster.linkage(pdist(centroids), method=method, preserve_input=False)


# --------------------------------------------------------------------------------------------
# 3. Cutting the tree
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


def cut_tree(Z: np.ndarray, leaf: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """The segment of every row for a cut of the tree into at most k clusters.

    Parameters
    ----------
    Z : ndarray of shape (m-1, 4)
        scipy's linkage over m leaves, ``Z[:, 3]`` counting leaves (a valid scipy linkage).
    leaf : ndarray of int, shape (n,)
        Leaf id 0..m-1 of every row.
    k : int
        Clusters asked, >= 1.

    Returns
    -------
    segment : ndarray of int64, shape (n,)
        1 = largest segment by rows, ties by smallest leaf id.
    n_segments : int
        Segments formed: fewer than k when merge heights tie at the cut (``fcluster``'s
        maxclust never splits tied merges) or there are fewer than k leaves.
    """
    k = _check_k(k)
    m = len(Z) + 1
    segment_of_leaf = _segments_of_leaves(Z, np.bincount(leaf, minlength=m), k)
    return segment_of_leaf[leaf], int(segment_of_leaf.max()) if m else 0


# --------------------------------------------------------------------------------------------
# 4. Metrics and the choice of k
# --------------------------------------------------------------------------------------------


def resolve_k(hierarchical_k: int | str, kmeans_selected_k: int) -> tuple[int, str]:
    """The k of the hierarchical segments and why.

    ``hierarchical_k`` is ``segmentation.clustering.hierarchical_k``: "same" takes K-Means'
    selected k, an integer is fixed. Returns (k, reason).
    """
    if hierarchical_k == "same":
        k = _check_k(kmeans_selected_k, "kmeans_selected_k")
        return k, f"same k as K-Means (k={k})"
    k = int(hierarchical_k)
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
    Z: np.ndarray,
    points: np.ndarray,
    *,
    exact_max_rows: int = 10_000,
    sample_size: int = 10_000,
    seed: int = 42,
) -> tuple[float | None, str]:
    """Cophenetic correlation of the tree Z against Euclidean distances between its leaves.

    ``points`` are the leaves: customers (exact scheme) or micro-centroids (two-stage; the pairs
    are unweighted, so it measures how faithfully the tree of micro-clusters represents their
    centroids, not the customers). Sokal and Rohlf (1962).

    Parameters
    ----------
    Z : ndarray of shape (m-1, 4)
        scipy's linkage over the m leaves.
    points : ndarray of shape (m, d)
        The leaf coordinates (scaled space).
    exact_max_rows, sample_size, seed : int
        All leaf pairs (scipy ``cophenet``) when m <= min(``exact_max_rows``,
        ``COPHENETIC_MAX_LEAVES``); otherwise the pairs of a seeded sample of min(m,
        ``sample_size``, ``COPHENETIC_MAX_LEAVES``) leaves, computed from the merges without
        the m x m matrix.

    Returns
    -------
    value : float or None
        Clipped to [-1, 1]; None when undefined (fewer than 3 leaves, all distances equal).
    method : {"exact", "sampled"}
    """
    m = len(points)
    if m < 3:
        return None, "exact"
    size = min(m, sample_size, COPHENETIC_MAX_LEAVES)
    with np.errstate(invalid="ignore", divide="ignore"):
        if m <= min(exact_max_rows, COPHENETIC_MAX_LEAVES) or size == m:
            value = float(cophenet(Z, pdist(points))[0])
            method = "exact"
        else:
            rng = np.random.default_rng(seed)
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


@dataclass(frozen=True)
class TreeCut:
    """Quality of the tree cut at one k (a row of ml_hierarchical_metrics).

    ``inertia`` is the within-segment sum of squares over all rows; ``silhouette`` the exact or
    sampled estimate; ``calinski_harabasz`` and ``davies_bouldin`` are on the silhouette's rows
    (None when undefined).
    """

    k: int
    n_segments: int
    inertia: float | None
    silhouette: SilhouetteEstimate
    calinski_harabasz: float | None
    davies_bouldin: float | None


def tree_metrics(
    X: np.ndarray,
    leaf: np.ndarray,
    Z: np.ndarray,
    *,
    k_values: list[int],
    exact_silhouette_max_rows: int = 10_000,
    silhouette_sample_size: int = 10_000,
    seed: int = 42,
    leaf_means: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[TreeCut]:
    """Quality of the tree cut at every k of ``k_values``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The feature matrix.
    leaf : ndarray of int, shape (n,)
        Leaf id 0..m-1 of every row.
    Z : ndarray of shape (m-1, 4)
        scipy's linkage over the m leaves (``Z[:, 3]`` counting leaves).
    k_values : list of int
        The k to cut at, ascending.
    exact_silhouette_max_rows, silhouette_sample_size, seed : int
        Exact metrics up to that many rows, else on one seeded sample of that size.
    leaf_means : tuple of ndarray, optional
        The customers per leaf (m,) and the leaf centroids (m, d) of ``X`` and ``leaf``, when the
        caller has computed them already (as ``metrics_table`` has, for the cophenetic
        correlation); computed here otherwise. O(n d) either way, once.

    Returns
    -------
    list of TreeCut
        One per k. Cost is bounded whatever n: above ``exact_silhouette_max_rows`` rows the
        silhouette of every k is estimated on one seeded sample (``silhouette_many`` shares the
        distance computation across k), Calinski-Harabasz and Davies-Bouldin are computed on
        those sampled rows, and the inertia stays exact on all rows through the leaf
        decomposition (within-leaf sum of squares, once, plus the size-weighted spread of leaf
        centroids around their segment centroid: O(m d) per k).
    """
    m = len(Z) + 1
    leaf_sizes, leaf_points = _group_means(X, leaf, m) if leaf_means is None else leaf_means
    sampled = len(X) > exact_silhouette_max_rows
    within_leaves = 0.0
    if sampled:  # ((X - leaf_points[leaf]) ** 2).sum() with one (n, d) temporary, not three
        residuals = leaf_points[leaf]
        np.subtract(X, residuals, out=residuals)
        np.square(residuals, out=residuals)
        within_leaves = float(residuals.sum())
        del residuals
    segments_of_leaves = [_segments_of_leaves(Z, leaf_sizes, k) for k in k_values]
    labelings = [segments[leaf] for segments in segments_of_leaves]
    estimates = silhouette_many(
        X,
        labelings,
        exact_max_rows=exact_silhouette_max_rows,
        sample_size=silhouette_sample_size,
        seed=seed,
    )
    cuts = []
    for k, segments, labels, estimate in zip(
        k_values, segments_of_leaves, labelings, estimates, strict=True
    ):
        if sampled:
            index = estimate.sample_index
            scores = cluster_metrics(X[index], labels[index])
            inertia = within_leaves + _between_leaves(leaf_points, leaf_sizes, segments)
        else:
            scores = cluster_metrics(X, labels)
            inertia = scores.inertia
        cuts.append(
            TreeCut(
                k=k,
                n_segments=int(segments.max()),
                inertia=inertia,
                silhouette=estimate,
                calinski_harabasz=scores.calinski_harabasz,
                davies_bouldin=scores.davies_bouldin,
            )
        )
    return cuts
