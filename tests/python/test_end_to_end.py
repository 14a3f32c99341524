"""End to end: `dbt build` of the real project on the committed demo seeds, on a fresh DuckDB file.

One build is shared by the module (about a minute on 2 cores). Determinism (two builds give
identical tables) is tested on the published tables in test_reliability.py, whose builds run
anyway.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import report_checks
from dbt_harness import REPO_ROOT, DbtRun, assert_input_source, copy_run, project_vars, run_dbt
from sklearn.metrics import adjusted_rand_score

from segmentation import report
from segmentation.publish import published_path_for

PUBLISHED = {
    "customer_segments": "customer_id",
    "clustering_metrics": "method, k",
    "kmeans_centroids": "segment_id, output_column",
    "segment_profiles": "method, segment_id, feature",
    "preprocessing_spec": "position",
    "hierarchical_linkage": "step",
}


def _assert_ok(run: DbtRun) -> None:
    assert run.returncode == 0, run.output[-6000:]


# demo_build: the session's full build of the demo (conftest.py), shared with test_reliability.


def test_the_demo_seeds_are_the_upstream_of_the_base_models(demo_build: DbtRun) -> None:
    """A seed input: the seed is the base model's parent (loaded first); the source names it."""
    assert_input_source(demo_build, "customers", "seed", '(select * from "main"."raw_customers")')
    assert_input_source(demo_build, "orders", "seed", '(select * from "main"."raw_orders")')


def test_every_table_is_built(demo_build: DbtRun) -> None:
    query = "select table_name from information_schema.tables"
    tables = {row[0] for row in demo_build.query(query)}
    expected = {
        "customer_features",
        "rejects",
        "eda_numeric_summary",
        "eda_histograms",
        "eda_categorical_levels",
        "eda_missing_values",
        "eda_correlations",
        "eda_crosstabs",
        "eda_numeric_by_category",
        "demo_customer_personas",
        *PUBLISHED,
        "segment_agreement",
    }
    assert expected <= tables, expected - tables
    for table in expected:
        assert demo_build.scalar(f"select count(*) from {table}") > 0, table


def test_row_keys_are_sixteen_hex_digits(demo_build: DbtRun) -> None:
    """source_row_key is the row's 64-bit hash as 16 hexadecimal digits, leading zeros kept
    (macro segments_row_key pads only hashes below 2^60): on every staged and rejected row, and
    the demo has keys of both kinds, so both branches are checked."""
    for table in ("stg_order_lines", "stg_customers", "rejects"):
        wrong = demo_build.scalar(
            f"select count(*) from {table} "
            "where not regexp_full_match(source_row_key, '[0-9A-F]{16}')"
        )
        assert wrong == 0, table
    padded, full = demo_build.query(
        "select count(*) filter (where source_row_key like '0%'), "
        "count(*) filter (where source_row_key not like '0%') from stg_order_lines"
    )[0]
    assert padded > 0 and full > 0


def test_every_customer_is_accounted_for(demo_build: DbtRun) -> None:
    raw = demo_build.scalar("select count(*) from base_customers")
    staged = demo_build.scalar("select count(*) from stg_customers")
    rejected = demo_build.scalar("select count(*) from rejects where source = 'customers'")
    assert raw == staged + rejected
    # The generator planted 2,000 customers; each is in the segments exactly once.
    assert demo_build.scalar("select count(distinct customer_id) from customer_segments") == 2000
    assert demo_build.scalar("select count(*) from customer_segments") == 2000
    missing = demo_build.scalar(
        "select count(*) from demo_customer_personas p "
        "anti join customer_segments s using (customer_id)"
    )
    assert missing == 0


