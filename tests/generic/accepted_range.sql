{#-
    Rows whose column_name lies outside [min_value, max_value] (bounds excluded when
    inclusive=false). Either bound may be omitted. Nulls pass: pair with not_null when needed.
    Same name and semantics as dbt_utils.accepted_range. Filter rows with dbt's `where` config
    (dbt also moves a `where` given under `arguments:` into the config).
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range on " ~ model ~ "." ~ column_name ~ ": give min_value, max_value or both") }}
{%- endif %}

with

meet_condition as (

    select * from {{ model }}

),

validation_errors as (

    select *
    from meet_condition
    where
        1 = 2
        {%- if min_value is not none %}
        or not {{ column_name }} {{ '>=' if inclusive else '>' }} {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or not {{ column_name }} {{ '<=' if inclusive else '<' }} {{ max_value }}
        {%- endif %}

)

select * from validation_errors

{% endtest %}
