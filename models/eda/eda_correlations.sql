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

    Pairing every feature with every other one per customer costs customers x features^2 rows,
    and ranks need every value at once: both are computed over the customers in_sample of
    eda_feature_values, every customer up to var('segments_eda_rank_sample_rows') (default
    200,000) and a fixed hash sample of about that many above it (method 'sample'; n_pairs says
    how many customers with both values were used). At 200,000 customers the standard error of
    a coefficient is below 0.003.
-#}

with

feature_values as (

    select * from {{ ref('eda_feature_values') }}
    where feature_kind = 'numeric'

),

features as (

    select
        feature,
        bool_and(in_sample) as is_exact,
        -- A power of two near the largest |value| (macro segments_eda_unit): correlations and
        -- ranks do not change, and squares of values around 1e160 cannot overflow.
        {{ segments_eda_unit('max(abs(value))') }} as unit

    from feature_values
    group by feature

),

ranked as (

    select
        feature_values.customer_key,
        feature_values.feature,
        feature_values.value / features.unit as value,
        (rank() over by_value + count(*) over by_value) / 2 as average_rank

    from feature_values
    inner join features
        on feature_values.feature = features.feature
    where feature_values.in_sample and feature_values.value is not null
    window by_value as (partition by feature_values.feature order by feature_values.value)

),

feature_statistics as (

    select
        features.feature,
        features.is_exact,
        count(ranked.value) as value_count,
        var_samp(ranked.value) as variance

    from features
    left join ranked
        on features.feature = ranked.feature
    group by features.feature, features.is_exact

),

pair_statistics as (

    select
        ranked_x.feature as feature_x,
        ranked_y.feature as feature_y,
        corr(ranked_x.value, ranked_y.value) as pearson,
        corr(ranked_x.average_rank, ranked_y.average_rank) as spearman,
        count(*) as n_pairs

    from ranked as ranked_x
    inner join ranked as ranked_y
        on
            ranked_x.customer_key = ranked_y.customer_key
            and ranked_x.feature < ranked_y.feature
    group by ranked_x.feature, ranked_y.feature

),

upper_pairs as (

    select
        features_x.feature as feature_x,
        features_y.feature as feature_y,
        pair_statistics.pearson,
        pair_statistics.spearman,
        coalesce(pair_statistics.n_pairs, 0) as n_pairs,
        coalesce(pair_statistics.n_pairs, 0) as spearman_rows

    from features as features_x
    inner join features as features_y
        on features_x.feature < features_y.feature
    left join pair_statistics
        on
            features_x.feature = pair_statistics.feature_x
            and features_y.feature = pair_statistics.feature_y

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