def test_planted_mess_is_cleaned_and_counted(demo_build: DbtRun) -> None:
    reasons = dict(demo_build.query("select reason, count(*) from rejects group by reason"))
    for reason in (
        "missing_customer_id",
        "duplicate_customer_id",
        "duplicate_order_line",
        "unparseable_ordered_at",
        "unknown_customer_id",
    ):
        assert reasons.get(reason, 0) > 0, (reason, reasons)
    genders = {row[0] for row in demo_build.query("select distinct gender from stg_customers")}
    assert genders <= {"female", "male", "other", None}
    statuses = {row[0] for row in demo_build.query("select distinct status from stg_order_lines")}
    assert statuses == {"completed", "cancelled", "returned"}
    # Returns are kept as negative lines and show up in the features, not silently dropped.
    assert demo_build.scalar("select sum(returned_value) from customer_features") > 0
    # Customers without orders stay, with frequency 0 and no recency.
    no_orders = demo_build.query(
        "select count(*), max(frequency), count(recency_days) from customer_features "
        "where not has_orders"
    )[0]
    assert no_orders[0] > 0 and no_orders[1] == 0 and no_orders[2] == 0


def test_kmeans_recovers_the_planted_personas(demo_build: DbtRun) -> None:
    rows = demo_build.query(
        "select p.persona, s.kmeans_segment_id, s.hierarchical_segment_id "
        "from customer_segments s join demo_customer_personas p using (customer_id)"
    )
    personas = [r[0] for r in rows]
    true_k = len(set(personas))
    selected = demo_build.scalar(
        "select k from clustering_metrics where method = 'kmeans' and is_selected"
    )
    assert selected == true_k
    kmeans_ari = adjusted_rand_score(personas, [r[1] for r in rows])
    hierarchical_ari = adjusted_rand_score(personas, [r[2] for r in rows])
    print(f"ARI vs personas: kmeans {kmeans_ari:.3f}, hierarchical {hierarchical_ari:.3f}")
    assert kmeans_ari >= 0.8
    assert hierarchical_ari >= 0.8


def test_segment_names_are_unique_and_profiles_add_up(demo_build: DbtRun) -> None:
    names = demo_build.query("select distinct segment_id, segment_name from kmeans_centroids")
    assert len({name for _, name in names}) == len(names)
    sizes = demo_build.query(
        "select method, sum(size) from (select distinct method, segment_id, size "
        "from segment_profiles) group by method"
    )
    assert dict(sizes) == {"kmeans": 2000, "hierarchical": 2000}


def test_clv_diagnostic_reaches_customers_and_profiles(demo_build: DbtRun) -> None:
    """The demo's spend grows with frequency: the Gamma-Gamma warning is on every BI table."""
    per_model = dict(demo_build.query("select distinct model, diagnostic from clv_parameters"))
    assert per_model["bg_nbd"] == "ok"
    assert per_model["gamma_gamma"].startswith("warning: spend depends on frequency")
    expected = f"gamma_gamma {per_model['gamma_gamma']}"
    customers = demo_build.query("select distinct clv_diagnostic from customer_clv")
    assert customers == [(expected,)]
    profiles = demo_build.query("select distinct clv_diagnostic from segment_profiles")
    assert profiles == [(expected,)]
    # Without segmentation.clv.holdout_end there is no holdout check, and no error.
    assert demo_build.scalar("select count(*) from clv_holdout") == 0


def test_sql_agreement_equals_sklearn(demo_build: DbtRun) -> None:
    rows = demo_build.query(
        "select kmeans_segment_id, hierarchical_segment_id from customer_segments"
    )
    expected = adjusted_rand_score([r[0] for r in rows], [r[1] for r in rows])
    assert demo_build.scalar("select adjusted_rand_index from segment_agreement") == (
        pytest.approx(expected, abs=1e-9)
    )


QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
QUANTILE_COLUMNS = "p01, p05, p25, p50, p75, p95, p99"


def _features_frame(run: DbtRun) -> pd.DataFrame:
    """customer_features with in_sample (eda_feature_values), numeric features as float."""
    with duckdb.connect(str(run.db_path), read_only=True) as con:
        frame = con.execute(
            "select features.* exclude (customer_key), sampled.in_sample from ("
            "select *, row_number() over (order by customer_id) as customer_key "
            "from customer_features) as features "
            "inner join (select distinct customer_key, in_sample from eda_feature_values) "
            "as sampled using (customer_key)"
        ).df()
    return frame


