{#-
    Share of purchase value per product category and per sales channel, one row per customer with
    purchases and one column per level (category_share_<level>, channel_share_<level>). The levels
    are the top var('segments_feature_top_levels') by value, read from the data at run time.
-#}
{%- set top_n = var('segments_feature_top_levels', 8) -%}
{%- set categories = segments_mix_levels('product_category', top_n) -%}
{%- set channels = segments_mix_levels('sales_channel', top_n) -%}

with

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

purchases as (

    select * from order_lines
    where not is_cancelled and not is_return

),

final as (

    select
        customer_id,
        {%- for item in categories %}
        coalesce(
            sum(amount) filter (where product_category = '{{ item.level | replace("'", "''") }}'), 0
        )
        / nullif(sum(amount), 0) as category_share_{{ item.slug }},
        {%- endfor %}
    {%- for item in channels %}
    coalesce(
        sum(amount) filter (where sales_channel = '{{ item.level | replace("'", "''") }}'), 0
    )
    / nullif(sum(amount), 0) as channel_share_{{ item.slug }},
    {%- endfor %}

    from purchases
    group by customer_id

)

select * from final
