"""The hierarchical merge tree over the leaves (scipy's linkage convention)."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_hierarchical_linkage with segmentation.pipeline.hierarchical_linkage."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    matrix = dbt.ref("ml_feature_matrix")
    leaves = dbt.ref("ml_hierarchical_leaves")
    return pipeline.hierarchical_linkage(
        matrix.order("customer_id").to_arrow_table(),
        leaves.order("customer_id").to_arrow_table(),
        config,
    )
