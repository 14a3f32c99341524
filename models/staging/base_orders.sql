{#- The orders input renamed to the contract's columns, all as trimmed text (nothing parsed
    yet). With no order input configured, an empty relation with the same columns. -#}
{%- set relation = segments_input_relation('orders') -%}
{%- set columns = segments_input_columns('orders') -%}
{%- set contract = segments_input_contract('orders') -%}

with

{%- if relation is none %}

renamed as (

    select
        {%- for name in contract.required + contract.optional %}
        cast(null as varchar) as {{ name }},
        {%- endfor %}

    where false

),

{%- else %}

source as (

    select * from {{ relation }}

),

renamed as (

    select
        {%- for name in contract.required + contract.optional %}
        {%- if not loop.first %},{% endif %}
        {{ segments_text(columns, name) }} as {{ name }}
        {%- endfor %}
    from source

),

{%- endif %}

final as (

    select
        *,
        {{ segments_row_key(contract.required + contract.optional) }} as source_row_key,

    from renamed

)

select * from final
