{#-
    Pearson and Spearman correlations of every pair of numeric features (eda_feature_values), in
    long format with both orders of each pair and the diagonal. Pairwise deletion: a pair uses
    the customers where both features are present (n_pairs).

    Spearman is the Pearson correlation of the ranks. Ranks are average ranks: ties share the mean
    of the positions they span, (rank() + count of values <= the value) / 2 over the same order.
    They are computed once per feature over all its non-missing values; when a feature has
    missing values, the ranks of a pair are therefore not re-computed on the pair's complete
    rows, which can move Spearman slightly from a per-pair re-ranking (exact when both features
    are complete or missing for the same customers).

    Ranks need every value at once, and pairs cost customers x features^2: both are computed
    over the customers in the EDA sample (macro segments_eda_in_sample, the in_sample of
    eda_feature_values), every customer up to var('segments_eda_rank_sample_rows') (default
    200,000) and a fixed hash sample of about that many above it (method 'sample'; n_pairs says
    how many customers with both values were used). At 200,000 customers the standard error of
    a coefficient is below 0.003.
-#}
{%- set wide = segments_eda_wide_columns(ref('customer_features')) -%}
{%- set numeric = wide.numeric -%}

with

features as (

    select * from {{ ref('customer_features') }}

),

customer_count as (

    select count(*) as customers from features

),

population as (

    -- Over every customer: whether all are in the sample, and each feature's unit, a power of
    -- two near its largest |value| (macro segments_eda_unit): correlations and ranks do not
    -- change, and squares of values around 1e160 cannot overflow.
    select
        {%- for entry in numeric %}
        {{ segments_eda_unit('max(abs(' ~ entry.value ~ '))') }} as {{ entry.alias }},
        {%- endfor %}
        count(*) as customers,
        bool_and(
            {{ segments_eda_in_sample('features.customer_id', 'customer_count.customers') }}
        ) as is_exact

    from features
    cross join customer_count

),

sampled as (

    select
        features.customer_id,
        {%- for entry in numeric %}
        {{ entry.value }} / population.{{ entry.alias }} as {{ entry.alias }},
        {%- endfor %}

    from features
    cross join customer_count
    cross join population
    where {{ segments_eda_in_sample('features.customer_id', 'customer_count.customers') }}

),

ranked as (

    -- Average ranks over each feature's non-missing values (nulls sort last and get none).
    select
        customer_id,
        {%- for entry in numeric %}
        {{ entry.alias }},
        case
            when {{ entry.alias }} is not null
                then (
                    rank() over (order by {{ entry.alias }} asc nulls last)
                    + count(*) over (order by {{ entry.alias }} asc nulls last)
                ) / 2
        end as {{ entry.alias }}_rank,
        {%- endfor %}

    from sampled

),

statistics as (

    -- One pass over the sampled customers: per feature its count and variance, per pair of
    -- features (each pair once) Pearson on the values, Spearman on the ranks and the count of
    -- customers with both values (corr and regr_count skip a row where either is null).
    select
        [
            {%- for entry in numeric %}
            struct_pack(
                feature := {{ entry.literal }},
                value_count := count({{ entry.alias }}),
                variance := var_samp({{ entry.alias }})
            ){{ ',' if not loop.last }}
            {%- endfor %}
        ] as feature_entries,
        [
            {%- for x in numeric %}
            {%- for y in numeric[loop.index:] %}
            (
                {{ x.literal }},
                {{ y.literal }},
                corr({{ x.alias }}, {{ y.alias }}),
                corr({{ x.alias }}_rank, {{ y.alias }}_rank),
                regr_count({{ x.alias }}, {{ y.alias }})
            ),
            {%- endfor %}
            {%- endfor %}
            -- a placeholder, so that the list is never empty; dropped below
            (null, null, null, null, null)
        ] as pair_entries

    from ranked

),

feature_statistics as (

    select
        unnested_features.entry['feature'] as feature,
        population.is_exact,
        unnested_features.entry['value_count'] as value_count,
        unnested_features.entry['variance'] as variance

    from (select unnest(feature_entries) as entry from statistics) as unnested_features
    cross join population
    where population.customers > 0
    {%- if not wide.has_numeric %}
        and false
    {%- endif %}

),

pair_statistics as (

    select
        cast(entry[1] as varchar) as feature_x,
        cast(entry[2] as varchar) as feature_y,
        cast(entry[3] as double) as pearson,
        cast(entry[4] as double) as spearman,
        coalesce(cast(entry[5] as bigint), 0) as n_pairs

    from (select unnest(pair_entries) as entry from statistics) as unnested_pairs
    where entry[1] is not null

),

upper_pairs as (

    select
        pair_statistics.feature_x,
        pair_statistics.feature_y,
        pair_statistics.pearson,
        pair_statistics.spearman,
        pair_statistics.n_pairs,
        pair_statistics.n_pairs as spearman_rows

    from pair_statistics
    inner join feature_statistics
        on pair_statistics.feature_x = feature_statistics.feature

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
        case when value_count >= 2 and variance > 0 then cast(1 as double) end as spearman,
        value_count as n_pairs,
        value_count as spearman_rows

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
        end as note,
        case when statistics_x.is_exact then 'exact' else 'sample' end as method

    from all_pairs
    left join feature_statistics as statistics_x
        on all_pairs.feature_x = statistics_x.feature
    left join feature_statistics as statistics_y
        on all_pairs.feature_y = statistics_y.feature

)

select * from final
