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
    {%- set defaults = {
        'unparseable_warn_share': 0.05,
        'reject_warn_share': 0.1,
        'reject_error_share': 0.5,
    } -%}
    {%- set value = var('segments_input_checks', {}) or {} -%}
    {%- if value is not mapping -%}
        {{ exceptions.raise_compiler_error("var segments_input_checks: expected a mapping with some of " ~ defaults.keys() | join(', ') ~ ", got " ~ value) }}
    {%- endif -%}
    {%- set result = {} -%}
    {%- for name in value -%}
        {%- if name not in defaults -%}
            {{ exceptions.raise_compiler_error("var segments_input_checks: unknown key '" ~ name ~ "'; expected some of " ~ defaults.keys() | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for name, default in defaults.items() -%}
        {%- set share = value.get(name, default) -%}
        {%- if share is not number or share is boolean or share < 0 or share > 1 -%}
            {{ exceptions.raise_compiler_error("var segments_input_checks." ~ name ~ ": expected a share between 0 and 1, got " ~ share) }}
        {%- endif -%}
        {%- do result.update({name: share}) -%}
    {%- endfor -%}
    {%- if result.reject_warn_share > result.reject_error_share -%}
        {{ exceptions.raise_compiler_error("var segments_input_checks.reject_warn_share: " ~ result.reject_warn_share ~ " is above reject_error_share " ~ result.reject_error_share) }}
    {%- endif -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_parsed_columns(entity) %}
    {#-
        The mapped columns of one input that staging parses, as a list of
        {name, column (the cleaned text expression's source), kind, key (the rule that fixes it)}:
        dates/timestamps, numbers and numeric attributes. Empty for an input that is not
        configured. Must parse exactly like stg_*__checked / stg_customer_attributes.
    -#}
    {%- set result = [] -%}
    {%- if segments_input_config(entity) is none -%}
        {{ return(result) }}
    {%- endif -%}
    {%- set columns = segments_input_columns(entity) -%}
    {%- set rules_key = 'segments_inputs.' ~ entity ~ '.rules' -%}
    {%- set kinds = {
        'customers': [('signup_date', 'date'), ('birth_date', 'birth_date'), ('age', 'number'),
                      ('income', 'number')],
        'orders': [('ordered_at', 'timestamp'), ('line_number', 'integer'),
                   ('quantity', 'number'), ('unit_price', 'number'), ('amount', 'money')],
    }[entity] -%}
    {%- for name, kind in kinds -%}
        {%- if columns[name] is not none -%}
            {%- if kind in ['date', 'birth_date', 'timestamp'] -%}
                {%- set key = rules_key ~ '.datetime_formats' -%}
            {%- elif kind == 'integer' -%}
                {%- set key = 'segments_inputs.' ~ entity ~ '.columns.' ~ name -%}
            {%- else -%}
                {%- set key = rules_key ~ '.number_format' -%}
            {%- endif -%}
            {%- do result.append({'name': name, 'column': columns[name], 'kind': kind, 'key': key}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for item in segments_input_attributes(entity) -%}
        {%- if item.type == 'numeric' -%}
            {%- do result.append({'name': item.name, 'column': item.column, 'kind': 'number', 'key': rules_key ~ '.number_format'}) -%}
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
