{#- The customers input renamed to the contract's columns, all as trimmed text (nothing parsed
    yet). With no customer input configured, the customers are the distinct ids of the orders. -#}
{%- set relation = segments_input_relation('customers') -%}
{%- set columns = segments_input_columns('customers') -%}
{%- set contract = segments_input_contract('customers') -%}

{%- if relation is none %}

with

orders as (

    select * from {{ ref('base_orders') }}

),

final as (

    select distinct
        customer_id,
        cast(null as varchar) as signup_date,
        cast(null as varchar) as birth_date,
        cast(null as varchar) as age,
        cast(null as varchar) as gender,
        cast(null as varchar) as income,
        cast(null as varchar) as country,
        cast(null as varchar) as region,
        cast(null as varchar) as acquisition_channel,
        'orders' as derived_from,

    from orders
    where customer_id is not null

),

keyed as (

    select
        *,
        {{ segments_row_key(['customer_id', 'derived_from']) }} as source_row_key,
    from final

)

select * from keyed

{%- else %}

with

source as (

    select * from {{ relation }}

),

renamed as (

    select
        {%- for name in contract.required + contract.optional %}
        {{ segments_text(columns, name) }} as {{ name }},
        {%- endfor %}
        'customers' as derived_from,

    from source

),

final as (

    select
        *,
        {{ segments_row_key(contract.required + contract.optional) }} as source_row_key,

    from renamed

)

select * from final

{%- endif %}
