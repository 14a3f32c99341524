"""The segment lifecycle end to end, in ONE database: fit, score three months later, forced refit.

Build 1 takes the demo data up to a cut-off (var segments_reference_date 2025-10-01: later order
lines are rejected as future_ordered_at, every customer stays); build 2 the same customers with
all their orders (reference date 2026-01-01, three months later) in mode auto; build 3 forces a
refit on build 2's data (var segments_lifecycle_mode). Builds 2-3 skip the EDA tables, build 3
rebuilds only the lifecycle and what depends on it. About 2.5 minutes on 2 cores.
"""

from __future__ import annotations

import shutil
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import report_checks
from dbt_harness import DbtRun, project_vars, run_dbt

from segmentation import lifecycle, naming, preprocessing_tables, publish, report
from segmentation.settings import SegmentationSettings

CUT_OFF = "2025-10-01"
LATER = "2026-01-01"
HERMETIC = {publish.PUBLISH_DIR_ENV: ""}
DISTANCE_TOLERANCE = 1e-9
"""SQL sums the squared differences in another order than numpy: equal up to rounding."""


def _ok(run: DbtRun) -> DbtRun:
    assert run.returncode == 0, run.output[-6000:]
    return run


def _table(run: DbtRun, sql: str) -> pa.Table:
    with duckdb.connect(str(run.db_path), read_only=True) as con:
        return con.sql(sql).to_arrow_table()


SCORES = "select customer_id, segment_id, distance_to_centroid from segment_scores"
ACTIVE_MODEL = (
    "select * from segmentation_models "
    "where model_id = (select model_id from ml_segmentation_lifecycle)"
)


