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

The code, one module per part of the report (each imports only those above it):

- ``common``: defaults, constants, :class:`ReportError` and the small types (Chart, Section,
  ReportResult).
- ``published``: :class:`Published`, read-only access to the published file's tables.
- ``summary``: the summary that opens the report.
- ``eda_charts``, ``k_choice_charts``, ``segment_charts``, ``rfm_value_charts``: the charts of the
  EDA, Choosing k, Segments and RFM and value sections.
- ``lifecycle_charts``: segments over time (transitions and drift, in the Segments section).
- ``assembly``: the sections in order, the HTML document, :func:`build_report`,
  :func:`write_report`.
- ``cli``: :func:`main`, run by ``python -m segmentation.report`` (``__main__``).

The names below are the package's API (``from segmentation import report``; ``report.main``).
"""

from segmentation.report.assembly import (
    CSS,
    build_report,
    build_sections,
    render_html,
    segment_sentences,
    write_report,
)
from segmentation.report.cli import (
    default_published,
    main,
)
from segmentation.report.common import (
    DEFAULT_DB,
    DEFAULT_OUT,
    DEFAULT_SAMPLE_SIZE,
    DENDROGRAM_LEAVES,
    GREY,
    MIN_CLV_SCORED_SHARE,
    PALETTE,
    PLOTLY_CONFIG,
    PUBLICATION_COLUMNS,
    SECTIONS,
    SENTENCE_COLUMNS,
    TABLES_READ,
    Chart,
    ReportError,
    ReportResult,
    Section,
)
from segmentation.report.eda_charts import (
    correlation_chart,
    cramers_v_chart,
    histograms_chart,
    log1p_bins,
    log1p_features,
    missing_values_chart,
)
from segmentation.report.k_choice_charts import (
    elbow_chart,
    index_chart,
    silhouette_chart,
)
from segmentation.report.lifecycle_charts import (
    ONE_RUN,
    TRANSITION_COLUMNS,
    drift_sentence,
    latest_drift,
    latest_transitions,
    transitions_chart,
)
from segmentation.report.published import (
    Published,
)
from segmentation.report.rfm_value_charts import (
    NO_ORDERS,
    alive_matrix,
    alive_matrix_chart,
    clv_by_segment_chart,
    rfm_grid_chart,
)
from segmentation.report.segment_charts import (
    dendrogram_chart,
    pca_chart,
    pca_sample,
    silhouette_plot_chart,
    sizes_chart,
    zscore_chart,
)
from segmentation.report.summary import (
    summary_data,
)

__all__ = [
    "CSS",
    "DEFAULT_DB",
    "DEFAULT_OUT",
    "DEFAULT_SAMPLE_SIZE",
    "DENDROGRAM_LEAVES",
    "GREY",
    "MIN_CLV_SCORED_SHARE",
    "NO_ORDERS",
    "ONE_RUN",
    "PALETTE",
    "PLOTLY_CONFIG",
    "PUBLICATION_COLUMNS",
    "SECTIONS",
    "SENTENCE_COLUMNS",
    "TABLES_READ",
    "TRANSITION_COLUMNS",
    "Chart",
    "Published",
    "ReportError",
    "ReportResult",
    "Section",
    "alive_matrix",
    "alive_matrix_chart",
    "build_report",
    "build_sections",
    "clv_by_segment_chart",
    "correlation_chart",
    "cramers_v_chart",
    "default_published",
    "dendrogram_chart",
    "drift_sentence",
    "elbow_chart",
    "histograms_chart",
    "index_chart",
    "latest_drift",
    "latest_transitions",
    "log1p_bins",
    "log1p_features",
    "main",
    "missing_values_chart",
    "pca_chart",
    "pca_sample",
    "render_html",
    "rfm_grid_chart",
    "segment_sentences",
    "silhouette_chart",
    "silhouette_plot_chart",
    "sizes_chart",
    "summary_data",
    "transitions_chart",
    "write_report",
    "zscore_chart",
]