def _numeric_features(run: DbtRun) -> list[str]:
    return [row[0] for row in run.query("select feature from eda_numeric_summary order by 1")]


def _assert_eda_matches_pandas(run: DbtRun, frame: pd.DataFrame, method: str) -> None:
    """Quantiles, medians and correlations equal pandas on the customers in_sample (all of them
    when exact); counts and means use every customer."""
    sample = frame[frame["in_sample"]]
    numeric = _numeric_features(run)
    summary = run.query(
        f"select feature, {QUANTILE_COLUMNS}, quantile_method, quantile_rows, non_missing_count,"
        " mean, distinct_count, distinct_method from eda_numeric_summary order by 1"
    )
    summary = [(row[0], row[1:8], *row[8:]) for row in summary]
    for feature, figures, quantile_method, quantile_rows, non_missing, mean, *distinct in summary:
        distinct_count, distinct_method = distinct
        values = sample[feature].astype(float).dropna()
        assert quantile_method == method and quantile_rows == len(values), feature
        exact_distinct = frame[feature].astype(float).nunique()
        if method == "exact":
            assert (distinct_method, distinct_count) == ("exact", exact_distinct), feature
        else:  # HyperLogLog over every customer: a few percent off at most.
            assert distinct_method == "hyperloglog", feature
            assert distinct_count == pytest.approx(exact_distinct, rel=0.1, abs=2), feature
        assert non_missing == frame[feature].notna().sum(), feature  # every customer
        # Tolerance: the mean is a sum in DuckDB's parallel order; quantiles are interpolations
        # of two order statistics, identical up to the last bit or two.
        assert mean == pytest.approx(frame[feature].astype(float).mean(), rel=1e-9, abs=1e-12)
        expected = [values.quantile(q) for q in QUANTILES]
        assert list(figures) == pytest.approx(expected, rel=1e-9, abs=1e-12), feature
    # Pearson over the customers (in_sample) with both values, pairwise as in pandas.
    pearson = sample[numeric].astype(float).corr(method="pearson", min_periods=2)
    pairs = run.query(
        "select feature_x, feature_y, pearson, method, n_pairs from eda_correlations "
        "where feature_x < feature_y"
    )
    assert pairs
    for feature_x, feature_y, value, pair_method, n_pairs in pairs:
        assert pair_method == method
        both = sample[[feature_x, feature_y]].dropna()
        assert n_pairs == len(both)
        if value is not None:
            assert value == pytest.approx(pearson.loc[feature_x, feature_y], abs=1e-9)
    # Medians of a numeric feature by the levels of a categorical one (gender: below the top-N,
    # so its levels are the values themselves, and '__missing__').
    by_level = run.query(
        "select level, count, median, median_method, median_rows from eda_numeric_by_category "
        "where numeric_feature = 'monetary_value' and categorical_feature = 'gender'"
    )
    assert by_level
    levels = frame["gender"].str.strip().replace("", None).fillna("__missing__")
    sample_levels = levels[frame["in_sample"]]
    for level, count, median, median_method, median_rows in by_level:
        values = frame.loc[levels == level, "monetary_value"].astype(float).dropna()
        sampled = sample.loc[sample_levels == level, "monetary_value"].astype(float).dropna()
        assert count == len(values) and median_method == method and median_rows == len(sampled)
        assert median == pytest.approx(sampled.median(), rel=1e-9), level
    # segment_profiles medians per K-Means segment.
    segments = dict(run.query("select customer_id, kmeans_segment_id from customer_segments"))
    segment_of = frame["customer_id"].map(segments)
    profiles = run.query(
        "select segment_id, feature, median, median_method, median_customers, "
        "feature_customers from segment_profiles "
        "where method = 'kmeans' and feature_kind = 'numeric'"
    )
    assert profiles
    for segment_id, feature, median, median_method, median_customers, customers in profiles:
        in_segment = frame.loc[segment_of == segment_id, feature].astype(float).dropna()
        sampled = sample.loc[segment_of[frame["in_sample"]] == segment_id, feature]
        sampled = sampled.astype(float).dropna()
        assert customers == len(in_segment) and median_customers == len(sampled)
        assert median_method == method
        if sampled.empty:  # e.g. recency_days of a segment without orders
            assert median is None, (segment_id, feature)
        else:  # segment_profiles rounds to 6 decimals.
            assert median == pytest.approx(sampled.median(), abs=1e-6), (segment_id, feature)


