{#-
    Each numeric feature by each categorical feature's levels (the top-N grouping of
    eda_categorical_levels, with '__other__' and '__missing__'), from eda_feature_values: count
    of customers with a value, mean and median per level, and per (numeric, categorical) pair
    the correlation ratio
        eta = sqrt(between-group sum of squares / total sum of squares)
    over the customers with a value, repeated on each level's row (null, with a note, when the
    numeric feature is constant). Count, mean and eta use every customer; the median needs every
    value of a level at once, so it is exact up to var('segments_eda_rank_sample_rows')
    customers and taken over the fixed hash sample of eda_feature_values above it
    (median_method, median_rows).
    The statistics are computed on each numeric feature divided by its unit (a power of two near
    its largest |value|, macro segments_eda_unit) and the mean and median scaled back: exact for
    ordinary values, and sums of squares of values around 1e160 cannot overflow.
-#}

with

feature_values as (

    select * from {{ ref('eda_feature_values') }}

),

levels as (

    select * from {{ ref('eda_categorical_levels') }}

),

units as (

    select
        feature,
        {{ segments_eda_unit('max(abs(value))') }} as unit

    from feature_values
    where feature_kind = 'numeric'
    group by feature

),

numeric_values as (

    select
        feature_values.customer_key,
        feature_values.feature,
        feature_values.value / units.unit as value,
        units.unit,
        feature_values.in_sample

    from feature_values
    inner join units
        on feature_values.feature = units.feature
    where feature_values.feature_kind = 'numeric' and feature_values.value is not null

),

grouped_levels as (

    -- Each customer's level of each categorical feature after the top-N grouping.
    {{ segments_eda_grouped_levels('feature_values', 'levels') }}

),

paired as (

    select
        numeric_values.feature as numeric_feature,
        grouped_levels.feature as categorical_feature,
        grouped_levels.level,
        numeric_values.value,
        numeric_values.unit,
        numeric_values.in_sample

    from numeric_values
    inner join grouped_levels
        on numeric_values.customer_key = grouped_levels.customer_key

),

level_statistics as (

    select
        numeric_feature,
        categorical_feature,
        level,
        count(*) as level_count,
        avg(value) as level_mean,
        median(value) filter (where in_sample) as level_median,
        count(*) filter (where in_sample) as median_rows,
        bool_and(in_sample) as is_exact,
        var_pop(value) * count(*) as within_sum_of_squares,
        min(value) as level_min,
        max(value) as level_max,
        any_value(unit) as unit

    from paired
    group by numeric_feature, categorical_feature, level

),

pair_means as (

    select
        *,
        sum(level_count * level_mean) over pair
        / sum(level_count) over pair as overall_mean

    from level_statistics
    window pair as (partition by numeric_feature, categorical_feature)

),

pair_statistics as (

    select
        *,
        sum(level_count * pow(level_mean - overall_mean, 2)) over pair as between_sum_of_squares,
        sum(level_count * pow(level_mean - overall_mean, 2) + within_sum_of_squares) over pair
            as total_sum_of_squares,
        -- Exact test for a constant feature (rounding could leave a tiny sum of squares).
        max(level_max) over pair = min(level_min) over pair as is_constant

    from pair_means
    window pair as (partition by numeric_feature, categorical_feature)

),

pair_eta as (

    select
        *,
        -- least() skips nulls in DuckDB, so the clamp stays inside the case.
        case
            when not is_constant
                then least(between_sum_of_squares / total_sum_of_squares, 1.0)
        end as eta_squared

    from pair_statistics

),

final as (

    select
        pair_eta.numeric_feature,
        pair_eta.categorical_feature,
        pair_eta.level,
        levels.level_rank,
        pair_eta.level_count as count,
        pair_eta.level_mean * pair_eta.unit as mean,
        pair_eta.level_median * pair_eta.unit as median,
        sqrt(pair_eta.eta_squared) as eta,
        case
            when pair_eta.is_constant then 'numeric feature is constant'
        end as eta_note,
        case when pair_eta.is_exact then 'exact' else 'sample' end as median_method,
        pair_eta.median_rows

    from pair_eta
    left join levels
        on
            pair_eta.categorical_feature = levels.feature
            and pair_eta.level = levels.level

)

select * from final
