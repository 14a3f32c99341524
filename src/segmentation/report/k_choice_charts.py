"""The Choosing k section's charts: elbow, silhouette and the other indices by k."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmentation.report.common import PALETTE, Chart
from segmentation.report.published import Published


def _metric_lines(
    fig: go.Figure,
    metrics: pd.DataFrame,
    column: str,
    row: int | None = None,
    col: int | None = None,
) -> None:
    where = {"row": row, "col": col} if row else {}
    for i, (method, part) in enumerate(metrics.groupby("method", sort=True)):
        part = part.sort_values("k")
        colour = PALETTE[i]
        fig.add_trace(
            go.Scatter(
                x=part["k"],
                y=part[column],
                mode="lines+markers",
                name=method,
                legendgroup=method,
                showlegend=row in (None, 1) and col in (None, 1),
                line_color=colour,
                hovertemplate=f"{method} k=%{{x}}: %{{y:.4g}}<extra>{column}</extra>",
            ),
            **where,
        )
        chosen = part[part["is_selected"]]
        fig.add_trace(
            go.Scatter(
                x=chosen["k"],
                y=chosen[column],
                mode="markers",
                marker={"symbol": "star", "size": 16, "color": colour, "line_width": 1},
                name=f"{method}: selected k",
                legendgroup=method,
                showlegend=row in (None, 1) and col in (None, 1),
                hovertemplate=f"selected {method} k=%{{x}}: %{{y:.4g}}<extra></extra>",
            ),
            **where,
        )


def elbow_chart(db: Published) -> Chart:
    """Inertia by k for both methods, the selected k starred.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"elbow"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "elbow",
        "Inertia by k (the elbow)",
        "Inertia (within-segment sum of squares) always falls as k grows; the useful k is "
        "where it stops falling fast. Stars mark the selected k.",
    )
    metrics = db.table("clustering_metrics")
    if metrics.empty or metrics["inertia"].isna().all():
        chart.note = "No clustering metrics were published."
        return chart
    fig = go.Figure()
    _metric_lines(fig, metrics, "inertia")
    fig.update_layout(height=360, xaxis_title="k", yaxis_title="inertia", xaxis_dtick=1)
    chart.figure = fig
    return chart


def silhouette_chart(db: Published) -> Chart:
    """Silhouette by k for both methods, with the sampled-silhouette confidence band.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"silhouette-by-k"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    metrics = db.table("clustering_metrics")
    # The band exists only where the silhouette was estimated on a sample (exact: low = high).
    sampled = (
        not metrics.empty
        and "silhouette_method" in metrics.columns
        and (metrics["silhouette_method"] == "sampled").any()
    )
    chart = Chart(
        "silhouette-by-k",
        "Silhouette by k",
        "Higher is better separated segments (-1 to 1); "
        + (
            "the shaded band is the 95% confidence interval of the sampled silhouette. "
            if sampled
            else "computed exactly on every customer, so there is no sampling band. "
        )
        + "Stars mark the selected k.",
    )
    if metrics.empty:
        chart.note = "No clustering metrics were published."
        return chart
    fig = go.Figure()
    if sampled:
        for i, (method, part) in enumerate(metrics.groupby("method", sort=True)):
            part = part[part["silhouette_method"] == "sampled"].sort_values("k")
            if part.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=list(part["k"]) + list(part["k"][::-1]),
                    y=list(part["silhouette_ci_high"]) + list(part["silhouette_ci_low"][::-1]),
                    fill="toself",
                    fillcolor=PALETTE[i],
                    opacity=0.2,
                    line_width=0,
                    name=f"{method}: 95% band",
                    hoverinfo="skip",
                )
            )
    _metric_lines(fig, metrics, "silhouette")
    fig.update_layout(height=360, xaxis_title="k", yaxis_title="silhouette", xaxis_dtick=1)
    chart.figure = fig
    return chart


def index_chart(db: Published) -> Chart:
    """Calinski-Harabasz and Davies-Bouldin indices by k for both methods.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"ch-db"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "ch-db",
        "Calinski-Harabasz (higher is better) and Davies-Bouldin (lower is better) by k",
        "Two more views of separation: agreement with the silhouette makes the choice safer; "
        "stars mark the selected k.",
    )
    metrics = db.table("clustering_metrics")
    if metrics.empty:
        chart.note = "No clustering metrics were published."
        return chart
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Calinski-Harabasz", "Davies-Bouldin"))
    _metric_lines(fig, metrics, "calinski_harabasz", row=1, col=1)
    _metric_lines(fig, metrics, "davies_bouldin", row=1, col=2)
    fig.update_layout(height=340)
    fig.update_xaxes(title_text="k", dtick=1)
    chart.figure = fig
    return chart
