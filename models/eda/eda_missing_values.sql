{#-
    Missing values per column at each stage of the flow: 'raw' (base_customers, base_orders: the
    inputs as text, where an empty or blank value counts as missing), 'clean' (stg_customers,
    stg_order_lines: typed; a value that could not be parsed is null there) and 'features'
    (customer_features). Columns are read from each relation at execution time; the row
    bookkeeping columns source_row_key and derived_from are left out.
    provided: the input has the column. At the raw and clean stages a contract column is provided
    when the configuration maps it (segments_inputs.<input>.columns) or it has a value anyway
    (derived in staging: amount from quantity x unit_price, line_number, status, customers derived
    from the orders); a column neither mapped nor ever filled is a placeholder of the contract.
    At the features stage a column is provided when some customer has a value.
    The raw counts are read from present_mask of base_customers_checked / base_order_lines_checked
    (one bit per contract column, set when the base_* value is non-blank text), which those
    models write while they read every row: no second scan of the inputs' text.
-#}
{%- set stages = [
    {'stage': 'raw', 'relation': ref('base_customers'), 'table_name': 'base_customers', 'entity': 'customers', 'checked': ref('base_customers_checked')},
    {'stage': 'raw', 'relation': ref('base_orders'), 'table_name': 'base_orders', 'entity': 'orders', 'checked': ref('base_order_lines_checked')},
    {'stage': 'clean', 'relation': ref('stg_customers'), 'table_name': 'stg_customers', 'entity': 'customers'},
    {'stage': 'clean', 'relation': ref('stg_order_lines'), 'table_name': 'stg_order_lines', 'entity': 'orders'},
    {'stage': 'features', 'relation': ref('customer_features'), 'table_name': 'customer_features', 'entity': none},
] -%}
{#- The inputs' relations, so dbt knows the refs segments_input_columns reads (mapped columns). -#}
{%- set customers_input = segments_input_relation('customers') -%}
{%- set orders_input = segments_input_relation('orders') -%}
{%- set skipped_columns = ['source_row_key', 'derived_from'] -%}
{%- for stage in stages -%}
{%- do stage.update({'columns': segments_eda_relation_columns(stage.relation, skipped_columns)}) -%}
{%- do stage.update({'mapped': segments_input_columns(stage.entity) if stage.entity else {}}) -%}
{%- endfor %}

with

{% for stage in stages -%}
{%- if stage.stage == 'raw' %}
{%- set contract = segments_input_contract(stage.entity) %}
{%- set contract_columns = contract.required + contract.optional %}
{{ stage.table_name }}_masks as (

    -- Rows per distinct present_mask: a handful of values, whatever the number of rows.
    select
        present_mask,
        count(*) as row_count,

    from {{ stage.checked }}
    group by all

),

{{ stage.table_name }}_counts as (

    select
        {{ segments_eda_literal(stage.stage) }} as stage,
        {{ segments_eda_literal(stage.table_name) }} as table_name,
        {%- for name in stage.columns %}
        {%- if name not in contract_columns %}
        {{ exceptions.raise_compiler_error("eda_missing_values: " ~ stage.table_name ~ "." ~ name ~ " is not a contract column (present_mask has no bit for it)") }}
        {%- endif %}
        {%- set bit = 2 ** contract_columns.index(name) %}
        cast(coalesce(
            sum(row_count) filter (where present_mask & {{ bit }} != 0), 0
        ) as bigint) as column_{{ loop.index }},
        {%- endfor %}
        cast(coalesce(sum(row_count), 0) as bigint) as row_count

    from {{ stage.table_name }}_masks

),
{%- else %}
{{ stage.table_name }}_counts as (

    select
        {{ segments_eda_literal(stage.stage) }} as stage,
        {{ segments_eda_literal(stage.table_name) }} as table_name,
        {%- for name in stage.columns %}
        count({{ segments_eda_identifier(name) }}) as column_{{ loop.index }},
        {%- endfor %}
        count(*) as row_count

    from {{ stage.relation }}

),
{%- endif %}

{{ stage.table_name }}_columns as (

    select
        stage,
        table_name,
        row_count,
        unnest([
            {%- for name in stage.columns %}
            struct_pack(
                column_name := {{ segments_eda_literal(name) }},
                column_position := {{ loop.index }},
                non_missing_count := column_{{ loop.index }},
                mapped := {{ 'true' if stage.mapped.get(name) is not none else 'false' }}
            ){{ ',' if not loop.last }}
            {%- endfor %}
        ]) as entry

    from {{ stage.table_name }}_counts

),

{% endfor -%}

unioned as (

    {%- for stage in stages %}
    select * from {{ stage.table_name }}_columns
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        stage,
        table_name,
        entry['column_name'] as column_name,
        cast(entry['column_position'] as integer) as column_position,
        row_count as count,
        row_count - entry['non_missing_count'] as missing_count,
        case
            when row_count > 0 then (row_count - entry['non_missing_count']) / row_count
        end as missing_share,
        entry['mapped'] or entry['non_missing_count'] > 0 as provided,

    from unioned

)

select * from final
