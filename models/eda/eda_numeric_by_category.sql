{#-
    Each numeric feature by each categorical feature's levels (the top-N grouping of
    eda_categorical_levels, with '__other__' and '__missing__'): count of customers with a
    value, mean and median per level, and per (numeric, categorical) pair the correlation ratio
        eta = sqrt(between-group sum of squares / total sum of squares)
    over the customers with a value, repeated on each level's row (null, with a note, when the
    numeric feature is constant). Count, mean and eta use every customer; the median needs every
    value of a level at once, so it is exact up to var('segments_eda_rank_sample_rows')
    customers and taken over the fixed hash sample of eda_feature_values above it
    (median_method, median_rows).
    The statistics are computed on each numeric feature divided by its unit (a power of two near
    its largest |value|, macro segments_eda_unit) and the mean and median scaled back: exact for
    ordinary values, and sums of squares of values around 1e160 cannot overflow.
    Read from customer_features in wide form (one row per customer and categorical feature, one
    column per numeric feature; macro segments_eda_wide_columns), not from the long table: a
    join of the long table with itself would have customers x numeric x categorical rows.
-#}
{%- set wide = segments_eda_wide_columns(ref('customer_features')) -%}

with

features as (

    select * from {{ ref('customer_features') }}

),

levels as (

    select * from {{ ref('eda_categorical_levels') }}

),

customer_count as (

    select count(*) as customers from features

),

units as (

    select
        count(*) as customers,
        {%- for entry in wide.numeric %}
        {{ segments_eda_unit('max(abs(' ~ entry.value ~ '))') }} as {{ entry.alias }},
        {%- endfor %}
    from features

),

top_levels as (

    -- The top levels of each categorical feature (eda_categorical_levels), one list each.
    -- (null when a feature has none: list_contains is then null, and every level '__other__').
    select
        count(*) as level_rows,
        {%- for entry in wide.categorical %}
        list(level) filter (where feature = {{ entry.literal }}) as {{ entry.alias }},
        {%- endfor %}
    from levels
    where level_kind = 'level'

),

customers as (

    -- One row per customer: each numeric feature divided by its unit, each categorical feature
    -- as its level after the top-N grouping (macro segments_eda_grouped_levels says the same).
    select
        {%- for entry in wide.numeric %}
        {{ entry.value }} / units.{{ entry.alias }} as {{ entry.alias }},
        {%- endfor %}
        {%- for entry in wide.categorical %}
        case
            when {{ entry.level }} is null then '__missing__'
            when list_contains(top_levels.{{ entry.alias }}, {{ entry.level }})
                then {{ entry.level }}
            else '__other__'
        end as {{ entry.alias }},
        {%- endfor %}
        {{ segments_eda_in_sample('features.customer_id', 'customer_count.customers') }}
            as in_sample

    from features
    cross join customer_count
    cross join units
    cross join top_levels

),

by_level as (

    -- One row per customer and categorical feature.
    select * from customers
    unpivot (
        level for categorical_alias in (
            {{ wide.categorical | map(attribute='alias') | join(', ') }}
        )
    )

),

level_statistics_wide as (

    select
        categorical_alias,
        level,
        {%- for entry in wide.numeric %}
        count({{ entry.alias }}) as {{ entry.alias }}_count,
        avg({{ entry.alias }}) as {{ entry.alias }}_mean,
        var_pop({{ entry.alias }}) * count({{ entry.alias }}) as {{ entry.alias }}_within,
        min({{ entry.alias }}) as {{ entry.alias }}_min,
        max({{ entry.alias }}) as {{ entry.alias }}_max,
        {%- endfor %}

    from by_level
    group by categorical_alias, level

),

level_medians_wide as (

    -- Medians over the customers in the EDA sample only (all of them up to the sample size).
    select
        categorical_alias,
        level,
        {%- for entry in wide.numeric %}
        median({{ entry.alias }}) as {{ entry.alias }}_median,
        count({{ entry.alias }}) as {{ entry.alias }}_median_rows,
        {%- endfor %}

    from by_level
    where in_sample
    group by categorical_alias, level

),

level_statistics_long as (

    select
        level_statistics_wide.categorical_alias,
        level_statistics_wide.level,
        unnest([
            {%- for entry in wide.numeric %}
            struct_pack(
                numeric_feature := {{ entry.literal }},
                level_count := level_statistics_wide.{{ entry.alias }}_count,
                level_mean := level_statistics_wide.{{ entry.alias }}_mean,
                level_median := level_medians_wide.{{ entry.alias }}_median,
                median_rows := coalesce(level_medians_wide.{{ entry.alias }}_median_rows, 0),
                -- every customer with a value is in the sample
                is_exact := coalesce(level_medians_wide.{{ entry.alias }}_median_rows, 0)
                = level_statistics_wide.{{ entry.alias }}_count,
                within_sum_of_squares := level_statistics_wide.{{ entry.alias }}_within,
                level_min := level_statistics_wide.{{ entry.alias }}_min,
                level_max := level_statistics_wide.{{ entry.alias }}_max,
                unit := units.{{ entry.alias }}
            ){{ ',' if not loop.last }}
            {%- endfor %}
        ]) as entry

    from level_statistics_wide
    cross join units
    left join level_medians_wide
        on
            level_statistics_wide.categorical_alias = level_medians_wide.categorical_alias
            and level_statistics_wide.level = level_medians_wide.level

),

categorical_names as (

    select
        names.categorical_feature,
        names.categorical_alias
    from (
        values
        {%- for entry in wide.categorical %}
        ({{ entry.literal }}, '{{ entry.alias }}'){{ ',' if not loop.last }}
        {%- endfor %}
    ) as names (categorical_feature, categorical_alias)

),

level_statistics as (

    -- A level where the numeric feature is missing for every customer has no row.
    select
        level_statistics_long.entry['numeric_feature'] as numeric_feature,
        categorical_names.categorical_feature,
        level_statistics_long.level,
        level_statistics_long.entry['level_count'] as level_count,
        level_statistics_long.entry['level_mean'] as level_mean,
        level_statistics_long.entry['level_median'] as level_median,
        level_statistics_long.entry['median_rows'] as median_rows,
        level_statistics_long.entry['is_exact'] as is_exact,
        level_statistics_long.entry['within_sum_of_squares'] as within_sum_of_squares,
        level_statistics_long.entry['level_min'] as level_min,
        level_statistics_long.entry['level_max'] as level_max,
        level_statistics_long.entry['unit'] as unit

    from level_statistics_long
    inner join categorical_names
        on level_statistics_long.categorical_alias = categorical_names.categorical_alias
    where level_statistics_long.entry['level_count'] > 0
    {%- if not wide.has_numeric or not wide.has_categorical %}
        and false
    {%- endif %}

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
        cast(pair_eta.numeric_feature as varchar) as numeric_feature,
        cast(pair_eta.categorical_feature as varchar) as categorical_feature,
        cast(pair_eta.level as varchar) as level,
        levels.level_rank,
        cast(pair_eta.level_count as bigint) as count,
        pair_eta.level_mean * pair_eta.unit as mean,
        pair_eta.level_median * pair_eta.unit as median,
        sqrt(pair_eta.eta_squared) as eta,
        case
            when pair_eta.is_constant then 'numeric feature is constant'
        end as eta_note,
        case when pair_eta.is_exact then 'exact' else 'sample' end as median_method,
        cast(pair_eta.median_rows as bigint) as median_rows

    from pair_eta
    left join levels
        on
            pair_eta.categorical_feature = levels.feature
            and pair_eta.level = levels.level

)

select * from final