def test_eda_figures_are_exact_below_the_sample_size(demo_build: DbtRun) -> None:
    """2,000 customers, below segments_eda_rank_sample_rows: every figure over every customer,
    equal to pandas, and the tables say 'exact'."""
    frame = _features_frame(demo_build)
    assert frame["in_sample"].all()
    _assert_eda_matches_pandas(demo_build, frame, "exact")


EDA_SAMPLED_MODELS = [
    "eda_feature_values",
    "eda_categorical_levels",
    "eda_numeric_summary",
    "eda_numeric_by_category",
    "eda_correlations",
    "segment_profiles",
]


def test_eda_samples_a_fixed_set_of_customers_above_the_size(
    demo_build: DbtRun, tmp_path: Path
) -> None:
    """Above segments_eda_rank_sample_rows (500 of 2,000 customers here): quantiles, medians and
    correlations are those of a hash sample of about 500 customers and say 'sample'; the same
    customers and the same figures with customer_features in another row order."""
    shutil.copy(demo_build.db_path, tmp_path / "segments.duckdb")
    vars = {"segments_eda_rank_sample_rows": 500}
    run = run_dbt(["run", "-s", *EDA_SAMPLED_MODELS], tmp_path, vars=vars)
    _assert_ok(run)
    frame = _features_frame(run)
    assert 350 <= frame["in_sample"].sum() <= 650
    _assert_eda_matches_pandas(run, frame, "sample")
    queries = {
        "sample": "select distinct customer_key from eda_feature_values where in_sample",
        "quantiles": f"select feature, {QUANTILE_COLUMNS}, quantile_rows from eda_numeric_summary",
        "medians": "select numeric_feature, categorical_feature, level, median, median_rows "
        "from eda_numeric_by_category",
        "profiles": "select method, segment_id, feature, median from segment_profiles",
        "correlations": "select feature_x, feature_y, n_pairs, method, "
        "round(pearson, 9), round(spearman, 9) from eda_correlations",
    }
    before = {name: sorted(run.query(sql)) for name, sql in queries.items()}
    with duckdb.connect(str(run.db_path)) as con:
        con.execute(
            "create or replace table customer_features as "
            "select * from customer_features order by hash(customer_id || 'shuffle')"
        )
    reordered = run_dbt(["run", "-s", *EDA_SAMPLED_MODELS], tmp_path, vars=vars)
    _assert_ok(reordered)
    after = {name: sorted(reordered.query(sql)) for name, sql in queries.items()}
    assert after == before


def test_a_new_sql_feature_flows_through_configuration(tmp_path: Path) -> None:
    """An analytics engineer adds a feature with SQL and configuration only, no Python."""
    project = tmp_path / "project"
    shutil.copytree(
        REPO_ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv", ".git", "target", "logs", "*.duckdb", "bench"),
    )
    (project / "models" / "intermediate" / "int_customer_weekend_share.sql").write_text(
        "select\n"
        "    customer_id,\n"
        "    avg(case when dayofweek(ordered_at) in (0, 6) then 1.0 else 0.0 end)"
        " as weekend_share,\n"
        "from {{ ref('stg_order_lines') }}\n"
        "group by customer_id\n"
    )
    variables = project_vars()
    variables["segments_extra_feature_models"] = ["int_customer_weekend_share"]
    variables["segmentation"]["features"].append({"name": "weekend_share", "impute": "median"})
    run = run_dbt(
        [
            "build",
            "-s",
            "+ml_feature_matrix",
            "--exclude-resource-type",
            "test",
            "unit_test",
        ],
        tmp_path,
        vars=variables,
        project_dir=project,
    )
    _assert_ok(run)
    spec = run.query("select feature, transform from ml_preprocessing_spec")
    assert ("weekend_share", "none") in spec
    columns = {r[0] for r in run.query("select column_name from (describe ml_feature_matrix)")}
    assert "weekend_share" in columns
    share = run.scalar("select avg(weekend_share) from customer_features")
    assert 0 < share < 1


