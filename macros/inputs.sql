{#-
    The input contract: where the raw customers and orders come from and how their columns map to
    the contract's column names. Driven by the var `segments_inputs` (see dbt_project.yml and the
    README, "Use your own data"):

        segments_inputs:
          customers:            # or null when there is no customer table
            seed: raw_customers # or  table: my_schema.my_table
                                # or  path: data/customers.parquet  (format: parquet | csv)
            columns:            # contract column: input column (defaults to the same name)
              customer_id: CustomerID
          orders:
            path: data/orders.csv
            format: csv
            csv_options: {delim: ';'}

    Configuration values never reach SQL unvalidated: column names are quoted identifiers,
    paths are quoted string literals, option names must be identifiers.
-#}

{% macro segments_input_contract(entity) %}
    {%- set contracts = {
        'customers': {
            'required': ['customer_id'],
            'optional': ['signup_date', 'birth_date', 'age', 'gender', 'income', 'country',
                         'region', 'acquisition_channel'],
        },
        'orders': {
            'required': ['customer_id', 'ordered_at'],
            'optional': ['order_id', 'line_number', 'product_category', 'sales_channel',
                         'quantity', 'unit_price', 'amount', 'status'],
        },
    } -%}
    {%- if entity not in contracts -%}
        {{ exceptions.raise_compiler_error("segments_inputs: unknown input '" ~ entity ~ "'; expected customers or orders") }}
    {%- endif -%}
    {{ return(contracts[entity]) }}
{% endmacro %}


