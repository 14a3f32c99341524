"""The segment report: one self-contained HTML file drawn from the published database.

``python -m segmentation.report [--published PATH] [--out PATH]`` (or ``make report``) reads the
published file (:func:`segmentation.publish.published_path_for`, read-only) and writes one HTML
file that needs no network when opened: plotly.js is inlined once and every chart is a plotly
figure drawn from the published tables. The file opens with a summary (customers, segments, the
chosen k and why, rejects by reason) and has four sections, each chart with a one-line reading
guide: EDA, Choosing k, Segments, RFM and value (docs/report.md).

Scale: everything shown is either an aggregate the SQL models computed (histograms, metrics,
profiles, the R x F grid) or a seeded sample of at most ``sample_size`` customers (PCA and
silhouette plots; the chart says so), so the file stays a few MB and is written in seconds at
any number of customers.

The figures the summary states are also embedded as JSON (``<script type="application/json"
id="report-data">``) so tests and tools can read them back and compare them with the tables.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from segmentation import clv, hierarchical_tables, pipeline
from segmentation.publish import published_path_for

DEFAULT_DB = "segments.duckdb"
DEFAULT_OUT = Path("report") / "segments_report.html"
DEFAULT_SAMPLE_SIZE = 3000
DENDROGRAM_LEAVES = 30
# A segment's average CLV is drawn only when at least this share of its customers were scored
# (have a predicted CLV): below it the average describes a few customers, not the segment, and
# its bar is greyed (docs/report.md).
MIN_CLV_SCORED_SHARE = 0.5
GREY = "#c8c8c8"
PUBLICATION_COLUMNS = ("run_id", "built_at")
# The published tables the report reads (the segments_report exposure lists these; a test
# checks both agree), besides the current_run view of segment_publication.
TABLES_READ = (
    "customer_segments",
    "segment_profiles",
    "clustering_metrics",
    "hierarchical_linkage",
    "preprocessing_spec",
    "customer_features",
    "customer_clv",
    "clv_parameters",
    "customer_rfm",
    "rejects",
    "eda_histograms",
    "eda_missing_values",
    "eda_correlations",
    "eda_cramers_v",
    "segment_transitions",
    "segment_drift",
    "stg_input_checks",
)
# Columns segment_profiles may carry with one plain sentence per segment (first found is shown).
SENTENCE_COLUMNS = ("segment_sentence", "segment_description", "description", "profile_sentence")
SECTIONS = (
    ("summary", "Summary"),
    ("eda", "EDA"),
    ("choosing-k", "Choosing k"),
    ("segments", "Segments"),
    ("rfm-value", "RFM and value"),
)
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
PALETTE = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#E45756",
    "#72B7B2",
    "#B279A2",
    "#EECA3B",
    "#9D755D",
    "#FF9DA6",
    "#BAB0AC",
)


class ReportError(RuntimeError):
    """The report cannot be written (missing or unreadable published file or table)."""


@dataclass
class Chart:
    """One chart of the report: a title, a one-line reading guide and a plotly figure.

    ``figure`` is None when the chart does not apply; ``note`` then says why. With a figure,
    ``note`` is a caveat printed under it (e.g. the CLV model's diagnostic).
    """

    chart_id: str
    title: str
    guide: str
    figure: go.Figure | None = None
    note: str | None = None


@dataclass
class Section:
    """A section of the report: its anchor id, heading, introductory HTML and charts."""

    section_id: str
    title: str
    intro_html: str = ""
    charts: list[Chart] = field(default_factory=list)


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote: the path, its size in bytes and the seconds it took."""

    path: Path
    size_bytes: int
    seconds: float


# ---------------------------------------------------------------------------------------------
# Reading the published file
# ---------------------------------------------------------------------------------------------


class Published:
    """Read-only access to the published database's tables, without the publication columns."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }

    def has(self, table: str) -> bool:
        """Whether the published file has ``table`` (older publications lack some).

        Parameters
        ----------
        table : str
            Table name in schema main.

        Returns
        -------
        bool
            True when the table exists.
        """
        return table in self.tables

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` in order (publication columns included).

        Parameters
        ----------
        table : str
            Table name in schema main.

        Returns
        -------
        list of str
            Column names by ordinal position; empty when the table does not exist.
        """
        return [
            row[0]
            for row in self.con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'main' and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
        ]

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """The result of ``sql`` as a pandas DataFrame.

        Parameters
        ----------
        sql : str
            A DuckDB query on the published database.
        params : sequence or None
            Values of its ``?`` placeholders.

        Returns
        -------
        pandas.DataFrame
            The result rows.

        Raises
        ------
        duckdb.Error
            When the query fails.
        """
        return self.con.execute(sql, params or []).df()

    def table(self, table: str) -> pd.DataFrame:
        """A whole (small) table without run_id / built_at; empty frame when absent.

        Parameters
        ----------
        table : str
            Table name in schema main.

        Returns
        -------
        pandas.DataFrame
            All rows, columns without ``run_id`` and ``built_at``; no rows and no columns when the
            table does not exist.
        """
        if not self.has(table):
            return pd.DataFrame()
        frame = self.frame(f'select * from "{table}"')
        return frame.drop(columns=[c for c in PUBLICATION_COLUMNS if c in frame.columns])


# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------


def summary_data(db: Published) -> dict[str, Any]:
    """The figures of the summary, exactly as in the tables (also embedded as JSON).

    Keys: customers, segments (the K-Means k), chosen_k and selection_reason per method,
    silhouette per method, rejects_by_reason ({"source/reason": rows}), segment sizes per
    method ([{segment_id, segment_name, size}]), customers_derived (no customer input: the
    customers are those of the orders), input_warnings (stg_input_checks rows at level warn),
    run_id and built_at.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    dict
        JSON-serialisable figures, keys as listed above.
    """
    metrics = db.table("clustering_metrics")
    selected = metrics[metrics["is_selected"]] if len(metrics) else metrics
    chosen = {str(r.method): int(r.k) for r in selected.itertuples()}
    reasons = {str(r.method): r.selection_reason for r in selected.itertuples()}
    silhouettes = {
        str(r.method): None if pd.isna(r.silhouette) else float(r.silhouette)
        for r in selected.itertuples()
    }
    rejects = db.frame(
        "select source, reason, count(*) as n from rejects group by all order by source, reason"
    )
    sizes = db.frame(
        "select distinct method, segment_id, segment_name, size from segment_profiles "
        "order by method, segment_id"
    )
    run = db.frame("select run_id, cast(built_at as varchar) as built_at from current_run")
    checks = db.table("stg_input_checks")
    warnings = (
        checks[checks["level"] == "warn"].sort_values(["input_name", "check_name", "subject"])
        if len(checks)
        else checks
    )
    return {
        "customers": int(db.frame("select count(*) as n from customer_segments")["n"][0]),
        "segments": chosen.get("kmeans", chosen.get("hierarchical")),
        "chosen_k": chosen,
        "selection_reason": reasons,
        "silhouette": silhouettes,
        "rejects_by_reason": {f"{r.source}/{r.reason}": int(r.n) for r in rejects.itertuples()},
        "segment_sizes": {
            method: [
                {
                    "segment_id": int(r.segment_id),
                    "segment_name": r.segment_name,
                    "size": int(r.size),
                }
                for r in group.itertuples()
            ]
            for method, group in sizes.groupby("method", sort=True)
        },
        # No check row for the customers input: none was configured, the customers are the
        # distinct customer ids of the orders (base_customers.derived_from = 'orders').
        "customers_derived": bool(len(checks)) and "customers" not in set(checks["input_name"]),
        "input_warnings": [
            {
                "input": str(r.input_name),
                "check": str(r.check_name),
                "subject": str(r.subject),
                "message": str(r.message),
            }
            for r in warnings.itertuples()
        ],
        "run_id": run["run_id"][0] if len(run) else None,
        "built_at": run["built_at"][0] if len(run) else None,
    }


def _summary_html(data: dict[str, Any], runs: pd.DataFrame, sentences: dict[int, str]) -> str:
    lines = [f"<p><b>{data['customers']:,}</b> customers segmented"]
    if data["segments"] is not None:
        lines[0] += f" into <b>{data['segments']}</b> K-Means segments"
    lines[0] += "."
    if len(runs):
        lines.append(_inputs_html(data, runs.iloc[0]))
    lines.append(_chosen_k_html(data))
    lines.extend(_data_quality_html(data))
    sizes = data["segment_sizes"].get("kmeans", [])
    if sizes:
        lines.append(_segments_html(sizes, sentences))
    return "\n".join(lines)


def _inputs_html(data: dict[str, Any], row: pd.Series) -> str:
    """The inputs and staging counts of the latest run (a ``segment_runs`` row)."""
    customers = (
        f"no customer input (the {int(row['raw_customers']):,} customers are the distinct "
        "customer ids of the orders)"
        if data.get("customers_derived")
        else f"{int(row['raw_customers']):,} customer rows"
    )
    return (
        f"<p>Inputs: {customers} and "
        f"{int(row['raw_order_lines']):,} order lines; staging kept "
        f"{int(row['staged_customers']):,} customers and {int(row['staged_order_lines']):,}"
        f" order lines and rejected {int(row['rejected_customers']):,} customer rows and "
        f"{int(row['rejected_order_lines']):,} order lines (every one a row of "
        "<code>rejects</code> with its reason).</p>"
    )


def _chosen_k_html(data: dict[str, Any]) -> str:
    """The chosen k of each method, its silhouette and why."""
    esc = html.escape
    items = []
    for method, k in sorted(data["chosen_k"].items()):
        reason = data["selection_reason"].get(method) or ""
        silhouette = data["silhouette"].get(method)
        shown = f", silhouette {silhouette:.3f}" if silhouette is not None else ""
        items.append(f"<li><b>{esc(method)}</b>: k = {k}{shown}; why: {esc(str(reason))}</li>")
    return "<p>Chosen k:</p><ul>" + "".join(items) + "</ul>"


def _data_quality_html(data: dict[str, Any]) -> list[str]:
    """The rejected rows by reason and the input warnings."""
    esc = html.escape
    lines = []
    rejects = data["rejects_by_reason"]
    if rejects:
        rows = "".join(
            f"<tr><td>{esc(key.split('/')[0])}</td><td>{esc(key.split('/')[1])}</td>"
            f"<td class='num'>{n:,}</td></tr>"
            for key, n in rejects.items()
        )
        lines.append(
            "<p>Data quality: rows rejected by reason</p><table class='data'>"
            "<tr><th>source</th><th>reason</th><th>rows</th></tr>" + rows + "</table>"
        )
    else:
        lines.append("<p>Data quality: no input row was rejected.</p>")
    warnings = data.get("input_warnings") or []
    if warnings:
        rows = "".join(
            f"<tr><td>{esc(w['input'])}</td><td>{esc(w['check'])}</td>"
            f"<td>{esc(w['subject'])}</td><td>{esc(w['message'])}</td></tr>"
            for w in warnings
        )
        lines.append(
            "<p>Data quality: input warnings (<code>stg_input_checks</code> rows with level "
            "warn)</p><table class='data'><tr><th>input</th><th>check</th><th>subject</th>"
            "<th>message</th></tr>" + rows + "</table>"
        )
    return lines


def _segments_html(sizes: list[dict[str, Any]], sentences: dict[int, str]) -> str:
    """The K-Means segments table: id, name, customers and what sets each apart."""
    esc = html.escape
    rows = "".join(
        f"<tr><td class='num'>{s['segment_id']}</td><td>{esc(str(s['segment_name']))}</td>"
        f"<td class='num'>{s['size']:,}</td>"
        + (f"<td>{esc(sentences.get(s['segment_id'], ''))}</td>" if sentences else "")
        + "</tr>"
        for s in sizes
    )
    header = "<th>what sets it apart</th>" if sentences else ""
    return (
        "<p>K-Means segments</p><table class='data'><tr><th>id</th><th>name</th>"
        f"<th>customers</th>{header}</tr>{rows}</table>"
    )


# ---------------------------------------------------------------------------------------------
# EDA
# ---------------------------------------------------------------------------------------------


def _grid(n: int, columns: int) -> tuple[int, int]:
    return max(1, -(-n // columns)), min(columns, max(n, 1))


def log1p_features(db: Published) -> list[str]:
    """Features the configuration log1p-transforms before clustering (preprocessing_spec).

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    list of str
        Feature names, sorted; empty when preprocessing_spec or its ``transform`` column is
        not published.
    """
    if not db.has("preprocessing_spec") or "transform" not in db.columns("preprocessing_spec"):
        return []
    rows = db.frame(
        "select distinct feature from preprocessing_spec where transform = 'log1p' order by 1"
    )
    return rows["feature"].tolist()


def log1p_bins(db: Published, feature: str, bins: int) -> pd.DataFrame:
    """``bins`` equal-width bins of log1p(``feature``) over all customers of customer_features.

    Returns bin_lower, bin_upper (log1p scale), count and the feature's value range of each bin
    (original units). Values <= -1 (no log1p) and nulls are left out. DuckDB does the O(n) work.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    feature : str
        A numeric column of customer_features (quoted as an identifier).
    bins : int
        Number of equal-width bins on the log1p scale.

    Returns
    -------
    pandas.DataFrame, ``bins`` rows (1 when all values are equal, 0 when none)
        ``bin_lower``, ``bin_upper`` (float, log1p of the feature's units) and ``count`` (int,
        customers).
    """
    column = '"' + feature.replace('"', '""') + '"'
    bins = int(bins)
    return db.frame(
        f"""
        with v as (
            select ln(1 + cast({column} as double)) as x from customer_features
            where {column} is not null and cast({column} as double) > -1
        ),
        b as (select min(x) as lo, max(x) as hi from v),
        binned as (
            select case when b.hi > b.lo
                then least(cast(floor((x - b.lo) / (b.hi - b.lo) * {bins}) as integer), {bins} - 1)
                else 0 end as i
            from v cross join b
        ),
        grid as (
            select i, b.lo, b.hi, case when b.hi > b.lo then {bins} else 1 end as n
            from b cross join range(0, {bins}) as r (i)
            where b.lo is not null and i < case when b.hi > b.lo then {bins} else 1 end
        )
        select
            grid.lo + (grid.hi - grid.lo) * grid.i / grid.n as bin_lower,
            grid.lo + (grid.hi - grid.lo) * (grid.i + 1) / grid.n as bin_upper,
            count(binned.i) as count
        from grid left join binned on grid.i = binned.i
        group by all order by bin_lower
        """
    )


def histograms_chart(db: Published) -> Chart:
    """A histogram per numeric feature of customer_features (eda_histograms bins).

    Features the configuration log1p-transforms (segmentation.features[].transform, published
    in preprocessing_spec) are drawn on the log1p scale the clustering sees, binned here from all
    customers of customer_features: their raw bins are one bar at 0 on long-tailed data.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"histograms"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "histograms",
        "Distribution of each numeric feature",
        "Each panel counts customers per value bin; long right tails are why money and counts "
        "are log-transformed before clustering. Panels marked (log1p scale) are the features "
        "the configuration log1p-transforms, drawn as the clustering sees them: bins of "
        "ln(1 + value) over all customers of customer_features (hover shows original units); "
        "the other panels are the bins of eda_histograms.",
    )
    bins = db.table("eda_histograms")
    if bins.empty:
        chart.note = "No numeric feature has values (eda_histograms is empty or not published)."
        return chart
    logged = set(log1p_features(db)) if db.has("customer_features") else set()
    features = list(dict.fromkeys(bins.sort_values(["feature", "bin_index"])["feature"]))
    titles = [f"{f} (log1p scale)" if f in logged else f for f in features]
    rows, cols = _grid(len(features), 4)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.35 / rows)
    for i, feature in enumerate(features):
        part = bins[bins["feature"] == feature].sort_values("bin_index")
        if feature in logged:
            part = log1p_bins(db, feature, max(int(part["bin_index"].max()), 1))
            hover = "ln(1+x) %{x:.2f} (x ≈ %{customdata:,.3~g}): %{y} customers"
            original = np.expm1((part["bin_lower"] + part["bin_upper"]) / 2)
        else:
            hover = "%{x:.3g}: %{y} customers"
            original = None
        fig.add_trace(
            go.Bar(
                x=(part["bin_lower"] + part["bin_upper"]) / 2,
                y=part["count"],
                width=part["bin_upper"] - part["bin_lower"],
                marker_color=PALETTE[0],
                name=feature,
                customdata=original,
                hovertemplate=hover + "<extra>" + feature + "</extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_layout(height=190 * rows + 60, showlegend=False, bargap=0)
    fig.update_annotations(font_size=11)
    chart.figure = fig
    return chart


def missing_values_chart(db: Published) -> Chart:
    """Missing share per column at each stage (raw input, cleaned, features).

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"missing-values"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "missing-values",
        "Missing values per column, before and after cleaning",
        "Bars are the share of rows with no value at each stage: raw inputs, cleaned (staging) "
        "and the feature table; a column that gains missing values when cleaned had values "
        "that could not be read (they are flagged, never guessed).",
    )
    missing = db.table("eda_missing_values")
    if missing.empty:
        chart.note = "eda_missing_values is not published."
        return chart
    if "provided" in missing.columns:
        # Only what the input gives: a contract column the configuration does not map and
        # nothing fills (eda_missing_values.provided false) is a placeholder, not a missing
        # value. A derived column (amount, status) is drawn from the stage that fills it.
        provided = missing["provided"].fillna(False).astype(bool)
        absent = sorted(set(missing["column_name"]) - set(missing.loc[provided, "column_name"]))
        missing = missing[provided]
        with_missing = missing.groupby("column_name")["missing_count"].transform("max") > 0
        shown = missing[with_missing]
    else:
        by_column = missing.groupby("column_name")
        with_missing = by_column["missing_count"].transform("max") > 0
        # A column empty at every stage it appears in was never provided (not mapped).
        never_provided = by_column["missing_share"].transform("min") >= 1
        shown = missing[with_missing & ~never_provided]
        absent = sorted(set(missing.loc[never_provided, "column_name"]))
    if absent:
        chart.guide += f" Not in the input, so not shown: {', '.join(absent)}."
    if shown.empty:
        chart.note = "No column has a missing value at any stage."
        return chart
    order = list(dict.fromkeys(shown.sort_values(["column_position"])["column_name"]))
    fig = go.Figure()
    for i, stage in enumerate(("raw", "clean", "features")):
        part = shown[shown["stage"] == stage]
        if part.empty:
            continue
        fig.add_trace(
            go.Bar(
                x=part["column_name"],
                y=part["missing_share"],
                name=stage,
                marker_color=PALETTE[i],
                customdata=np.stack([part["table_name"], part["missing_count"]], axis=1),
                hovertemplate="%{customdata[0]}.%{x}: %{y:.1%} (%{customdata[1]} rows)",
            )
        )
    fig.update_layout(
        barmode="group",
        height=380,
        yaxis_tickformat=".0%",
        yaxis_title="share missing",
        xaxis={"categoryorder": "array", "categoryarray": order},
    )
    chart.figure = fig
    return chart


def correlation_chart(db: Published) -> Chart:
    """Pearson and Spearman correlation heatmaps of the numeric features.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"correlations"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "correlations",
        "Correlation between numeric features (Pearson left, Spearman right)",
        "Red is a positive, blue a negative correlation; Spearman (on ranks) also catches "
        "monotone relations that are not straight lines. Strongly correlated features carry "
        "the same information twice.",
    )
    pairs = db.table("eda_correlations")
    if pairs.empty:
        chart.note = "Fewer than two numeric features (eda_correlations is empty)."
        return chart
    features = sorted(set(pairs["feature_x"]) | set(pairs["feature_y"]))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Pearson", "Spearman"))
    for col, measure in enumerate(("pearson", "spearman"), start=1):
        matrix = (
            pairs.pivot_table(index="feature_y", columns="feature_x", values=measure)
            .reindex(index=features, columns=features)
            .to_numpy(dtype=float, copy=True)
        )
        np.fill_diagonal(matrix, 1.0)
        fig.add_trace(
            go.Heatmap(
                z=np.round(matrix, 3),
                x=features,
                y=features,
                zmin=-1,
                zmax=1,
                colorscale="RdBu",
                reversescale=True,
                showscale=col == 2,
                hovertemplate="%{x} / %{y}: %{z:.2f}<extra>" + measure + "</extra>",
            ),
            row=1,
            col=col,
        )
    side = max(460, 24 * len(features) + 240)
    fig.update_layout(height=side)
    fig.update_yaxes(autorange="reversed", tickfont_size=12)
    fig.update_xaxes(tickfont_size=12, tickangle=-45)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    chart.figure = fig
    return chart


def cramers_v_chart(db: Published, top: int = 12) -> Chart:
    """The strongest associations between categorical features (Cramer's V).

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    top : int
        Pairs shown, strongest first.

    Returns
    -------
    Chart
        ``chart_id`` ``"cramers-v"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "cramers-v",
        f"Strongest associations between categorical features (Cramer's V, top {top})",
        "0 means the two categories vary independently, 1 that one determines the other; "
        "pairs near 1 are the same fact twice (e.g. region and country).",
    )
    pairs = db.table("eda_cramers_v")
    if not pairs.empty:
        pairs = pairs[(pairs["feature_x"] < pairs["feature_y"]) & pairs["cramers_v"].notna()]
    if pairs.empty:
        chart.note = "Fewer than two categorical features (eda_cramers_v is empty)."
        return chart
    pairs = pairs.sort_values(
        ["cramers_v", "feature_x", "feature_y"], ascending=[False, True, True]
    )
    pairs = pairs.head(top).iloc[::-1]
    labels = pairs["feature_x"] + " × " + pairs["feature_y"]
    fig = go.Figure(
        go.Bar(
            x=pairs["cramers_v"],
            y=labels,
            orientation="h",
            marker_color=PALETTE[0],
            text=[f"{v:.2f}" for v in pairs["cramers_v"]],
            textposition="outside",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(height=120 + 26 * len(pairs), xaxis_range=[0, 1.1], xaxis_title="Cramer's V")
    chart.figure = fig
    return chart


# ---------------------------------------------------------------------------------------------
# Choosing k
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Segments
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# RFM and value
# ---------------------------------------------------------------------------------------------


def _has_orders(db: Published) -> bool:
    if not db.has("customer_rfm"):
        return False
    return bool(
        db.frame("select count(*) filter (where has_purchases) as n from customer_rfm")["n"][0]
    )


NO_ORDERS = "Not applicable: this configuration has no order input (customers only)."


def rfm_grid_chart(db: Published) -> Chart:
    """Customers per (R score, F score) cell with the standard RFM segment name of the cell.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"rfm-grid"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "rfm-grid",
        "Recency x frequency grid: customers per cell and the RFM segment name",
        "Top right are recent, frequent buyers (Champions); bottom left long-gone one-off "
        "buyers (Hibernating, Lost); the number is the customers in the cell.",
    )
    if not _has_orders(db):
        chart.note = NO_ORDERS
        return chart
    cells = db.frame(
        "select r_score, f_score, count(*) as customers, mode(rfm_segment) as rfm_segment "
        "from customer_rfm where has_purchases group by all order by all"
    )
    r_values = list(range(1, int(cells["r_score"].max()) + 1))
    f_values = list(range(1, int(cells["f_score"].max()) + 1))
    counts = np.full((len(r_values), len(f_values)), np.nan)
    text = np.full(counts.shape, "", dtype=object)
    for row in cells.itertuples():
        counts[row.r_score - 1, row.f_score - 1] = row.customers
        text[row.r_score - 1, row.f_score - 1] = f"{row.customers:,}<br>{row.rfm_segment}"
    fig = go.Figure(
        go.Heatmap(
            z=counts.T,
            x=[f"R{r}" for r in r_values],
            y=[f"F{f}" for f in f_values],
            text=text.T,
            texttemplate="%{text}",
            textfont_size=10,
            colorscale="Blues",
            colorbar_title="customers",
            hovertemplate="%{x} %{y}: %{z} customers<extra></extra>",
        )
    )
    fig.update_layout(
        height=480, xaxis_title="recency score (5 = most recent)", yaxis_title="frequency score"
    )
    chart.figure = fig
    return chart


def clv_by_segment_chart(db: Published) -> Chart:
    """Average predicted CLV and probability alive per K-Means segment.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"clv-by-segment"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "clv-by-segment",
        "Predicted CLV and probability alive per segment (K-Means)",
        "Left: the average value a customer of the segment is predicted to bring over the "
        "horizon; right: the average probability that its customers are still active.",
    )
    if not _has_orders(db):
        chart.note = NO_ORDERS
        return chart
    profile_columns = db.columns("segment_profiles")
    scored = (
        "size, clv_customers, alive_customers"
        if {"clv_customers", "alive_customers"} <= set(profile_columns)
        else "size, null as clv_customers, null as alive_customers"
    )
    rows = db.frame(
        "select distinct segment_id, segment_name, average_predicted_clv, "
        f"average_probability_alive, {scored} from segment_profiles where method = 'kmeans' "
        "order by segment_id"
    )
    if rows[["average_predicted_clv", "average_probability_alive"]].isna().all().all():
        chart.note = "Not applicable: no CLV was predicted (see clv_parameters for why)."
        return chart
    notes = _clv_diagnostic_notes(db, profile_columns)
    labels = [_label(r.segment_id, r.segment_name) for r in rows.itertuples()]
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("average predicted CLV", "average probability alive")
    )
    for col, value, counted, colour in (
        (1, "average_predicted_clv", "clv_customers", PALETTE[1]),
        (2, "average_probability_alive", "alive_customers", PALETTE[2]),
    ):
        fig.add_trace(_scored_bar(rows, labels, value, counted, colour), row=1, col=col)
    few = rows.loc[
        rows["clv_customers"].notna()
        & (rows["clv_customers"] < MIN_CLV_SCORED_SHARE * rows["size"]),
        "segment_id",
    ].tolist()
    if few:
        notes.append(
            f"Grey bars: fewer than {MIN_CLV_SCORED_SHARE:.0%} of the segment's customers have a "
            "predicted CLV (customers without purchases have none), so the average describes "
            "only the scored customers (segment " + ", ".join(str(int(s)) for s in few) + ")."
        )
    if notes:
        chart.note = " ".join(notes)
    fig.update_layout(height=160 + 45 * len(labels), showlegend=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    chart.figure = fig
    return chart


def _clv_diagnostic_notes(db: Published, profile_columns: list[str]) -> list[str]:
    """The CLV fit's own verdict (clv_parameters.diagnostic, carried to the profiles), if any.

    A reader of the bars then sees when the model's assumptions do not hold.
    """
    if "clv_diagnostic" not in profile_columns:
        return []
    verdicts = db.frame(
        "select distinct clv_diagnostic from segment_profiles "
        "where method = 'kmeans' and clv_diagnostic is not null order by 1"
    )["clv_diagnostic"].tolist()
    return ["CLV model diagnostic: " + "; ".join(verdicts).rstrip(".") + "."] if verdicts else []


def _scored_bar(
    rows: pd.DataFrame, labels: list[str], value: str, counted: str, colour: str
) -> go.Bar:
    """Horizontal bars of ``value`` per segment, saying how many customers were scored.

    An average over a few scored customers is not the segment's: every bar says "n of N
    customers scored" and is grey when fewer than MIN_CLV_SCORED_SHARE were.
    """
    known = rows[counted].notna()
    share = (rows[counted] / rows["size"]).where(known, 1.0)
    colours = [colour if ok else GREY for ok in share >= MIN_CLV_SCORED_SHARE]
    text = [
        f"{int(n):,} of {int(size):,} customers scored" if ok else ""
        for n, size, ok in zip(rows[counted].fillna(0), rows["size"], known, strict=True)
    ]
    return go.Bar(
        x=rows[value],
        y=labels,
        orientation="h",
        marker_color=colours,
        text=text,
        textposition="auto",
        customdata=text,
        hovertemplate="%{y}: %{x:,.3~f}<br>%{customdata}<extra></extra>",
    )


def alive_matrix(
    db: Published, cells: int = 40
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str] | None:
    """P(alive) of the fitted BG/NBD over a (frequency, recency) grid at the longest T.

    Frequencies run from 0 to the 99th percentile of the customers' repeat purchases.

    Returns ``(frequencies, recencies, probability[f, r], time_unit)``, or None when no BG/NBD
    was fitted. Recency above T is impossible and left as NaN.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    cells : int
        Grid points per axis (frequencies: at most this many distinct whole numbers).

    Returns
    -------
    frequencies : ndarray of int, shape (n_f,)
        Repeat purchases, 0 up to the 99th percentile.
    recencies : ndarray of float64, shape (cells,)
        0 to the longest T, in ``time_unit`` periods.
    probability : ndarray of float64, shape (n_f, cells)
        P(alive) in [0, 1] (Fader, Hardie & Lee 2005 BG/NBD).
    time_unit : str
        The period, e.g. ``"weeks"``; the tuple is None when no BG/NBD was fitted.
    """
    params = db.frame(
        "select parameter, value, any_value(time_unit) over () as time_unit from clv_parameters "
        "where model = 'bg_nbd' and kind = 'parameter'"
    )
    values = dict(zip(params["parameter"], params["value"], strict=True)) if len(params) else {}
    if not {"r", "alpha", "a", "b"} <= set(values) or any(pd.isna(v) for v in values.values()):
        return None
    # Up to the 99th percentile of frequency: a few heavy buyers would squeeze the picture.
    horizon = db.frame(
        "select max(T) as t, quantile_disc(frequency_repeat_periods, 0.99) as f from customer_clv"
    ).iloc[0]
    if pd.isna(horizon["t"]) or pd.isna(horizon["f"]):
        return None
    big_t = float(horizon["t"])
    f_max = max(1, int(horizon["f"]))
    frequencies = np.unique(np.linspace(0, f_max, min(cells, f_max + 1)).round().astype(int))
    recencies = np.linspace(0, big_t, cells)
    model = clv.BgNbdParams(r=values["r"], alpha=values["alpha"], a=values["a"], b=values["b"])
    f_grid, r_grid = np.meshgrid(frequencies, recencies, indexing="ij")
    probability = clv.bg_nbd_probability_alive(model, f_grid, r_grid, np.full(f_grid.shape, big_t))
    return frequencies, recencies, probability, str(params["time_unit"].iloc[0])


def alive_matrix_chart(db: Published) -> Chart:
    """Heatmap of P(alive) by frequency and recency (the BG/NBD fit).

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    Chart
        ``chart_id`` ``"alive-matrix"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "alive-matrix",
        "Probability alive by frequency and recency (BG/NBD)",
        "A customer who bought often but not lately (top left) has probably churned; one whose "
        "last purchase is recent (right) is alive whatever the frequency.",
    )
    if not _has_orders(db):
        chart.note = NO_ORDERS
        return chart
    matrix = alive_matrix(db)
    if matrix is None:
        chart.note = "Not applicable: the BG/NBD model was not fitted (see clv_parameters)."
        return chart
    frequencies, recencies, probability, unit = matrix
    fig = go.Figure(
        go.Heatmap(
            z=np.round(probability, 3),
            x=np.round(recencies, 2),
            y=frequencies,
            zmin=0,
            zmax=1,
            colorscale="Viridis",
            colorbar_title="P(alive)",
            hovertemplate="recency %{x} "
            + unit
            + ", %{y} repeat purchases: %{z:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=460,
        xaxis_title=f"recency: age at last purchase ({unit}; T = {recencies[-1]:.0f})",
        yaxis_title="repeat purchases (frequency)",
    )
    chart.figure = fig
    return chart


# ---------------------------------------------------------------------------------------------
# Segments over time (segment lifecycle: docs/lifecycle.md)
# ---------------------------------------------------------------------------------------------

ONE_RUN = "One run so far: transitions appear from the second build."
TRANSITION_COLUMNS = ("to_invocation_id", "from_segment_id", "to_segment_id", "customers")


def latest_transitions(db: Published) -> tuple[pd.DataFrame, bool] | None:
    """The rows of ``segment_transitions`` into the latest run, and whether it had a predecessor.

    Returns ``(flows, has_previous)``: ``flows`` has from_segment_id, from_segment_name,
    to_segment_id, to_segment_name and customers (ids null for a new or a gone customer, names
    null when the publication lacks them), sorted by from and to id; ``has_previous`` is False
    when the latest run is the first (every customer enters from no segment). None when the
    publication has no ``segment_transitions`` or lacks one of :data:`TRANSITION_COLUMNS`.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    flows : pandas.DataFrame
        Columns as above; ``customers`` counts customers.
    has_previous : bool
        As above; the pair is None when the table or a column is missing.
    """
    if not db.has("segment_transitions"):
        return None
    columns = set(db.columns("segment_transitions"))
    if not set(TRANSITION_COLUMNS) <= columns:
        return None
    order = "to_run_started_at" if "to_run_started_at" in columns else "to_invocation_id"
    names = {
        side: f"{side}_segment_name" if f"{side}_segment_name" in columns else "null"
        for side in ("from", "to")
    }
    previous = "from_invocation_id" if "from_invocation_id" in columns else "null"
    flows = db.frame(
        "with latest as (select to_invocation_id as id from segment_transitions "
        f"order by {order} desc, to_invocation_id desc limit 1) "
        f"select {previous} as from_invocation_id, from_segment_id, "
        f"{names['from']} as from_segment_name, to_segment_id, "
        f"{names['to']} as to_segment_name, customers "
        "from segment_transitions where to_invocation_id = (select id from latest) "
        "order by from_segment_id nulls first, to_segment_id nulls last"
    )
    has_previous = bool(len(flows)) and bool(flows["from_invocation_id"].notna().any())
    return flows.drop(columns=["from_invocation_id"]), has_previous


def latest_drift(db: Published) -> dict[str, Any] | None:
    """The latest ``segment_drift`` row: action, changed share, refit_recommended and reason.

    Missing columns (an older publication) come back as None; None when there is no row.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    dict or None
        ``action`` (str), ``changed_segment_share`` (float, 0..1), ``refit_recommended`` (bool),
        ``refit_reason`` (str), each None when missing.
    """
    if not db.has("segment_drift"):
        return None
    columns = set(db.columns("segment_drift"))
    wanted = ("action", "changed_segment_share", "refit_recommended", "refit_reason")
    order = "run_started_at" if "run_started_at" in columns else "invocation_id"
    if order not in columns:
        return None
    selected = ", ".join(f'"{c}"' if c in columns else f'null as "{c}"' for c in wanted)
    rows = db.frame(f"select {selected} from segment_drift order by {order} desc limit 1")
    if rows.empty:
        return None
    row = rows.iloc[0]
    share = row["changed_segment_share"]
    recommended = row["refit_recommended"]
    return {
        "action": None if pd.isna(row["action"]) else str(row["action"]),
        "changed_segment_share": None if pd.isna(share) else float(share),
        "refit_recommended": None if pd.isna(recommended) else bool(recommended),
        "refit_reason": None if pd.isna(row["refit_reason"]) else str(row["refit_reason"]),
    }


def drift_sentence(drift: dict[str, Any] | None) -> str:
    """One line on the latest segment_drift row (share changed, refit recommended and why).

    Parameters
    ----------
    drift : dict or None
        :func:`latest_drift`'s result.

    Returns
    -------
    str
        One English sentence ending with a full stop.
    """
    if drift is None:
        return "segment_drift is not published."
    if drift["changed_segment_share"] is None:
        changed = "no previous run to compare segments with"
    else:
        changed = (
            f"{drift['changed_segment_share']:.1%} of the customers of the previous run "
            "changed segment"
        )
    action = f" (this build: {drift['action']})" if drift["action"] else ""
    if drift["refit_recommended"] is None:
        refit = "refit recommendation not published"
    elif drift["refit_recommended"]:
        refit = "refit recommended: " + (drift["refit_reason"] or "reason not given")
    else:
        refit = "no refit recommended"
    return f"Latest build{action}: {changed}; {refit}."


def _segment_label(segment_id: Any, name: Any, missing: str) -> str:
    if pd.isna(segment_id):
        return missing
    return _label(int(segment_id), name) if not pd.isna(name) else f"{int(segment_id)}"


def transitions_chart(db: Published, data: dict[str, Any]) -> Chart:
    """Sankey of the customers moving between segments from the previous run to the latest.

    Reads ``segment_transitions`` (the pair of runs ending at the latest one) and the latest
    ``segment_drift`` row, whose one-line summary is the chart's note. Also records both in
    ``data`` (keys ``segment_transitions``: [[from_id, to_id, customers]], ids null for new or
    gone customers, and ``segment_drift``) for the embedded JSON.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    data : dict
        The report's embedded data; ``segment_transitions`` and ``segment_drift`` are set.

    Returns
    -------
    Chart
        ``chart_id`` ``"segment-transitions"``; ``figure`` None and the reason in ``note`` when
        the chart does not apply.
    """
    chart = Chart(
        "segment-transitions",
        "Segments over time: where the customers of the previous run went",
        "Each band is the customers who were in the left segment at the previous build and "
        "are in the right one now; straight bands are customers who kept their segment, "
        "'new' customers were not in the previous build and 'gone' ones are not in this one.",
    )
    drift = latest_drift(db)
    data["segment_drift"] = drift
    summary = drift_sentence(drift)
    latest = latest_transitions(db)
    if latest is None:
        data["segment_transitions"] = None
        chart.note = "segment_transitions is not published. " + summary
        return chart
    flows, has_previous = latest
    data["segment_transitions"] = [
        [
            None if pd.isna(r.from_segment_id) else int(r.from_segment_id),
            None if pd.isna(r.to_segment_id) else int(r.to_segment_id),
            int(r.customers),
        ]
        for r in flows.itertuples()
    ]
    if not has_previous:
        chart.note = f"{ONE_RUN} {summary}"
        return chart
    chart.figure = _transitions_sankey(flows)
    chart.note = summary
    return chart


def _transitions_sankey(flows: pd.DataFrame) -> go.Figure:
    """The Sankey of :func:`transitions_chart`: previous segments left, latest ones right.

    Parameters
    ----------
    flows : pandas.DataFrame
        ``from_segment_id``, ``from_segment_name``, ``to_segment_id``, ``to_segment_name`` (ids
        null for new or gone customers) and ``customers``, one row per pair
        (:func:`latest_transitions`).

    Returns
    -------
    plotly.graph_objects.Figure
        Kept customers in grey bands, movers in colour; segment colours as in the other charts.
    """
    from_labels = [
        _segment_label(r.from_segment_id, r.from_segment_name, "new customers")
        for r in flows.itertuples()
    ]
    to_labels = [
        _segment_label(r.to_segment_id, r.to_segment_name, "gone") for r in flows.itertuples()
    ]
    left = list(dict.fromkeys(from_labels))
    by_target = flows.sort_values("to_segment_id", na_position="last", kind="stable")
    right = list(dict.fromkeys(to_labels[i] for i in by_target.index))

    def colour(segment_id: Any) -> str:
        # Segment ids start at 1: segment 1 takes PALETTE[0], as in the PCA and silhouette plots.
        return "#BAB0AC" if pd.isna(segment_id) else PALETTE[(int(segment_id) - 1) % len(PALETTE)]

    left_colour = dict(zip(from_labels, map(colour, flows["from_segment_id"]), strict=True))
    right_colour = dict(zip(to_labels, map(colour, flows["to_segment_id"]), strict=True))
    kept = flows["from_segment_id"].eq(flows["to_segment_id"]).fillna(False)
    fig = go.Figure(
        go.Sankey(
            node={
                "label": [*left, *right],
                "color": [left_colour[x] for x in left] + [right_colour[x] for x in right],
                "pad": 14,
                "thickness": 16,
            },
            link={
                "source": [left.index(x) for x in from_labels],
                "target": [len(left) + right.index(x) for x in to_labels],
                "value": [int(v) for v in flows["customers"]],
                # Customers who kept their segment in grey, movers in colour.
                "color": [
                    "rgba(120,120,120,0.25)" if same else "rgba(228,87,86,0.45)" for same in kept
                ],
                "hovertemplate": "%{source.label} -> %{target.label}: %{value:,} customers"
                "<extra></extra>",
            },
        )
    )
    fig.update_layout(height=200 + 40 * max(len(left), len(right)))
    return fig


# ---------------------------------------------------------------------------------------------
# Assembly
# ---------------------------------------------------------------------------------------------


def segment_sentences(db: Published) -> dict[int, str]:
    """One plain sentence per K-Means segment, when segment_profiles carries such a column.

    Looks for the first of :data:`SENTENCE_COLUMNS`; an older publication without any gives {}.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.

    Returns
    -------
    dict of int to str
        K-Means segment id to its sentence (segments with an empty sentence left out).
    """
    columns = set(db.columns("segment_profiles"))
    for name in SENTENCE_COLUMNS:
        if name in columns:
            rows = db.frame(
                f'select segment_id, any_value("{name}") as sentence from segment_profiles '
                "where method = 'kmeans' group by segment_id"
            )
            return {int(r.segment_id): r.sentence for r in rows.itertuples() if r.sentence}
    return {}


def build_sections(
    db: Published, sample_size: int = DEFAULT_SAMPLE_SIZE
) -> tuple[list[Section], dict[str, Any]]:
    """Every section of the report and the embedded data, from the published database.

    Parameters
    ----------
    db : Published
        The published database, opened read-only.
    sample_size : int
        Customers drawn for the PCA and silhouette plots.

    Returns
    -------
    sections : list of Section
        In report order.
    data : dict
        The embedded JSON data (:func:`summary_data` plus what the charts record).
    """
    data = summary_data(db)
    runs = db.frame("select * from current_run")
    sentences = segment_sentences(db)
    data["segment_sentences"] = {str(k): v for k, v in sorted(sentences.items())}
    sections = [
        Section("summary", "Summary", _summary_html(data, runs, sentences)),
        Section(
            "eda",
            "EDA: the customer features before clustering",
            charts=[
                histograms_chart(db),
                missing_values_chart(db),
                correlation_chart(db),
                cramers_v_chart(db),
            ],
        ),
        Section(
            "choosing-k",
            "Choosing k",
            charts=[elbow_chart(db), silhouette_chart(db), index_chart(db)],
        ),
        Section(
            "segments",
            "Segments",
            charts=[
                sizes_chart(db),
                zscore_chart(db),
                silhouette_plot_chart(db, sample_size),
                pca_chart(db, sample_size),
                dendrogram_chart(db),
                transitions_chart(db, data),
            ],
        ),
        Section(
            "rfm-value",
            "RFM and value",
            charts=[rfm_grid_chart(db), clv_by_segment_chart(db), alive_matrix_chart(db)],
        ),
    ]
    data["charts"] = {
        chart.chart_id: ("shown" if chart.figure is not None else "not applicable")
        for section in sections
        for chart in section.charts
    }
    data["sample_size"] = sample_size
    return sections, data


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0; color: #222; background: #fafafa; }
header { background: #1f3b57; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 24px; }
header p { margin: 0; opacity: .85; font-size: 13px; }
nav { padding: 8px 32px; background: #e9eef3; font-size: 14px; position: sticky; top: 0;
      z-index: 10; }
nav a { margin-right: 18px; color: #1f3b57; text-decoration: none; font-weight: 600; }
main { padding: 8px 32px 40px; max-width: 1280px; box-sizing: border-box; }
section { margin-top: 22px; }
h2 { border-bottom: 2px solid #1f3b57; padding-bottom: 4px; }
h3 { margin: 22px 0 2px; font-size: 17px; }
p.guide { margin: 0 0 6px; color: #555; font-size: 13.5px; font-style: italic; }
p.na { color: #8a5a00; background: #fff4e0; padding: 8px 12px; border-radius: 4px; }
p.note { color: #8a5a00; font-size: 0.9em; margin: 4px 0 0; }
table.data { border-collapse: collapse; font-size: 13.5px; margin: 4px 0 12px; }
table.data td, table.data th { border: 1px solid #ccd; padding: 3px 10px; text-align: left; }
table.data th { background: #e9eef3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.chart { background: #fff; border: 1px solid #e0e0e0; border-radius: 4px;
         box-sizing: border-box; width: 100%; max-width: 100%; overflow: hidden; }
"""


def _json_for_script(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str).replace("</", "<\\/")


def render_html(sections: list[Section], data: dict[str, Any], source: str) -> str:
    """The whole HTML document: plotly.js inlined once, each figure drawn by an inline script.

    Parameters
    ----------
    sections : list of Section
        The report's sections (:func:`build_sections`); figures get the report's layout.
    data : dict
        Embedded as JSON in ``<script id="report-data">``; ``run_id`` and ``built_at`` are shown.
    source : str
        The published file, as shown in the header.

    Returns
    -------
    str
        A self-contained HTML document (UTF-8 text).
    """
    esc = html.escape
    nav = "".join(f'<a href="#{s.section_id}">{esc(s.title.split(":")[0])}</a>' for s in sections)
    body = []
    for section in sections:
        parts = [f'<section id="{section.section_id}"><h2>{esc(section.title)}</h2>']
        if section.intro_html:
            parts.append(section.intro_html)
        for chart in section.charts:
            parts.append(
                f'<div class="chart-block" id="chart-{chart.chart_id}">'
                f"<h3>{esc(chart.title)}</h3><p class='guide'>{esc(chart.guide)}</p>"
            )
            if chart.figure is None:
                parts.append(f"<p class='na'>{esc(chart.note or 'Not applicable.')}</p>")
            else:
                chart.figure.update_layout(
                    template="plotly_white", margin={"l": 60, "r": 30, "t": 40, "b": 60}
                )
                parts.append(
                    '<div class="chart">'
                    + pio.to_html(
                        chart.figure,
                        full_html=False,
                        include_plotlyjs=False,
                        include_mathjax=False,
                        config=PLOTLY_CONFIG,
                        div_id=f"figure-{chart.chart_id}",
                        validate=False,
                    )
                    + "</div>"
                )
                if chart.note:
                    parts.append(f"<p class='note'>{esc(chart.note)}</p>")
            parts.append("</div>")
        parts.append("</section>")
        body.append("\n".join(parts))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    run = f"run {data.get('run_id') or '?'} built {data.get('built_at') or '?'}"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Customer segments report</title>"
        f"<style>{CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script>"
        f"<script type='application/json' id='report-data'>{_json_for_script(data)}</script>"
        "</head><body>"
        f"<header><h1>Customer segments report</h1><p>{esc(source)} · {esc(run)} · "
        f"written {generated}</p></header><nav>{nav}</nav><main>"
        + "\n".join(body)
        + "</main></body></html>\n"
    )


def build_report(published: Path, sample_size: int = DEFAULT_SAMPLE_SIZE) -> str:
    """The report of the published database ``published`` as one HTML string.

    Parameters
    ----------
    published : pathlib.Path
        The published DuckDB file (opened read-only).
    sample_size : int
        Customers drawn for the PCA and silhouette plots.

    Returns
    -------
    str
        The HTML document (:func:`render_html`).

    Raises
    ------
    ReportError
        The file does not exist or is not a complete publication (no current_run).
    """
    published = Path(published)
    if not published.is_file():
        raise ReportError(
            f"{published}: no published database; run `make build` first (or pass --published)"
        )
    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error as error:
        raise ReportError(f"{published}: cannot open the published database ({error})") from None
    try:
        db = Published(con)
        missing = [
            t
            for t in (
                "current_run",
                "customer_segments",
                "segment_profiles",
                "clustering_metrics",
                "rejects",
            )
            if not db.has(t)
        ]
        if missing:
            raise ReportError(
                f"{published}: not a complete publication, missing {', '.join(missing)}"
            )
        sections, data = build_sections(db, sample_size)
        shown = published.resolve()
        if shown.is_relative_to(Path.cwd()):
            shown = shown.relative_to(Path.cwd())
        return render_html(sections, data, str(shown))
    finally:
        con.close()


def write_report(
    published: Path, out: Path, sample_size: int = DEFAULT_SAMPLE_SIZE
) -> ReportResult:
    """Write the report of ``published`` to ``out`` (atomically: a temporary file renamed).

    Parameters
    ----------
    published : pathlib.Path
        The published DuckDB file.
    out : pathlib.Path
        The HTML file to write (folders created).
    sample_size : int
        Customers drawn for the PCA and silhouette plots.

    Returns
    -------
    ReportResult
        Path, size in bytes and wall-clock seconds.

    Raises
    ------
    ReportError
        As :func:`build_report`; nothing is written then.
    """
    started = time.perf_counter()
    document = build_report(published, sample_size)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    temporary.write_text(document, encoding="utf-8")
    os.replace(temporary, out)
    return ReportResult(out, out.stat().st_size, time.perf_counter() - started)


def default_published() -> Path:
    """The published file of env SEGMENTS_DB_PATH (default segments.duckdb in the working dir).

    Returns
    -------
    pathlib.Path
        ``publish.published_path_for`` of ``$SEGMENTS_DB_PATH`` (or ``DEFAULT_DB``); the file may
        not exist.
    """
    return published_path_for(Path(os.environ.get("SEGMENTS_DB_PATH") or DEFAULT_DB))


def main(argv: list[str] | None = None) -> int:
    """``python -m segmentation.report``: write the HTML report; returns the exit status.

    Parameters
    ----------
    argv : list of str or None
        Command-line arguments (``--published``, ``--out``, ``--sample-size``); None reads
        ``sys.argv``.

    Returns
    -------
    int
        0 on success, 2 on a :class:`ReportError` (message on stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m segmentation.report",
        description="Write the self-contained HTML report of the published segments database.",
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=None,
        help="the published database (default: the publication of $SEGMENTS_DB_PATH, "
        "published/<database stem>/segments.duckdb next to it, or $SEGMENTS_PUBLISH_DIR)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument(
        "--sample-size",
        type=int,
        default=DEFAULT_SAMPLE_SIZE,
        help="customers drawn for the PCA and silhouette plots (a seeded sample)",
    )
    args = parser.parse_args(argv)
    published = args.published or default_published()
    try:
        result = write_report(published, args.out, args.sample_size)
    except ReportError as error:
        print(f"segmentation.report: {error}", file=sys.stderr)
        return 2
    print(
        f"segmentation.report: wrote {result.path} ({result.size_bytes / 1e6:.1f} MB in "
        f"{result.seconds:.1f} s) from {published}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
