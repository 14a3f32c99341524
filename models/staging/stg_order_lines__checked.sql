{#-
    Every row of base_orders, parsed and normalised, with the reason it is rejected (null when
    it is kept). stg_order_lines keeps the rows without a reason, rejects lists the others.
    Reasons, the first that applies:
        missing_customer_id     no customer id
        missing_ordered_at      no timestamp
        unparseable_ordered_at  a timestamp that is not ISO 8601, YYYYMMDD or a configured format
        future_ordered_at       a date after var segments_reference_date when it is set, else
                                after the build date (macro segments_latest_order_date; not the
                                default reference date, which the order dates themselves move)
        ordered_at_before_1970  a timestamp before 1970-01-01 (a placeholder date, not an order)
        unparseable_line_number a line number that is not an integer
        unparseable_quantity    a quantity that is not a number
        unparseable_unit_price  a unit price that is not a number
        unparseable_amount      an amount that is not a number (or beyond decimal(18, 2))
        missing_amount          no amount, and no quantity and unit price to compute it from
        unknown_status          a status that is no spelling of completed, cancelled, returned
        non_positive_quantity   quantity <= 0 on a line that is neither cancelled nor returned
                                (only when rules.reject_non_positive lists quantity)
        non_positive_unit_price unit_price <= 0 on such a line (rules.reject_non_positive lists
                                unit_price)
        non_positive_amount     amount <= 0 on such a line (rules.reject_non_positive lists
                                amount): a negative amount is then not an implicit return
        zero_amount             a completed line whose value is exactly 0 (the amount given, or
                                quantity * unit_price when there is none): not a purchase.
                                rules.reject_zero_amount: false keeps such lines (a line of
                                0.001 that rounds to 0.00 is kept either way)
        unknown_customer_id     a customer id that no kept customer row has (only when a
                                customer input is configured)
        order_id_conflict       a given order_id whose otherwise usable lines name more than
                                one customer: the customer with the most of those lines keeps
                                them and the others' lines are rejected; when several customers
                                tie for the most, every line of the order is rejected
        duplicate_order_line    an exact copy (same source_row_key) of a usable row; one copy
                                is kept (copies of an unusable row get that row's reason). With
                                rules.deduplicate_exact_lines: false every copy is kept.
    Derived values: a missing order_id is customer_id || '@' || ordered_at (ISO, seconds); a
    missing line_number is the rank of the row's source_row_key within its order; a missing
    amount is round(quantity * unit_price, 2). With rules.deduplicate_exact_lines: false, the
    copies of a row without a line number get consecutive line numbers.
    rules.cancelled_when {column, prefix}: a line whose contract column starts with the prefix
    has status cancelled, whatever its status column says (is_cancelled_by_rule).
-#}
{%- set rules = segments_cleaning_rules('orders') -%}
{%- set contract = segments_input_contract('orders') -%}
{%- set has_customer_input = segments_input_config('customers') is not none -%}
{%- set deduplicate = rules.deduplicate_exact_lines -%}
{%- set latest_order_date = segments_latest_order_date() -%}
{%- set cancelled_when = rules.cancelled_when -%}
{%- if cancelled_when is not none -%}
    {%- set cancel_key = 'segments_inputs.orders.rules.cancelled_when.prefix' -%}
    {%- set is_cancelled_by_rule -%}
        starts_with({{ cancelled_when.column }}, {{ segments_quote_literal(cancelled_when.prefix, cancel_key) }})
    {%- endset -%}
{%- endif -%}

with

base_orders as (

    select * from {{ ref('base_orders') }}

),

customers as (

    select * from {{ ref('stg_customers__checked') }}

),

kept_customers as (

    select customer_id from customers
    where reject_reason is null

),

distinct_rows as (

    -- Exact copies share source_row_key: parse each distinct raw row once, count its copies.
    select
        source_row_key,
        {%- for name in contract.required + contract.optional %}
        {{ name }},
        {%- endfor %}
        count(*) as copies,

    from base_orders
    group by all

),

cleaned as (

    select
        source_row_key,
        copies,
        {%- for name in contract.required + contract.optional %}
        {{ segments_clean_text(name) }} as {{ name }},
        {%- endfor %}

    from distinct_rows

),

parsed as (

    select
        source_row_key,
        copies,
        order_id as order_id_text,
        line_number as line_number_text,
        {{ segments_clean_id('customer_id') }} as customer_id,
        ordered_at as ordered_at_text,
        {{ segments_parse_timestamp('ordered_at', rules.datetime_formats) }} as ordered_at,
        {{ segments_parse_integer('line_number') }} as line_number_value,
        {{ segments_clean_lower('product_category') }} as product_category,
        {{ segments_clean_lower('sales_channel') }} as sales_channel,
        quantity as quantity_text,
        {{ segments_parse_number('quantity') }} as quantity,
        unit_price as unit_price_text,
        {{ segments_parse_number('unit_price') }} as unit_price,
        amount as amount_text,
        {{ segments_parse_money('amount') }} as amount_value,
        status as status_text,
        {%- if cancelled_when is not none %}
        coalesce({{ is_cancelled_by_rule }}, false) as is_cancelled_by_rule,
        case
            when {{ is_cancelled_by_rule }} then 'cancelled'
            else {{ segments_clean_status('status', rules.status_values) }}
        end as status,
        {%- else %}
        false as is_cancelled_by_rule,
        {{ segments_clean_status('status', rules.status_values) }} as status,
        {%- endif %}

    from cleaned

),

derived as (

    select
        *,
        coalesce(
            order_id_text,
            customer_id || '@' || strftime(ordered_at, '%Y-%m-%dT%H:%M:%S')
        ) as order_id,
        coalesce(
            amount_value,
            case
                when amount_text is null
                    then try_cast(round(quantity * unit_price, 2) as decimal(18, 2))
            end
        ) as amount,
        amount_text is null and quantity is not null and unit_price is not null
            as is_amount_derived,

    from parsed

),

derived_line_numbers as (

    -- Lines without a line number are numbered by source_row_key within their order. When exact
    -- copies are kept, each copy takes a number: first_copy_line_number is the first copy's.
    select
        source_row_key,
        row_number() over (partition by order_id order by source_row_key) as line_number,
        coalesce(
            sum(copies) over (
                partition by order_id order by source_row_key
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) + 1 as first_copy_line_number,

    from derived
    where line_number_text is null

),

numbered as (

    select
        derived.*,
        coalesce(
            derived.line_number_value,
            derived_line_numbers.{{ 'line_number' if deduplicate else 'first_copy_line_number' }}
        ) as line_number,
        derived.line_number_text is null as is_line_number_derived,

    from derived
    left join derived_line_numbers
        on derived.source_row_key = derived_line_numbers.source_row_key

),

content_checked as (

    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when ordered_at_text is null then 'missing_ordered_at'
            when ordered_at is null then 'unparseable_ordered_at'
            when cast(ordered_at as date) > {{ latest_order_date.expression }}
                then 'future_ordered_at'
            when ordered_at < timestamp '1970-01-01' then 'ordered_at_before_1970'
            when line_number is null then 'unparseable_line_number'
            when quantity_text is not null and quantity is null then 'unparseable_quantity'
            when unit_price_text is not null and unit_price is null then 'unparseable_unit_price'
            when amount_text is not null and amount_value is null then 'unparseable_amount'
            when amount is null then 'missing_amount'
            when status is null then 'unknown_status'
            {%- if 'quantity' in rules.reject_non_positive %}
            when quantity <= 0 and status = 'completed' then 'non_positive_quantity'
            {%- endif %}
            {%- if 'unit_price' in rules.reject_non_positive %}
            when unit_price <= 0 and status = 'completed' then 'non_positive_unit_price'
            {%- endif %}
            {%- if 'amount' in rules.reject_non_positive %}
            when amount <= 0 and status = 'completed' then 'non_positive_amount'
            {%- endif %}
            {%- if rules.reject_zero_amount %}
            when
                status = 'completed'
                and coalesce(try_cast(amount_text as double), quantity * unit_price) = 0
                then 'zero_amount'
            {%- endif %}
            {%- if has_customer_input %}
            when customer_id not in (select kept.customer_id from kept_customers as kept)
                then 'unknown_customer_id'
            {%- endif %}
        end as content_reason,

    from numbered

),

shared_orders as (

    -- Given order ids whose usable lines name more than one customer (derived ids cannot).
    select order_id
    from content_checked
    where content_reason is null and order_id_text is not null
    group by order_id
    having min(customer_id) != max(customer_id)

),

order_customers as (

    select
        content_checked.order_id,
        content_checked.customer_id,
        count(*) as customer_lines,

    from content_checked
    inner join shared_orders
        on content_checked.order_id = shared_orders.order_id
    where content_checked.content_reason is null
    group by all

),

ranked_order_customers as (

    select
        *,
        count(*) over (partition by order_id) as order_customer_count,
        sum(customer_lines) over (partition by order_id) as order_lines,
        count(*) over (partition by order_id, customer_lines) as customers_with_as_many_lines,
        rank() over (partition by order_id order by customer_lines desc) as customer_rank,

    from order_customers

),

order_conflicts as (

    -- One row per customer of a shared order; is_owner: the one customer with the most lines.
    select
        order_id,
        customer_id,
        order_customer_count,
        order_lines,
        customer_rank = 1 and customers_with_as_many_lines = 1 as is_owner,
        max(
            case
                when customer_rank = 1 and customers_with_as_many_lines = 1
                    then customer_id
            end
        ) over (partition by order_id) as owner_customer_id,
        max(case when customer_rank = 1 then customer_lines end) over (
            partition by order_id
        ) as owner_lines,

    from ranked_order_customers

),

checked as (

    select
        content_checked.* exclude (content_reason),
        coalesce(
            content_checked.content_reason,
            case when not order_conflicts.is_owner then 'order_id_conflict' end
        ) as content_reason,
        order_conflicts.order_customer_count,
        order_conflicts.order_lines,
        order_conflicts.owner_customer_id,
        order_conflicts.owner_lines,

    from content_checked
    left join order_conflicts
        on
            content_checked.order_id = order_conflicts.order_id
            and content_checked.customer_id = order_conflicts.customer_id

),

extra_copies as (

    -- copies - 1 rows for each distinct row that was exported more than once.
    select
        *,
        unnest(range(copies - 1)) as copy_index,

    from checked
    where copies > 1

),

all_copies as (

    -- One row per raw row again: the first copy keeps the content reason (null when usable),
    -- the other copies of a usable row are duplicate_order_line (or kept, when exact copies
    -- are not deduplicated). copy_number: 0 for the first copy, 1, 2, ... for the others.
    select
        *,
        0 as copy_number,
        content_reason as reject_reason,

    from checked

    union all

    select
        * exclude (copy_index),
        copy_index + 1 as copy_number,
        -- Without deduplication (rules.deduplicate_exact_lines: false) the copy is a line.
        coalesce(content_reason, {{ "'duplicate_order_line'" if deduplicate else 'null' }})
            as reject_reason,

    from extra_copies

),

rejected_keys as (

    select distinct source_row_key from all_copies
    where reject_reason is not null

),

rejected_rows as (

    select distinct_rows.*
    from distinct_rows
    inner join rejected_keys
        on distinct_rows.source_row_key = rejected_keys.source_row_key

),

raw_records as (

    -- The raw row as JSON text, for the rows that are rejected.
    select
        source_row_key,
        {{ segments_raw_record(segments_raw_columns('orders'), 'true') }} as raw_record,

    from rejected_rows

),

with_raw_records as (

    select
        all_copies.*,
        -- Kept copies without a line number of their own take the following numbers.
        all_copies.line_number
        + case
            when {{ 'false' if deduplicate else 'true' }} and all_copies.is_line_number_derived
                then all_copies.copy_number
            else 0
        end as line_number_out,
        raw_records.raw_record,

    from all_copies
    left join raw_records
        on all_copies.source_row_key = raw_records.source_row_key

),

final as (

    select
        md5(
            concat_ws('|', order_id, line_number_out, source_row_key, nullif(copy_number, 0))
        ) as order_line_key,
        order_id,
        cast(line_number_out as integer) as line_number,
        customer_id,
        ordered_at,
        cast(ordered_at as date) as order_date,
        product_category,
        sales_channel,
        quantity,
        amount,
        status,
        status = 'cancelled' as is_cancelled,
        is_cancelled_by_rule,
        coalesce(status = 'returned' or amount < 0, false) as is_return,
        is_amount_derived,
        source_row_key,
        reject_reason,
        case reject_reason
            when 'missing_customer_id' then 'customer_id is missing'
            when 'missing_ordered_at' then 'ordered_at is missing'
            when 'unparseable_ordered_at'
                then 'ordered_at = ' || {{ segments_quoted_value('ordered_at_text') }}
                    || ' is not a timestamp'
            when 'future_ordered_at'
                then 'ordered_at = ' || {{ segments_quoted_value('ordered_at_text') }}
                    || ' is after ' || {{ latest_order_date.description }}
            when 'ordered_at_before_1970'
                then 'ordered_at = ' || {{ segments_quoted_value('ordered_at_text') }}
                    || ' is before 1970-01-01'
            when 'unparseable_line_number'
                then 'line_number = ' || {{ segments_quoted_value('line_number_text') }}
                    || ' is not an integer'
            when 'unparseable_quantity'
                then 'quantity = ' || {{ segments_quoted_value('quantity_text') }}
                    || ' is not a number'
            when 'unparseable_unit_price'
                then 'unit_price = ' || {{ segments_quoted_value('unit_price_text') }}
                    || ' is not a number'
            when 'unparseable_amount'
                then 'amount = ' || {{ segments_quoted_value('amount_text') }}
                    || ' is not a number in the range of decimal(18, 2)'
            when 'missing_amount'
                then 'amount is missing and quantity * unit_price cannot replace it (quantity = '
                    || {{ segments_quoted_value('quantity_text') }} || ', unit_price = '
                    || {{ segments_quoted_value('unit_price_text') }} || ')'
            when 'unknown_status'
                then 'status = ' || {{ segments_quoted_value('status_text') }}
                    || ' is not a spelling of completed, cancelled or returned'
            when 'non_positive_quantity'
                then 'quantity = ' || {{ segments_quoted_value('quantity_text') }}
                    || ' is not positive (rules.reject_non_positive)'
            when 'non_positive_unit_price'
                then 'unit_price = ' || {{ segments_quoted_value('unit_price_text') }}
                    || ' is not positive (rules.reject_non_positive)'
            when 'non_positive_amount'
                then 'amount = ' || {{ segments_quoted_value('amount') }}
                    || ' is not positive (rules.reject_non_positive)'
            when 'zero_amount'
                then 'amount = ' || {{ segments_quoted_value('amount') }}
                    || ' on a completed line is not a purchase (rules.reject_zero_amount)'
            when 'order_id_conflict'
                then 'order_id = ' || {{ segments_quoted_value('order_id') }} || ' belongs to '
                    || order_customer_count || ' customers; '
                    || case
                        when owner_customer_id is not null
                            then 'kept the lines of customer_id '
                                || {{ segments_quoted_value('owner_customer_id') }} || ' ('
                                || owner_lines || ' of ' || order_lines || ' lines)'
                        else 'no customer has most of its ' || order_lines || ' lines, none is kept'
                    end
            when 'unknown_customer_id'
                then 'customer_id = ' || {{ segments_quoted_value('customer_id') }}
                    || ' is not a customer of the customers input'
            when 'duplicate_order_line'
                then 'exact copy of another row of order_id = '
                    || {{ segments_quoted_value('order_id') }} || ', line_number = '
                    || {{ segments_quoted_value('line_number_out') }} || '; one copy is kept'
        end as reject_detail,
        case when reject_reason is not null then raw_record end as raw_record,

    from with_raw_records

)

select * from final