# ---------------------------------------------------------------------------------------------
# The HTML report of the demo's publication (segmentation.report, docs/report.md)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_report(demo_build: DbtRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report written by the CLI with its defaults: the publication of SEGMENTS_DB_PATH."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEGMENTS_DB_PATH", str(demo_build.db_path))
        assert report.main(["--out", str(out)]) == 0
    return out


def test_report_states_the_published_tables_and_draws_every_chart(
    demo_build: DbtRun, demo_report: Path
) -> None:
    text = demo_report.read_text()
    data = report_checks.check_report(text, published_path_for(demo_build.db_path))
    # The demo has orders, both methods and every EDA table: nothing is "not applicable" but
    # the segment transitions of its one build, which say so instead of drawing.
    charts = dict(data["charts"])
    assert charts.pop("segment-transitions") == "not applicable"
    assert set(charts.values()) == {"shown"}, data["charts"]
    assert len(data["charts"]) == 16
    block = text.split('id="chart-segment-transitions"', 1)[1].split('class="chart-block"', 1)[0]
    assert report.ONE_RUN in block
    assert "Latest build (this build: fit): no previous run to compare segments with" in block
    # Everyone enters from no segment: one flow per segment, summing to the customers.
    assert all(flow[0] is None for flow in data["segment_transitions"])
    assert sum(flow[2] for flow in data["segment_transitions"]) == 2000
    assert data["customers"] == 2000
    assert demo_report.stat().st_size < 10_000_000


def test_report_shows_the_clv_diagnostic_under_the_clv_chart(
    demo_build: DbtRun, demo_report: Path
) -> None:
    """The demo's Gamma-Gamma warning is printed under the CLV-per-segment bars."""
    diagnostic = demo_build.scalar("select distinct clv_diagnostic from segment_profiles")
    assert diagnostic.startswith("gamma_gamma warning")
    text = demo_report.read_text()
    block = text.split('id="chart-clv-by-segment"', 1)[1].split('class="chart-block"', 1)[0]
    assert html.escape("CLV model diagnostic: " + diagnostic) in block


def test_segment_profiles_say_over_how_many_customers_each_average_is_taken(
    demo_build: DbtRun, demo_report: Path
) -> None:
    """A segment mostly without purchases is not described by its few scored customers.

    On the demo one K-Means segment has 222 customers of whom 219 have no purchases: its
    average_predicted_clv comes from 3 customers, which clv_customers must say, and the report's
    CLV bar must say "3 of 222 customers scored" and be greyed.
    """
    counts = demo_build.query(
        "select s.kmeans_segment_id, count(*), count(s.predicted_clv), "
        "count(s.probability_alive), count(*) filter (where c.clv_status like 'no purchases%') "
        "from customer_segments as s left join customer_clv as c using (customer_id) "
        "group by 1 order by 1"
    )
    profiles = demo_build.query(
        "select distinct segment_id, size, clv_customers, alive_customers "
        "from segment_profiles where method = 'kmeans' order by 1"
    )
    assert [row[:4] for row in counts] == profiles
    mostly_unscored = [row for row in counts if row[4] == 219]
    assert len(mostly_unscored) == 1, counts
    segment_id, size, scored, alive, _ = mostly_unscored[0]
    assert (size, scored, alive) == (222, 3, 3)
    # numeric feature means are taken over the customers with a value, and say so: only the 3
    # customers with purchases have a recency
    feature_counts = demo_build.query(
        "select feature, feature_customers from segment_profiles "
        f"where method = 'kmeans' and segment_id = {segment_id} and feature = 'recency_days'"
    )
    assert feature_counts == [("recency_days", 3)]
    block = demo_report.read_text().split('id="chart-clv-by-segment"', 1)[1]
    block = block.split('class="chart-block"', 1)[0]
    assert "3 of 222 customers scored" in block
    assert "fewer than 50% of the segment" in block and f"(segment {segment_id})" in block


