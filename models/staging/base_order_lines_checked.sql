{#-
    Every row of base_orders, parsed and normalised, with the reason it is rejected by the checks
    of the row itself (null when it passes them). One order-level rule comes after it:
    order_id_conflict (base_order_lines_resolved, which stg_order_lines and rejects read).
    Reasons, the first that applies:
        missing_customer_id     no customer id
        missing_ordered_at      no timestamp
        unparseable_ordered_at  a timestamp that is not ISO 8601 (with or without a UTC offset),
                                YYYYMMDD, a configured format or (rules.timestamp_unit) an epoch
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
        duplicate_order_line    an exact copy (same source_row_key) of a usable row; one copy
                                is kept (copies of an unusable row get that row's reason). With
                                rules.deduplicate_exact_lines: false every copy is kept.
    ordered_at is the UTC instant (macro segments_parse_timestamp: offsets, %z formats and epochs
    are converted, naive times are local to var segments_timezone); order_date is its date in
    var segments_timezone. rules.number_format applies to quantity, unit_price and amount.
    Derived values: a missing order_id is customer_id || '@' || ordered_at (ISO, seconds); a
    missing line_number is the rank of the row's source_row_key within its order; a missing
    amount is round(quantity * unit_price, 2). With rules.deduplicate_exact_lines: false, the
    copies of a row without a line number get consecutive line numbers.
    rules.cancelled_when {column, prefix}: a line whose contract column starts with the prefix
    has status cancelled, whatever its status column says (is_cancelled_by_rule).

    Performance (16 M lines on 2 cores): the rows flow through one linear pipeline, with no wide
    intermediate result read twice (DuckDB would materialise it, and at 16 M rows it spilled
    tens of GB to disk). Exact copies are found with a 64-bit hash of the row (grouped on the
    hash alone; only the rows whose hash repeats are numbered, partitioned by their values, so a
    chance collision of two different rows changes nothing): the rows whose hash does not repeat
    and those whose hash does are two reads of the input (one read and a window over every row
    would hold all 16 M rows). The candidates for order_id_conflict are one aggregation of the
    lines by cleaned order id. The input is read four times (the hash aggregation, the conflict
    candidates, the two kinds of rows) plus once for the rows without a line number, filtered
    while scanning; base_orders trims only the values that may need it (see
    segments_trimmed_text). Measured at 16 M lines and left out: GROUPING SETS over the hash
    and the order id (DuckDB materialises its input: twice the CPU), an anti / semi join
    instead of `not in` / `in` (no gain). Control characters are looked for
    once per row (one regular expression over the row's text), and only the rare rows that have
    one are cleaned column by column. Derived line numbers are computed on the rows that have
    none (a narrow window over a second read of the input that keeps only them, joined back).
    The raw row as JSON is only built for rows that can be rejected: a row-level reason, a copy,
    or a line of an order id that names more than one customer (a candidate for
    order_id_conflict); the reject detail only for rejected rows. The table stores copy_number
    (0 for all but the extra exact copies, so it compresses to almost nothing), not the long
    order_line_key text, which base_order_lines_resolved builds from it: writing that key for
    every line cost about a fifth of this model's time at 16 M lines.
-#}
{%- set rules = segments_cleaning_rules('orders') -%}
{%- set contract = segments_input_contract('orders') -%}
{%- set raw_columns = contract.required + contract.optional -%}
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
{%- set row_hash = 'hash(' ~ raw_columns | join(', ') ~ ')' -%}
{%- set cited_bits = segments_parse_mask_bits('orders', ['unparseable', 'thousands']) -%}


with

base_orders as not materialized (

    -- A view over the input: every reference below reads the input again (cheap, columnar)
    -- instead of holding all raw rows in memory.
    select * from {{ ref('base_orders') }}

),

customer_ids as (

    -- The customer ids cleaned as base_customers_checked cleans them. Read from base_customers,
    -- so that checking orders and checking customers run side by side.
    select {{ segments_clean_id(segments_clean_text('customer_id')) }} as customer_id
    from {{ ref('base_customers') }}

),

kept_customers as (

    -- The ids base_customers_checked keeps: every id it has (its rejects are the missing ids and
    -- the extra rows of a repeated id). No null: `not in` below would then never be true.
    select customer_id from customer_ids
    where customer_id is not null

),

repeated_hashes as (

    -- Row hashes that occur more than once: exact copies, or (rarely) a chance collision.
    select {{ row_hash }} as row_hash
    from base_orders
    group by all
    having count(*) > 1

),

conflict_candidates as (

    -- Given order ids (cleaned) whose raw rows name more than one customer id (as written):
    -- only their lines can be rejected as order_id_conflict later, so only they need their raw
    -- record kept. One aggregation of the lines by cleaned order id (segments_clean_text runs
    -- its regular expression once per line; grouping the raw ids first and the cleaned ids of
    -- those groups again cost a second hash aggregation over all the order ids).
    select {{ segments_clean_text('order_id') }} as order_id
    from base_orders
    where order_id is not null
    group by all
    having min(customer_id) != max(customer_id)

),

single_rows as not materialized (

    select
        *,
        0 as copy_number,

    from base_orders
    where {{ row_hash }} not in (select repeated.row_hash from repeated_hashes as repeated)

),

repeated_rows as not materialized (

    -- copy_number 0 for the first copy of a row's values, 1, 2, ... for the others (copies are
    -- equal in every column, so which one is 0 does not matter).
    select
        *,
        row_number() over (
            partition by source_row_key, {{ raw_columns | join(', ') }}
        ) - 1 as copy_number,

    from base_orders
    where {{ row_hash }} in (select repeated.row_hash from repeated_hashes as repeated)

),

raw_rows as not materialized (

    select * from single_rows
    union all
    select * from repeated_rows

),

control_flagged as not materialized (

    select
        *,
        {{ segments_has_control(raw_columns) }} as has_control,

    from raw_rows

),

cleaned as not materialized (

    -- The base columns are trimmed text already; only a row with a control character somewhere
    -- (one regular expression over the row's text) is cleaned column by column.
    select
        source_row_key,
        copy_number,
        {%- for name in raw_columns %}
        {{ segments_clean_text_where('has_control', name) }} as {{ name }},
        {%- endfor %}
        {{ segments_raw_columns('orders') }} as raw_values,
        {{ segments_present_mask(raw_columns) }} as present_mask,

    from control_flagged

),

parsed as not materialized (

    select
        source_row_key,
        copy_number,
        raw_values,
        present_mask,
        order_id as order_id_text,
        line_number as line_number_text,
        {{ segments_clean_id('customer_id') }} as customer_id,
        ordered_at as ordered_at_text,
        {{ segments_parse_timestamp('ordered_at', rules.datetime_formats, rules.timestamp_unit) }}
            as ordered_at,
        {{ segments_parse_integer('line_number') }} as line_number_value,
        {{ segments_clean_lower('product_category') }} as product_category,
        {{ segments_clean_lower('sales_channel') }} as sales_channel,
        quantity as quantity_text,
        {{ segments_parse_number('quantity', rules.number_format) }} as quantity,
        unit_price as unit_price_text,
        {{ segments_parse_number('unit_price', rules.number_format) }} as unit_price,
        amount as amount_text,
        {{ segments_parse_money('amount', rules.number_format) }} as amount_value,
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

derived as not materialized (

    select
        *,
        -- The date of the order in the business time zone (var segments_timezone).
        cast({{ segments_utc_to_local('ordered_at') }} as date) as order_date,
        {{ segments_derived_order_id('order_id_text', 'customer_id', 'ordered_at') }} as order_id,
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


line_number_gaps as (

    -- The rows without a usable line number (null, or only control characters and blanks),
    -- read from the input with a filter DuckDB applies while scanning (a trimmed base value
    -- that cleans to nothing starts with a control character: below ' ', or chr(127)), and
    -- cleaned and parsed like the main stream in the columns the numbering needs
    -- (segments_clean_text gives what the main stream's cleaning gives).
    select
        source_row_key,
        row_number() over (
            partition by source_row_key, {{ raw_columns | join(', ') }}
        ) - 1 as copy_number,
        {{ segments_clean_text('line_number') }} as line_number_text,
        {{ segments_clean_text('order_id') }} as order_id_text,
        {{ segments_clean_id(segments_clean_text('customer_id')) }} as customer_id,
        {{ segments_clean_text('ordered_at') }} as ordered_at_text,

    from base_orders
    where line_number is null or line_number < ' ' or starts_with(line_number, chr(127))

),

derived_line_numbers as (

    -- Lines without a line number are numbered by source_row_key within their order; exact
    -- copies share the number (they are duplicates), or, when exact copies are kept
    -- (rules.deduplicate_exact_lines: false), take consecutive numbers.
    select
        source_row_key,
        copy_number,
        {{ 'dense_rank' if deduplicate else 'row_number' }}() over (
            partition by {{ segments_derived_order_id(
                'order_id_text',
                'customer_id',
                segments_parse_timestamp('ordered_at_text', rules.datetime_formats, rules.timestamp_unit),
            ) }}
            order by source_row_key{{ '' if deduplicate else ', copy_number' }}
        ) as line_number,

    from line_number_gaps
    where line_number_text is null

),

numbered as (

    select
        derived.*,
        coalesce(derived.line_number_value, derived_line_numbers.line_number) as line_number,

    from derived
    left join derived_line_numbers
        on
            derived.source_row_key = derived_line_numbers.source_row_key
            and derived.copy_number = derived_line_numbers.copy_number

),

checked as (

    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when ordered_at_text is null then 'missing_ordered_at'
            when ordered_at is null then 'unparseable_ordered_at'
            when order_date > {{ latest_order_date.expression }}
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
                and coalesce(
                    try_cast(
                        {{ segments_number_text('amount_text', rules.number_format) }} as double
                    ),
                    quantity * unit_price
                ) = 0
                then 'zero_amount'
            {%- endif %}
            {%- if has_customer_input %}
            when customer_id not in (select kept.customer_id from kept_customers as kept)
                then 'unknown_customer_id'
            {%- endif %}
            -- Copies of a usable row: one is kept (or every copy, without deduplication).
            {%- if deduplicate %}
            when copy_number > 0 then 'duplicate_order_line'
            {%- endif %}
        end as reject_reason,
        order_id_text in (select candidate.order_id from conflict_candidates as candidate)
            as is_conflict_candidate,
        {{ segments_parse_mask('orders', {
            'ordered_at': ['ordered_at_text', 'ordered_at', 'order_date'],
            'line_number': ['line_number_text', 'line_number_value'],
            'quantity': ['quantity_text', 'quantity'],
            'unit_price': ['unit_price_text', 'unit_price'],
            'amount': ['amount_text', 'amount_value'],
        }, rules.number_format, latest_order_date) }} as parse_mask,

    from numbered

),

final as (

    select
        order_id,
        cast(line_number as integer) as line_number,
        customer_id,
        ordered_at,
        order_date,
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
        copy_number,
        coalesce(is_conflict_candidate, false) as is_order_id_shared,
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
                    || ' (map it with rules.status_values)'
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
            when 'unknown_customer_id'
                then 'customer_id = ' || {{ segments_quoted_value('customer_id') }}
                    || ' is not a customer of the customers input'
            when 'duplicate_order_line'
                then 'exact copy of another row of order_id = '
                    || {{ segments_quoted_value('order_id') }} || ', line_number = '
                    || {{ segments_quoted_value('line_number') }} || '; one copy is kept'
        end as reject_detail,
        present_mask,
        parse_mask,
        case
            when
                reject_reason is not null
                or is_conflict_candidate
                or parse_mask & {{ cited_bits }} > 0
                then cast(to_json(raw_values) as varchar)
        end as raw_record,

    from checked

)

select * from final
