{#-
    Rows for which the SQL expression is false. With column_name the expression is appended to
    the column (`column_name ~ ' ' ~ expression`, e.g. expression: '>= 0'). A null result
    passes, as in dbt_utils.expression_is_true. Filter rows with dbt's `where` config.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

with

meet_condition as (

    select * from {{ model }}

),

validation_errors as (

    select *
    from meet_condition
    {%- if column_name is none %}
    where not ({{ expression }})
    {%- else %}
    where not ({{ column_name }} {{ expression }})
    {%- endif %}

)

select * from validation_errors

{% endtest %}
