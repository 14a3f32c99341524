"""Apply the fitted preprocessing spec: one row per customer, one float column per output."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_feature_matrix with segmentation.pipeline.feature_matrix."""
    dbt.config(materialized="table")
    features = dbt.ref("customer_features")
    spec = dbt.ref("ml_preprocessing_spec")
    spec_table = spec.to_arrow_table()
    features = pipeline.feature_columns(features, pipeline.spec_features(spec_table))
    return pipeline.feature_matrix(features.order("customer_id").to_arrow_table(), spec_table)
