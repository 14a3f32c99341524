{#-
    The raw rows of the inputs as the base models read them: each contract column as trimmed
    text (segments_text, segments_trimmed_text) and the row's key (segments_row_key,
    segments_source_row_key). macros/inputs.sql maps the input's columns to the contract.
-#}

{% macro segments_text(columns, name) %}
    {#- An input column as trimmed text, or a typed null when the input does not have it. -#}
    {%- if columns[name] is none -%}
        cast(null as varchar)
    {%- else -%}
        {{ segments_trimmed_text('cast(' ~ columns[name] ~ ' as varchar)') }}
    {%- endif -%}
{% endmacro %}


{% macro segments_trimmed_text(text) -%}
    {#-
        nullif(trim(text), ''), with trim only called where it can change the value: DuckDB's
        trim strips spaces and Unicode space separators (U+00A0, U+3000, ...), so pure ASCII
        text that neither starts nor ends with a space is returned as it is (trim costs about
        as much as reading the column; this check a fraction of it). `< '!'` (bytes) is true
        for text that starts with a space (cheaper than starts_with); non-ASCII text anywhere
        makes strlen (bytes) differ from length (characters).
    -#}
    nullif(
        case
            when
                {{ text }} < '!'
                or ends_with({{ text }}, ' ')
                or strlen({{ text }}) != length({{ text }})
                then trim({{ text }})
            else {{ text }}
        end,
        ''
    )
{%- endmacro %}


{% macro segments_source_row_key(entity, columns) -%}
    {#-
        base_customers / base_orders.source_row_key computed on the input relation itself
        (segments_row_key of the contract columns as trimmed text, in contract order). Must stay
        equal to the expression of the base models (stg_customer_attributes joins on it).
    -#}
    {%- set contract = segments_input_contract(entity) -%}
    {%- set texts = [] -%}
    {%- for name in contract.required + contract.optional -%}
        {%- do texts.append(segments_text(columns, name)) -%}
    {%- endfor -%}
    {{ segments_row_key(texts) }}
{%- endmacro %}


{% macro segments_row_key(names) %}
    {#-
        The key of a raw row in rejects and staging: DuckDB's 64-bit hash of the row's contract
        columns (trimmed text, nulls included), as 16 hexadecimal digits. Deterministic (no
        seed: the same row gives the same key on every run, in any row order), and a fraction
        of the cost of md5 over 16 M rows. Equal rows share the key; nothing relies on two
        different rows having different keys (exact copies are found by their values).
        lpad only where to_hex gives fewer than 16 digits (a hash below 2^60, 1 in 16): the same
        text, 1.5 CPU-s less per 16 M keys.
    -#}
    {%- set row_hash -%}
    hash(
        {%- for name in names %}
        {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
    {%- endset -%}
    case
        when {{ row_hash }} >= cast(1152921504606846976 as ubigint) then to_hex({{ row_hash }})
        else lpad(to_hex({{ row_hash }}), 16, '0')
    end
{%- endmacro %}
