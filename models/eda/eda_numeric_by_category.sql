{#-
    Each numeric feature of customer_features by each categorical feature's levels (the top-N
    grouping of eda_categorical_levels, with '__other__' and '__missing__'): count of customers
    with a value, mean and median per level, and per (numeric, categorical) pair the correlation
    ratio
        eta = sqrt(between-group sum of squares / total sum of squares)
    over the customers with a value, repeated on each level's row (null, with a note, when the
    numeric feature is constant).

    Exact medians need every value of every group, so the work is arranged to keep the input
    narrow: the categorical features are mapped to their grouped levels once (a materialized
    CTE), then one group by per categorical feature computes all numeric features side by side,
    and the per-level rows are turned into long format at the end (levels x features, small).
    The statistics are computed on each numeric feature divided by its unit (a power of two near
    its largest |value|, macro segments_eda_unit) and the mean and median scaled back: exact for
    ordinary values, and sums of squares of values around 1e160 cannot overflow.
-#}
{%- set features_relation = ref('customer_features') -%}
{%- set levels_relation = ref('eda_categorical_levels') -%}
{%- set columns = segments_eda_columns(features_relation) -%}
{%- set numeric = segments_eda_identifiers(columns.numeric) -%}
{%- set categorical = segments_eda_identifiers(columns.categorical) -%}

with

features as (

    select * from {{ features_relation }}

),

levels as (

    select * from {{ levels_relation }}

),

units as (

    -- One row: each numeric feature's unit (macro segments_eda_unit).
    select
        {%- for column in numeric or ['__no_numeric__'] %}
        {%- if numeric %}
        {{ segments_eda_unit('max(abs(cast(' ~ column ~ ' as double)))') }} as unit_{{ loop.index }},
        {%- else %}
        1.0 as unit_{{ loop.index }},
        {%- endif %}
        {%- endfor %}

    from features

),

wide as materialized (

    select
        {{- segments_eda_grouped_level_columns(columns.categorical, 'levels') }}
        {%- for column in numeric %}
        cast(features.{{ column }} as double) / units.unit_{{ loop.index }} as {{ column }},
        {%- else %}
        cast(null as double) as __no_numeric__,
        {%- endfor %}
        units.*,

    from features
    cross join units

),

level_statistics_wide as (
    {%- for category in categorical or ['__no_feature__'] %}

    select
        {{ segments_eda_literal(columns.categorical[loop.index0] if categorical else category) }}
            as categorical_feature,
        {{ category }} as level,
        {%- for column in numeric or ['__no_numeric__'] %}
        count({{ column }}) as count_{{ loop.index }},
        avg({{ column }}) as mean_{{ loop.index }},
        median({{ column }}) as median_{{ loop.index }},
        var_pop({{ column }}) * count({{ column }}) as within_sum_of_squares_{{ loop.index }},
        min({{ column }}) as min_{{ loop.index }},
        max({{ column }}) as max_{{ loop.index }},
        any_value(unit_{{ loop.index }}) as unit_{{ loop.index }},
        {%- endfor %}

    from wide
    group by {{ category }}
    {{- '\n\n    union all' if not loop.last }}
    {%- endfor %}

),

level_statistics_long as (

    select
        categorical_feature,
        level,
        unnest([
            {%- for name in columns.numeric or ['__no_numeric__'] %}
            struct_pack(
                numeric_feature := {{ segments_eda_literal(name) }},
                level_count := count_{{ loop.index }},
                level_mean := mean_{{ loop.index }},
                level_median := median_{{ loop.index }},
                within_sum_of_squares := within_sum_of_squares_{{ loop.index }},
                level_min := min_{{ loop.index }},
                level_max := max_{{ loop.index }},
                unit := unit_{{ loop.index }}
            ){{ ',' if not loop.last }}
            {%- endfor %}
        ]) as statistics

    from level_statistics_wide

),

level_statistics as (

    select
        statistics['numeric_feature'] as numeric_feature,
        categorical_feature,
        level,
        statistics['level_count'] as level_count,
        statistics['level_mean'] as level_mean,
        statistics['level_median'] as level_median,
        statistics['within_sum_of_squares'] as within_sum_of_squares,
        statistics['level_min'] as level_min,
        statistics['level_max'] as level_max,
        statistics['unit'] as unit

    from level_statistics_long
    where statistics['level_count'] > 0{{ ' and false' if not numeric or not categorical }}

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
        end as eta_note

    from pair_eta
    left join levels
        on
            pair_eta.categorical_feature = levels.feature
            and pair_eta.level = levels.level

)

select * from final
