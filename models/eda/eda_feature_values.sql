{#-
    The long table the EDA models read (eda_numeric_by_category and eda_correlations read
    customer_features in wide form, docs/eda.md): one row per customer and profiled feature of
    customer_features (the columns segments_eda_columns finds: numeric and categorical, keys,
    dates and timestamps left out), built once, so that the EDA models are short SQL over
    (feature, value) instead of SQL generated per column.
      - value: a numeric feature as a double, in the feature's units (null when missing);
      - level: a categorical feature as trimmed text ('true' / 'false' for booleans; null when
        missing or blank);
      - customer_key: the customer's rank by customer_id (1..n), the same on all of the
        customer's rows (the customer_id itself is not repeated on every row: at 1M customers
        writing it cost a quarter of this model's time);
      - in_sample: whether the customer is in the EDA sample (macro segments_eda_in_sample):
        every customer up to var('segments_eda_rank_sample_rows'), a fixed hash sample of about
        that many above it. docs/eda.md.
-#}
{%- set columns = segments_eda_columns(ref('customer_features')) -%}
{%- set numeric = segments_eda_identifiers(columns.numeric) -%}
{%- set categorical = segments_eda_identifiers(columns.categorical) -%}
{%- set entries = [] -%}
{%- for column in numeric -%}
    {%- do entries.append({
        'column': column, 'kind': 'numeric',
        'value': 'cast(features.' ~ column ~ ' as double)', 'level': 'cast(null as varchar)',
    }) -%}
{%- endfor -%}
{%- for column in categorical -%}
    {%- do entries.append({
        'column': column, 'kind': 'categorical',
        'value': 'cast(null as double)', 'level': segments_eda_level('features.' ~ column),
    }) -%}
{%- endfor -%}
{%- if not entries -%}
    {#- No feature: a placeholder keeps the SQL valid; `where false` leaves no row. -#}
    {%- do entries.append({
        'column': '__no_feature__', 'kind': 'numeric',
        'value': 'cast(null as double)', 'level': 'cast(null as varchar)',
    }) -%}
{%- endif -%}

with

features as (

    select * from {{ ref('customer_features') }}

),

customers as (

    select count(*) as customer_count from features

),

feature_structs as (

    -- Each feature as a struct of its kind, value and level, so one unpivot turns every column
    -- into rows in one pass (and customer_key is numbered once).
    select
        {%- for entry in entries %}
        struct_pack(
            feature_kind := '{{ entry.kind }}',
            value := {{ entry.value }},
            level := {{ entry.level }}
        ) as {{ entry.column }},
        {%- endfor %}
        features.customer_id,
        {{ segments_eda_in_sample('features.customer_id', 'customers.customer_count') }}
            as in_sample,
        row_number() over (order by features.customer_id) as customer_key

    from features
    cross join customers

),

long as (

    select
        customer_key,
        customer_id,
        in_sample,
        feature,
        entry

    from feature_structs
    unpivot include nulls (
        entry for feature in ({{ entries | map(attribute='column') | join(', ') }})
    )
    {%- if not numeric and not categorical %}
    where false
    {%- endif %}

),

final as (

    select
        cast(customer_key as bigint) as customer_key,
        cast(feature as varchar) as feature,
        entry['feature_kind'] as feature_kind,
        entry['value'] as value,
        entry['level'] as level,
        in_sample

    from long

)

select * from final
