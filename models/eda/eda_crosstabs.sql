{#-
    Contingency tables of every pair of categorical features (both orders, no feature with
    itself), on the levels of eda_categorical_levels (top levels, '__other__', '__missing__'),
    over every customer: counts are exact at any size. Every combination of the two features'
    levels has a row, with count 0 when no customer has it.
-#}
{%- set columns = segments_eda_columns(ref('customer_features')) -%}
{%- set literals = [] -%}
{%- for name in columns.categorical %}{% do literals.append(segments_eda_literal(name)) %}{% endfor -%}

with

levels as (

    select * from {{ ref('eda_categorical_levels') }}

),

grouped_levels as (

    -- Each customer's level of each categorical feature after the top-N grouping.
    {{ segments_eda_grouped_levels(ref('eda_feature_values'), 'levels') }}

),

customer_levels as (

    -- Back to one row per customer (a column per categorical feature), so that the customers
    -- are counted per combination of levels once: a self-join of the long rows on the customer
    -- would make customers x features^2 rows (at 10M customers it spilled and took minutes).
    pivot grouped_levels
    on feature in ({{ literals | join(', ') or "'__no_feature__'" }})
    using any_value(level)
    group by customer_key

),

combinations as (

    select
        columns(* exclude (customer_key)),
        count(*) as customer_count

    from customer_levels
    group by all

),

numbered_combinations as (

    select
        *,
        row_number() over () as combination_id

    from combinations

),

combinations_long as (

    unpivot numbered_combinations
    on columns(* exclude (combination_id, customer_count))
    into name feature value level

),

pair_counts as (

    select
        cell_x.feature as feature_x,
        cell_x.level as level_x,
        cell_y.feature as feature_y,
        cell_y.level as level_y,
        sum(cell_x.customer_count) as customer_count

    from combinations_long as cell_x
    inner join combinations_long as cell_y
        on
            cell_x.combination_id = cell_y.combination_id
            and cell_x.feature != cell_y.feature
    group by cell_x.feature, cell_x.level, cell_y.feature, cell_y.level

),

level_grid as (

    select
        levels_x.feature as feature_x,
        levels_x.level as level_x,
        levels_x.level_rank as level_rank_x,
        levels_y.feature as feature_y,
        levels_y.level as level_y,
        levels_y.level_rank as level_rank_y

    from levels as levels_x
    inner join levels as levels_y
        on levels_x.feature != levels_y.feature

),

final as (

    select
        level_grid.feature_x,
        level_grid.level_x,
        level_grid.level_rank_x,
        level_grid.feature_y,
        level_grid.level_y,
        level_grid.level_rank_y,
        cast(coalesce(pair_counts.customer_count, 0) as bigint) as count,
        coalesce(pair_counts.customer_count, 0)
        / sum(coalesce(pair_counts.customer_count, 0)) over (
            partition by level_grid.feature_x, level_grid.feature_y
        ) as share

    from level_grid
    left join pair_counts
        on
            level_grid.feature_x = pair_counts.feature_x
            and level_grid.level_x = pair_counts.level_x
            and level_grid.feature_y = pair_counts.feature_y
            and level_grid.level_y = pair_counts.level_y

)

select * from final
