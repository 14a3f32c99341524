"""Predicted CLV per customer, scored with the fit published by ml_clv_parameters."""

from segmentation import pipeline


def model(dbt, session):
    """Build ml_customer_clv with segmentation.pipeline.customer_clv."""
    dbt.config(materialized="table")
    config = dbt.config.get("segmentation")
    summary = dbt.ref("int_customer_clv_summary")
    parameters = dbt.ref("ml_clv_parameters")
    return pipeline.customer_clv(
        summary.order("customer_id").to_arrow_table(), parameters.to_arrow_table(), config
    )
