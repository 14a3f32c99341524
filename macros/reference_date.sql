{#-
    The reference date of recency, tenure and age, as a SQL date expression. In order:

    1. the var `segments_reference_date` (YYYY-MM-DD) when it is set;
    2. else the day after the last order_date of the usable order lines (the rows of
       base_order_lines_resolved without a reject reason: the lines of stg_order_lines, read
       before the stg_input_checks gate so that stg_customers need not wait for stg_order_lines);
    3. else (no order lines at all) the day after the last signup_date of the kept customers;
    4. else (neither orders nor signup dates) current_date: results then depend on the day of the
       run, so set the var for reproducible results.

    The refs are registered whatever the var says, so the DAG does not change with it.
-#}

{% macro segments_reference_date() %}
    {%- set order_lines = ref('base_order_lines_resolved') -%}
    {%- set customers = ref('base_customers_checked') -%}
    {%- set value = var('segments_reference_date', none) -%}
    {%- if value is not none -%}
        {{ return("date '" ~ segments_validated_date(value, 'segments_reference_date') ~ "'") }}
    {%- endif -%}
    {%- set expression -%}
        cast(coalesce(
            (select max(order_date) + 1 from {{ order_lines }} where reject_reason is null),
            (select max(signup_date) + 1 from {{ customers }} where reject_reason is null),
            current_date
        ) as date)
    {%- endset -%}
    {{ return(expression) }}
{% endmacro %}


{% macro segments_validated_date(value, name) %}
    {#- value (a string or a YAML date) as 'YYYY-MM-DD', or a compile error naming var and value. -#}
    {%- set text = value | string | trim -%}
    {%- set match = modules.re.match('^([0-9]{4})-([0-9]{2})-([0-9]{2})$', text) -%}
    {%- set ns = namespace(valid=false) -%}
    {%- if match -%}
        {%- set year, month, day = match.group(1) | int, match.group(2) | int, match.group(3) | int -%}
        {%- if year >= 1 and 1 <= month <= 12 and day >= 1 -%}
            {%- set first_of_next = modules.datetime.date(year + (month // 12), month % 12 + 1, 1) if year < 9999 or month < 12 else none -%}
            {%- set last_day = (first_of_next - modules.datetime.timedelta(days=1)).day if first_of_next else 31 -%}
            {%- set ns.valid = day <= last_day -%}
        {%- endif -%}
    {%- endif -%}
    {%- if not ns.valid -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ ": expected a date as YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text) }}
{% endmacro %}


{% macro segments_latest_order_date() %}
    {#-
        The last plausible order date, for the staging check future_ordered_at (an order line
        dated after it is rejected): the var segments_reference_date when it is set, else the date
        of the build (current_date). Not the default reference date, which is derived from the
        order lines themselves: one line dated 2999 would otherwise move it and pass its own check.
        Returns {'expression': SQL date, 'description': words for the reject detail}.
    -#}
    {%- set value = var('segments_reference_date', none) -%}
    {%- if value is not none -%}
        {%- set text = segments_validated_date(value, 'segments_reference_date') -%}
        {{ return({
            'expression': "date '" ~ text ~ "'",
            'description': "'the reference date " ~ text ~ " (var segments_reference_date)'",
        }) }}
    {%- endif -%}
    {{ return({
        'expression': 'current_date',
        'description': "'the build date ' || strftime(current_date, '%Y-%m-%d') || ' (var segments_reference_date is not set)'",
    }) }}
{% endmacro %}