{% macro segments_input_config(entity) %}
    {%- set inputs = var('segments_inputs', {}) -%}
    {%- if inputs is not mapping -%}
        {{ exceptions.raise_compiler_error("segments_inputs: expected a mapping with keys customers and orders, got " ~ inputs) }}
    {%- endif -%}
    {%- for key in inputs -%}
        {%- if key not in ['customers', 'orders'] -%}
            {{ exceptions.raise_compiler_error("segments_inputs: unknown key '" ~ key ~ "'; expected customers and/or orders") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if inputs.get('customers') is none and inputs.get('orders') is none -%}
        {{ exceptions.raise_compiler_error("segments_inputs: at least one of customers or orders must be given") }}
    {%- endif -%}
    {{ return(inputs.get(entity)) }}
{% endmacro %}


{% macro segments_quote_literal(value, key) %}
    {%- if value is not string or value | length == 0 -%}
        {{ exceptions.raise_compiler_error(key ~ ": expected a non-empty string, got " ~ value) }}
    {%- endif -%}
    {{ return("'" ~ value | replace("'", "''") ~ "'") }}
{% endmacro %}


{% macro segments_input_relation(entity) %}
    {#- The FROM clause of one input: a ref, a table name, or a DuckDB file reader. -#}
    {%- set cfg = segments_input_config(entity) -%}
    {%- set key = 'segments_inputs.' ~ entity -%}
    {%- if cfg is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set known = ['seed', 'table', 'path', 'format', 'csv_options', 'columns', 'rules'] -%}
    {%- for k in cfg -%}
        {%- if k not in known -%}
            {{ exceptions.raise_compiler_error(key ~ ": unknown key '" ~ k ~ "'; expected some of " ~ known | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set kinds = [] -%}
    {%- for k in ['seed', 'table', 'path'] -%}{%- if k in cfg -%}{%- do kinds.append(k) -%}{%- endif -%}{%- endfor -%}
    {%- if kinds | length != 1 -%}
        {{ exceptions.raise_compiler_error(key ~ ": give exactly one of seed, table or path, got " ~ (kinds | join(', ') or 'none')) }}
    {%- endif -%}
    {%- if 'seed' in cfg -%}
        {{ return(ref(cfg['seed'])) }}
    {%- elif 'table' in cfg -%}
        {%- set parts = cfg['table'].split('.') -%}
        {%- for part in parts -%}
            {%- if not modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', part) -%}
                {{ exceptions.raise_compiler_error(key ~ ".table: '" ~ cfg['table'] ~ "' is not a table name (schema.table, identifiers only)") }}
            {%- endif -%}
        {%- endfor -%}
        {{ return(parts | map('tojson') | join('.')) }}
    {%- else -%}
        {%- set path = segments_quote_literal(cfg['path'], key ~ '.path') -%}
        {%- set fmt = cfg.get('format') or (cfg['path'].split('.') | last | lower) -%}
        {%- if fmt in ['csv', 'gz', 'txt', 'tsv'] -%}
            {%- set options = ["all_varchar = true", "header = true"] -%}
            {%- for name, value in (cfg.get('csv_options') or {}).items() -%}
                {%- if not modules.re.match('^[a-z_]+$', name) -%}
                    {{ exceptions.raise_compiler_error(key ~ ".csv_options: '" ~ name ~ "' is not an option name") }}
                {%- endif -%}
                {%- if value is string -%}
                    {%- do options.append(name ~ ' = ' ~ segments_quote_literal(value, key ~ '.csv_options.' ~ name)) -%}
                {%- elif value is boolean -%}
                    {%- do options.append(name ~ ' = ' ~ ('true' if value else 'false')) -%}
                {%- elif value is number -%}
                    {%- do options.append(name ~ ' = ' ~ value) -%}
                {%- else -%}
                    {{ exceptions.raise_compiler_error(key ~ ".csv_options." ~ name ~ ": expected a string, number or boolean") }}
                {%- endif -%}
            {%- endfor -%}
            {{ return("read_csv(" ~ path ~ ", " ~ options | join(', ') ~ ")") }}
        {%- elif fmt == 'parquet' -%}
            {{ return("read_parquet(" ~ path ~ ")") }}
        {%- else -%}
            {{ exceptions.raise_compiler_error(key ~ ".format: unknown format '" ~ fmt ~ "'; expected csv or parquet") }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro segments_input_columns(entity) %}
    {#-
        The contract columns of one input as a mapping contract column -> quoted input column
        (or none when the input does not have it). At execution time the mapping is checked
        against the input's real columns, so a typo fails with the key and the columns found.
    -#}
    {%- set cfg = segments_input_config(entity) or {} -%}
    {%- set contract = segments_input_contract(entity) -%}
    {%- set key = 'segments_inputs.' ~ entity ~ '.columns' -%}
    {%- set mapping = cfg.get('columns') or {} -%}
    {%- set all_columns = contract.required + contract.optional -%}
    {%- for name in mapping -%}
        {%- if name not in all_columns -%}
            {{ exceptions.raise_compiler_error(key ~ ": unknown contract column '" ~ name ~ "'; expected some of " ~ all_columns | join(', ')) }}
        {%- endif -%}
    {%- endfor -%}
    {%- set available = [] -%}
    {%- if execute and cfg -%}
        {%- set described = run_query("describe select * from " ~ segments_input_relation(entity)) -%}
        {%- for row in described.rows -%}{%- do available.append(row[0]) -%}{%- endfor -%}
    {%- endif -%}
    {%- set result = {} -%}
    {%- for name in all_columns -%}
        {%- set source_name = mapping.get(name, name) -%}
        {%- if source_name is not none and source_name is not string -%}
            {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ": expected an input column name, got " ~ source_name) }}
        {%- endif -%}
        {%- if not execute or not cfg -%}
            {%- do result.update({name: none}) -%}
        {%- elif source_name in available -%}
            {%- do result.update({name: adapter.quote(source_name)}) -%}
        {%- elif name in mapping -%}
            {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ": column '" ~ source_name ~ "' not found in the " ~ entity ~ " input; available columns: " ~ available | join(', ')) }}
        {%- elif name in contract.required -%}
            {{ exceptions.raise_compiler_error("segments_inputs." ~ entity ~ ": required column '" ~ name ~ "' not found in the input and not mapped under " ~ key ~ "; available columns: " ~ available | join(', ')) }}
        {%- else -%}
            {%- do result.update({name: none}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_text(columns, name) %}
    {#- An input column as trimmed text, or a typed null when the input does not have it. -#}
    {%- if columns[name] is none -%}
        cast(null as varchar)
    {%- else -%}
        nullif(trim(cast({{ columns[name] }} as varchar)), '')
    {%- endif -%}
{% endmacro %}
