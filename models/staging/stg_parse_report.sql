{#-
    The parse report: per input and mapped column that staging parses (dates and timestamps,
    numbers, numeric attributes), how many values are present, how many parse, how many do not,
    up to three example values that do not, and how many dates land after the latest plausible
    date (var segments_reference_date, else the build date). One aggregate pass per input, with
    the parsing macros of stg_*__checked. stg_input_checks turns it into warnings and errors.
-#}
{%- set latest = segments_latest_order_date() -%}
{%- set reports = [] -%}
{%- for entity in ['customers', 'orders'] -%}
    {#- Called at parse time too, so that dbt registers a seed input as a dependency. -#}
    {%- set relation = segments_input_relation(entity) -%}
    {%- set parsed_columns = segments_parsed_columns(entity) -%}
    {%- if parsed_columns -%}
        {%- do reports.append({
            'entity': entity,
            'columns': parsed_columns,
            'rules': segments_cleaning_rules(entity),
            'relation': relation,
        }) -%}
    {%- endif -%}
{%- endfor -%}

with

{%- for report in reports %}
{%- set entity = report.entity %}

{{ entity }}_text as (

    select
        {%- for item in report.columns %}
        nullif(trim(cast({{ item.column }} as varchar)), '') as value_{{ loop.index }},
        {%- endfor %}

    from {{ report.relation }}

),

{{ entity }}_cleaned as (

    select
        {%- for item in report.columns %}
        {{ segments_clean_text('value_' ~ loop.index) }} as value_{{ loop.index }},
        {%- endfor %}

    from {{ entity }}_text

),

{{ entity }}_parsed as (

    select
        {%- for item in report.columns %}
        value_{{ loop.index }},
        {{ segments_parse_expression(item.kind, 'value_' ~ loop.index, report.rules) }}
            as parsed_{{ loop.index }},
        {%- endfor %}

    from {{ entity }}_cleaned

),

{{ entity }}_aggregate as (

    select
        {%- for item in report.columns %}
        {%- set i = loop.index %}
        count(value_{{ i }}) as present_{{ i }},
        count(parsed_{{ i }}) as parsed_{{ i }},
        list_sort(list_distinct(
            min(value_{{ i }}, 50) filter (where value_{{ i }} is not null and parsed_{{ i }} is null)
        ))[1:3] as examples_{{ i }},
        {%- if item.kind == 'timestamp' %}
        count(*) filter (
            where cast({{ segments_utc_to_local('parsed_' ~ i) }} as date) > {{ latest.expression }}
        ) as after_{{ i }},
        {%- elif item.kind in ['date', 'birth_date'] %}
        count(*) filter (where parsed_{{ i }} > {{ latest.expression }}) as after_{{ i }},
        {%- else %}
        cast(null as bigint) as after_{{ i }},
        {%- endif %}
        {%- endfor %}

    from {{ entity }}_parsed

),

{%- endfor %}

unioned as (

    {%- for report in reports %}
    {%- set entity = report.entity %}
    {%- for item in report.columns %}
    {%- set i = loop.index %}
    select
        '{{ entity }}' as input_name,
        '{{ item.name }}' as column_name,
        '{{ item.kind }}' as value_kind,
        present_{{ i }} as values_present,
        parsed_{{ i }} as values_parsed,
        present_{{ i }} - parsed_{{ i }} as values_unparseable,
        after_{{ i }} as values_after_latest_date,
        nullif(
            array_to_string(list_transform(examples_{{ i }}, lambda x: '''' || x || ''''), ', '),
            ''
        ) as unparseable_examples,
        {{ segments_quote_literal(item.key, 'key') if item.key else 'cast(null as varchar)' }}
            as config_key,
    from {{ entity }}_aggregate
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {%- if not reports %}
    select
        cast(null as varchar) as input_name,
        cast(null as varchar) as column_name,
        cast(null as varchar) as value_kind,
        cast(null as bigint) as values_present,
        cast(null as bigint) as values_parsed,
        cast(null as bigint) as values_unparseable,
        cast(null as bigint) as values_after_latest_date,
        cast(null as varchar) as unparseable_examples,
        cast(null as varchar) as config_key,
    where false
    {%- endif %}

),

final as (

    select
        *,
        cast(values_unparseable / nullif(values_present, 0) as double) as unparseable_share,
        {{ latest.expression }} as latest_date,
    from unioned

)

select * from final
