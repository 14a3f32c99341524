{#-
    Association of every pair of categorical features (both orders), from the contingency tables
    of eda_crosstabs (top levels, '__other__', '__missing__'):
        chi_square = sum over cells of (observed - expected)^2 / expected,
                     expected = row total * column total / n,
                     computed as n * (sum of observed^2 / (row total * column total) - 1),
                     which only needs the non-empty cells;
        dof        = (r - 1) * (c - 1), r and c the levels with at least one customer;
        cramers_v  = sqrt(chi_square / n / (min(r, c) - 1)), without bias correction.
    Null, with a note, when a feature has a single level or there are no customers.
-#}

with

crosstabs as (

    select * from {{ ref('eda_crosstabs') }}

),

cells as (

    select
        feature_x,
        level_x,
        feature_y,
        level_y,
        count as observed,
        sum(count) over (partition by feature_x, feature_y, level_x) as row_total,
        sum(count) over (partition by feature_x, feature_y, level_y) as column_total,
        sum(count) over (partition by feature_x, feature_y) as n

    from crosstabs

),

pairs as (

    select
        feature_x,
        feature_y,
        max(n) as n,
        count(distinct level_x) filter (where row_total > 0) as levels_x,
        count(distinct level_y) filter (where column_total > 0) as levels_y,
        sum(observed * observed / (row_total * column_total)) filter (
            where observed > 0
        ) as scaled_sum_of_squares

    from cells
    group by feature_x, feature_y

),

statistics as (

    select
        feature_x,
        feature_y,
        n,
        levels_x,
        levels_y,
        case
            when n > 0 then greatest(n * (scaled_sum_of_squares - 1), 0)
        end as chi_square,
        (levels_x - 1) * (levels_y - 1) as dof

    from pairs

),

final as (

    select
        feature_x,
        feature_y,
        chi_square,
        cast(dof as integer) as dof,
        case
            when n > 0 and least(levels_x, levels_y) > 1
                then least(sqrt(chi_square / n / (least(levels_x, levels_y) - 1)), 1.0)
        end as cramers_v,
        cast(n as bigint) as n,
        cast(levels_x as integer) as levels_x,
        cast(levels_y as integer) as levels_y,
        case
            when n = 0 then 'no customers'
            when levels_x < 2 then 'feature_x has a single level'
            when levels_y < 2 then 'feature_y has a single level'
        end as note

    from statistics

)

select * from final