def test_report_says_when_a_chart_is_drawn_from_a_sample(
    demo_build: DbtRun, tmp_path: Path
) -> None:
    out = tmp_path / "sampled.html"
    assert (
        report.main(
            [
                "--published",
                str(published_path_for(demo_build.db_path)),
                "--out",
                str(out),
                "--sample-size",
                "500",
            ]
        )
        == 0
    )
    text = out.read_text()
    assert text.count("a seeded sample of 500 of 2,000 customers") == 2  # PCA and silhouettes
    assert report_checks.embedded_data(text)["sample_size"] == 500


def test_report_renders_in_chromium_without_console_errors(demo_report: Path) -> None:
    found = report_checks.browser_check(demo_report)
    assert found["problems"] == []
    assert found["plots"] == report_checks.shown_charts(demo_report.read_text())


def test_report_of_a_million_customers_stays_small_and_fast(
    demo_build: DbtRun, tmp_path: Path
) -> None:
    """The demo publication blown up to 1M customers (each per-customer table replicated with
    new ids; the aggregates stay as published): one file under 10 MB, written in seconds."""
    import time

    import duckdb

    published = tmp_path / "published" / "segments.duckdb"
    published.parent.mkdir()
    shutil.copy(published_path_for(demo_build.db_path), published)
    with duckdb.connect(str(published)) as con:
        for table in ("customer_segments", "customer_features", "customer_rfm", "customer_clv"):
            con.execute(
                f"create table big as select * replace (customer_id || '_' || i as customer_id) "
                f"from {table}, range(500) r(i)"
            )
            con.execute(f"drop table {table}")
            con.execute(f"alter table big rename to {table}")
    started = time.perf_counter()
    result = report.write_report(published, tmp_path / "big.html")
    seconds = time.perf_counter() - started
    print(f"\nreport of 1,000,000 customers: {result.size_bytes / 1e6:.1f} MB in {seconds:.1f} s")
    text = result.path.read_text()
    assert report_checks.embedded_data(text)["customers"] == 1_000_000
    assert result.size_bytes < 10_000_000
    sample = f"a seeded sample of {report.DEFAULT_SAMPLE_SIZE:,} of 1,000,000 customers"
    assert text.count(sample) == 2


def test_report_shows_the_segment_sentence_when_profiles_have_one(
    demo_build: DbtRun, tmp_path: Path
) -> None:
    """segment_profiles.description (one plain sentence per segment) goes into the summary."""
    import duckdb

    demo = report_checks.embedded_data(report.build_report(published_path_for(demo_build.db_path)))
    sentences = demo_build.query(
        "select distinct segment_id, description from segment_profiles where method = 'kmeans'"
    )
    assert demo["segment_sentences"] == {str(i): text for i, text in sentences}
    published = tmp_path / "published.duckdb"
    shutil.copy(published_path_for(demo_build.db_path), published)
    with duckdb.connect(str(published)) as con:
        con.execute(
            "update segment_profiles set description = 'Segment ' || segment_id || ' & friends <b>'"
        )
    text = report.build_report(published)
    data = report_checks.embedded_data(text)
    assert data["segment_sentences"] == {str(i): f"Segment {i} & friends <b>" for i in range(1, 7)}
    assert "<th>what sets it apart</th>" in text
    assert "<td>Segment 3 &amp; friends &lt;b&gt;</td>" in text  # escaped, never markup


