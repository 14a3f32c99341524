{#-
    Helpers of the EDA tables (models/eda, docs/eda.md). The features profiled (the rows of
    eda_feature_values and of segments_eda_wide_columns) are discovered at execution time
    from the columns of customer_features, so new share columns or extra feature models show up
    without code changes:
      - numeric: integer, bigint, double, decimal, float, ... columns, except keys (`*_id`);
      - categorical: varchar (and enum) columns except keys, and booleans (levels 'true' / 'false');
      - dates, timestamps, lists and structs are skipped.
    The var `segments_eda_features` ({numeric: [...], categorical: [...]}) replaces the discovery
    with explicit column lists (used by the unit tests, useful to profile a subset).
-#}

{% macro segments_eda_columns(relation) %}
    {%- set numeric_types = [
        'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT',
        'UINTEGER', 'UBIGINT', 'UHUGEINT', 'INT', 'INT1', 'INT2', 'INT4', 'INT8', 'SIGNED',
        'LONG', 'SHORT', 'FLOAT', 'FLOAT4', 'FLOAT8', 'REAL', 'DOUBLE', 'DECIMAL', 'NUMERIC',
    ] -%}
    {%- set categorical_types = [
        'VARCHAR', 'TEXT', 'STRING', 'CHAR', 'BPCHAR', 'ENUM', 'BOOLEAN', 'BOOL', 'LOGICAL',
    ] -%}
    {%- set override = var('segments_eda_features', none) -%}
    {%- if override is not none -%}
        {%- if override is not mapping -%}
            {{ exceptions.raise_compiler_error("segments_eda_features: expected a mapping with keys numeric and categorical, got " ~ override) }}
        {%- endif -%}
        {%- set result = {'numeric': [], 'categorical': []} -%}
        {%- for key in override -%}
            {%- if key not in result -%}
                {{ exceptions.raise_compiler_error("segments_eda_features: unknown key '" ~ key ~ "'; expected numeric and/or categorical") }}
            {%- endif -%}
            {%- set names = override[key] or [] -%}
            {%- if names is string or names is mapping -%}
                {{ exceptions.raise_compiler_error("segments_eda_features." ~ key ~ ": expected a list of column names, got " ~ names) }}
            {%- endif -%}
            {%- for name in names -%}
                {%- if name is not string or name | length == 0 -%}
                    {{ exceptions.raise_compiler_error("segments_eda_features." ~ key ~ ": expected column names, got " ~ name) }}
                {%- endif -%}
                {%- do result[key].append(name) -%}
            {%- endfor -%}
        {%- endfor -%}
        {{ return(result) }}
    {%- endif -%}
    {%- set result = {'numeric': [], 'categorical': []} -%}
    {%- if not execute -%}
        {{ return(result) }}
    {%- endif -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- set name = column.name -%}
        {%- set base_type = (column.dtype | upper).split('(')[0] | trim -%}
        {%- if name | lower == 'customer_id' or (name | lower).endswith('_id') -%}
            {#- keys are neither features nor levels -#}
        {%- elif base_type in numeric_types -%}
            {%- do result['numeric'].append(name) -%}
        {%- elif base_type in categorical_types -%}
            {%- do result['categorical'].append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_eda_identifier(name) %}
    {#- A column name as SQL: bare when it is a plain lowercase name, quoted otherwise. -#}
    {%- set reserved = [
        'all', 'and', 'any', 'array', 'as', 'asc', 'between', 'both', 'case', 'cast', 'check',
        'collate', 'column', 'constraint', 'create', 'default', 'desc', 'distinct', 'do', 'else',
        'end', 'except', 'false', 'fetch', 'for', 'foreign', 'from', 'grant', 'group', 'having',
        'in', 'initially', 'intersect', 'into', 'lateral', 'leading', 'limit', 'not', 'null',
        'offset', 'on', 'only', 'or', 'order', 'pivot', 'placing', 'primary', 'qualify',
        'references', 'returning', 'select', 'some', 'symmetric', 'table', 'then', 'to',
        'trailing', 'true', 'union', 'unique', 'unpivot', 'using', 'variadic', 'when', 'where',
        'window', 'with',
    ] -%}
    {%- if segments_is_identifier(name) and name not in reserved -%}
        {{ return(name) }}
    {%- endif -%}
    {{ return(adapter.quote(name)) }}
{% endmacro %}


{% macro segments_eda_identifiers(names) %}
    {#- segments_eda_identifier of each name. -#}
    {%- set result = [] -%}
    {%- for name in names -%}
        {%- do result.append(segments_eda_identifier(name)) -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_eda_relation_columns(relation, skipped=[]) %}
    {#- The column names of a relation (at execution time; [] when parsing), less `skipped`. -#}
    {%- set result = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if column.name not in skipped -%}
                {%- do result.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_eda_literal(value) %}
    {#- A string as a SQL string literal. -#}
    {{ return("'" ~ (value | string) | replace("'", "''") ~ "'") }}
{% endmacro %}


{% macro segments_eda_level(expression) %}
    {#- A categorical value as its level: trimmed text ('true' / 'false' for booleans), null when
        missing or blank. -#}
    {{ return("nullif(trim(cast(" ~ expression ~ " as varchar)), '')") }}
{% endmacro %}


{% macro segments_eda_top_levels() %}
    {%- set top_levels = var('segments_eda_top_levels', 10) -%}
    {%- if top_levels is not number or top_levels < 1 or top_levels != top_levels | int -%}
        {{ exceptions.raise_compiler_error("segments_eda_top_levels: expected a whole number >= 1, got " ~ top_levels) }}
    {%- endif -%}
    {{ return(top_levels | int) }}
{% endmacro %}


{% macro segments_eda_sample_rows() %}
    {#-
        var('segments_eda_rank_sample_rows') (default 200,000; null = no limit): the number of
        customers above which the EDA figures that need every value at once (quantiles, medians,
        ranks) or every pair of a customer's features (correlations) are computed on a fixed
        sample of about that many customers (segments_eda_in_sample). docs/eda.md.
    -#}
    {%- set rows = var('segments_eda_rank_sample_rows', 200000) -%}
    {%- if rows is not none and (rows is not number or rows < 1 or rows != rows | int) -%}
        {{ exceptions.raise_compiler_error("var segments_eda_rank_sample_rows: expected a whole number >= 1 or null, got " ~ rows) }}
    {%- endif -%}
    {{ return(none if rows is none else rows | int) }}
{% endmacro %}


{% macro segments_eda_in_sample(customer_id, customer_count) %}
    {#-
        Whether a customer is in the EDA sample: every customer when there are at most
        segments_eda_sample_rows() of them (customer_count, a SQL expression), otherwise the
        customers whose hash(customer_id) / 2^64 (uniform on [0, 1)) is below
        sample_rows / customer_count, about sample_rows customers. A function of the id alone:
        the same customers whatever the row order, on every run.
    -#}
    {%- set rows = segments_eda_sample_rows() -%}
    {%- if rows is none -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return(
        '(cast(hash(' ~ customer_id ~ ') as double) / 18446744073709551616.0'
        ~ ' <= least(1.0, ' ~ rows ~ ' / ' ~ customer_count ~ '))'
    ) }}
{% endmacro %}


{% macro segments_eda_histogram_bins() %}
    {%- set bins = var('segments_eda_histogram_bins', 20) -%}
    {%- if bins is not number or bins < 1 or bins != bins | int -%}
        {{ exceptions.raise_compiler_error("segments_eda_histogram_bins: expected a whole number >= 1, got " ~ bins) }}
    {%- endif -%}
    {{ return(bins | int) }}
{% endmacro %}


{% macro segments_eda_unit(max_abs) %}
    {#-
        The power of two at or below a feature's largest |value| (1 when it is 0 or null): the
        EDA moments are computed on value / unit and scaled back, so that squares of values
        around 1e160 cannot overflow. Dividing by a power of two is exact, so for ordinary
        values the statistics are bit for bit those computed on the values themselves.
    -#}
    coalesce(pow(2.0, floor(log2(nullif({{ max_abs }}, 0)))), 1.0)
{%- endmacro %}


{% macro segments_eda_grouped_levels(feature_values, levels) %}
    {#-
        Each customer's level of each categorical feature after the top-N grouping of
        eda_categorical_levels: the level itself when it is a top level, '__other__' for the rest,
        '__missing__' when missing. feature_values: eda_feature_values (or a CTE over it);
        levels: the eda_categorical_levels rows (or a CTE over them).
    -#}
    select
        feature_values.customer_key,
        feature_values.feature,
        case
            when feature_values.level is null then '__missing__'
            when top_levels.level is not null then feature_values.level
            else '__other__'
        end as level

    from {{ feature_values }} as feature_values
    left join {{ levels }} as top_levels
        on
            feature_values.feature = top_levels.feature
            and feature_values.level = top_levels.level
            and top_levels.level_kind = 'level'
    where feature_values.feature_kind = 'categorical'
{%- endmacro %}


{% macro segments_eda_wide_columns(relation) %}
    {#-
        The profiled features of customer_features (segments_eda_columns) for the EDA models that
        read the table in wide form, one column per feature:
        {'numeric': [...], 'categorical': [...], 'has_numeric': bool, 'has_categorical': bool},
        each entry a mapping with
          - literal: the feature's name as a SQL string (the `feature` of eda_feature_values);
          - alias: a column name of our own for it (_n1, _n2, ... and _c1, _c2, ...), so that
            no feature name can collide with another column;
          - value (numeric): the feature as a double, `features.<column>`;
          - level (categorical): the feature as its level (macro segments_eda_level).
        When a kind has no feature, one placeholder entry (always null) keeps the generated SQL
        valid; has_numeric / has_categorical say so, and the model keeps no row.
    -#}
    {%- set columns = segments_eda_columns(relation) -%}
    {%- set result = {
        'numeric': [], 'categorical': [],
        'has_numeric': columns.numeric | length > 0,
        'has_categorical': columns.categorical | length > 0,
    } -%}
    {%- for name in columns.numeric -%}
        {%- do result.numeric.append({
            'literal': segments_eda_literal(name),
            'alias': '_n' ~ loop.index,
            'value': 'cast(features.' ~ segments_eda_identifier(name) ~ ' as double)',
        }) -%}
    {%- endfor -%}
    {%- for name in columns.categorical -%}
        {%- do result.categorical.append({
            'literal': segments_eda_literal(name),
            'alias': '_c' ~ loop.index,
            'level': segments_eda_level('features.' ~ segments_eda_identifier(name)),
        }) -%}
    {%- endfor -%}
    {%- if not result.numeric -%}
        {%- do result.numeric.append({
            'literal': "'__no_feature__'", 'alias': '_n1', 'value': 'cast(null as double)',
        }) -%}
    {%- endif -%}
    {%- if not result.categorical -%}
        {%- do result.categorical.append({
            'literal': "'__no_feature__'", 'alias': '_c1', 'level': 'cast(null as varchar)',
        }) -%}
    {%- endif -%}
    {{ return(result) }}
{% endmacro %}
