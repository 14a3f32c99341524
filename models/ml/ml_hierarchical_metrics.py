"""Quality of the hierarchical segmentation for every k of the range (tree cut at each k)."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_hierarchical_metrics with segmentation.pipeline.hierarchical_metrics."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    matrix = dbt.ref("ml_feature_matrix")
    leaves = dbt.ref("ml_hierarchical_leaves")
    linkage = dbt.ref("ml_hierarchical_linkage")
    sweep = dbt.ref("ml_kmeans_sweep")
    return pipeline.hierarchical_metrics(
        matrix.order("customer_id").to_arrow_table(),
        leaves.order("customer_id").to_arrow_table(),
        linkage.to_arrow_table(),
        sweep.to_arrow_table(),
        config,
    )
