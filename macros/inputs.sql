{#-
    The input contract: where the raw customers and orders come from and how their columns map to
    the contract's column names. Driven by the var `segments_inputs` (see dbt_project.yml and
    docs/use_your_own_data.md):

        segments_inputs:
          customers:            # or null when there is no customer table
            seed: raw_customers # or  table: my_schema.my_table
                                # or  path: data/customers.parquet
            columns:            # contract column: input column (defaults to the same name;
              customer_id: CustomerID   # null = the input has no such column)
            attributes:         # extra customer columns that become features (customers only)
              annual_income: {column: "Annual Income (k$)", type: numeric}
          orders:
            path: data/orders.txt
            format: whitespace  # csv (also .csv.gz) | parquet | whitespace; default from the
                                # file name: .parquet -> parquet, anything else -> csv
            header: false       # csv: the first line names the columns (default true);
                                # whitespace: the first line is a header to skip (default false)
            columns: [customer_id, ordered_at, quantity, amount]  # field names, in file order,
                                # for format whitespace and for csv with header: false
            csv_options: {delim: ';'}
            customer_attributes:    # customer attributes given on the order lines (orders only)
              country: {column: Country, type: categorical, aggregate: most_frequent}

    Configuration values never reach SQL unvalidated: column names are quoted identifiers
    (adapter.quote), paths and other text are escaped string literals, option names and
    attribute names must be identifiers. A path that matches no file fails at compile time with
    the key and the path (checked with DuckDB's glob()).
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
    {#- Types, allowed values and unknown keys at every level: the schema (macros/config.sql). -#}
    {%- set inputs = segments_config_validated_var('segments_inputs', {}) -%}
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


{% macro segments_quote_column(name) %}
    {#- An input column name as a quoted identifier (adapter.quote, embedded quotes doubled). -#}
    {{ return(adapter.quote(name | replace('"', '""'))) }}
{% endmacro %}


{% macro segments_is_identifier(value) %}
    {#- A lower-case identifier (names.identifier of config_schema.yml): the names that become
        columns of customer_features. -#}
    {{ return(value is string and modules.re.match(segments_config_schema()['names']['identifier'], value) is not none) }}
{% endmacro %}


{% macro segments_input_format(entity) %}
    {#-
        The validated file format of a path input: csv, parquet or whitespace (none for seed and
        table inputs). Without `format`, .parquet files are parquet and every other file csv
        (DuckDB decompresses .gz itself).
    -#}
    {%- set cfg = segments_input_config(entity) or {} -%}
    {%- set key = 'segments_inputs.' ~ entity -%}
    {%- if 'path' not in cfg -%}
        {%- for option in ['format', 'header', 'csv_options'] -%}
            {%- if option in cfg -%}
                {{ exceptions.raise_compiler_error(key ~ "." ~ option ~ ": only applies to a path input (a file), not to seed or table") }}
            {%- endif -%}
        {%- endfor -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set given = cfg.get('format') -%}
    {%- if given is none -%}
        {%- set name = (cfg['path'] | string | lower) -%}
        {%- set fmt = 'parquet' if name.endswith('.parquet') else 'csv' -%}
    {%- else -%}
        {#- The values are checked against the schema (segments_input_config). -#}
        {%- set fmt = {'csv': 'csv', 'csv.gz': 'csv', 'parquet': 'parquet', 'whitespace': 'whitespace'}[given] -%}
    {%- endif -%}
    {%- if 'csv_options' in cfg and fmt != 'csv' -%}
        {{ exceptions.raise_compiler_error(key ~ ".csv_options: only applies to format csv, the format is " ~ fmt) }}
    {%- endif -%}
    {%- if 'header' in cfg -%}
        {%- if fmt == 'parquet' -%}
            {{ exceptions.raise_compiler_error(key ~ ".header: only applies to formats csv and whitespace; parquet files name their columns") }}
        {%- endif -%}
    {%- endif -%}
    {{ return(fmt) }}
{% endmacro %}


{% macro segments_input_fields(entity) %}
    {#-
        The field names of a file without a header line (format whitespace, or csv with
        header: false): the list under `columns`, validated; none for the other inputs, whose
        `columns` is a mapping. Each name must be a contract column, the column of an attribute,
        or start with an underscore (a field to ignore), so that a typo cannot hide a column.
    -#}
    {%- set cfg = segments_input_config(entity) or {} -%}
    {%- set key = 'segments_inputs.' ~ entity ~ '.columns' -%}
    {%- set fmt = segments_input_format(entity) -%}
    {%- set columns = cfg.get('columns') -%}
    {%- set needs_list = fmt == 'whitespace' or (fmt == 'csv' and cfg.get('header') is false) -%}
    {%- set is_list = columns is not none and columns is not mapping and columns is not string and columns is iterable -%}
    {%- if needs_list and not is_list -%}
        {%- set why = 'format whitespace' if fmt == 'whitespace' else 'a csv file with header: false' -%}
        {{ exceptions.raise_compiler_error(key ~ ": " ~ why ~ " has no header line; expected the list of field names in file order, e.g. [customer_id, ordered_at, quantity, amount], got " ~ columns) }}
    {%- endif -%}
    {%- if not needs_list -%}
        {%- if is_list -%}
            {{ exceptions.raise_compiler_error(key ~ ": a list of field names is for files without a header line (format: whitespace, or header: false); expected a mapping contract column: input column, got " ~ columns) }}
        {%- endif -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set contract = segments_input_contract(entity) -%}
    {%- set attribute_columns = [] -%}
    {%- for item in segments_input_attributes(entity, check_columns=false) -%}
        {%- do attribute_columns.extend(item.source_columns) -%}
    {%- endfor -%}
    {%- set seen = [] -%}
    {%- for name in columns -%}
        {%- if name is not string or name | length == 0 -%}
            {{ exceptions.raise_compiler_error(key ~ "[" ~ loop.index0 ~ "]: expected a field name, got " ~ name) }}
        {%- endif -%}
        {%- if name in seen -%}
            {{ exceptions.raise_compiler_error(key ~ "[" ~ loop.index0 ~ "]: field name '" ~ name ~ "' is given twice") }}
        {%- endif -%}
        {%- do seen.append(name) -%}
        {%- if name not in contract.required + contract.optional and name not in attribute_columns and not name.startswith('_') -%}
            {{ exceptions.raise_compiler_error(key ~ "[" ~ loop.index0 ~ "]: '" ~ name ~ "' is not a contract column (" ~ (contract.required + contract.optional) | join(', ') ~ ") nor the column of an attribute; name a field to ignore with a leading underscore, e.g. _" ~ name) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(columns | list) }}
{% endmacro %}


{% macro segments_check_path(path, key) %}
    {#- At execution time: fail with the key and the path when no file matches it. -#}
    {%- if execute and '://' not in path -%}
        {%- set found = run_query("select count(*) from glob(" ~ segments_quote_literal(path, key) ~ ")") -%}
        {%- if found.rows[0][0] == 0 -%}
            {{ exceptions.raise_compiler_error(key ~ ": no file found at '" ~ path ~ "' (a relative path is read from the directory dbt runs in; use an absolute path to run from elsewhere)") }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{% macro segments_check_input_files(path, key, fmt, csv_options) %}
    {#-
        At execution time, per file matching `path` (local files of at most 256 MB; a larger
        file is not inspected): fail naming the file and the key when it is empty (0 bytes:
        DuckDB would report a column 'column0' instead), or, for CSV read with the default
        strict parser, when it mixes CRLF and LF line endings (DuckDB stops with a sniffer error
        that names no option). strict_mode = false reads such a file, but the relaxed parser
        also reads rows with too many fields without an error, so the user opts in knowingly.
    -#}
    {%- if execute and '://' not in path -%}
        {%- set check_mixed = fmt == 'csv' and 'strict_mode' not in csv_options -%}
        {%- set query -%}
            select
                filename,
                size = 0 as is_empty,
                {% if check_mixed -%}
                size > 0
                and position('\x0D\x0A' in cast(content as varchar)) > 0
                and regexp_matches(cast(content as varchar), '(^|[^D])\\x0A')
                {%- else -%}
                false
                {%- endif %} as is_mixed,
            from read_blob({{ segments_quote_literal(path, key ~ '.path') }})
            where size <= 268435456
            order by filename
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- if row[1] -%}
                {{ exceptions.raise_compiler_error(key ~ ".path: the file '" ~ row[0] ~ "' is empty (0 bytes); point " ~ key ~ ".path at an export with data") }}
            {%- elif row[2] -%}
                {{ exceptions.raise_compiler_error(key ~ ": the file '" ~ row[0] ~ "' mixes CRLF and LF line endings, which DuckDB's strict CSV parser refuses; set " ~ key ~ ".csv_options: {strict_mode: false} to read it (the relaxed parser also accepts rows with more fields than the header, so check the file for stray delimiters)") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}


{% macro segments_input_relation(entity) %}
    {#- The FROM clause of one input: a ref, a table name, or a DuckDB file reader. -#}
    {%- set cfg = segments_input_config(entity) -%}
    {%- set key = 'segments_inputs.' ~ entity -%}
    {%- if cfg is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set kinds = [] -%}
    {%- for k in ['seed', 'table', 'path'] -%}{%- if k in cfg -%}{%- do kinds.append(k) -%}{%- endif -%}{%- endfor -%}
    {%- if kinds | length != 1 -%}
        {{ exceptions.raise_compiler_error(key ~ ": give exactly one of seed, table or path, got " ~ (kinds | join(', ') or 'none')) }}
    {%- endif -%}
    {%- set fmt = segments_input_format(entity) -%}
    {%- if 'seed' not in cfg -%}
        {#-
            Lineage: the input is the source segments_inputs.<entity> (models/staging/_sources.yml,
            whose location is rendered from the same var). The reader below is built here, from
            the validated configuration: format options, header-less field names and the
            whitespace reader are not expressible as a source location. A seed input is the
            seed node itself (ref below), which also orders the seed load before the model.
        -#}
        {%- do source('segments_inputs', entity) -%}
    {%- endif -%}
    {%- if 'seed' in cfg -%}
        {%- if cfg['seed'] is not string or not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', cfg['seed']) -%}
            {{ exceptions.raise_compiler_error(key ~ ".seed: '" ~ cfg['seed'] ~ "' is not a seed name") }}
        {%- endif -%}
        {{ return(ref(cfg['seed'])) }}
    {%- elif 'table' in cfg -%}
        {%- set parts = (cfg['table'] | string).split('.') -%}
        {%- for part in parts -%}
            {%- if cfg['table'] is not string or not modules.re.match('^[A-Za-z_][A-Za-z0-9_$]*$', part) -%}
                {{ exceptions.raise_compiler_error(key ~ ".table: '" ~ cfg['table'] ~ "' is not a table name (schema.table, identifiers only)") }}
            {%- endif -%}
        {%- endfor -%}
        {{ return(parts | map('tojson') | join('.')) }}
    {%- endif -%}
    {%- set path = segments_quote_literal(cfg['path'], key ~ '.path') -%}
    {%- do segments_check_path(cfg['path'], key ~ '.path') -%}
    {%- set fields = segments_input_fields(entity) -%}
    {%- if fmt != 'csv' -%}
        {%- do segments_check_input_files(cfg['path'], key, fmt, {}) -%}
    {%- endif -%}
    {%- if fmt == 'parquet' -%}
        {{ return("read_parquet(" ~ path ~ ")") }}
    {%- elif fmt == 'csv' -%}
        {%- set reserved = ['header', 'names', 'column_names', 'all_varchar', 'columns', 'types', 'dtypes', 'column_types', 'auto_type_candidates'] -%}
        {%- set options = ["all_varchar = true"] -%}
        {%- if fields is none -%}
            {%- do options.append("header = true") -%}
        {%- else -%}
            {%- do options.append("header = false") -%}
            {%- set quoted = [] -%}
            {%- for name in fields -%}{%- do quoted.append(segments_quote_literal(name, key ~ '.columns')) -%}{%- endfor -%}
            {%- do options.append("names = [" ~ quoted | join(', ') ~ "]") -%}
        {%- endif -%}
        {%- set csv_options = cfg.get('csv_options') or {} -%}
        {%- for name, value in csv_options.items() -%}
            {%- if name is not string or not modules.re.match('^[a-z_]+$', name) -%}
                {{ exceptions.raise_compiler_error(key ~ ".csv_options: '" ~ name ~ "' is not an option name") }}
            {%- endif -%}
            {%- if name in reserved -%}
                {{ exceptions.raise_compiler_error(key ~ ".csv_options." ~ name ~ ": set by the engine (every column is read as text; use " ~ key ~ ".header and " ~ key ~ ".columns for files without a header line)") }}
            {%- endif -%}
            {%- if value is string -%}
                {%- do options.append(name ~ ' = ' ~ segments_quote_literal(value, key ~ '.csv_options.' ~ name)) -%}
            {%- elif value is boolean -%}
                {%- do options.append(name ~ ' = ' ~ ('true' if value else 'false')) -%}
            {%- else -%}
                {#- a number (the schema allows string, number or boolean) -#}
                {%- do options.append(name ~ ' = ' ~ value) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do segments_check_input_files(cfg['path'], key, fmt, csv_options) -%}
        {{ return("read_csv(" ~ path ~ ", " ~ options | join(', ') ~ ")") }}
    {%- else -%}
        {#-
            Whitespace-separated text: each line is read whole (the delimiter chr(1) does not
            occur in text), trimmed and split on runs of blanks; field i is the i-th name of
            `columns`. Blank lines are skipped; a line with fewer fields has nulls at the end.
            strict_mode = false lets DuckDB read files that mix CRLF and LF line endings (the
            strict parser stops with "CSV Parser state machine reached an invalid state"); a
            stray carriage return is trimmed with the other blanks.
        -#}
        {%- set skip = 1 if cfg.get('header') is true else 0 -%}
        {%- set select_list = [] -%}
        {%- for name in fields -%}
            {%- do select_list.append("fields[" ~ loop.index ~ "] as " ~ segments_quote_column(name)) -%}
        {%- endfor -%}
        {%- set reader -%}
            (
                select {{ select_list | join(', ') }}
                from (
                    select regexp_split_to_array(regexp_replace(line, '^\s+|\s+$', '', 'g'), '\s+') as fields
                    from read_csv(
                        {{ path }}, columns = {'line': 'VARCHAR'}, delim = chr(1), quote = '',
                        escape = '', header = false, auto_detect = false, skip = {{ skip }},
                        strict_mode = false
                    )
                    where regexp_replace(line, '^\s+|\s+$', '', 'g') <> ''
                )
            )
        {%- endset -%}
        {{ return(reader) }}
    {%- endif -%}
{% endmacro %}


{% macro segments_input_available_columns(entity) %}
    {#- The column names of an input, read at execution time (empty at parse time). -#}
    {{ return(segments_input_column_types(entity).keys() | list) }}
{% endmacro %}


{% macro segments_input_column_types(entity) %}
    {#- The columns of an input as a mapping name -> DuckDB type, at execution time ({} before). -#}
    {%- set types = {} -%}
    {%- if execute and segments_input_config(entity) is not none -%}
        {%- set described = run_query("describe select * from " ~ segments_input_relation(entity)) -%}
        {%- for row in described.rows -%}{%- do types.update({row[0]: row[1]}) -%}{%- endfor -%}
    {%- endif -%}
    {{ return(types) }}
{% endmacro %}


{% macro segments_input_column_expression(name, column_type) %}
    {#-
        An input column as the expression staging reads: the quoted column, except that a typed
        TIMESTAMP WITH TIME ZONE column (Parquet, a warehouse table) becomes the text of its UTC
        instant with a Z ('2023-07-01 06:30:00Z'), never text in the session's time zone.
    -#}
    {%- set quoted = segments_quote_column(name) -%}
    {%- if column_type is string and column_type.upper().startswith('TIMESTAMP') and 'TIME ZONE' in column_type.upper() -%}
        {{ return("(cast(make_timestamp(epoch_us(" ~ quoted ~ ")) as varchar) || 'Z')") }}
    {%- endif -%}
    {{ return(quoted) }}
{% endmacro %}


{% macro segments_input_columns(entity) %}
    {#-
        The contract columns of one input as a mapping contract column -> quoted input column
        (or none when the input does not have it; a TIMESTAMP WITH TIME ZONE column is an
        expression, see segments_input_column_expression). At execution time the mapping is checked
        against the input's real columns, so a typo fails with the key and the columns found.
        A contract column mapped to null is treated as absent even if a column of that name
        exists (e.g. amount: null to compute amounts from quantity and unit_price).
    -#}
    {%- set cfg = segments_input_config(entity) or {} -%}
    {%- set contract = segments_input_contract(entity) -%}
    {%- set key = 'segments_inputs.' ~ entity ~ '.columns' -%}
    {%- set fields = segments_input_fields(entity) if cfg else none -%}
    {%- set mapping = (cfg.get('columns') or {}) if fields is none else {} -%}
    {#- Unknown contract columns and non-text values: the schema (segments_input_config). -#}
    {%- set all_columns = contract.required + contract.optional -%}
    {%- set column_types = segments_input_column_types(entity) if cfg else {} -%}
    {%- set available = column_types.keys() | list -%}
    {%- set result = {} -%}
    {%- for name in all_columns -%}
        {%- set source_name = mapping.get(name, name) -%}
        {%- if not execute or not cfg -%}
            {%- do result.update({name: none}) -%}
        {%- elif source_name is none -%}
            {%- if name in contract.required -%}
                {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ": " ~ name ~ " is required and cannot be mapped to null; available columns: " ~ available | join(', ')) }}
            {%- endif -%}
            {%- do result.update({name: none}) -%}
        {%- elif source_name in available -%}
            {%- do result.update({name: segments_input_column_expression(source_name, column_types[source_name])}) -%}
        {%- elif name in mapping -%}
            {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ": column '" ~ source_name ~ "' not found in the " ~ entity ~ " input; available columns: " ~ available | join(', ')) }}
        {%- elif name in contract.required -%}
            {{ exceptions.raise_compiler_error("segments_inputs." ~ entity ~ ": required column '" ~ name ~ "' not found in the input and not mapped under " ~ key ~ "; available columns: " ~ available | join(', ')) }}
        {%- else -%}
            {%- do result.update({name: none}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if cfg -%}
        {%- do segments_check_rule_columns(entity, result) -%}
    {%- endif -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_reserved_feature_columns() %}
    {#- The columns customer_features makes itself: an attribute may not take one of these names. -#}
    {%- set names = ['customer_id', 'reference_date', 'tenure_days'] -%}
    {%- if segments_input_config('orders') is not none -%}
        {%- do names.extend(['has_orders', 'frequency', 'orders_placed', 'orders_cancelled',
            'monetary_value', 'returned_value', 'net_revenue', 'first_order_at', 'last_order_at',
            'recency_days', 'average_order_value', 'purchase_cadence_days', 'return_rate',
            'cancellation_rate', 'historical_clv']) -%}
    {%- endif -%}
    {%- if segments_input_config('customers') is not none -%}
        {%- do names.extend(['age_years', 'is_age_implausible', 'income', 'gender', 'country',
            'region', 'acquisition_channel']) -%}
    {%- endif -%}
    {{ return(names) }}
{% endmacro %}


{% macro segments_input_attributes(entity, check_columns=true) %}
    {#-
        The validated extra attributes of one input, as a list of
        {name, source_column, column (quoted, none before execution), type, aggregate}:
        segments_inputs.customers.attributes (one value per customer row) or
        segments_inputs.orders.customer_attributes (aggregated over each customer's order lines:
        most_frequent, ties by the smallest value; numeric also mean, min, max).
        Names are lower-case identifiers (they become customer_features columns); type is
        numeric (parsed like every number, unparseable -> null and flagged) or categorical
        (trimmed text). A customers attribute may instead be derived: {expression: arithmetic
        over input columns, type: numeric} (macros/expressions.sql); its item has expression
        (the checked SQL, none before execution) and source_columns (the columns it reads).
    -#}
    {%- set cfg = segments_input_config(entity) or {} -%}
    {%- set option = 'attributes' if entity == 'customers' else 'customer_attributes' -%}
    {%- set key = 'segments_inputs.' ~ entity ~ '.' ~ option -%}
    {#- The spec's keys, types and allowed values: the schema (segments_input_config). -#}
    {%- set raw = cfg.get(option) or {} -%}
    {%- set reserved = segments_reserved_feature_columns() -%}
    {%- set available = segments_input_available_columns(entity) if (check_columns and raw) else [] -%}
    {%- set result = [] -%}
    {%- for name, spec in raw.items() -%}
        {%- if not segments_is_identifier(name) -%}
            {{ exceptions.raise_compiler_error(key ~ ": '" ~ name ~ "' is not a valid attribute name (lowercase letters, digits and underscores, not starting with a digit); it becomes a column of customer_features") }}
        {%- endif -%}
        {%- if name in reserved or name.startswith('category_share_') or name.startswith('channel_share_') -%}
            {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ": '" ~ name ~ "' is already a column of customer_features; choose another name") }}
        {%- endif -%}
        {%- if 'expression' in spec -%}
            {%- if 'column' in spec -%}
                {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ": give either column or expression, not both") }}
            {%- endif -%}
            {%- if spec.get('type') != 'numeric' -%}
                {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ".type: an attribute with an expression is numeric (type: numeric), got " ~ spec.get('type')) }}
            {%- endif -%}
            {%- set derived = segments_attribute_expression(
                spec.expression,
                available if (check_columns and execute) else none,
                key ~ "." ~ name ~ ".expression",
                segments_cleaning_rules(entity).number_format,
            ) -%}
            {%- do result.append({
                'name': name,
                'source_column': none,
                'source_columns': derived.columns,
                'column': none,
                'expression': derived.sql if (check_columns and execute) else none,
                'type': 'numeric',
                'aggregate': 'most_frequent',
            }) -%}
        {%- else -%}
        {%- set source_column = spec.get('column', name) -%}
        {%- set kind = spec.type -%}
        {%- set aggregates = ['most_frequent', 'mean', 'min', 'max'] if kind == 'numeric' else ['most_frequent'] -%}
        {%- set aggregate = spec.get('aggregate', 'most_frequent') -%}
        {%- if aggregate not in aggregates -%}
            {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ".aggregate: expected " ~ aggregates | join(' or ') ~ " for a " ~ kind ~ " attribute, got " ~ aggregate) }}
        {%- endif -%}
        {%- if check_columns and execute and source_column not in available -%}
            {{ exceptions.raise_compiler_error(key ~ "." ~ name ~ ".column: column '" ~ source_column ~ "' not found in the " ~ entity ~ " input; available columns: " ~ available | join(', ')) }}
        {%- endif -%}
        {%- do result.append({
            'name': name,
            'source_column': source_column,
            'column': segments_quote_column(source_column) if (check_columns and execute) else none,
            'source_columns': [source_column],
            'expression': none,
            'type': kind,
            'aggregate': aggregate,
        }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}


{% macro segments_customer_attributes() %}
    {#- Every extra customer attribute (customers input first, then order-derived), names unique. -#}
    {%- set result = segments_input_attributes('customers') + segments_input_attributes('orders') -%}
    {%- set seen = [] -%}
    {%- for item in result -%}
        {%- if item.name in seen -%}
            {{ exceptions.raise_compiler_error("segments_inputs.orders.customer_attributes." ~ item.name ~ ": '" ~ item.name ~ "' is also an attribute of segments_inputs.customers.attributes; choose another name") }}
        {%- endif -%}
        {%- do seen.append(item.name) -%}
    {%- endfor -%}
    {{ return(result) }}
{% endmacro %}
