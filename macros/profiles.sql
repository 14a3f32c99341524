{% macro segments_feature_columns(relation) %}
    {#-
        The profiled columns of customer_features, read at execution time:
        {'numeric': [...], 'categorical': [...]}. Numeric = integer, decimal and floating types
        except *_id; categorical = text and boolean columns except customer_id; dates and
        timestamps are skipped.
    -#}
    {%- set result = {'numeric': [], 'categorical': []} -%}
    {%- if not execute -%}
        {{ return(result) }}
    {%- endif -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- set data_type = column.dtype | lower -%}
        {%- if column.name == 'customer_id' or column.name.endswith('_id') -%}
        {%- elif data_type in ['boolean', 'varchar', 'text', 'string'] -%}
            {%- do result.categorical.append(column.name) -%}
        {%- elif data_type.startswith('decimal') or data_type in ['integer', 'bigint', 'smallint', 'tinyint', 'hugeint', 'double', 'float', 'real', 'ubigint', 'uinteger'] -%}
            {%- do result.numeric.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}
