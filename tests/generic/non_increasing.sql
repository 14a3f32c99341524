{#-
    Rows where a column is larger than on the previous row, rows ordered by order_by within each
    group_by group (e.g. inertia over k per method). The column is the one the test is attached
    to, or `column`; `tolerance` allows an increase of that size (floating point noise). Rows
    with a null value are skipped.
-#}
{% test non_increasing(model, order_by, column_name=none, column=none, group_by=[], tolerance=0) %}
{%- set value = column or column_name -%}
{%- if value is none -%}
    {{ exceptions.raise_compiler_error("non_increasing on " ~ model ~ ": attach it to a column or give `column`") }}
{%- endif -%}
{%- set groups = [group_by] if group_by is string else group_by -%}
{%- set orders = [order_by] if order_by is string else order_by %}

with

ordered as (

    select
        *,
        lag({{ value }}) over (
            {%- if groups %}
            partition by {{ groups | join(', ') }}
            {%- endif %}
            order by {{ orders | join(', ') }}
        ) as previous_value

    from {{ model }}
    where {{ value }} is not null

),

validation_errors as (

    select *
    from ordered
    where {{ value }} > previous_value + {{ tolerance }}

)

select * from validation_errors

{% endtest %}
