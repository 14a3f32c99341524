{#- Helpers of the customer-features layer. -#}

{% macro segments_slug(value) %}
    {#- A level as a column-name suffix: lower case, runs of other characters as one underscore. -#}
    {{ return(modules.re.sub('[^a-z0-9]+', '_', (value | string | lower)).strip('_') or 'blank') }}
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
        select {{ column }} as level
        from {{ ref('stg_order_lines') }}
        where {{ column }} is not null and not is_cancelled and not is_return
        group by 1
        order by sum(amount) desc, 1
        limit {{ top_n | int }}
    {%- endset -%}
    {%- set levels = run_query(query).columns[0].values() | list -%}
    {%- set slugs = [] -%}
    {%- set result = [] -%}
    {%- for level in levels -%}
        {%- set slug = segments_slug(level) -%}
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
