"""Fit the preprocessing (imputation, encoding, transform, scaling, weights) of the features."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_preprocessing_spec with segmentation.pipeline.preprocessing_spec."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    features = dbt.ref("customer_features")
    features = pipeline.feature_columns(features, pipeline.configured_features(config))
    return pipeline.preprocessing_spec(features.order("customer_id").to_arrow_table(), config)
