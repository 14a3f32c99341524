{#-
    The levels of each categorical feature (eda_feature_values, every customer) with their
    counts: the `segments_eda_top_levels` most frequent levels (ties by level), then '__other__'
    for all the remaining levels together, then '__missing__' for missing or blank values. Booleans are
    categorical with levels 'true' and 'false'. The other EDA tables use the same grouping.
-#}
{%- set top_levels = segments_eda_top_levels() -%}

with

categorical_long as (

    select
        feature,
        level

    from {{ ref('eda_feature_values') }}
    where feature_kind = 'categorical'

),

level_counts as (

    select
        feature,
        level,
        count(*) as level_count

    from categorical_long
    group by feature, level

),

ranked as (

    select
        feature,
        level,
        level_count,
        row_number() over (
            partition by feature, level is null
            order by level_count desc, level asc
        ) as frequency_rank

    from level_counts

),

grouped as (

    select
        feature,
        case
            when level is null then '__missing__'
            when frequency_rank <= {{ top_levels }} then level
            else '__other__'
        end as level,
        case
            when level is null then 'missing'
            when frequency_rank <= {{ top_levels }} then 'level'
            else 'other'
        end as level_kind,
        level_count,
        frequency_rank

    from ranked

),

collapsed as (

    select
        feature,
        level,
        level_kind,
        sum(level_count) as level_count,
        count(*) as source_level_count,
        min(frequency_rank) as frequency_rank

    from grouped
    group by feature, level, level_kind

),

final as (

    select
        feature,
        level,
        cast(row_number() over (
            partition by feature
            order by
                case level_kind when 'level' then 1 when 'other' then 2 else 3 end asc,
                frequency_rank asc
        ) as integer) as level_rank,
        level_kind,
        cast(level_count as bigint) as count,
        level_count / sum(level_count) over (partition by feature) as share,
        cast(
            case when level_kind = 'missing' then 0 else source_level_count end as integer
        ) as source_level_count

    from collapsed

)

select * from final
