{#-
    One row per customer (every row of stg_customers, with or without orders): the features the
    segmentation can use and the EDA tables profile. Order features are absent (not zero) when no
    order input is configured, demographics when no customer input is; category and channel share
    columns exist for the levels found in the data.

    Extending: write a model with one row per customer_id and the new columns, list it in the var
    `segments_extra_feature_models`, and name the columns in `segmentation.features` (docs/layout.md).
    Extra customer attributes configured under segments_inputs (customers.attributes,
    orders.customer_attributes) come from stg_customer_attributes, one column each.
-#}
{%- set has_orders_input = segments_has_input('orders') -%}
{%- set has_customer_input = segments_has_input('customers') -%}
{%- set extra_models = var('segments_extra_feature_models', []) -%}
{%- set attributes = segments_customer_attributes() -%}
{%- set gross_margin = var('segments_gross_margin', 1.0) -%}
{%- if gross_margin is not number or gross_margin <= 0 or gross_margin > 1 -%}
    {{ exceptions.raise_compiler_error("segments_gross_margin: expected a number in (0, 1], got " ~ gross_margin) }}
{%- endif -%}

with

customers as (

    select * from {{ ref('stg_customers') }}

),

orders as (

    select * from {{ ref('int_customer_orders') }}

),

mix as (

    select * from {{ ref('int_customer_mix') }}

),

attributes as (

    select * from {{ ref('stg_customer_attributes') }}

),

{%- for model_name in extra_models %}

extra_{{ loop.index }} as (

    select * from {{ ref(model_name) }}

),
{%- endfor %}

reference as (

    select {{ segments_reference_date() }} as reference_date

),

joined as (

    select
        customers.customer_id,
        reference.reference_date,
        {%- if has_orders_input %}
        coalesce(orders.frequency, 0) > 0 as has_orders,
        cast(coalesce(orders.frequency, 0) as integer) as frequency,
        cast(coalesce(orders.orders_placed, 0) as integer) as orders_placed,
        cast(coalesce(orders.orders_cancelled, 0) as integer) as orders_cancelled,
        cast(coalesce(orders.monetary_value, 0) as double) as monetary_value,
        cast(coalesce(orders.returned_value, 0) as double) as returned_value,
        cast(coalesce(orders.net_revenue, 0) as double) as net_revenue,
        orders.first_order_at,
        orders.last_order_at,
        cast(reference.reference_date - orders.last_order_date as integer)
            as recency_days,
        cast(orders.monetary_value / nullif(orders.frequency, 0) as double)
            as average_order_value,
        cast(
            (orders.last_order_date - orders.first_order_date)
            / nullif(orders.frequency - 1, 0)
            as double
        ) as purchase_cadence_days,
        cast(coalesce(orders.return_rate, 0) as double) as return_rate,
        cast(
            coalesce(orders.orders_cancelled, 0) / nullif(orders.orders_placed, 0) as double
        ) as cancellation_rate,
        cast(
            {{ gross_margin }}
            * coalesce(orders.net_revenue, 0)
            as double
        ) as historical_clv,
        {%- endif %}
        -- Null when neither a signup date nor a purchase is known, not 0 (a null difference
        -- stays null; greatest() would skip it and give 0).
        cast(
            case
                when
                    reference.reference_date
                    < coalesce(customers.signup_date, orders.first_order_date)
                    then 0
                else
                    reference.reference_date
                    - coalesce(customers.signup_date, orders.first_order_date)
            end
            as integer
        ) as tenure_days,
        {%- if has_customer_input %}
        customers.age_years,
        customers.is_age_implausible,
        customers.income,
        customers.gender,
        customers.country,
        customers.region,
        customers.acquisition_channel,
        {%- endif %}
        mix.* exclude (customer_id),  -- noqa: RF02
    {%- for item in attributes %}
        attributes.{{ item.name }},
        {%- endfor %}
    {%- for model_name in extra_models %}
        extra_{{ loop.index }}.* exclude (customer_id),
        {%- endfor %}

    from customers
    cross join reference
    left join orders
        on customers.customer_id = orders.customer_id
    left join mix
        on customers.customer_id = mix.customer_id
    left join attributes
        on customers.customer_id = attributes.customer_id
    {%- for model_name in extra_models %}
    left join extra_{{ loop.index }}
        on customers.customer_id = extra_{{ loop.index }}.customer_id
    {%- endfor %}

),

final as (

    -- Customers without purchases have a spend mix of zero in every level (documented).
    {%- set mix_columns = [] %}
    {%- if execute %}
    {%- for column in adapter.get_columns_in_relation(ref('int_customer_mix')) %}
    {%- if column.name != 'customer_id' %}{% do mix_columns.append(column.name) %}{% endif %}
    {%- endfor %}
    {%- endif %}
    select
        *{% if mix_columns %} replace (
            {%- for name in mix_columns %}
            coalesce({{ name }}, 0) as {{ name }},
            {%- endfor %}
        ){% endif %}
    from joined

)

select * from final
