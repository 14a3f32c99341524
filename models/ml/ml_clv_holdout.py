"""Calibration/holdout check of the BG/NBD fit: actual vs predicted holdout purchases."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_clv_holdout with segmentation.pipeline.clv_holdout."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    summary = dbt.ref("int_customer_clv_summary")
    holdout = dbt.ref("int_customer_clv_holdout")
    parameters = dbt.ref("ml_clv_parameters")
    return pipeline.clv_holdout(
        summary.order("customer_id").to_arrow_table(),
        holdout.order("customer_id").to_arrow_table(),
        parameters.to_arrow_table(),
        config,
    )