def test_report_draws_the_band_of_a_sampled_silhouette(demo_build: DbtRun, tmp_path: Path) -> None:
    """The demo's silhouettes are exact (no band); marked as sampled, the band is drawn."""
    import duckdb

    exact = report.build_report(published_path_for(demo_build.db_path))
    assert "95% band" not in exact
    assert "computed exactly on every customer" in exact
    published = tmp_path / "published.duckdb"
    shutil.copy(published_path_for(demo_build.db_path), published)
    with duckdb.connect(str(published)) as con:
        con.execute(
            "update clustering_metrics set silhouette_method = 'sampled', "
            "silhouette_ci_low = silhouette - 0.01, silhouette_ci_high = silhouette + 0.01 "
            "where method = 'kmeans'"
        )
    sampled = report.build_report(published)
    assert "kmeans: 95% band" in sampled
    assert "hierarchical: 95% band" not in sampled
    assert "the shaded band is the 95% confidence interval" in sampled


# ---------------------------------------------------------------------------------------------
# Semantic layer (models/semantic/_semantic.yml, docs/semantic_layer.md)
# ---------------------------------------------------------------------------------------------

SEMANTIC_REQUIREMENTS = REPO_ROOT / "requirements-semantic.txt"
METRICS = {
    "customers",
    "segments",
    "total_value",
    "average_value",
    "total_predicted_clv",
    "average_predicted_clv",
    "average_probability_alive",
    "high_churn_risk_customers",
    "churn_risk_share",
}


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\[=<>!~ ]", line)[0].lower().replace("_", "-"))
    return names


def test_semantic_requirements_do_not_repin_the_project() -> None:
    """The optional extra adds packages only: none of requirements.txt is pinned again."""
    extra = _requirement_names(SEMANTIC_REQUIREMENTS)
    assert "dbt-metricflow" in extra
    assert not extra & _requirement_names(REPO_ROOT / "requirements.txt")
    assert "-c requirements.txt" in SEMANTIC_REQUIREMENTS.read_text()


def test_semantic_manifest_is_valid(demo_build: DbtRun) -> None:
    """dbt wrote the semantic manifest and MetricFlow's own validator finds no issue."""
    from dbt_semantic_interfaces.implementations.semantic_manifest import (
        PydanticSemanticManifest,
    )
    from dbt_semantic_interfaces.validations.semantic_manifest_validator import (
        SemanticManifestValidator,
    )

    raw = json.loads((demo_build.target_path / "semantic_manifest.json").read_text())
    manifest = PydanticSemanticManifest.parse_obj(raw)
    result = SemanticManifestValidator[PydanticSemanticManifest]().validate_semantic_manifest(
        manifest
    )
    assert not result.all_issues, [str(issue) for issue in result.all_issues]
    assert {metric.name for metric in manifest.metrics} == METRICS
    assert [model.name for model in manifest.semantic_models] == ["customer"]
    assert demo_build.scalar("select count(*) from semantic_customers") == 2000


@pytest.fixture(scope="session")
def metricflow_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """requirements-semantic.txt installed (no dependencies: the project's pinned ones are used)
    into a folder of its own, for PYTHONPATH; skips naming the file when pip cannot install it."""
    target = tmp_path_factory.mktemp("metricflow")
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
            "-r",
            str(SEMANTIC_REQUIREMENTS),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        pytest.skip(
            f"cannot install {SEMANTIC_REQUIREMENTS.name} from the package registry: "
            f"{install.stderr[-500:]}"
        )
    return target


