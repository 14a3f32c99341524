"""Leaves of the hierarchical tree: each customer (exact) or its micro-cluster (two-stage)."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_hierarchical_leaves with segmentation.pipeline.hierarchical_leaves."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    matrix = dbt.ref("ml_feature_matrix")
    return pipeline.hierarchical_leaves(matrix.order("customer_id").to_arrow_table(), config)