def _state(run: DbtRun) -> dict[str, Any]:
    """What the tests read from a build, taken before the next build changes the database."""
    published = publish.default_publish_dir(run.db_path) / publish.PUBLISHED_FILE  # HERMETIC
    with duckdb.connect(str(published), read_only=True) as con:
        published_drift = con.sql("select action from segment_drift order by run_started_at")
        published_psi = con.sql(
            "select feature, psi from segment_feature_drift where invocation_id = "
            "(select max_by(invocation_id, run_started_at) from segment_drift)"
        )
        state = {
            "published_drift": [row[0] for row in published_drift.fetchall()],
            "published_psi": dict(published_psi.fetchall()),
            "published_moves": con.sql(
                "select sum(customers) from segment_transitions "
                "where from_invocation_id is not null"
            ).fetchall()[0][0],
        }
    return {
        **state,
        "segments": dict(run.query("select customer_id, kmeans_segment_id from customer_segments")),
        "names": dict(run.query("select distinct segment_id, segment_name from segment_scores")),
        "transitions": run.query(
            "select from_segment_id, to_segment_id, customers from segment_transitions "
            "where to_invocation_id = (select invocation_id from ml_segmentation_lifecycle)"
        ),
        "changed": run.query("select changed_segment_share from ml_segmentation_lifecycle")[0][0],
        "features": _table(run, "select * from customer_features order by customer_id"),
        "model": _table(run, ACTIVE_MODEL).to_pylist()[0],
        "scores": run.query(SCORES),
        "profiles": run.query(
            "select distinct segment_id, segment_name, description, share from segment_profiles "
            "where method = 'kmeans'"
        ),
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("lifecycle")
    # No unit tests (fixed inputs: the session's demo_build and `make test` run them).
    no_unit = ["--exclude", "test_type:unit"]
    first = _ok(
        run_dbt(["build", *no_unit], path, vars={"segments_reference_date": CUT_OFF}, env=HERMETIC)
    )
    # The EDA tables are published as the first build left them (as in test_reliability).
    build = ["build", "--exclude", "models/eda", "test_type:unit"]
    states = {"first": _state(first)}
    second = _ok(run_dbt(build, path, vars={"segments_reference_date": LATER}, env=HERMETIC))
    states["second"] = _state(second)
    # The report of the second publication (a copy: the refit build publishes over it).
    published = path / "second_published.duckdb"
    shutil.copyfile(publish.default_publish_dir(second.db_path) / publish.PUBLISHED_FILE, published)
    states["second"]["report"] = (report.build_report(published), published)
    refit = _ok(
        run_dbt(
            ["build", "-s", "ml_segmentation_lifecycle+", *no_unit],
            path,
            vars={"segments_reference_date": LATER, "segments_lifecycle_mode": "refit"},
            env=HERMETIC,
        )
    )
    states["refit"] = _state(refit)
    return {"run": refit, **states}


def test_first_build_fits_and_the_second_scores_with_that_model(runs: dict) -> None:
    run = runs["run"]
    drift = run.query(
        "select action, action_reason, model_id, drift_model_id, refit_recommended "
        "from segment_drift order by run_started_at"
    )
    assert [row[0] for row in drift] == ["fit", "score", "fit"], drift
    assert drift[0][1] == "no active model"
    assert drift[1][2] == 1 and drift[1][3] == 1 and drift[1][4] is False, drift[1]
    assert drift[2][1] == "mode refit" and drift[2][2] == 2
    models = run.query("select model_id, is_active, previous_model_id from segmentation_models")
    assert sorted(models) == [(1, False, None), (2, True, 1)]
    window = run.query(
        "select data_last_order_date, data_reference_date from segmentation_models order by 1"
    )
    assert str(window[0][1]) == CUT_OFF and str(window[0][0]) <= CUT_OFF
    assert str(window[1][1]) == LATER


def test_unchanged_customers_keep_id_and_name_and_transitions_count_them(runs: dict) -> None:
    first, second = runs["first"]["segments"], runs["second"]["segments"]
    assert first.keys() == second.keys()
    kept = [c for c in first if first[c] == second[c]]
    # Scoring with the same model: most customers stay, the ones whose recency and tenure moved
    # them across a boundary change (measured 7 %).
    assert len(kept) / len(first) > 0.8
    assert runs["second"]["names"] == runs["first"]["names"]
    moved = {(a, b): n for a, b, n in runs["second"]["transitions"]}
    assert sum(moved.values()) == len(first)
    for a in set(first.values()):
        expected = sum(1 for c in first if first[c] == a and second[c] == a)
        assert moved.get((a, a), 0) == expected
    assert runs["second"]["changed"] == pytest.approx(1 - len(kept) / len(first), abs=1e-12)


def test_drift_and_transitions_are_published(runs: dict) -> None:
    state = runs["second"]
    assert state["published_drift"] == ["fit", "score"]
    # Three months later the same customers are older customers: tenure and recency drift.
    psi = state["published_psi"]
    assert psi["tenure_days"] > 0.25 and psi["recency_days"] > 0.25
    assert psi["gender"] == pytest.approx(0.0, abs=1e-12)
    assert state["published_moves"] == 2000
    assert runs["refit"]["published_drift"] == ["fit", "score", "fit"]


def test_report_draws_the_transitions_between_the_last_two_builds(runs: dict) -> None:
    text, published = runs["second"]["report"]
    # check_report: the embedded flows equal segment_transitions into the latest run, the
    # embedded drift the latest segment_drift row.
    data = report_checks.check_report(text, published)
    assert data["charts"]["segment-transitions"] == "shown"
    moved = {(a, b): n for a, b, n in runs["second"]["transitions"]}
    assert {(a, b): n for a, b, n in data["segment_transitions"]} == moved
    block = text.split('id="chart-segment-transitions"', 1)[1].split('class="chart-block"', 1)[0]
    assert '<div id="figure-segment-transitions"' in block
    changed = runs["second"]["changed"]
    assert (
        f"Latest build (this build: score): {changed:.1%} of the customers of the previous run "
        "changed segment; no refit recommended." in block
    )


def test_forced_refit_keeps_the_ids_and_names_of_matched_segments(runs: dict) -> None:
    run = runs["run"]
    lineage = run.query(
        "select previous_segment_id, previous_segment_name, segment_id, segment_name, "
        "centroid_distance, status from segment_lineage where model_id = 2"
    )
    matched = [row for row in lineage if row[5] == "matched"]
    assert matched, lineage
    for old_id, old_name, new_id, new_name, distance, _ in matched:
        assert (new_id, new_name) == (old_id, old_name)
        assert distance <= lifecycle.LifecycleSettings().match_max_distance
    first_ids = set(runs["first"]["names"])
    new_ids = [row[2] for row in lineage if row[5] == "new"]
    assert all(i > max(first_ids) for i in new_ids)  # new ids continue after model 1's
    vanished = {row[0] for row in lineage if row[5] == "vanished"}
    assert {row[0] for row in matched} | vanished == first_ids
    current = {r[0] for r in run.query("select distinct kmeans_segment_id from customer_segments")}
    assert {row[2] for row in lineage if row[2] is not None} == current


@pytest.mark.parametrize("which", ["first", "second", "refit"])
def test_sql_assignment_equals_python(runs: dict, which: str) -> None:
    state = runs[which]
    features = state["features"]
    segments, distances = lifecycle.score(features, state["model"])
    sql = {c: (s, d) for c, s, d in state["scores"]}
    ids = features.column("customer_id").to_pylist()
    assert len(sql) == len(ids) == 2000
    assert [sql[c][0] for c in ids] == segments.tolist()
    gap = np.abs(np.asarray([sql[c][1] for c in ids]) - distances)
    assert gap.max() <= DISTANCE_TOLERANCE


@pytest.mark.parametrize("which", ["first", "second", "refit"])
def test_kmeans_descriptions_describe_their_segments_customers(runs: dict, which: str) -> None:
    """segment_profiles' K-Means description of a segment is the sentence of ITS customers under
    the model the build uses (stable ids), not of this build's candidate fit's segment with the
    same number: the second build scores with model 1, the refit gives new segments ids after
    model 1's (docs/segment_names.md: computed on the segment's customers)."""
    state = runs[which]
    features, model = state["features"], state["model"]
    X = preprocessing_tables.apply_spec_table(features, lifecycle.spec_table(model))
    segments, _ = lifecycle.score(features, model)
    ids = sorted({int(c["segment_id"]) for c in model["centroids"]})
    labels = np.searchsorted(ids, segments) + 1
    described = naming.describe_segments(
        X,
        labels,
        preprocessing_tables.spec_from_table(lifecycle.spec_table(model)),
        SegmentationSettings.from_config(project_vars()["segmentation"]),
        n_segments=len(ids),
    )
    expected = {i: d.description for i, d in zip(ids, described, strict=True)}
    profiles = {row[0]: row for row in state["profiles"]}
    assert set(profiles) == set(segments.tolist())
    assert {i: row[2] for i, row in profiles.items()} == {i: expected[i] for i in profiles}
    for segment_id, name, description, share in profiles.values():
        # The sentence opens with the segment's share of this build's customers.
        assert description.startswith(f"{share:.0%} of customers"), (segment_id, name)


def test_sql_scoring_of_ordinal_categorical_missing_and_boolean_features(tmp_path) -> None:
    """The encodings the demo configuration does not use: an ordinal feature, missing
    indicators, a categorical with rare levels grouped into __other__ and a constant imputation
    containing a quote, a boolean feature. SQL and Python agree on every customer."""
    variables = project_vars()
    segmentation = variables["segmentation"]
    segmentation["features"] = [
        {"name": "recency_days", "transform": "log1p", "missing_indicator": True},
        {"name": "monetary_value", "transform": "log1p"},
        {
            "name": "gender",
            "kind": "ordinal",
            "levels": ["Female", "other", "MALE"],  # values match ignoring case
            "missing_indicator": True,
        },
        {"name": "country", "kind": "categorical", "min_level_share": 0.05},
        {
            "name": "acquisition_channel",
            "kind": "categorical",
            "impute": "constant",
            "impute_value": "o'brien",
        },
        {"name": "has_orders"},
    ]
    segmentation["clustering"]["methods"] = ["kmeans"]
    run = _ok(
        run_dbt(
            ["build", "-s", "+segment_scores", "--exclude", "test_type:data", "test_type:unit"],
            tmp_path,
            vars={"segmentation": segmentation},
        )
    )
    features = _table(run, "select * from customer_features order by customer_id")
    model = _table(run, "select * from ml_segmentation_lifecycle").to_pylist()[0]
    kinds = {row["kind"] for row in model["spec"]}
    assert kinds == {"numeric", "ordinal", "categorical"}
    assert any(row["is_missing_indicator"] for row in model["spec"])
    segments, distances = lifecycle.score(features, model)
    sql = {c: (s, d) for c, s, d in run.query(SCORES)}
    ids = features.column("customer_id").to_pylist()
    assert [sql[c][0] for c in ids] == segments.tolist()
    gap = np.abs(np.asarray([sql[c][1] for c in ids]) - distances)
    assert gap.max() <= DISTANCE_TOLERANCE
