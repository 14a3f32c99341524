{#-
    The parse report: per input and mapped column that staging parses (dates and timestamps,
    numbers, numeric attributes), how many values are present, how many parse, how many do not,
    up to three example values that do not, and how many dates land after the latest plausible
    date (var segments_reference_date, else the build date). The contract columns' facts are
    read from the parse_mask that base_customers_checked / base_order_lines_checked write while
    they parse every row (no second parse of the input), the examples from the raw_record of the
    rows whose mask cites them; numeric attributes (and the columns derived attributes read) are
    parsed here, in one aggregate pass over the input. stg_input_checks turns the report into
    warnings and errors. The SQL is generated per input by segments_parse_report_sql
    (macros/input_checks.sql).
-#}
{%- set latest = segments_latest_order_date() -%}
{%- set reports = segments_parse_reports() -%}

{{ segments_parse_report_sql(reports, latest) }}
-- depends_on: {{ ref('base_customers_checked') }}
-- depends_on: {{ ref('base_order_lines_checked') }}
