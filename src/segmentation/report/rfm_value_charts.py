"""The RFM and value section's charts: the R x F grid, CLV by segment, the P(alive) matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segmentation import clv
from segmentation.report.common import GREY, MIN_CLV_SCORED_SHARE, PALETTE, Chart
from segmentation.report.published import Published
from segmentation.report.segment_charts import _label


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
