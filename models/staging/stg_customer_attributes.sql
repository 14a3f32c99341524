{#-
    One row per kept customer (the kept rows of base_customers_checked, the customers of
    stg_customers) with the extra attributes of the configuration:

    - segments_inputs.customers.attributes: a column of the customers input, read from the row
      staging kept for the customer (same source_row_key);
    - segments_inputs.orders.customer_attributes: a column of the order lines, aggregated over
      every line of the customer in the orders input, rejected lines included (the country of
      a cancelled order is still the customer's country): most_frequent (ties by the smallest
      value), or for numeric attributes mean, min or max.

    Numeric values are parsed like every number of staging (segments_parse_number); a value that
    is given but is not a number becomes null and is_<name>_unparseable is true (for an order
    attribute: on any of the customer's lines; null for a customer without order lines).
    Categorical values are trimmed text. A derived attribute ({expression: ..., type: numeric},
    macros/expressions.sql) is its checked expression over the parsed input columns; it is null
    when a column it reads is null (as SQL arithmetic is), and is_<name>_unparseable is true when
    a column it reads is given but is not a number. Without attributes, the model is the list of
    customer ids; customer_features joins the attribute columns (not the flags).
-#}
{%- set customer_attributes = segments_input_attributes('customers') -%}
{%- set order_attributes = segments_input_attributes('orders') -%}
{%- set customer_number_format = segments_cleaning_rules('customers').number_format -%}
{%- set order_number_format = segments_cleaning_rules('orders').number_format -%}
{#- Fails when a name is an attribute of both inputs. -#}
{%- do segments_customer_attributes() -%}
-- depends_on: {{ ref('stg_input_checks') }}

with

customers as (

    select
        customer_id,
        source_row_key,

    from {{ ref('base_customers_checked') }}
    where reject_reason is null

),

customer_ids as (

    select customer_id from customers

),

{%- if customer_attributes %}
{%- set columns = segments_input_columns('customers') %}

customer_rows as (

    select
        {{ segments_source_row_key('customers', columns) }} as source_row_key,
        {%- for item in customer_attributes %}
        {%- if item.expression %}
        -- Derived: {{ item.name }} = the checked expression over parsed input columns.
        {{ item.expression }} as {{ item.name }}_value,
        {%- for source in item.source_columns %}
        {%- set text = segments_clean_text(segments_quote_column(source)) %}
        ({{ text }} is not null and {{ segments_parse_number(text, customer_number_format) }} is null)
        {{- ' or' if not loop.last else ' as ' ~ item.name ~ '_unparseable,' }}
        {%- endfor %}
        cast({{ item.name }}_value as varchar) as {{ item.name }}_text,
        {%- else %}
        {{ segments_clean_text(item.column) }} as {{ item.name }}_text,
        {%- endif %}
        {%- endfor %}

    from {{ segments_input_relation('customers') }}

),

customer_values as (

    -- The kept row of each customer (exact copies share its source_row_key: the first one by
    -- attribute text, the same every run).
    select
        customers.customer_id,
        {%- for item in customer_attributes %}
        {%- if item.expression %}
        customer_rows.{{ item.name }}_value as {{ item.name }},
        customer_rows.{{ item.name }}_unparseable as is_{{ item.name }}_unparseable,
        {%- elif item.type == 'numeric' %}
        {{ segments_parse_number('customer_rows.' ~ item.name ~ '_text', customer_number_format) }} as {{ item.name }},
        customer_rows.{{ item.name }}_text is not null
        and {{ segments_parse_number('customer_rows.' ~ item.name ~ '_text', customer_number_format) }} is null
            as is_{{ item.name }}_unparseable,
        {%- else %}
        customer_rows.{{ item.name }}_text as {{ item.name }},
        {%- endif %}
        {%- endfor %}

    from customers
    inner join customer_rows
        on customers.source_row_key = customer_rows.source_row_key
    qualify row_number() over (
        partition by customers.customer_id
        order by
            {%- for item in customer_attributes %}
            customer_rows.{{ item.name }}_text{{ ',' if not loop.last }}
            {%- endfor %}
    ) = 1

),

{%- endif %}

{%- if order_attributes %}
{%- set order_columns = segments_input_columns('orders') %}

order_rows as (

    select
        {{ segments_clean_id(segments_clean_text(order_columns.customer_id)) }} as customer_id,
        {%- for item in order_attributes %}
        {{ segments_clean_text(item.column) }} as {{ item.name }}_text,
        {%- endfor %}

    from {{ segments_input_relation('orders') }}

),

{%- for item in order_attributes %}

attribute_{{ item.name }}_lines as (

    select
        customer_id,
        {{ item.name }}_text as value_text,
        {%- if item.type == 'numeric' %}
        {{ segments_parse_number(item.name ~ '_text', order_number_format) }} as value,
        {%- else %}
        {{ item.name }}_text as value,
        {%- endif %}

    from order_rows
    where customer_id is not null

),

{%- if item.aggregate == 'most_frequent' %}

attribute_{{ item.name }}_counts as (

    select
        customer_id,
        value,
        count(*) as lines,

    from attribute_{{ item.name }}_lines
    where value is not null
    group by customer_id, value

),

attribute_{{ item.name }}_values as (

    -- The most frequent value; ties by the smallest value.
    select
        customer_id,
        value as {{ item.name }},

    from attribute_{{ item.name }}_counts
    qualify row_number() over (partition by customer_id order by lines desc, value asc) = 1

),

{%- else %}

attribute_{{ item.name }}_values as (

    select
        customer_id,
        {{ item.aggregate | replace('mean', 'avg') }}(value) as {{ item.name }},

    from attribute_{{ item.name }}_lines
    group by customer_id

),

{%- endif %}

{%- if item.type == 'numeric' %}

attribute_{{ item.name }}_flags as (

    select
        customer_id,
        bool_or(value_text is not null and value is null) as is_{{ item.name }}_unparseable,

    from attribute_{{ item.name }}_lines
    group by customer_id

),

{%- endif %}

{%- endfor %}

{%- endif %}

final as (

    select *
    from customer_ids
    {%- if customer_attributes %}
    left join customer_values using (customer_id)
    {%- endif %}
    {%- for item in order_attributes %}
    left join attribute_{{ item.name }}_values using (customer_id)
    {%- if item.type == 'numeric' %}
    left join attribute_{{ item.name }}_flags using (customer_id)
    {%- endif %}
    {%- endfor %}

)

select * from final
