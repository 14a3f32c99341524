{#-
    Thresholds of the staging checks of the inputs (models stg_parse_report, stg_input_checks),
    var `segments_input_checks`:

        segments_input_checks:
          unparseable_warn_share: 0.05  # warn when more than this share of a mapped column's
                                        # values does not parse
          reject_warn_share: 0.1        # warn when one reject reason (or all together) takes
                                        # more than this share of an input's rows
          reject_error_share: 0.5       # stop at staging when it takes more than this share

    A mapped column none of whose values parses stops the build at staging whatever the shares.
-#}

{% macro segments_input_check_settings() %}
    {#- Types, ranges and defaults: the configuration schema; here the order of the two shares. -#}
    {%- set value = segments_config_validated_var('segments_input_checks', {}) or {} -%}
    {%- set result = {} -%}
    {%- for name in ['unparseable_warn_share', 'reject_warn_share', 'reject_error_share'] -%}
        {%- do result.update({name: value.get(name, segments_config_default('segments_input_checks.' ~ name))}) -%}
    {%- endfor -%}
    {%- if result.reject_warn_share > result.reject_error_share -%}
        {{ exceptions.raise_compiler_error("var segments_input_checks.reject_warn_share: " ~ result.reject_warn_share ~ " is above reject_error_share " ~ result.reject_error_share) }}
    {%- endif -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_parsed_columns(entity) %}
    {#-
        The mapped columns of one input that staging parses, as a list of
        {name, column (the cleaned text expression's source), kind, key (the rule that fixes it),
        masked (a contract column whose facts base_*_checked.parse_mask records)}: dates/timestamps,
        numbers and numeric attributes. Empty for an input that is not configured. Must parse
        exactly like base_*_checked / stg_customer_attributes.
    -#}
    {%- set result = [] -%}
    {%- if segments_input_config(entity) is none -%}
        {{ return(result) }}
    {%- endif -%}
    {%- set columns = segments_input_columns(entity) -%}
    {%- set rules_key = 'segments_inputs.' ~ entity ~ '.rules' -%}
    {%- for name, kind in segments_mask_columns(entity) -%}
        {%- if columns[name] is not none -%}
            {%- if kind in ['date', 'birth_date', 'timestamp'] -%}
                {%- set key = rules_key ~ '.datetime_formats' -%}
            {%- elif kind == 'integer' -%}
                {%- set key = 'segments_inputs.' ~ entity ~ '.columns.' ~ name -%}
            {%- else -%}
                {%- set key = rules_key ~ '.number_format' -%}
            {%- endif -%}
            {%- do result.append({'name': name, 'column': columns[name], 'kind': kind, 'key': key, 'masked': true}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for item in segments_input_attributes(entity) -%}
        {%- if item.expression -%}
            {#- A derived attribute: each input column its expression reads, parsed as a number. -#}
            {%- for source in item.source_columns -%}
                {%- if source not in result | map(attribute='name') | list -%}
                    {%- do result.append({'name': source, 'column': segments_quote_column(source), 'kind': 'number', 'key': rules_key ~ '.number_format', 'masked': false}) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- elif item.type == 'numeric' -%}
            {%- do result.append({'name': item.name, 'column': item.column, 'kind': 'number', 'key': rules_key ~ '.number_format', 'masked': false}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_parse_expression(kind, expr, rules) -%}
    {#- The parsed value of a column of segments_parsed_columns (as staging parses it). -#}
    {%- if kind == 'timestamp' -%}
        {{ segments_parse_timestamp(expr, rules.datetime_formats, rules.timestamp_unit) }}
    {%- elif kind == 'date' -%}
        {{ segments_parse_date(expr, rules.datetime_formats, rules.timestamp_unit) }}
    {%- elif kind == 'birth_date' -%}
        {{ segments_parse_date(expr, rules.datetime_formats, rules.timestamp_unit, partial=true) }}
    {%- elif kind == 'integer' -%}
        {{ segments_parse_integer(expr) }}
    {%- elif kind == 'money' -%}
        {{ segments_parse_money(expr, rules.number_format) }}
    {%- else -%}
        {{ segments_parse_number(expr, rules.number_format) }}
    {%- endif -%}
{%- endmacro %}


{% macro segments_raise_input_checks(relation) %}
    {#-
        Post-hook of stg_input_checks: log every warning of the built table (dbt [WARNING]
        lines) and fail the model with every error message, so that stg_customers,
        stg_order_lines and everything after them are skipped.
    -#}
    {%- if execute -%}
        {%- set result = run_query("select level, message from " ~ relation ~ " where level != 'ok' order by level, message") -%}
        {%- set errors = [] -%}
        {%- for row in result.rows -%}
            {%- if row[0] == 'error' -%}
                {%- do errors.append(row[1]) -%}
            {%- else -%}
                {%- do exceptions.warn(row[1]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if errors -%}
            {{ exceptions.raise_compiler_error("the inputs are not usable (stg_input_checks):\n- " ~ errors | join("\n- ")) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro segments_parse_report_sql(reports, latest) %}
    {#-
        The query of stg_parse_report: for each report {entity, columns, rules, relation,
        checked}, the facts of its contract columns aggregated from the parse_mask of the checked
        model (base_*_checked, which parses every row once: one pass over a narrow integer
        column, then the example values from the raw_record of the few rows whose mask cites
        one), and, for the other columns (numeric attributes and the columns of derived
        attributes), one aggregate pass over the input (text, cleaned, parsed, counted); then
        one row per column.
    -#}
with

{%- for report in reports %}
{%- set entity = report.entity %}
{%- set masked = [] %}
{%- set scanned = [] %}
{%- for item in report.columns %}
{%- do (masked if item.masked else scanned).append({'item': item, 'i': loop.index}) %}
{%- endfor %}
{%- set has_grouped = report.rules.number_format is none %}

{%- if masked %}

{{ entity }}_masks as (

    -- Rows per distinct parse_mask: a handful of values, whatever the number of rows.
    select
        parse_mask,
        count(*) as row_count,

    from {{ report.checked }}
    group by all

),

{{ entity }}_mask_counts as (

    select
        {%- for entry in masked %}
        {%- set item = entry.item %}
        {%- set i = entry.i %}
        {%- set present = segments_parse_mask_bit(entity, item.name, 'present') %}
        {%- set unparseable = segments_parse_mask_bit(entity, item.name, 'unparseable') %}
        cast(coalesce(sum(row_count) filter (where parse_mask & {{ present }} != 0), 0) as bigint)
            as present_{{ i }},
        cast(coalesce(sum(row_count) filter (
            where parse_mask & {{ present }} != 0 and parse_mask & {{ unparseable }} = 0
        ), 0) as bigint) as parsed_{{ i }},
        {%- if item.kind in ['timestamp', 'date', 'birth_date'] %}
        cast(coalesce(sum(row_count) filter (
            where parse_mask & {{ segments_parse_mask_bit(entity, item.name, 'after') }} != 0
        ), 0) as bigint) as after_{{ i }},
        {%- else %}
        cast(null as bigint) as after_{{ i }},
        {%- endif %}
        {%- if item.kind in ['number', 'money'] and has_grouped %}
        cast(coalesce(sum(row_count) filter (
            where parse_mask & {{ segments_parse_mask_bit(entity, item.name, 'thousands') }} != 0
        ), 0) as bigint) as grouped_{{ i }},
        {%- else %}
        cast(null as bigint) as grouped_{{ i }},
        {%- endif %}
        {%- endfor %}

    from {{ entity }}_masks

),

{{ entity }}_cited as (

    -- The rows whose mask has a value that does not parse or looks like thousands: their raw
    -- row (raw_record), cleaned as staging cleans it (segments_clean_text).
    select
        parse_mask,
        {%- for entry in masked %}
        {{ segments_clean_text("json_extract_string(raw_record, '$." ~ entry.item.name ~ "')") }}
            as value_{{ entry.i }},
        {%- endfor %}

    from {{ report.checked }}
    where parse_mask & {{ segments_parse_mask_bits(entity, ['unparseable', 'thousands']) }} != 0

),

{{ entity }}_mask_examples as (

    select
        {%- for entry in masked %}
        {%- set item = entry.item %}
        {%- set i = entry.i %}
        list_sort(list_distinct(
            min(value_{{ i }}, 50) filter (
                where parse_mask & {{ segments_parse_mask_bit(entity, item.name, 'unparseable') }} != 0
            )
        ))[1:3] as examples_{{ i }},
        {%- if item.kind in ['number', 'money'] and has_grouped %}
        list_sort(list_distinct(
            min(value_{{ i }}, 50) filter (
                where parse_mask & {{ segments_parse_mask_bit(entity, item.name, 'thousands') }} != 0
            )
        ))[1:3] as grouped_examples_{{ i }},
        {%- else %}
        cast(null as varchar []) as grouped_examples_{{ i }},
        {%- endif %}
        {%- endfor %}

    from {{ entity }}_cited

),

{%- endif %}

{%- if scanned %}

{{ entity }}_text as (

    select
        {%- for entry in scanned %}
        {{ segments_trimmed_text('cast(' ~ entry.item.column ~ ' as varchar)') }} as value_{{ entry.i }},
        {%- endfor %}

    from {{ report.relation }}

),

{%- set value_names = [] %}
{%- for entry in scanned %}{% do value_names.append('value_' ~ entry.i) %}{% endfor %}

{{ entity }}_flagged as (

    select
        *,
        {{ segments_has_control(value_names) }} as has_control,

    from {{ entity }}_text

),

{{ entity }}_cleaned as (

    -- Cleaned as staging cleans (segments_clean_text), only on rows with a control character.
    select
        {%- for name in value_names %}
        {{ segments_clean_text_where('has_control', name) }} as {{ name }},
        {%- endfor %}

    from {{ entity }}_flagged

),

{{ entity }}_parsed as (

    select
        {%- for entry in scanned %}
        value_{{ entry.i }},
        {{ segments_parse_expression(entry.item.kind, 'value_' ~ entry.i, report.rules) }}
            as parsed_{{ entry.i }},
        {%- endfor %}

    from {{ entity }}_cleaned

),

{{ entity }}_scan_aggregate as (

    select
        {%- for entry in scanned %}
        {%- set item = entry.item %}
        {%- set i = entry.i %}
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
        {%- if item.kind in ['number', 'money'] and has_grouped %}
        {#- 1.500 reads as 1.5: right for a US price, wrong for European thousands. #}
        count(*) filter (
            where parsed_{{ i }} is not null and {{ segments_thousands_like('value_' ~ i) }}
        ) as grouped_{{ i }},
        list_sort(list_distinct(
            min(value_{{ i }}, 50) filter (
                where parsed_{{ i }} is not null and {{ segments_thousands_like('value_' ~ i) }}
            )
        ))[1:3] as grouped_examples_{{ i }},
        {%- else %}
        cast(null as bigint) as grouped_{{ i }},
        cast(null as varchar []) as grouped_examples_{{ i }},
        {%- endif %}
        {%- endfor %}

    from {{ entity }}_parsed

),

{%- endif %}

{{ entity }}_aggregate as (

    select *
    {%- set parts = ([entity ~ '_mask_counts', entity ~ '_mask_examples'] if masked else []) + ([entity ~ '_scan_aggregate'] if scanned else []) %}
    from {{ parts | join(' cross join ') }}

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
        grouped_{{ i }} as values_thousands_like,
        nullif(
            array_to_string(
                list_transform(grouped_examples_{{ i }}, lambda x: '''' || x || ''''), ', '
            ),
            ''
        ) as thousands_like_examples,
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
        cast(null as bigint) as values_thousands_like,
        cast(null as varchar) as thousands_like_examples,
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
{% endmacro %}


{% macro segments_parse_reports() %}
    {#-
        The inputs stg_parse_report covers: {entity, columns, rules, relation (the input),
        checked (base_customers_checked / base_order_lines_checked)} per input.
    -#}
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
                'checked': ref('base_customers_checked' if entity == 'customers' else 'base_order_lines_checked'),
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(reports) }}
{% endmacro %}


{% macro segments_tried_datetime_forms(input_name) -%}
    {#-
        SQL: what the date and timestamp columns of the input named by the SQL expression
        `input_name` are tried with, as text (ISO 8601, YYYYMMDD, then each configured format
        quoted), for the message of a column none of whose values parses.
    -#}
    {%- set branches = [] -%}
    {%- for entity in ['customers', 'orders'] -%}
        {%- if segments_input_config(entity) is not none -%}
            {%- set rules = segments_cleaning_rules(entity) -%}
            {%- set forms = ['ISO 8601', 'YYYYMMDD'] -%}
            {%- if rules.timestamp_unit -%}{%- do forms.insert(0, rules.timestamp_unit) -%}{%- endif -%}
            {%- for item in rules.datetime_formats -%}
                {%- do forms.append("'" ~ item ~ "'") -%}
            {%- endfor -%}
            {%- do branches.append("when '" ~ entity ~ "' then " ~ segments_quote_literal(forms | join(', '), 'datetime_formats')) -%}
        {%- endif -%}
    {%- endfor -%}
    case {{ input_name }} {{ branches | join(' ') }} else 'ISO 8601, YYYYMMDD' end
{%- endmacro %}
