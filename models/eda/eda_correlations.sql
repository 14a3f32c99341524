{#-
    Pearson and Spearman correlations of every pair of numeric features of customer_features, in
    long format with both orders of each pair and the diagonal. Pairwise deletion: a pair uses the
    customers where both features are present (n_pairs).

    Spearman is the Pearson correlation of the ranks. Ranks are average ranks: ties share the mean
    of the positions they span, (rank() + count of values <= the value) / 2 over the same order.
    They are computed once per feature over all its non-missing values; when a feature has
    missing values, the ranks of a pair are therefore not re-computed on the pair's complete
    rows, which can move Spearman slightly from a per-pair re-ranking (exact when both features
    are complete or missing for the same customers).

    Cost on large inputs: one narrow window (one sort) per feature for the ranks, joined back on
    a row number, then all pairs in one scan (one aggregate per pair and statistic, collected in
    lists that are unnested into rows). Above var('segments_eda_rank_sample_rows') customers
    (default 200,000) the ranks and Spearman use a sample of about that many customers, chosen
    by a hash of customer_id (the same customers on every run; spearman_rows says how many);
    Pearson and n_pairs always use every customer. At 200,000 customers the standard error of a
    Spearman coefficient is below 0.003.
-#}
{%- set features_relation = ref('customer_features') -%}
{%- set columns = segments_eda_columns(features_relation) -%}
{%- set names = columns.numeric -%}
{%- set identifiers = segments_eda_identifiers(names) -%}
{%- set pairs = segments_eda_pairs(names) -%}
{%- set rank_sample_rows = var('segments_eda_rank_sample_rows', 200000) -%}
{%- if rank_sample_rows is not none and (rank_sample_rows is not number or rank_sample_rows < 2) -%}
    {{ exceptions.raise_compiler_error("var segments_eda_rank_sample_rows: expected a whole number >= 2 or null, got " ~ rank_sample_rows) }}
{%- endif -%}

with

features as (

    select * from {{ features_relation }}

),

total as (

    select count(*) as customers from features

),

numeric_wide as materialized (

    select
        row_number() over () as row_id,
        {%- if rank_sample_rows is none %}
        true as is_ranked,
        {%- else %}
        -- hash(customer_id) / 2^64 is uniform on [0, 1]: keep the customers below the share
        -- rank_sample_rows / customers (all of them when there are fewer).
        cast(hash(customer_id) as double) / 18446744073709551616.0
        <= least(1.0, {{ rank_sample_rows }} / (select total.customers from total))
            as is_ranked,
        {%- endif %}
        -- Each feature divided by a power of two near its largest |value|: correlations and
        -- ranks do not change, and squares of values around 1e160 cannot overflow.
        {{- segments_eda_double_columns(names, in_units=true) }}

    from features

),
{%- for column in identifiers %}

ranks_{{ loop.index }} as (

    select
        row_id,
        (rank() over by_value + count(*) over by_value) / 2 as average_rank

    from numeric_wide
    where {{ column }} is not null and is_ranked
    window by_value as (order by {{ column }})

),
{%- endfor %}

ranked as (

    select
        {%- for column in identifiers %}
        ranks_{{ loop.index }}.average_rank as rank_{{ loop.index }},
        {%- endfor %}
        {%- for column in identifiers or ['__no_feature__'] %}
        numeric_wide.{{ column }},
        {%- endfor %}
        numeric_wide.row_id

    from numeric_wide
    {% for column in identifiers -%}
    left join ranks_{{ loop.index }}
        on numeric_wide.row_id = ranks_{{ loop.index }}.row_id
    {% endfor %}

),

aggregated as (

    select
        [
            {%- for column in identifiers %}
            count({{ column }}){{ ',' if not loop.last }}
            {%- endfor %}
        ] as feature_counts,
        [
            {%- for column in identifiers %}
            var_samp({{ column }}){{ ',' if not loop.last }}
            {%- endfor %}
        ] as feature_variances,
        [
            {%- for pair in pairs %}
            corr({{ identifiers[pair.i - 1] }}, {{ identifiers[pair.j - 1] }})
            {{- ',' if not loop.last }}
            {%- endfor %}
        ] as pair_pearson,
        [
            {%- for pair in pairs %}
            corr(rank_{{ pair.i }}, rank_{{ pair.j }}){{ ',' if not loop.last }}
            {%- endfor %}
        ] as pair_spearman,
        [
            {%- for pair in pairs %}
            regr_count({{ identifiers[pair.i - 1] }}, {{ identifiers[pair.j - 1] }})
            {{- ',' if not loop.last }}
            {%- endfor %}
        ] as pair_counts,
        [
            {%- for pair in pairs %}
            regr_count(rank_{{ pair.i }}, rank_{{ pair.j }}){{ ',' if not loop.last }}
            {%- endfor %}
        ] as pair_rank_counts,
        [
            {%- for column in identifiers %}
            count(rank_{{ loop.index }}){{ ',' if not loop.last }}
            {%- endfor %}
        ] as feature_rank_counts

    from ranked

),

feature_statistics as (

    select
        unnest([
            {%- for name in names %}
            {{ segments_eda_literal(name) }}{{ ',' if not loop.last }}
            {%- endfor %}
        ]) as feature,
        unnest(feature_counts) as value_count,
        unnest(feature_variances) as variance,
        unnest(feature_rank_counts) as rank_count

    from aggregated

),

upper_pairs as (

    select
        unnest([
            {%- for pair in pairs %}
            {{ segments_eda_literal(pair.x) }}{{ ',' if not loop.last }}
            {%- endfor %}
        ]) as feature_x,
        unnest([
            {%- for pair in pairs %}
            {{ segments_eda_literal(pair.y) }}{{ ',' if not loop.last }}
            {%- endfor %}
        ]) as feature_y,
        unnest(pair_pearson) as pearson,
        unnest(pair_spearman) as spearman,
        unnest(pair_counts) as n_pairs,
        unnest(pair_rank_counts) as spearman_rows

    from aggregated

),

all_pairs as (

    select
        feature_x,
        feature_y,
        pearson,
        spearman,
        n_pairs,
        spearman_rows

    from upper_pairs

    union all

    select
        feature_y as feature_x,
        feature_x as feature_y,
        pearson,
        spearman,
        n_pairs,
        spearman_rows

    from upper_pairs

    union all

    select
        feature as feature_x,
        feature as feature_y,
        case when value_count >= 2 and variance > 0 then cast(1 as double) end as pearson,
        case when rank_count >= 2 and variance > 0 then cast(1 as double) end as spearman,
        value_count as n_pairs,
        rank_count as spearman_rows

    from feature_statistics

),

final as (

    select
        cast(all_pairs.feature_x as varchar) as feature_x,
        cast(all_pairs.feature_y as varchar) as feature_y,
        -- Rounded to 12 decimals: floating-point noise (0.49999999999999983, 1.0000000000000002)
        -- is not a property of the data, and the clamp keeps the rounding inside [-1, 1].
        -- (The case also turns NaN into null; DuckDB's least / greatest would skip a null.)
        cast(
            case
                when isfinite(all_pairs.pearson)
                    then greatest(least(round(all_pairs.pearson, 12), 1.0), -1.0)
            end as double
        ) as pearson,
        cast(
            case
                when isfinite(all_pairs.spearman)
                    then greatest(least(round(all_pairs.spearman, 12), 1.0), -1.0)
            end as double
        ) as spearman,
        cast(all_pairs.n_pairs as bigint) as n_pairs,
        cast(all_pairs.spearman_rows as bigint) as spearman_rows,
        case
            when all_pairs.n_pairs < 2 then 'fewer than two customers with both values'
            when coalesce(statistics_x.variance, 0) = 0 then 'feature_x is constant'
            when coalesce(statistics_y.variance, 0) = 0 then 'feature_y is constant'
            when not coalesce(isfinite(all_pairs.pearson), false)
                then 'a feature is constant where both values are present'
        end as note

    from all_pairs
    left join feature_statistics as statistics_x
        on all_pairs.feature_x = statistics_x.feature
    left join feature_statistics as statistics_y
        on all_pairs.feature_y = statistics_y.feature

)

select * from final
