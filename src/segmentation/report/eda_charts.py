"""The EDA section's charts: histograms, missing values, correlations, Cramer's V."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmentation.report.common import PALETTE, Chart
from segmentation.report.published import Published


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
