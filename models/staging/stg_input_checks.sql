{#-
    Whether the inputs are usable, checked at staging (one row per check, level ok | warn |
    error, with a message naming the input, the column or reason, example values and the
    configuration key). stg_customers and stg_order_lines depend on this model, so an error
    stops the build here, before any feature is computed. Checks (thresholds: var
    segments_input_checks, macros/input_checks.sql):
        unparseable_values       per parsed column (stg_parse_report): error when values are
                                 present and none parses; warn above unparseable_warn_share
        dates_after_latest_date  per date column: warn when more than unparseable_warn_share of
                                 the dates land after the latest plausible date (a day-first /
                                 month-first swap, or epochs read in the wrong unit)
        rejected_rows            per input and reject reason, and for all reasons together: warn
                                 above reject_warn_share of the input's rows, error above
                                 reject_error_share
        thousands_like_numbers   per number/money column without rules.number_format: warn
                                 when more than unparseable_warn_share of the values look like
                                 '.'-grouped thousands without decimals (1.500, 12.250.000),
                                 which parse as decimals
        empty_input              per configured input: error when it has no rows at all
    Warnings are logged with their message (and counted by the test on `level`); errors fail
    this model with every error message (post-hook segments_raise_input_checks).
-#}
{{ config(post_hook="{{ segments_raise_input_checks(this) }}") }}
{%- set settings = segments_input_check_settings() -%}
{%- set has_customer_input = segments_input_config('customers') is not none -%}
{%- set has_order_input = segments_input_config('orders') is not none -%}
{%- set percent = "format('{:.1f} %', 100 * share)" -%}


with

parse_report as (

    select * from {{ ref('stg_parse_report') }}

),

customer_rows as (

    -- Customers derived from the orders (no customer input) are not an input of their own.
    select
        reject_reason,
        reject_detail
    from {{ ref('base_customers_checked') }}
    where {{ 'true' if has_customer_input else 'false' }}

),

order_rows as (

    select
        reject_reason,
        reject_detail
    from {{ ref('base_order_lines_resolved') }}

),

reject_counts as (

    select
        'customers' as input_name,
        coalesce(reject_reason, 'all reasons') as subject,
        count(*) as affected_rows,
        list_sort(list_distinct(min(reject_detail, 20)))[1:3] as examples,
    from customer_rows
    where reject_reason is not null
    group by rollup(reject_reason)
    having count(*) > 0
    union all
    select
        'orders' as input_name,
        coalesce(reject_reason, 'all reasons') as subject,
        count(*) as affected_rows,
        list_sort(list_distinct(min(reject_detail, 20)))[1:3] as examples,
    from order_rows
    where reject_reason is not null
    group by rollup(reject_reason)
    having count(*) > 0

),

totals as (

    select
        'customers' as input_name,
        count(*) as total_rows
    from customer_rows
    union all
    select
        'orders' as input_name,
        count(*) as total_rows
    from order_rows

),

rejects as (

    select
        reject_counts.input_name,
        'rejected_rows' as check_name,
        reject_counts.subject,
        reject_counts.affected_rows,
        totals.total_rows,
        reject_counts.affected_rows / totals.total_rows as share,
        case
            when reject_counts.affected_rows / totals.total_rows > {{ settings.reject_error_share }}
                then 'error'
            when reject_counts.affected_rows / totals.total_rows > {{ settings.reject_warn_share }}
                then 'warn'
            else 'ok'
        end as level,
        array_to_string(reject_counts.examples, '; ') as examples,
        cast(null as varchar) as config_key,

    from reject_counts
    inner join totals
        on reject_counts.input_name = totals.input_name

),

empty_inputs as (

    -- A configured input without a single row (an empty export, a filter that kept nothing).
    select
        input_name,
        'empty_input' as check_name,
        'all rows' as subject,
        0 as affected_rows,
        total_rows,
        cast(null as double) as share,
        'error' as level,
        cast(null as varchar) as examples,
        'segments_inputs.' || input_name as config_key,

    from totals
    where
        total_rows = 0
        and (
            (input_name = 'customers' and {{ 'true' if has_customer_input else 'false' }})
            or (input_name = 'orders' and {{ 'true' if has_order_input else 'false' }})
        )

),

unparseable as (

    select
        input_name,
        'unparseable_values' as check_name,
        column_name as subject,
        values_unparseable as affected_rows,
        values_present as total_rows,
        unparseable_share as share,
        case
            when values_present > 0 and values_parsed = 0 then 'error'
            when unparseable_share > {{ settings.unparseable_warn_share }} then 'warn'
            else 'ok'
        end as level,
        unparseable_examples as examples,
        config_key,
        value_kind,

    from parse_report

),

late_dates as (

    select
        input_name,
        'dates_after_latest_date' as check_name,
        column_name as subject,
        values_after_latest_date as affected_rows,
        values_parsed as total_rows,
        values_after_latest_date / nullif(values_parsed, 0) as share,
        case
            when values_after_latest_date / nullif(values_parsed, 0)
                > {{ settings.unparseable_warn_share }}
                then 'warn'
            else 'ok'
        end as level,
        strftime(latest_date, '%Y-%m-%d') as examples,
        config_key,

    from parse_report
    where values_after_latest_date is not null

),

thousands_like as (

    -- Without rules.number_format, 1.500 reads as 1.5: right for a US price, a silent factor
    -- of 1000 for a European export that groups thousands with '.' and has no decimals.
    select
        input_name,
        'thousands_like_numbers' as check_name,
        column_name as subject,
        values_thousands_like as affected_rows,
        values_present as total_rows,
        values_thousands_like / nullif(values_present, 0) as share,
        case
            when values_thousands_like / nullif(values_present, 0)
                > {{ settings.unparseable_warn_share }}
                then 'warn'
            else 'ok'
        end as level,
        thousands_like_examples as examples,
        config_key,

    from parse_report
    where values_thousands_like is not null

),

messages as (

    select
        input_name,
        check_name,
        subject,
        affected_rows,
        total_rows,
        share,
        level,
        examples,
        config_key,
        'segments_inputs.' || input_name || ': '
        || case
            when level = 'error'
                then 'no value of column ' || subject || ' parses as '
                    || case when value_kind in ('date', 'birth_date') then 'a date'
                        when value_kind = 'timestamp' then 'a timestamp'
                        when value_kind = 'integer' then 'an integer'
                        else 'a number'
                    end
                    || ' (' || total_rows || ' values'
                    || case
                        when value_kind in ('date', 'birth_date', 'timestamp')
                            then '; tried: ' || {{ segments_tried_datetime_forms('input_name') }}
                        else ''
                    end
                    || ')'
            else {{ percent }} || ' of the values of column ' || subject || ' ('
                || affected_rows || ' of ' || total_rows || ') do not parse'
        end
        || coalesce(', e.g. ' || examples, '')
        || '; fix the format with ' || config_key
        || case
            when value_kind in ('date', 'birth_date', 'timestamp')
                then ' (strptime formats such as ''%d-%m-%Y'' or ''%m/%d/%Y %H:%M'';'
                    || ' epoch numbers: '
                    || 'segments_inputs.'
                    || input_name
                    || '.rules.timestamp_unit), or map the column to another'
            when value_kind = 'integer' then ''
            else ' (e.g. {decimal: '','', thousands: ''.''} for 1.234,50) or csv_options'
        end as message,

    from unparseable

    union all

    select
        *,
        'segments_inputs.' || input_name || ': ' || {{ percent }} || ' of the dates of column '
        || subject || ' (' || affected_rows || ' of ' || total_rows || ') are after ' || examples
        || ' (var segments_reference_date, else the build date); is the day/month order of '
        || config_key || ' right (day-first %d vs month-first %m), or the epoch unit?' as message,
    from late_dates

    union all

    select
        *,
        'segments_inputs.' || input_name || ': ' || {{ percent }} || ' of the values of column '
        || subject || ' (' || affected_rows || ' of ' || total_rows || ') look like thousands '
        || 'grouped with ''.'' and no decimals' || coalesce(', e.g. ' || examples, '')
        || ', and are read as decimals (1.500 = 1.5); if ''.'' separates thousands set '
        || config_key || ': {decimal: '','', thousands: ''.''}' as message,
    from thousands_like

    union all

    select
        *,
        'segments_inputs.' || input_name || ': ' || {{ percent }} || ' of the rows ('
        || affected_rows || ' of ' || total_rows || ') are rejected'
        || case when subject = 'all reasons' then ' (all reasons together)'
            else ' as ' || subject
        end
        || coalesce(', e.g. ' || examples, '')
        || '; see the rejects table; thresholds: var segments_input_checks.reject_warn_share / '
        || 'reject_error_share' as message,
    from rejects

    union all

    select
        *,
        'segments_inputs.' || input_name || ': the input has no rows; point '
        || config_key || ' at an export with data'
        || case
            when input_name = 'orders'
                then ', or remove segments_inputs.orders to segment on customer attributes alone'
            else ''
        end as message,
    from empty_inputs

),

final as (

    select * from messages

)

select * from final
