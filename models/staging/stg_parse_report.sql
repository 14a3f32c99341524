{#-
    The parse report: per input and mapped column that staging parses (dates and timestamps,
    numbers, numeric attributes), how many values are present, how many parse, how many do not,
    up to three example values that do not, and how many dates land after the latest plausible
    date (var segments_reference_date, else the build date). One aggregate pass per input, with
    the parsing macros of base_*_checked. stg_input_checks turns it into warnings and errors.
    The SQL is generated per input by segments_parse_report_sql (macros/input_checks.sql).
-#}
{%- set latest = segments_latest_order_date() -%}
{%- set reports = segments_parse_reports() -%}

{{ segments_parse_report_sql(reports, latest) }}
