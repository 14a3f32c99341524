"""Every customer's hierarchical segment: the tree cut at the configured k, ids and names."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_hierarchical_assignments with segmentation.pipeline.hierarchical_assignments."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    matrix = dbt.ref("ml_feature_matrix")
    leaves = dbt.ref("ml_hierarchical_leaves")
    linkage = dbt.ref("ml_hierarchical_linkage")
    sweep = dbt.ref("ml_kmeans_sweep")
    spec = dbt.ref("ml_preprocessing_spec")
    return pipeline.hierarchical_assignments(
        matrix.order("customer_id").to_arrow_table(),
        leaves.order("customer_id").to_arrow_table(),
        linkage.to_arrow_table(),
        sweep.to_arrow_table(),
        spec.to_arrow_table(),
        config,
    )
