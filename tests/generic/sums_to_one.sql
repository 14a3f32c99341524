{#-
    Groups (per group_by; the whole model without it) whose values of a share column do not add
    up to 1 within tolerance. The column is the one the test is attached to, or `column`. A group
    whose sum is null (all values null) fails.
-#}
{% test sums_to_one(model, column_name=none, column=none, group_by=[], tolerance=0.000001) %}
{%- set value = column or column_name -%}
{%- if value is none -%}
    {{ exceptions.raise_compiler_error("sums_to_one on " ~ model ~ ": attach it to a column or give `column`") }}
{%- endif -%}
{%- set groups = [group_by] if group_by is string else group_by %}

with

sums as (

    select
        {%- for name in groups %}
        {{ name }},
        {%- endfor %}
        sum({{ value }}) as total

    from {{ model }}
    {%- if groups %}
    group by {{ groups | join(', ') }}
    {%- endif %}

),

validation_errors as (

    select *
    from sums
    where total is null or abs(total - 1) > {{ tolerance }}

)

select * from validation_errors

{% endtest %}
