{#-
    What each segment looks like, per method: one row per (method, segment, feature) with the
    segment's size and share, the feature's mean and median in original units, its z-score against
    the population (segment mean minus population mean, over the population standard deviation),
    and for categorical features the most frequent level and its share. total_value and
    average_value sum and average var('segments_value_column') (default monetary_value).
    description: the generated sentence saying what sets the segment apart (segmentation.naming);
    K-Means: of the model the build uses (ml_segmentation_lifecycle.segment_descriptions).
    Every average over a subset of the segment says over how many customers: value_customers
    (non-null value column), clv_customers (a predicted CLV: customers without purchases have
    none), alive_customers (a probability alive), feature_customers (non-null feature value).
    Columns the input does not have (null for every customer: never mapped) are not profiled.
    Medians need every value at once: above var('segments_eda_rank_sample_rows') customers
    (default 200,000) they are the medians of the segment's customers in the fixed hash sample
    of eda_feature_values (macro segments_eda_in_sample; median_method, median_customers).
    Floating figures are rounded to 6 decimals: DuckDB sums doubles in parallel in an order that
    changes between runs, and the rounding keeps re-runs of the same data byte-identical.
-#}
{%- set columns = segments_feature_columns(ref('customer_features')) -%}
{%- set value_column = var('segments_value_column', 'monetary_value') -%}
{%- set has_value = value_column in columns.numeric -%}

with

features as (

    select * from {{ ref('customer_features') }}

),

customer_count as (

    select count(*) as customers from features

),

sampled_features as (

    -- _in_sample: the customer is in the EDA sample (the same customers as eda_feature_values).
    select
        features.*,
        {{ segments_eda_in_sample('features.customer_id', 'customer_count.customers') }}
            as _in_sample,
    from features
    cross join customer_count

),

segments as (

    select * from {{ ref('customer_segments') }}

),

assigned as (

    select
        'kmeans' as method,
        segments.kmeans_segment_id as segment_id,
        segments.kmeans_segment_name as segment_name,
        segments.predicted_clv as _predicted_clv,
        segments.probability_alive as _probability_alive,
        segments.rfm_segment as _rfm_segment,
        sampled_features.*,
    from sampled_features
    inner join segments
        on sampled_features.customer_id = segments.customer_id
    where segments.kmeans_segment_id is not null

    union all by name

    select
        'hierarchical' as method,
        segments.hierarchical_segment_id as segment_id,
        segments.hierarchical_segment_name as segment_name,
        segments.predicted_clv as _predicted_clv,
        segments.probability_alive as _probability_alive,
        segments.rfm_segment as _rfm_segment,
        sampled_features.*,
    from sampled_features
    inner join segments
        on sampled_features.customer_id = segments.customer_id
    where segments.hierarchical_segment_id is not null

),

clv_fit as (

    -- The CLV models' diagnostic (the same on every row of customer_clv): a BI reader of the
    -- profiles sees whether average_predicted_clv can be trusted.
    select min(clv_diagnostic) as clv_diagnostic from {{ ref('customer_clv') }}

),

sizes as (

    select
        method,
        segment_id,
        any_value(segment_name) as segment_name,
        count(*) as size,
        count(*) / sum(count(*)) over (partition by method) as share,
        {%- if has_value %}
        sum({{ value_column }}) as total_value,
        avg({{ value_column }}) as average_value,
        count({{ value_column }}) as value_customers,
        {%- else %}
        cast(null as double) as total_value,
        cast(null as double) as average_value,
        0 as value_customers,
        {%- endif %}
        avg(_predicted_clv) as average_predicted_clv,
        count(_predicted_clv) as clv_customers,
        avg(_probability_alive) as average_probability_alive,
        count(_probability_alive) as alive_customers,
    from assigned
    group by method, segment_id

),

kmeans_descriptions as (

    -- The model the build uses (stable ids), describing this build's customers of each
    -- segment: not this build's candidate fit, whose ids can differ (docs/lifecycle.md).
    select unnest(segment_descriptions) as entry
    from {{ ref('ml_segmentation_lifecycle') }}

),

descriptions as (

    select
        'kmeans' as method,
        entry['segment_id'] as segment_id,
        entry['description'] as description,
    from kmeans_descriptions

    union all

    select distinct
        'hierarchical' as method,
        hierarchical_segment_id as segment_id,
        hierarchical_segment_description as description,
    from {{ ref('ml_hierarchical_assignments') }}

),

rfm_counts as (

    select
        method,
        segment_id,
        _rfm_segment as rfm_segment,
        count(*) as customers,
    from assigned
    group by all

),

top_rfm as (

    select
        method,
        segment_id,
        first(rfm_segment order by customers desc, rfm_segment asc) as top_rfm_segment,
        max(customers) / sum(customers) as top_rfm_segment_share,
    from rfm_counts
    group by method, segment_id

),

{%- if columns.numeric %}

numeric_segments as (

    -- One grouped pass per method and segment over the features in wide form (one column
    -- each): the count and mean of every numeric feature.
    select
        method,
        segment_id,
        {%- for name in columns.numeric %}
        count({{ name }}) as _count_{{ loop.index }},
        avg(cast({{ name }} as double)) as _mean_{{ loop.index }},
        {%- endfor %}
    from assigned
    group by method, segment_id

),

numeric_medians as (

    -- Medians need every value at once: over the segment's customers in the EDA sample only
    -- (every customer up to the sample size). _rows: the segment's sampled customers.
    select
        method,
        segment_id,
        count(*) as _rows,
        {%- for name in columns.numeric %}
        median(cast({{ name }} as double)) as _median_{{ loop.index }},
        count({{ name }}) as _median_count_{{ loop.index }},
        {%- endfor %}
    from assigned
    where _in_sample
    group by method, segment_id

),

population_wide as (

    select
        count(*) as customers,
        {%- for name in columns.numeric %}
        count({{ name }}) as _count_{{ loop.index }},
        avg(cast({{ name }} as double)) as _mean_{{ loop.index }},
        stddev_pop(cast({{ name }} as double)) as _std_{{ loop.index }},
        {%- endfor %}
    from features

),

numeric_entries as (

    select
        sizes.method,
        sizes.segment_id,
        unnest([
            {%- for name in columns.numeric %}
            struct_pack(
                feature := {{ segments_eda_literal(name) }},
                feature_customers := numeric_segments._count_{{ loop.index }},
                mean := numeric_segments._mean_{{ loop.index }},
                median := numeric_medians._median_{{ loop.index }},
                median_customers := coalesce(numeric_medians._median_count_{{ loop.index }}, 0),
                population_customers := population_wide._count_{{ loop.index }},
                population_mean := population_wide._mean_{{ loop.index }},
                population_std := population_wide._std_{{ loop.index }}
            ){{ ',' if not loop.last }}
            {%- endfor %}
        ]) as entry,
        -- every customer of the segment is in the sample
        coalesce(numeric_medians._rows, 0) = sizes.size as is_exact,
    from sizes
    inner join numeric_segments
        on
            sizes.method = numeric_segments.method
            and sizes.segment_id = numeric_segments.segment_id
    left join numeric_medians
        on
            sizes.method = numeric_medians.method
            and sizes.segment_id = numeric_medians.segment_id
    cross join population_wide

),

numeric_profiles as (

    select
        method,
        segment_id,
        entry['feature'] as feature,
        'numeric' as feature_kind,
        entry['feature_customers'] as feature_customers,
        entry['mean'] as mean,
        entry['median'] as median,
        case when is_exact then 'exact' else 'sample' end as median_method,
        entry['median_customers'] as median_customers,
        entry['population_mean'] as population_mean,
        entry['population_std'] as population_std,
        (entry['mean'] - entry['population_mean'])
        / nullif(entry['population_std'], 0) as z_score,
        cast(null as varchar) as top_level,
        cast(null as double) as top_level_share,
    from numeric_entries
    -- a column null for every customer was never mapped: nothing to profile.
    where entry['population_customers'] > 0
),
{%- endif %}

{%- if columns.categorical %}

categorical_long as (

    unpivot (
        select
            method,
            segment_id,
            {%- for name in columns.categorical %}
            coalesce(cast({{ name }} as varchar), '__missing__') as {{ name }},
            {%- endfor %}
        from assigned
    )
    on {{ columns.categorical | join(', ') }}
    into name feature value level

),

level_counts as (

    select
        method,
        segment_id,
        feature,
        level,
        count(*) as level_count,
    from categorical_long
    group by all

),

categorical_present as (

    -- a column missing for every customer was never mapped: nothing to profile.
    select feature
    from level_counts
    group by feature
    having count(*) filter (where level != '__missing__') > 0

),

categorical_profiles as (

    select
        method,
        segment_id,
        feature,
        'categorical' as feature_kind,
        sum(level_count) filter (where level != '__missing__') as feature_customers,
        cast(null as double) as mean,
        cast(null as double) as median,
        cast(null as varchar) as median_method,
        cast(null as bigint) as median_customers,
        cast(null as double) as population_mean,
        cast(null as double) as population_std,
        cast(null as double) as z_score,
        first(level order by level_count desc, level asc) as top_level,
        max(level_count) / sum(level_count) as top_level_share,
    from level_counts
    where feature in (select categorical_present.feature from categorical_present)
    group by method, segment_id, feature

),
{%- endif %}

feature_profiles as (

    {%- if columns.numeric %}
    select * from numeric_profiles
    {%- endif %}
    {%- if columns.numeric and columns.categorical %}
    union all
    {%- endif %}
    {%- if columns.categorical %}
    select * from categorical_profiles
    {%- endif %}

),

final as (

    select
        sizes.method,
        cast(sizes.segment_id as integer) as segment_id,
        sizes.segment_name,
        cast(descriptions.description as varchar) as description,
        cast(sizes.size as bigint) as size,
        round(cast(sizes.share as double), 6) as share,
        round(cast(sizes.total_value as double), 6) as total_value,
        round(cast(sizes.average_value as double), 6) as average_value,
        cast(sizes.value_customers as bigint) as value_customers,
        round(cast(sizes.average_predicted_clv as double), 6) as average_predicted_clv,
        cast(sizes.clv_customers as bigint) as clv_customers,
        round(cast(sizes.average_probability_alive as double), 6) as average_probability_alive,
        cast(sizes.alive_customers as bigint) as alive_customers,
        top_rfm.top_rfm_segment,
        round(cast(top_rfm.top_rfm_segment_share as double), 6) as top_rfm_segment_share,
        feature_profiles.feature,
        feature_profiles.feature_kind,
        cast(coalesce(feature_profiles.feature_customers, 0) as bigint) as feature_customers,
        round(cast(feature_profiles.mean as double), 6) as mean,
        round(cast(feature_profiles.median as double), 6) as median,
        round(cast(feature_profiles.population_mean as double), 6) as population_mean,
        round(cast(feature_profiles.population_std as double), 6) as population_std,
        round(cast(feature_profiles.z_score as double), 6) as z_score,
        feature_profiles.top_level,
        round(cast(feature_profiles.top_level_share as double), 6) as top_level_share,
        clv_fit.clv_diagnostic,
        cast(feature_profiles.median_method as varchar) as median_method,
        cast(feature_profiles.median_customers as bigint) as median_customers,
    from sizes
    cross join clv_fit
    inner join top_rfm
        on
            sizes.method = top_rfm.method
            and sizes.segment_id = top_rfm.segment_id
    left join descriptions
        on
            sizes.method = descriptions.method
            and sizes.segment_id = descriptions.segment_id
    inner join feature_profiles
        on
            sizes.method = feature_profiles.method
            and sizes.segment_id = feature_profiles.segment_id

)

select * from final