def test_metricflow_answers_on_the_demo(
    demo_build: DbtRun, metricflow_path: Path, tmp_path: Path
) -> None:
    """`mf query` (dbt-metricflow) on the built demo: customers, average predicted CLV and the
    high churn-risk share per segment equal the tables."""
    demo_build = copy_run(demo_build, tmp_path / "workspace")  # mf writes into its folder
    workdir = demo_build.db_path.parent
    shutil.copyfile(REPO_ROOT / "dbt_project.yml", workdir / "dbt_project.yml")
    out = workdir / "metricflow.csv"
    env = {key: value for key, value in os.environ.items() if key not in ("DBT_PROJECT_DIR",)} | {
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "SEGMENTS_DB_PATH": str(demo_build.db_path),
        "PYTHONPATH": str(metricflow_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    query = [
        "query",
        "--metrics",
        "customers,average_predicted_clv,churn_risk_share",
        "--group-by",
        "customer__segment_name",
        "--csv",
        str(out),
    ]
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from dbt_metricflow.cli.main import cli; cli()",
            *query,
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0 and out.exists(), completed.stdout[-3000:] + completed.stderr
    with out.open(newline="") as handle:
        answered = {
            row["customer__segment_name"]: (
                int(row["customers"]),
                float(row["average_predicted_clv"]),
                float(row["churn_risk_share"]),
            )
            for row in csv.DictReader(handle)
        }
    expected = demo_build.query(
        "select kmeans_segment_name, count(*), avg(predicted_clv), "
        "avg(case when churn_risk_band = 'high' then 1.0 else 0.0 end) "
        "from customer_segments group by 1"
    )
    assert set(answered) == {name for name, *_ in expected}
    for name, customers, clv, churn in expected:
        assert answered[name][0] == customers, name
        assert answered[name][1] == pytest.approx(clv, rel=1e-9), name
        assert answered[name][2] == pytest.approx(churn, rel=1e-9), name


PRIMARY_KEY_TESTS = {"unique", "unique_combination_of_columns"}


def test_every_model_has_a_primary_key_test_and_every_column_a_description(
    demo_build: DbtRun,
) -> None:
    """dbt conventions (issue 16): a key test on every model, a description on every column.

    A column whose name is generated from the data (category_share_<level>) is described when
    its model's description names the pattern.
    """
    manifest = json.loads((demo_build.target_path / "manifest.json").read_text())
    nodes = manifest["nodes"].values()
    models = {n["unique_id"]: n for n in nodes if n["resource_type"] == "model"}
    keyed = {
        parent
        for n in nodes
        if n["resource_type"] == "test"
        and (n.get("test_metadata") or {}).get("name") in PRIMARY_KEY_TESTS
        for parent in n["depends_on"]["nodes"]
    }
    # A model without a key says why (raw rows may repeat exactly; a huge table unique by
    # construction) in config.meta.no_primary_key.
    unkeyed = [
        m["name"]
        for uid, m in models.items()
        if uid not in keyed and not m["config"].get("meta", {}).get("no_primary_key")
    ]
    assert sorted(unkeyed) == []

    undescribed = []
    for model in models.values():
        described = {name for name, col in model["columns"].items() if col.get("description")}
        query = (
            "select column_name from information_schema.columns "
            f"where table_name = '{model['alias']}' order by ordinal_position"
        )
        for (column,) in demo_build.query(query):
            prefix = re.sub(r"_[a-z0-9]+$", "", column)
            if column in described or f"{prefix}_<level>" in model["description"]:
                continue
            undescribed.append(f"{model['name']}.{column}")
    assert undescribed == []


# Issue 16: the DAG only as long as the steps a reader can name. Levels from a source or seed
# (level 0) to the model, the longest path over model, seed and source parents.
MAX_DEPTH = {"customer_features": 7, "segment_publication": 17}


def test_the_dag_from_a_raw_input_stays_short(demo_build: DbtRun) -> None:
    """raw -> base -> checked -> resolved -> gate (stg_input_checks) -> stg_ -> int_ -> features."""
    manifest = json.loads((demo_build.target_path / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest["sources"]}
    kinds = {"model", "seed", "source"}
    longest: dict[str, list[str]] = {}

    def path_to(uid: str) -> list[str]:
        if uid not in longest:
            parents = [
                p
                for p in nodes[uid].get("depends_on", {}).get("nodes", [])
                if p in nodes and nodes[p]["resource_type"] in kinds
            ]
            longest[uid] = [*max((path_to(p) for p in parents), key=len, default=[]), uid]
        return longest[uid]

    by_name = {n["name"]: uid for uid, n in nodes.items() if n["resource_type"] == "model"}
    for name, limit in MAX_DEPTH.items():
        path = [nodes[uid]["name"] for uid in path_to(by_name[name])]
        assert len(path) - 1 <= limit, f"{name}: {len(path) - 1} levels > {limit}: " + " -> ".join(
            path
        )
