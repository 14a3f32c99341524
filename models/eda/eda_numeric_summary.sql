{#- One row per numeric feature of customer_features: counts, moments and quantiles. -#}
{%- set features_relation = ref('customer_features') -%}
{%- set columns = segments_eda_columns(features_relation) -%}

with

features as (

    select * from {{ features_relation }}

),

numeric_wide as (

    select
        {{- segments_eda_double_columns(columns.numeric) }}

    from features

),

numeric_long as (

    select
        feature,
        value

    from numeric_wide
    unpivot include nulls (
        value for feature in (
            {{- segments_eda_in_list(columns.numeric) }}
        )
    )
    {%- if not columns.numeric %}
    where false
    {%- endif %}

),

summary as (

    select
        feature,
        count(*) as row_count,
        count(value) as non_missing_count,
        count(distinct value) as distinct_count,
        avg(value) as mean,
        stddev_samp(value) as stddev,
        min(value) as min_value,
        quantile_cont(value, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) as quantiles,
        max(value) as max_value,
        skewness(value) as skewness

    from numeric_long
    group by feature

),

final as (

    select
        feature,
        row_count as count,
        row_count - non_missing_count as missing_count,
        (row_count - non_missing_count) / row_count as missing_share,
        non_missing_count,
        distinct_count,
        mean,
        stddev,
        min_value as min,
        quantiles[1] as p01,
        quantiles[2] as p05,
        quantiles[3] as p25,
        quantiles[4] as p50,
        quantiles[5] as p75,
        quantiles[6] as p95,
        quantiles[7] as p99,
        max_value as max,
        case when isfinite(skewness) then skewness end as skewness

    from summary

)

select * from final
