{#-
    One row per numeric feature of customer_features: counts, moments and quantiles.
    The moments are computed on the values divided by a power of two near the feature's largest
    magnitude and scaled back (exact for ordinary values), so values around 1e160 (whose squares overflow a double) give their exact standard
    deviation and skewness instead of inf or DuckDB's "SKEW is out of range!". A moment that is
    still not a finite double is null, and `note` names the feature and says why.
-#}
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

magnitudes as (

    -- A power of two near the largest |value| of each feature (macro segments_eda_unit).
    select
        feature,
        max(abs(value)) as max_abs,
        {{ segments_eda_unit('max(abs(value))') }} as magnitude

    from numeric_long
    group by feature

),

summary as (

    select
        numeric_long.feature,
        any_value(magnitudes.max_abs) as max_abs,
        any_value(magnitudes.magnitude) as magnitude,
        count(*) as row_count,
        count(numeric_long.value) as non_missing_count,
        count(distinct numeric_long.value) as distinct_count,
        avg(numeric_long.value / magnitudes.magnitude) * any_value(magnitudes.magnitude) as mean,
        stddev_samp(numeric_long.value / magnitudes.magnitude)
        * any_value(magnitudes.magnitude) as stddev,
        min(numeric_long.value) as min_value,
        quantile_cont(numeric_long.value, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) as quantiles,
        max(numeric_long.value) as max_value,
        skewness(numeric_long.value / magnitudes.magnitude) as skewness

    from numeric_long
    inner join magnitudes
        on numeric_long.feature = magnitudes.feature
    group by numeric_long.feature

),

final as (

    select
        feature,
        row_count as count,
        row_count - non_missing_count as missing_count,
        (row_count - non_missing_count) / row_count as missing_share,
        non_missing_count,
        distinct_count,
        case when isfinite(mean) then mean end as mean,
        case when isfinite(stddev) then stddev end as stddev,
        min_value as min,
        quantiles[1] as p01,
        quantiles[2] as p05,
        quantiles[3] as p25,
        quantiles[4] as p50,
        quantiles[5] as p75,
        quantiles[6] as p95,
        quantiles[7] as p99,
        max_value as max,
        case when isfinite(skewness) then skewness end as skewness,
        case
            when
                not isfinite(max_abs)
                or not isfinite(mean)
                or not isfinite(stddev)
                then feature || ': values up to ' || cast(max_abs as varchar)
                    || ' in magnitude; the mean, stddev or skewness that is not a finite double'
                    || ' is null'
        end as note

    from summary

)

select * from final
