{#-
    Predictive customer lifetime value, one row per customer of customer_features (a contract):
    the BG/NBD inputs from int_customer_clv_summary and the predictions of ml_customer_clv.
    Without an order input there is nothing to predict: clv_status and clv_diagnostic are 'not
    applicable: no order input' for every customer (not 'no purchases ...', which would blame the
    customers).
-#}
{%- set has_orders_input = segments_has_input('orders') %}
{%- set not_scored = 'not scored: missing from ml_customer_clv' %}

with

features as (

    select customer_id from {{ ref('customer_features') }}

),

summary as (

    select * from {{ ref('int_customer_clv_summary') }}

),

predictions as (

    select * from {{ ref('ml_customer_clv') }}

),

final as (

    select
        features.customer_id,
        cast(summary.frequency as integer) as frequency_repeat_periods,
        cast(summary.recency as double) as bg_nbd_recency,
        -- "T" keeps its capital (the name in the CLV literature and segmentation.clv).
        cast(summary."T" as double) as "T",  -- noqa: RF06
        cast(predictions.expected_purchases as double) as expected_purchases,
        cast(predictions.probability_alive as double) as probability_alive,
        cast(predictions.expected_average_value as double) as expected_average_order_value,
        cast(predictions.predicted_clv as double) as predicted_clv,
        predictions.churn_risk_band,
        {%- if has_orders_input %}
        coalesce(predictions.clv_status, 'not scored: missing from ml_customer_clv') as clv_status,
        {%- else %}
        'not applicable: no order input' as clv_status,
        {%- endif %}
        cast(summary.monetary_value as double) as average_repeat_purchase_value,
        summary.first_purchase_date,
        summary.last_purchase_date,
        summary.calibration_end_date,
        summary.time_unit,
        {%- if has_orders_input %}
        coalesce(predictions.clv_diagnostic, '{{ not_scored }}') as clv_diagnostic,
        {%- else %}
        'not applicable: no order input' as clv_diagnostic,
        {%- endif %}

    from features
    left join summary
        on features.customer_id = summary.customer_id
    left join predictions
        on features.customer_id = predictions.customer_id

)

select * from final
