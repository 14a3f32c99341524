"""segmentation.lifecycle without dbt: settings, PSI, matching, stable ids, fit or score."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from segmentation import kmeans, lifecycle, pipeline, preprocessing_tables
from segmentation.settings import ConfigError, SegmentationSettings

CONFIG: dict[str, Any] = {
    "features": [
        {"name": "spend", "transform": "log1p"},
        {"name": "visits"},
        {"name": "channel", "kind": "categorical"},
    ],
    "clustering": {"methods": ["kmeans"], "k": 3, "n_init": 3},
}


def _features(seed: int = 0, n: int = 300, shift: float = 0.0) -> pa.Table:
    """Three well separated groups of customers; ``shift`` moves every visit count."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 3
    spend = np.array([20.0, 200.0, 2000.0])[group] * rng.uniform(0.8, 1.2, n)
    visits = np.array([1.0, 5.0, 20.0])[group] + rng.normal(0, 0.5, n) + shift
    channel = np.array(["web", "store", "app"])[group]
    return pa.table(
        {
            "customer_id": [f"c{i:04d}" for i in range(n)],
            "spend": spend,
            "visits": visits,
            "channel": channel,
        }
    )


def _fit(features: pa.Table, config: dict[str, Any] = CONFIG) -> dict[str, pa.Table | float]:
    settings = SegmentationSettings.from_config(config)
    spec = preprocessing_tables.fit_spec_table(features, settings)
    X = preprocessing_tables.apply_spec_table(features, spec)
    sweep = pipeline.kmeans_sweep_table(
        preprocessing_tables.transform_table(features, spec), settings
    )
    centroids = pipeline.kmeans_centroids_table(sweep, spec, settings, X)
    C = np.asarray(pipeline.selected_row(sweep)["centroids"])
    _, distances = kmeans.assign_nearest(X, C)
    return {"spec": spec, "sweep": sweep, "centroids": centroids, "mean": float(distances.mean())}


def _decide(
    features: pa.Table,
    active: dict[str, Any] | None,
    mode: str = "auto",
    config: dict[str, Any] = CONFIG,
    previous: dict[str, int] | None = None,
    **thresholds: float,
) -> dict[str, Any]:
    fit = _fit(features, config)
    settings = lifecycle.LifecycleSettings(mode=mode, **thresholds)
    max_id = max((c["segment_id"] for c in active["centroids"]), default=0) if active else 0
    return lifecycle.decide(
        features, fit["spec"], fit["sweep"], fit["centroids"], fit["mean"], config, settings,
        active, max_id, previous, lifecycle.RunContext("run", datetime(2026, 1, 1)),
    )  # fmt: skip


def _model(row: dict[str, Any]) -> dict[str, Any]:
    """The segmentation_models row of a decision (as the SQL model stores it)."""
    model = {f.name: row[f.name] for f in lifecycle.MODEL_FIELDS if f.name != "mean_distance"}
    return {**model, "mean_distance": row["model_training_mean_distance"], "is_active": True}


def test_settings_validate_keys_and_values() -> None:
    assert lifecycle.LifecycleSettings.from_dict(None) == lifecycle.LifecycleSettings()
    with pytest.raises(
        ConfigError,
        match=r"segmentation\.lifecycle\.modes: unknown key 'modes'; expected some of: mode,",
    ):
        SegmentationSettings.from_config({**CONFIG, "lifecycle": {"modes": "auto"}})
    with pytest.raises(ConfigError, match=r"segmentation\.lifecycle\.mode: unknown value 'always'"):
        SegmentationSettings.from_config({**CONFIG, "lifecycle": {"mode": "always"}})
    with pytest.raises(ConfigError, match=r"segmentation\.lifecycle\.psi_threshold: expected a"):
        lifecycle.LifecycleSettings.from_dict({"psi_threshold": -1})
    with pytest.raises(ConfigError, match="var segments_lifecycle_mode: unknown value 'yes'"):
        lifecycle.lifecycle_settings({}, "yes")
    assert lifecycle.lifecycle_settings({"lifecycle": {"mode": "score"}}, "refit").mode == "refit"
    assert lifecycle.lifecycle_settings({"lifecycle": {"mode": "score"}}, None).mode == "score"


