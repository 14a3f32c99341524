{#-
    One row per customer for the semantic layer (_semantic.yml): the segment, RFM and churn-risk
    dimensions and the value, CLV and probability-alive measures. customer_value is
    var('segments_value_column') (default monetary_value), null when customer_features has no
    such column (customers-only inputs). reference_date is the build's reference date, the time
    dimension MetricFlow aggregates on.
-#}
{%- set columns = segments_feature_columns(ref('customer_features')) -%}
{%- set value_column = var('segments_value_column', 'monetary_value') -%}

with

features as (

    select * from {{ ref('customer_features') }}

),

segments as (

    select * from {{ ref('customer_segments') }}

),

final as (

    select
        segments.customer_id,
        features.reference_date,
        segments.kmeans_segment_id,
        segments.kmeans_segment_name,
        segments.hierarchical_segment_id,
        segments.hierarchical_segment_name,
        segments.is_outlier,
        segments.rfm_segment,
        segments.churn_risk_band,
        {%- if value_column in columns.numeric %}
        cast(features.{{ value_column }} as double) as customer_value,
        {%- else %}
        cast(null as double) as customer_value,
        {%- endif %}
        segments.predicted_clv,
        segments.probability_alive,
        cast(coalesce(segments.churn_risk_band = 'high', false) as integer) as is_high_churn_risk,
    from segments
    inner join features
        on segments.customer_id = features.customer_id

)

select * from final
