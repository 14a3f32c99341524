{#- Helpers of the customer-features layer. -#}

{% macro segments_slug_sql(expression) %}
    {#-
        SQL: a level as a column-name suffix, by the names.slug rule of config_schema.yml (the
        rule segmentation.names.slugs runs in Python): accents stripped, lower case, runs of
        other characters one underscore, 'blank' when nothing is left.
    -#}
    {{ return(segments_config_schema()['names']['slug'] | replace('{value}', expression)) }}
{% endmacro %}


{% macro segments_mix_levels(column, top_n) %}
    {#-
        The levels of an order-line column (product_category, sales_channel) that get a spend-share
        feature: the top_n by purchase value, in a stable order (value desc, then level). Levels are
        read at execution time, so a new data set gets its own columns without code changes.
    -#}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set query -%}
        select
            {{ column }} as level,
            {{ segments_slug_sql(column) }} as slug,
        from {{ ref('stg_order_lines') }}
        where {{ column }} is not null and not is_cancelled and not is_return
        group by 1
        order by sum(amount) desc, 1
        limit {{ top_n | int }}
    {%- endset -%}
    {%- set rows = run_query(query).rows -%}
    {%- set slugs = [] -%}
    {%- set result = [] -%}
    {%- for row in rows -%}
        {%- set level = row[0] -%}
        {%- set slug = row[1] -%}
        {%- if slug in slugs -%}
            {%- set slug = slug ~ '_' ~ loop.index -%}
        {%- endif -%}
        {%- do slugs.append(slug) -%}
        {%- do result.append({'level': level, 'slug': slug}) -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_has_input(entity) %}
    {{ return(segments_input_config(entity) is not none) }}
{% endmacro %}
