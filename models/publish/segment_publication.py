"""Publish every BI-facing mart of this build, all with one run id, into published/<db>/.

The last node of `dbt build`: it runs only after the tests of every table it refs passed, so a
failed test or a killed build publishes nothing (segmentation.publish explains the file swap).
"""

from segmentation import pipeline, publish


def model(dbt, session):
    """Publish the marts (segmentation.publish.publish) or, when the command may not, nothing."""
    dbt.config(materialized="table")
    segmentation = dbt.config.get("segmentation")
    segments_inputs = dbt.config.get("segments_inputs")
    publish_dir = dbt.config.get("publish_dir")
    tables = {
        "customer_segments": dbt.ref("customer_segments"),
        "segment_profiles": dbt.ref("segment_profiles"),
        "clustering_metrics": dbt.ref("clustering_metrics"),
        "kmeans_centroids": dbt.ref("kmeans_centroids"),
        "hierarchical_linkage": dbt.ref("hierarchical_linkage"),
        "preprocessing_spec": dbt.ref("preprocessing_spec"),
        "segment_agreement": dbt.ref("segment_agreement"),
        "customer_clv": dbt.ref("customer_clv"),
        "clv_parameters": dbt.ref("clv_parameters"),
        "clv_holdout": dbt.ref("clv_holdout"),
        "customer_rfm": dbt.ref("customer_rfm"),
        "rfm_segment_crosstab": dbt.ref("rfm_segment_crosstab"),
        "rejects": dbt.ref("rejects"),
        "customer_features": dbt.ref("customer_features"),
        "eda_histograms": dbt.ref("eda_histograms"),
        "eda_missing_values": dbt.ref("eda_missing_values"),
        "eda_correlations": dbt.ref("eda_correlations"),
        "eda_cramers_v": dbt.ref("eda_cramers_v"),
        "stg_parse_report": dbt.ref("stg_parse_report"),
        "stg_input_checks": dbt.ref("stg_input_checks"),
        "segmentation_models": dbt.ref("segmentation_models"),
        "segment_lineage": dbt.ref("segment_lineage"),
        "segment_transitions": dbt.ref("segment_transitions"),
        "segment_drift": dbt.ref("segment_drift"),
        "segment_feature_drift": dbt.ref("segment_feature_drift"),
    }
    inputs = {
        "base_customers": dbt.ref("base_customers"),
        "base_orders": dbt.ref("base_orders"),
        "stg_customers": dbt.ref("stg_customers"),
        "stg_order_lines": dbt.ref("stg_order_lines"),
    }
    run = pipeline.dbt_run(session)
    blocker = publish.publication_blocker(run)
    if blocker is not None:
        print(f"segment_publication: nothing published: {blocker}")
        return publish.empty_runs()
    return publish.publish(
        session,
        tables,
        inputs=inputs,
        config={"segmentation": segmentation, "segments_inputs": segments_inputs},
        publish_dir=publish.resolve_publish_dir(session, publish_dir),
        invocation_id=run.get("invocation_id"),
    )