def test_psi_is_zero_on_the_training_data_and_large_on_a_shift() -> None:
    features = _features()
    spec = _fit(features)["spec"]
    bins = lifecycle.training_bins(features, spec, 10)
    assert {r["feature"]: r["psi"] for r in lifecycle.feature_psi(features, bins)} == {
        "spend": 0.0,
        "visits": 0.0,
        "channel": 0.0,
    }
    shifted = {r["feature"]: r["psi"] for r in lifecycle.feature_psi(_features(shift=5), bins)}
    assert shifted["visits"] > 0.25 and shifted["spend"] < 0.1
    assert lifecycle.psi(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == 0.0
    # sum((a - e) ln(a / e)) by hand
    assert lifecycle.psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(
        0.25 * np.log(2) + 0.25 * np.log(1.5)
    )


def test_unseen_level_counts_as_drift() -> None:
    features = _features()
    bins = lifecycle.training_bins(features, _fit(features)["spec"], 10)
    channel = features.column("channel").to_pylist()
    changed = features.set_column(
        3, "channel", pa.array(["kiosk" if i % 2 else c for i, c in enumerate(channel)])
    )
    psi = {r["feature"]: r["psi"] for r in lifecycle.feature_psi(changed, bins)}
    assert psi["channel"] > 1


def test_hungarian_matching_pairs_permuted_centroids_and_flags_far_ones() -> None:
    old = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    new = np.array([[0.0, 5.2], [0.1, 0.0], [9.0, 9.0]])
    pairing, distances = lifecycle.match_segments(new, old, max_distance=1.0)
    assert pairing == [2, 0, None]
    assert distances.shape == (3, 3)


def test_to_spec_space_maps_a_centroid_through_original_units() -> None:
    first = _fit(_features(seed=1))
    second = _fit(_features(seed=2, shift=1))
    rows = preprocessing_tables.spec_rows(first["spec"])
    point = np.array([[0.7] * len(rows)])
    mapped = lifecycle.to_spec_space(point, first["spec"], second["spec"])
    for row in preprocessing_tables.spec_rows(second["spec"]):
        if row["feature"] == "visits":
            original = 0.7 / rows[row["position"]]["weight"] * rows[row["position"]]["scale"]
            original += rows[row["position"]]["center"]
            expected = (original - row["center"]) / row["scale"] * row["weight"]
            assert mapped[0, row["position"]] == pytest.approx(expected, rel=1e-12)
    same = lifecycle.to_spec_space(point, first["spec"], first["spec"])
    assert same == pytest.approx(point, abs=1e-12)


def test_first_decision_fits_and_a_rerun_scores_with_the_same_model() -> None:
    features = _features()
    first = _decide(features, None)
    assert (first["action"], first["action_reason"], first["model_id"]) == (
        "fit",
        "no active model",
        1,
    )
    assert [r["status"] for r in first["lineage"]] == ["new"] * 3
    model = _model(first)
    again = _decide(features, model)
    assert again["action"] == "score" and again["model_id"] == 1
    assert again["model_is_candidate"] and not again["refit_recommended"]
    assert again["max_psi"] == pytest.approx(0.0, abs=1e-12)
    assert again["distance_ratio"] == pytest.approx(1.0, rel=1e-12)


def test_refit_keeps_matched_ids_and_names_and_new_segments_get_new_ids() -> None:
    model = _model(_decide(_features(), None))
    # Relabel the active model's segments 1, 2, 3 -> 7, 8, 9 with custom names: a refit on
    # slightly different data must give them back, not the candidate's 1..3.
    model["centroids"] = [
        {**c, "segment_id": c["segment_id"] + 6, "segment_name": f"S{c['segment_id']}"}
        for c in model["centroids"]
    ]
    refit = _decide(_features(seed=5), model, mode="refit")
    assert refit["action_reason"] == "mode refit" and refit["model_id"] == 2
    assert {(c["segment_id"], c["segment_name"]) for c in refit["centroids"]} == {
        (7, "S1"),
        (8, "S2"),
        (9, "S3"),
    }
    assert {r["status"] for r in refit["lineage"]} == {"matched"}
    # With a threshold no pair passes, every segment is new and every old one vanished.
    strict = _decide(_features(seed=5), model, mode="refit", match_max_distance=1e-6)
    statuses = sorted((r["status"], r["segment_id"]) for r in strict["lineage"])
    assert statuses == [("new", 10), ("new", 11), ("new", 12)] + [("vanished", None)] * 3


def test_auto_refits_on_config_change_and_on_drift_but_score_mode_does_not() -> None:
    features = _features()
    model = _model(_decide(features, None))
    changed = {**CONFIG, "clustering": {**CONFIG["clustering"], "n_init": 4}}
    assert _decide(features, model, config=changed)["action_reason"] == (
        "configuration changed (features or clustering)"
    )
    scored = _decide(features, model, mode="score", config=changed)
    assert scored["action"] == "score" and "configuration changed" in scored["action_reason"]
    # A tripled visit count: visits drifts (PSI) and the customers sit far from the centroids.
    drifted = _features(shift=15)
    decision = _decide(drifted, model)
    assert decision["action"] == "fit" and decision["action_reason"].startswith("drift: ")
    assert "distance_ratio_threshold" in decision["refit_reason"]
    score = _decide(drifted, model, mode="score")
    assert score["action"] == "score" and score["refit_recommended"]


def test_changed_segment_share_against_the_previous_run() -> None:
    features = _features()
    model = _model(_decide(features, None))
    segments, _ = lifecycle.score(features, model)
    ids = features.column("customer_id").to_pylist()
    previous = dict(zip(ids, segments.tolist(), strict=True))
    for customer in ids[:100]:  # a third of the customers were elsewhere last run
        previous[customer] = 99
    decision = _decide(features, model, previous=previous)
    assert decision["changed_segment_share"] == pytest.approx(100 / 300)
    assert decision["action"] == "fit" and "changed_share_threshold" in decision["refit_reason"]


def test_python_scoring_reproduces_the_fit_assignment() -> None:
    features = _features()
    fit = _fit(features)
    model = _model(_decide(features, None))
    segments, distances = lifecycle.score(features, model)
    X = preprocessing_tables.apply_spec_table(features, fit["spec"])
    labels, expected = kmeans.assign_nearest(
        X, np.asarray(pipeline.selected_row(fit["sweep"])["centroids"])
    )
    assert segments.tolist() == labels.tolist()
    assert distances == pytest.approx(expected, abs=1e-12)


def test_scoring_with_a_model_whose_feature_is_gone_is_a_clear_error() -> None:
    features = _features()
    model = _model(_decide(features, None))
    config = {**CONFIG, "features": CONFIG["features"][:2]}
    fewer = features.drop_columns(["channel"])
    with pytest.raises(ConfigError, match=r"lacks its feature\(s\) channel"):
        _decide(fewer, model, mode="score", config=config)
    refit = _decide(fewer, model, config=config)  # auto: the configuration changed
    assert refit["action"] == "fit" and refit["model_id"] == 2


def test_descriptions_follow_the_model_ids_not_the_candidate_ids() -> None:
    """describe_model describes the customers of each of the model's segments under ITS id:
    with the active model's segments renumbered 1, 2, 3 -> 9, 7, 8, segment 9 gets the sentence
    the fit gave segment 1 (same customers), whatever position 9 has among the ids."""
    features = _features()
    fit = _fit(features)
    fitted = {r["segment_id"]: r["segment_description"] for r in fit["centroids"].to_pylist()}
    assert len(set(fitted.values())) == 3  # distinct sentences: a mix-up would show
    model = _model(_decide(features, None))
    renumber = {1: 9, 2: 7, 3: 8}
    model["centroids"] = [
        {**c, "segment_id": renumber[c["segment_id"]]} for c in model["centroids"]
    ]
    described = lifecycle.describe_model(features, model, SegmentationSettings.from_config(CONFIG))
    assert [d["segment_id"] for d in described] == [7, 8, 9]
    assert {d["segment_id"]: d["description"] for d in described} == {
        renumber[s]: text for s, text in fitted.items()
    }
    # Scoring with it: the lifecycle row carries the model's descriptions, not the candidate's.
    assignments = pa.table({"distance_to_centroid": [1.0]})
    table = lifecycle.lifecycle_table(
        features, fit["spec"], fit["sweep"], fit["centroids"], assignments,
        CONFIG, "score", pa.Table.from_pylist([model]), None,
        lifecycle.RunContext("run", datetime(2026, 1, 1)),
    )  # fmt: skip
    assert table.column("segment_descriptions").to_pylist()[0] == described


@pytest.mark.parametrize(
    ("mode", "with_active", "assignments"),
    [("auto", False, 1), ("score", True, 1), ("refit", True, 2)],
)
def test_each_model_assigns_the_customers_once_per_build(
    monkeypatch: pytest.MonkeyPatch, mode: str, with_active: bool, assignments: int
) -> None:
    """A first fit and a score assign every customer once (drift and descriptions share it);
    a refit twice: drift against the active model, descriptions of the new one."""
    features = _features()
    fit = _fit(features)
    active = _model(_decide(features, None)) if with_active else None
    calls: list[Any] = []
    real = lifecycle._assign

    def counted(table: pa.Table, model: Any) -> Any:
        calls.append(model["model_id"])
        return real(table, model)

    monkeypatch.setattr(lifecycle, "_assign", counted)
    table = lifecycle.lifecycle_table(
        features, fit["spec"], fit["sweep"], fit["centroids"],
        pa.table({"distance_to_centroid": [1.0]}), CONFIG, mode,
        pa.Table.from_pylist([active]) if active else None, None,
        lifecycle.RunContext("run", datetime(2026, 1, 1)),
    )  # fmt: skip
    assert len(calls) == assignments and len(set(calls)) == assignments, calls
    row = table.to_pylist()[0]
    # The shared assignment gives what assigning anew gives.
    assert row["segment_descriptions"] == lifecycle.describe_model(
        features, row, SegmentationSettings.from_config(CONFIG)
    )
    assert row["mean_distance"] == pytest.approx(
        float(lifecycle.score(features, active or row)[1].mean()), abs=1e-12
    )


def test_mean_distance_does_not_depend_on_the_order_of_the_assignments() -> None:
    """ml_kmeans_assignments is read in no particular order: the mean distance of the
    candidate (model_training_mean_distance, stored in segmentation_models) must be the same
    to the last bit in any order."""
    features = _features()
    fit = _fit(features)
    rng = np.random.default_rng(3)
    distances = np.concatenate([rng.lognormal(0.0, 4.0, 5_000), [1e12, -1e12 + 0.1]])
    means = set()
    for order in (distances, distances[::-1], rng.permutation(distances)):
        table = lifecycle.lifecycle_table(
            features, fit["spec"], fit["sweep"], fit["centroids"],
            pa.table({"distance_to_centroid": order}), CONFIG, "auto", None, None,
            lifecycle.RunContext("run", datetime(2026, 1, 1)),
        )  # fmt: skip
        means.add(table.column("model_training_mean_distance").to_pylist()[0])
    assert means == {math.fsum(distances) / len(distances)}


def test_changed_share_from_the_membership_table_equals_the_mapping() -> None:
    """The Arrow lookup counts as the per-customer definition: customers in both runs only, a
    customer listed twice counts with its last row, no common customer gives None."""
    ids = pa.chunked_array([["a", "b", "c", "d"]])
    segments = np.array([1, 2, 3, 1])
    previous = pa.table({"customer_id": ["b", "c", "x", "a", "b"], "segment_id": [9, 3, 1, 1, 2]})
    mapping = dict(
        zip(previous["customer_id"].to_pylist(), previous["segment_id"].to_pylist(), strict=True)
    )
    both = [(mapping[c], s) for c, s in zip(ids.to_pylist(), segments, strict=True) if c in mapping]
    expected = sum(a != b for a, b in both) / len(both)  # a, b (last row: 2), c: 0 of 3
    assert lifecycle._changed_share(ids, segments, previous) == expected == 0.0
    assert lifecycle._changed_share(ids, segments, {"b": 1, "c": 3, "z": 1}) == 0.5
    assert lifecycle._changed_share(ids, segments, {"z": 1}) is None
    assert lifecycle._changed_share(ids, segments, None) is None


def test_needed_features_are_the_configured_and_the_stored_models_features() -> None:
    model = _model(_decide(_features(), None))
    model["spec"] = [*model["spec"], {**model["spec"][0], "feature": "age_years"}]
    assert lifecycle.needed_features(CONFIG, None) == ["spend", "visits", "channel"]
    assert lifecycle.needed_features(CONFIG, pa.Table.from_pylist([model])) == [
        "spend",
        "visits",
        "channel",
        "age_years",
    ]
