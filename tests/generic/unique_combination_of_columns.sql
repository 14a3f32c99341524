{#-
    Combinations of combination_of_columns that occur on more than one row. Nulls compare equal
    (group by semantics). Same semantics as dbt_utils.unique_combination_of_columns.
    Grouped on a 64-bit hash of the combination first (integers group far faster than text: at
    16 M order lines a third of the time), then only the rows whose hash repeats are grouped on
    the columns themselves, so a chance collision of two different combinations is no failure.
    When no hash repeats, DuckDB skips the second read of the model.
-#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
{%- if combination_of_columns is string or combination_of_columns | length == 0 -%}
    {{ exceptions.raise_compiler_error("unique_combination_of_columns on " ~ model ~ ": combination_of_columns must be a non-empty list, got " ~ combination_of_columns) }}
{%- endif -%}
{%- set columns = [] -%}
{%- for column in combination_of_columns -%}
    {%- do columns.append(adapter.quote(column) if quote_columns else column) -%}
{%- endfor %}
{%- set row_hash = 'hash(' ~ columns | join(', ') ~ ')' %}

with

tested_rows as not materialized (

    select * from {{ model }}

),

repeated_hashes as (

    select {{ row_hash }} as row_hash
    from tested_rows
    group by 1
    having count(*) > 1

),

validation_errors as (

    select
        {{ columns | join(',\n        ') }},
        count(*) as row_count

    from tested_rows
    where {{ row_hash }} in (select repeated.row_hash from repeated_hashes as repeated)
    group by {{ columns | join(', ') }}
    having count(*) > 1

)

select * from validation_errors

{% endtest %}
