"""The one configuration schema (src/segmentation/config_schema.yml) and its Python validator.

The Jinja validator (macros/config.sql) is exercised through dbt in test_config_errors.py, which
also checks that both validators write the same message for the same wrong value.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from segmentation import config_schema
from segmentation.clv.settings import ClvSettings
from segmentation.config_schema import ConfigError, validate_var
from segmentation.lifecycle import LifecycleSettings
from segmentation.settings import ClusteringSettings, FeatureSpec, SegmentationSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_VARS = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
FEATURES = [{"name": "income"}]


def test_the_generated_macro_is_the_schema() -> None:
    text = (REPO_ROOT / "macros" / "_config_schema.sql").read_text(encoding="utf-8")
    assert text == config_schema.jinja_macro(), (
        "macros/_config_schema.sql is out of date: run `python -m segmentation.config_schema`"
    )


def test_the_docs_table_is_the_schema() -> None:
    page = (REPO_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert page == config_schema.with_docs_table(page), (
        "docs/configuration.md is out of date: run `python -m segmentation.config_schema`"
    )
    # One row per key at every level, e.g. a nested rule and a feature key.
    for key in (
        "segments_inputs.orders.rules.cancelled_when.prefix",
        "segmentation.features[].weight",
        "segmentation.clv.holdout_end",
        "segments_inputs.customers.attributes.<name>.expression",
    ):
        assert f"| `{key}` |" in page, key


@pytest.mark.parametrize(
    "path", sorted(str(path.name) for path in (REPO_ROOT / "examples").glob("*.yml"))
)
def test_the_project_and_example_configurations_match_the_schema(path: str) -> None:
    variables = {**PROJECT_VARS, **yaml.safe_load((REPO_ROOT / "examples" / path).read_text())}
    for name, value in variables.items():
        validate_var(name, value)


def _segmentation(**keys: Any) -> dict[str, Any]:
    return {"features": FEATURES, **keys}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        # The two keys that were accepted and never read are unknown keys now.
        (
            _segmentation(profile_columns=["income"]),
            "segmentation.profile_columns: unknown key 'profile_columns'; expected some of: "
            "features, clustering, lifecycle, clv",
        ),
        (
            _segmentation(reference_date="2024-01-01"),
            "segmentation.reference_date: unknown key 'reference_date'",
        ),
        (
            {"features": [{"name": "income", "wieght": 2}]},
            "segmentation.features[0].wieght: unknown key 'wieght'",
        ),
        (
            _segmentation(clustering={"k_range": [2, 5]}),
            "segmentation.clustering.k_range: unknown key 'k_range'; expected some of: methods, "
            "k, k_min",
        ),
        (
            _segmentation(lifecycle={"modes": "auto"}),
            "segmentation.lifecycle.modes: unknown key 'modes'",
        ),
        (_segmentation(clv={"horizon": 10}), "segmentation.clv.horizon: unknown key 'horizon'"),
        (
            _segmentation(clv={"time_unit": "months"}),
            "segmentation.clv.time_unit: unknown value 'months'; expected one of: days, weeks",
        ),
        (
            _segmentation(clustering={"min_segment_share": 1}),
            "segmentation.clustering.min_segment_share: expected a number in [0, 1), got 1",
        ),
        (
            _segmentation(clustering={"methods": []}),
            "segmentation.clustering.methods: expected a list of at least 1 item(s), got []",
        ),
        (
            {"features": "income"},
            "segmentation.features: expected a list, got 'income'",
        ),
        ({}, "segmentation: missing required key 'features'"),
    ],
)
def test_segmentation_errors_name_the_full_key_path(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        SegmentationSettings.from_config(config)
    assert str(error.value).startswith(message), str(error.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "segments_inputs",
            {"orders": {"path": "x.csv", "colums": {}}},
            "segments_inputs.orders.colums: unknown key 'colums'",
        ),
        (
            "segments_inputs",
            {"orders": {"path": "x.csv", "rules": {"number_format": {"decimals": ","}}}},
            "segments_inputs.orders.rules.number_format.decimals: unknown key 'decimals'",
        ),
        (
            "segments_inputs",
            {"customers": {"path": "x.csv", "rules": {"status_values": {"x": "completed"}}}},
            "segments_inputs.customers.rules.status_values: unknown key 'status_values'",
        ),
        (
            "segments_inputs",
            {"orders": {"path": "x.csv", "columns": {"ordered": "When"}}},
            "segments_inputs.orders.columns.ordered: unknown key 'ordered'",
        ),
        (
            "segments_inputs",
            {"orders": {"path": "x.csv", "customer_attributes": {"c": {"column": "C"}}}},
            "segments_inputs.orders.customer_attributes.c: missing required key 'type'",
        ),
        (
            "segments_plausible_age",
            [16],
            "segments_plausible_age: expected a list of 2 item(s), got [16]",
        ),
        (
            "segments_gross_margin",
            0,
            "segments_gross_margin: expected a number in (0, 1], got 0",
        ),
        (
            "segments_eda_features",
            {"numeric": ["a"], "ordinal": ["b"]},
            "segments_eda_features.ordinal: unknown key 'ordinal'",
        ),
        ("segments_timezone", 1, "segments_timezone: expected a string, got 1"),
        (
            "segments_lifecycle_mode",
            "always",
            "segments_lifecycle_mode: unknown value 'always'; expected one of: auto, refit, score",
        ),
    ],
)
def test_every_var_is_validated_with_the_full_key_path(name: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        validate_var(name, value)
    assert str(error.value).startswith(message), str(error.value)


def test_the_validator_fills_the_schema_defaults() -> None:
    filled = validate_var("segmentation", {"features": ["income"], "clustering": {"k": 3}})
    assert filled["features"] == [
        {"name": "income", **config_schema.defaults("segmentation.features[]")}
    ]
    assert filled["clustering"]["k"] == 3
    assert filled["clustering"]["k_max"] == 10
    assert "lifecycle" not in filled  # a section without a default stays absent


def _dataclass_defaults(cls: type) -> dict[str, Any]:
    return {
        field.name: field.default
        for field in dataclasses.fields(cls)
        if field.default is not dataclasses.MISSING
    }


@pytest.mark.parametrize(
    ("cls", "path"),
    [
        (ClusteringSettings, "segmentation.clustering"),
        (LifecycleSettings, "segmentation.lifecycle"),
        (ClvSettings, "segmentation.clv"),
    ],
)
def test_the_settings_defaults_are_the_schema_defaults(cls: type, path: str) -> None:
    """The dataclasses keep defaults for programmatic use; they must be the schema's."""
    schema_defaults = config_schema.defaults(path)
    for name, default in _dataclass_defaults(cls).items():
        expected = schema_defaults[name]
        assert (list(default) if isinstance(default, tuple) else default) == expected, name


def test_the_feature_defaults_are_the_schema_defaults() -> None:
    items = config_schema.defaults("segmentation.features[]")
    for name, default in _dataclass_defaults(FeatureSpec).items():
        if name == "impute":  # depends on kind (default_doc)
            assert "impute" not in items
            continue
        assert (list(default) if isinstance(default, tuple) else default) == items[name], name
