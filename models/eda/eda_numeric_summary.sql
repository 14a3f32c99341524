{#-
    One row per numeric feature of customer_features (eda_feature_values): counts, moments and
    quantiles. Counts, moments, min and max use every customer. The quantiles need every value
    at once: they are exact up to var('segments_eda_rank_sample_rows') customers and computed on
    the fixed hash sample of eda_feature_values above it (quantile_method, quantile_rows).
    The moments are computed on the values divided by a power of two near the feature's largest
    magnitude and scaled back (exact for ordinary values), so values around 1e160 (whose squares
    overflow a double) give their exact standard deviation and skewness instead of inf or
    DuckDB's "SKEW is out of range!". A moment that is still not a finite double is null, and
    `note` names the feature and says why.
-#}
{%- set sample_rows = segments_eda_sample_rows() -%}
{#- No limit (null): every customer, as if the limit were the largest bigint. -#}
{%- set sample_limit = 9223372036854775807 if sample_rows is none else sample_rows -%}

with

feature_values as (

    select * from {{ ref('eda_feature_values') }}
    where feature_kind = 'numeric'

),

customers as (

    -- Whether every customer is in the sample (at most segments_eda_rank_sample_rows of them).
    select
        coalesce(count(*) // count(distinct feature), 0) <= {{ sample_limit }} as is_exact

    from feature_values

),

magnitudes as (

    -- A power of two near the largest |value| of each feature (macro segments_eda_unit).
    select
        feature,
        max(abs(value)) as max_abs,
        {{ segments_eda_unit('max(abs(value))') }} as magnitude

    from feature_values
    group by feature

),

summary as (

    select
        feature_values.feature,
        any_value(magnitudes.max_abs) as max_abs,
        any_value(magnitudes.magnitude) as magnitude,
        count(*) as row_count,
        count(feature_values.value) as non_missing_count,
        -- An exact distinct count keeps every distinct value in memory (it ran out of memory
        -- at 10M customers): above the sample size, HyperLogLog (deterministic: a maximum of
        -- hashes, whatever the row order). The filter keeps the exact count's table empty then.
        count(distinct feature_values.value) filter (
            where customers.is_exact
        ) as exact_distinct_count,
        approx_count_distinct(feature_values.value) as approximate_distinct_count,
        any_value(customers.is_exact) as is_exact,
        avg(feature_values.value / magnitudes.magnitude)
        * any_value(magnitudes.magnitude) as mean,
        stddev_samp(feature_values.value / magnitudes.magnitude)
        * any_value(magnitudes.magnitude) as stddev,
        min(feature_values.value) as min_value,
        max(feature_values.value) as max_value,
        skewness(feature_values.value / magnitudes.magnitude) as skewness

    from feature_values
    cross join customers
    inner join magnitudes
        on feature_values.feature = magnitudes.feature
    group by feature_values.feature

),

quantiles as (

    select
        feature,
        count(value) as quantile_rows,
        quantile_cont(value, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) as quantiles

    from feature_values
    where in_sample
    group by feature

),

final as (

    select
        summary.feature,
        summary.row_count as count,
        summary.row_count - summary.non_missing_count as missing_count,
        (summary.row_count - summary.non_missing_count) / summary.row_count as missing_share,
        summary.non_missing_count,
        case
            when summary.is_exact then summary.exact_distinct_count
            else summary.approximate_distinct_count
        end as distinct_count,
        case when isfinite(summary.mean) then summary.mean end as mean,
        case when isfinite(summary.stddev) then summary.stddev end as stddev,
        summary.min_value as min,
        quantiles.quantiles[1] as p01,
        quantiles.quantiles[2] as p05,
        quantiles.quantiles[3] as p25,
        quantiles.quantiles[4] as p50,
        quantiles.quantiles[5] as p75,
        quantiles.quantiles[6] as p95,
        quantiles.quantiles[7] as p99,
        summary.max_value as max,
        case when isfinite(summary.skewness) then summary.skewness end as skewness,
        case
            when
                not isfinite(summary.max_abs)
                or not isfinite(summary.mean)
                or not isfinite(summary.stddev)
                then summary.feature || ': values up to ' || cast(summary.max_abs as varchar)
                    || ' in magnitude; the mean, stddev or skewness that is not a finite double'
                    || ' is null'
        end as note,
        case when summary.is_exact then 'exact' else 'sample' end as quantile_method,
        coalesce(quantiles.quantile_rows, 0) as quantile_rows,
        case when summary.is_exact then 'exact' else 'hyperloglog' end as distinct_method

    from summary
    left join quantiles
        on summary.feature = quantiles.feature

)

select * from final
