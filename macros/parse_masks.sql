{#-
    The per-row bitmasks of the checked staging models (base_customers_checked,
    base_order_lines_checked): present_mask (which contract columns have a value) and parse_mask
    (which parsed columns are present, do not parse, are dates after the latest plausible date,
    look like thousands). stg_parse_report and eda_missing_values aggregate them instead of
    reading and parsing the inputs a second time.
-#}

{% macro segments_mask_columns(entity) %}
    {#-
        The contract columns of one input that base_*_checked parses, as (name, kind) in the
        order of their bits in parse_mask: column j has the bits 4j (present: text after
        cleaning), 4j + 1 (does not parse), 4j + 2 (a date after the latest plausible date),
        4j + 3 (a thousands-like number, only without rules.number_format).
    -#}
    {{ return({
        'customers': [('signup_date', 'date'), ('birth_date', 'birth_date'), ('age', 'number'),
                      ('income', 'number')],
        'orders': [('ordered_at', 'timestamp'), ('line_number', 'integer'),
                   ('quantity', 'number'), ('unit_price', 'number'), ('amount', 'money')],
    }[entity]) }}
{% endmacro %}


{% macro segments_parse_mask_bit(entity, name, fact) %}
    {#- The value of the parse_mask bit of column `name` and `fact` (present, unparseable, after, thousands). -#}
    {%- set names = segments_mask_columns(entity) | map(attribute=0) | list -%}
    {{ return(2 ** (4 * names.index(name) + ['present', 'unparseable', 'after', 'thousands'].index(fact))) }}
{% endmacro %}


{% macro segments_parse_mask_bits(entity, facts) %}
    {#- The sum of the parse_mask bits of every column for the given facts. -#}
    {%- set total = namespace(value=0) -%}
    {%- for name, kind in segments_mask_columns(entity) -%}
        {%- for fact in facts -%}
            {%- set total.value = total.value + segments_parse_mask_bit(entity, name, fact) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(total.value) }}
{% endmacro %}


{% macro segments_thousands_like(text) -%}
    {#-
        True when the text looks like thousands grouped with '.' and no decimals (1.500,
        12.250.000); the cheap suffix test first, the regular expression only where it passes.
    -#}
    coalesce(
        case
            when {{ text }} like '%.___'
                then regexp_full_match({{ text }}, '[+-]?[1-9][0-9]{0,2}([.][0-9]{3})+')
        end,
        false
    )
{%- endmacro %}


{% macro segments_parse_mask(entity, values, number_format, latest) -%}
    {#-
        SQL: base_*_checked.parse_mask (integer) of one row, bits as in segments_mask_columns.
        values: per column name [text (cleaned), parsed value, and for dates the date compared
        with latest]; `latest` a segments_latest_order_date.
    -#}
    (
        {%- for name, kind in segments_mask_columns(entity) %}
        {%- set text, parsed = values[name][0], values[name][1] %}
        {%- set date = values[name][2] if values[name] | length > 2 else none %}
        {{ '| ' if not loop.first }}case when {{ text }} is not null then {{ segments_parse_mask_bit(entity, name, 'present') }} else 0 end
        | case when {{ text }} is not null and {{ parsed }} is null then {{ segments_parse_mask_bit(entity, name, 'unparseable') }} else 0 end
        {%- if date is not none %}
        | case when {{ date }} > {{ latest.expression }} then {{ segments_parse_mask_bit(entity, name, 'after') }} else 0 end
        {%- endif %}
        {%- if kind in ['number', 'money'] and number_format is none %}
        | case
            when {{ parsed }} is not null and {{ segments_thousands_like(text) }}
                then {{ segments_parse_mask_bit(entity, name, 'thousands') }}
            else 0
        end
        {%- endif %}
        {%- endfor %}
    )
{%- endmacro %}


{% macro segments_present_mask(names) -%}
    {#-
        SQL: base_*_checked.present_mask (integer) of one row: bit i (value 2^i) is set when the
        i-th of `names` (the contract columns of base_*, in contract order) has a value (non-blank
        trimmed text, before control characters are cleaned).
    -#}
    (
        {%- for name in names %}
        {{ '| ' if not loop.first }}case when {{ name }} is not null then {{ 2 ** loop.index0 }} else 0 end
        {%- endfor %}
    )
{%- endmacro %}

