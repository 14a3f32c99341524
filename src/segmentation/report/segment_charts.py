"""The Segments section's charts: sizes, z-scores, silhouette plot, PCA, dendrogram."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segmentation import hierarchical_tables, pipeline
from segmentation.report.common import DENDROGRAM_LEAVES, PALETTE, Chart
from segmentation.report.published import Published


def _kmeans_segments(db: Published) -> pd.DataFrame:
    return db.frame(
        "select distinct segment_id, segment_name, size, share, total_value "
        "from segment_profiles where method = 'kmeans' order by segment_id"
    )


def _label(segment_id: int, name: Any) -> str:
    return f"{segment_id}: {name}" if isinstance(name, str) and name else str(segment_id)


def sizes_chart(db: Published) -> Chart:
    """Share of customers and share of value per K-Means segment.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"sizes"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "sizes",
        "Segment sizes and share of value (K-Means)",
        "Compare the two bars of a segment: a value share far above its customer share marks "
        "the segment that carries the revenue.",
    )
    segments = _kmeans_segments(db)
    if segments.empty:
        chart.note = "No K-Means segments were published."
        return chart
    labels = [_label(r.segment_id, r.segment_name) for r in segments.itertuples()]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=segments["share"],
            orientation="h",
            name="share of customers",
            marker_color=PALETTE[0],
            text=[f"{n:,}" for n in segments["size"]],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1%} of customers (%{text})<extra></extra>",
        )
    )
    total = segments["total_value"].sum() if "total_value" in segments else float("nan")
    if pd.notna(total) and total > 0:
        fig.add_trace(
            go.Bar(
                y=labels,
                x=segments["total_value"] / total,
                orientation="h",
                name="share of value",
                marker_color=PALETTE[1],
                hovertemplate="%{y}: %{x:.1%} of value<extra></extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        height=140 + 50 * len(segments),
        xaxis_tickformat=".0%",
        yaxis_autorange="reversed",
    )
    chart.figure = fig
    return chart


def zscore_chart(db: Published) -> Chart:
    """Heatmap of each numeric feature's z-score per K-Means segment.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"z-scores"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "z-scores",
        "What distinguishes each segment: feature z-scores (K-Means)",
        "Each cell is the segment's mean minus the population mean, in population standard "
        "deviations: red is above average, blue below; the deepest colours name the segment.",
    )
    profiles = db.frame(
        "select segment_id, segment_name, feature, z_score from segment_profiles "
        "where method = 'kmeans' and feature_kind = 'numeric' and z_score is not null "
        "order by segment_id, feature"
    )
    if profiles.empty:
        chart.note = "No numeric feature profiles were published."
        return chart
    matrix = profiles.pivot_table(index="segment_id", columns="feature", values="z_score")
    names = profiles.drop_duplicates("segment_id").set_index("segment_id")["segment_name"]
    labels = [_label(i, names[i]) for i in matrix.index]
    z = np.clip(matrix.to_numpy(dtype=float), -3, 3)
    fig = go.Figure(
        go.Heatmap(
            z=np.round(z, 2),
            x=list(matrix.columns),
            y=labels,
            zmid=0,
            zmin=-3,
            zmax=3,
            colorscale="RdBu",
            reversescale=True,
            colorbar_title="z",
            hovertemplate="%{y}<br>%{x}: z = %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(height=200 + 45 * len(labels), yaxis_autorange="reversed")
    fig.update_xaxes(tickangle=-40, tickfont_size=10)
    chart.figure = fig
    return chart


def _sample_sql(table: str, columns: str, where: str, size: int) -> str:
    # md5 of the id: a seeded, portable order that does not depend on the warehouse's row order.
    return (
        f"select {columns} from {table} where {where} "
        f"order by md5(customer_id), customer_id limit {int(size)}"
    )


def silhouette_plot_chart(db: Published, sample_size: int) -> Chart:
    """Per-customer silhouettes sorted within each K-Means segment (sampled above a size).

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    sample_size : int
        Customers drawn (a portable sample ordered by md5 of customer_id).

    Returns
    -------
    Chart
        ``chart_id`` ``"silhouette-plot"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    total = int(
        db.frame("select count(*) as n from customer_segments where kmeans_silhouette is not null")[
            "n"
        ][0]
    )
    sampled = total > sample_size
    chart = Chart(
        "silhouette-plot",
        "Silhouette of each customer, by segment (K-Means)"
        + (f" — a seeded sample of {sample_size:,} of {total:,} customers" if sampled else ""),
        "Each bar is a customer: long bars sit well inside their segment, bars below 0 are "
        "closer to another segment; the dashed line is the overall silhouette.",
    )
    if total == 0:
        chart.note = "No per-customer silhouette was published (a single segment?)."
        return chart
    rows = db.frame(
        _sample_sql(
            "customer_segments",
            "customer_id, kmeans_segment_id as segment_id, kmeans_silhouette as silhouette",
            "kmeans_silhouette is not null",
            sample_size,
        )
    )
    names = _kmeans_segments(db).set_index("segment_id")["segment_name"]
    chart.figure = _silhouette_bars(rows, names)
    return chart


def _silhouette_bars(rows: pd.DataFrame, names: pd.Series) -> go.Figure:
    """One horizontal bar per customer, sorted within each segment, and the overall mean.

    ``rows`` has ``segment_id`` and ``silhouette``; ``names`` maps segment ids to names.
    """
    fig = go.Figure()
    offset = 0
    ticks, tick_labels = [], []
    for i, (segment_id, part) in enumerate(rows.groupby("segment_id", sort=True)):
        values = np.sort(part["silhouette"].to_numpy(dtype=float))[::-1]
        positions = offset + np.arange(len(values))
        fig.add_trace(
            go.Bar(
                x=np.round(values, 4),
                y=positions,
                orientation="h",
                width=1.0,
                marker_color=PALETTE[i % len(PALETTE)],
                marker_line_width=0,
                name=_label(int(segment_id), names.get(segment_id)),
                hovertemplate="silhouette %{x:.2f}<extra>%{fullData.name}</extra>",
            )
        )
        ticks.append(offset + len(values) / 2)
        tick_labels.append(str(int(segment_id)))
        offset += len(values) + max(10, len(rows) // 60)
    mean = float(rows["silhouette"].mean())
    fig.add_vline(x=mean, line_dash="dash", line_color="#333")
    fig.update_layout(
        height=520,
        bargap=0,
        xaxis_title="silhouette",
        yaxis={
            "tickvals": ticks,
            "ticktext": tick_labels,
            "title": "segment",
            "autorange": "reversed",
        },
    )
    return fig


def pca_sample(db: Published, sample_size: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """2-D PCA of a seeded sample of customers in the clustering space.

    The sample (at most ``sample_size`` customers, by md5 of the id) is transformed with the
    published preprocessing spec (imputation, encoding, scaling, weights: the space K-Means
    clustered in) and projected on its first two principal components.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    sample_size : int
        At most this many customers.

    Returns
    -------
    points : ndarray of float64, shape (n, 2)
        The sample on the first two principal components (scaled space; zeros when there
        are fewer than two customers or no column).
    segments : ndarray of int, shape (n,)
        K-Means segment ids.
    total : int
        Number of customers in customer_features.
    explained : ndarray of float64, shape (2,)
        Explained variance ratios (0..1).
    """
    total = int(db.frame("select count(*) as n from customer_features")["n"][0])
    features = db.con.sql(
        _sample_sql("customer_features", "* exclude (run_id, built_at)", "true", sample_size)
    ).to_arrow_table()
    spec = db.con.sql(
        "select * exclude (run_id, built_at) from preprocessing_spec order by position"
    ).to_arrow_table()
    matrix = pipeline.feature_matrix(features, spec)
    X = pipeline.matrix_array(matrix)
    ids = matrix.column(pipeline.ID_COLUMN).to_pylist()
    segments = db.con.execute(
        "select customer_id, kmeans_segment_id from customer_segments "
        "where customer_id in (select unnest(?))",
        [ids],
    ).df()
    segment_of = dict(zip(segments["customer_id"], segments["kmeans_segment_id"], strict=True))
    labels = np.array([int(segment_of[i]) for i in ids])
    centred = X - X.mean(axis=0)
    if centred.shape[1] == 0 or len(centred) < 2:
        return np.zeros((len(ids), 2)), labels, total, np.zeros(2)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    # Fix each component's sign (largest loading positive) so the picture is reproducible.
    signs = np.sign(vt[np.arange(vt.shape[0]), np.abs(vt).argmax(axis=1)])
    vt = vt * signs[:, None]
    components = vt[:2] if vt.shape[0] >= 2 else np.vstack([vt, np.zeros_like(vt)])
    variance = singular**2
    explained = np.zeros(2)
    explained[: min(2, len(variance))] = (variance / variance.sum())[:2]
    return centred @ components.T, labels, total, explained


def pca_chart(db: Published, sample_size: int) -> Chart:
    """Scatter of the 2-D PCA sample coloured by K-Means segment.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    sample_size : int
        Customers drawn (a portable sample ordered by md5 of customer_id).

    Returns
    -------
    Chart
        ``chart_id`` ``"pca"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "pca",
        "Customers in two dimensions (PCA of the clustering space)",
        "Each dot is a customer, coloured by segment; well separated colours mean distinct "
        "segments, though two axes show only part of the picture (see the axis titles).",
    )
    if not (db.has("customer_features") and db.has("preprocessing_spec")):
        chart.note = "customer_features or preprocessing_spec is not published."
        return chart
    points, labels, total, explained = pca_sample(db, sample_size)
    n = len(labels)
    chart.title += (
        f" — a seeded sample of {n:,} of {total:,} customers"
        if n < total
        else f" — {n:,} customers"
    )
    names = _kmeans_segments(db).set_index("segment_id")["segment_name"]
    fig = go.Figure()
    for i, segment_id in enumerate(sorted(set(labels.tolist()))):
        mask = labels == segment_id
        fig.add_trace(
            go.Scatter(
                x=np.round(points[mask, 0], 3),
                y=np.round(points[mask, 1], 3),
                mode="markers",
                marker={"size": 4, "color": PALETTE[i % len(PALETTE)], "opacity": 0.7},
                name=_label(segment_id, names.get(segment_id)),
            )
        )
    fig.update_layout(
        height=520,
        xaxis_title=f"PC1 ({explained[0]:.0%} of variance)",
        yaxis_title=f"PC2 ({explained[1]:.0%} of variance)",
    )
    chart.figure = fig
    return chart


def _node_customers(linkage: Any, Z: np.ndarray) -> dict[int, int]:
    """Customers under each node of Z, by node id.

    Merged nodes from the linkage's ``size``; a leaf (a micro-cluster) from its parent's size
    less its sibling's, when the sibling's is known.
    """
    m = len(Z) + 1
    ordered = linkage.sort_by("step")
    sizes = ordered.column("size").to_numpy()
    customers = {m + i: int(size) for i, size in enumerate(sizes)}
    for i, (left, right) in enumerate(Z[:, :2].astype(int)):
        for node, sibling in ((left, right), (right, left)):
            if node < m and sibling in customers:
                customers[node] = customers[m + i] - customers[sibling]
    return customers


def dendrogram_chart(db: Published, leaves: int = DENDROGRAM_LEAVES) -> Chart:
    """The top of the Ward dendrogram (``leaves`` last clusters) with the cut at the chosen k.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    leaves : int
        Clusters shown at the bottom of the truncated tree (``truncate_mode='lastp'``).

    Returns
    -------
    Chart
        ``chart_id`` ``"dendrogram"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "dendrogram",
        f"Top of the Ward dendrogram (the last {leaves} clusters) and the cut",
        "Read from the top: each join merges two groups, higher joins merge more different "
        "groups; the dashed line cuts the tree into the selected number of hierarchical "
        "segments. Leaf labels count the customers under each branch.",
    )
    linkage = (
        db.con.sql("select * exclude (run_id, built_at) from hierarchical_linkage").to_arrow_table()
        if db.has("hierarchical_linkage")
        else None
    )
    if linkage is None or linkage.num_rows == 0:
        chart.note = "The hierarchical method is not configured (no linkage was published)."
        return chart
    from scipy.cluster.hierarchy import dendrogram

    Z = hierarchical_tables.linkage_matrix(linkage)
    tree = dendrogram(Z, truncate_mode="lastp", p=leaves, no_plot=True, show_contracted=False)
    customers = _node_customers(linkage, Z)
    fig = go.Figure()
    for xs, ys in zip(tree["icoord"], tree["dcoord"], strict=True):
        fig.add_trace(
            go.Scatter(
                x=xs, y=ys, mode="lines", line={"color": PALETTE[0], "width": 1.5}, hoverinfo="skip"
            )
        )
    metrics = db.table("clustering_metrics")
    chosen = metrics[(metrics["method"] == "hierarchical") & metrics["is_selected"]]
    m = len(Z) + 1
    if len(chosen):
        k = int(chosen["k"].iloc[0])
        if 1 < k <= m:
            upper = Z[m - k, 2] if m - k < len(Z) else Z[-1, 2]
            lower = Z[m - k - 1, 2]
            cut = (upper + lower) / 2
            fig.add_hline(
                y=cut,
                line_dash="dash",
                line_color=PALETTE[3],
                annotation_text=f"cut: k = {k}",
                annotation_position="top right",
            )
    fig.update_layout(
        height=420,
        showlegend=False,
        yaxis_title="Ward merge distance",
        xaxis={
            "tickvals": [5 + 10 * i for i in range(len(tree["ivl"]))],
            "ticktext": [
                f"{customers[node]:,}" if node in customers else label
                for node, label in zip(tree["leaves"], tree["ivl"], strict=True)
            ],
            "tickfont_size": 9,
        },
    )
    chart.figure = fig
    return chart
