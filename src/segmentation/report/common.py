"""Shared by the report's modules: defaults, constants, the error and the small types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go

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
