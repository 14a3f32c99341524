{#-
    The generic configuration validator of the Jinja side: walks the schema of
    src/segmentation/config_schema.yml (the macro segments_config_schema, generated into
    macros/_config_schema.sql) and raises a compile error on the first mismatch: wrong type, a
    value not allowed, out of range, a wrong list length, an unknown key or a missing required
    key. Messages start with the full key path and are the same as the Python validator's
    (segmentation.config_schema.validate), e.g.
    "segments_inputs.orders.rules.reject_non_positive[1]: unknown value 'discount'; expected
    one of: quantity, unit_price, amount".

    on-run-start (segments_check_vars) validates every var; the macros that read a var validate
    it again (dbt compile runs no on-run-start hook). Checks that need the data, SQL or other keys
    stay in the macros that read the key; the schema lists them under checked_by.
-#}

{% macro segments_config_var_node(name) %}
    {{ return(segments_config_schema()['vars'][name]) }}
{% endmacro %}


{% macro segments_config_repr(value) %}
    {{ return("%r" | format(value)) }}
{% endmacro %}


{% macro segments_config_is_type(value, kind) %}
    {%- if kind == 'mapping' -%}
        {{ return(value is mapping) }}
    {%- elif kind == 'list' -%}
        {{ return(value is iterable and value is not string and value is not mapping) }}
    {%- elif kind == 'string' -%}
        {{ return(value is string) }}
    {%- elif kind == 'boolean' -%}
        {{ return(value is boolean) }}
    {%- elif kind == 'integer' -%}
        {{ return(value is integer and value is not boolean) }}
    {%- elif kind == 'number' -%}
        {{ return(value is number and value is not boolean and (value - value) == 0) }}
    {%- elif kind == 'date' -%}
        {{ return(value is string or (value is not mapping and value.year is defined and value.month is defined)) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("config_schema.yml: unknown type " ~ kind) }}
{% endmacro %}


{% macro segments_config_range_words(node, noun) %}
    {%- set low_open = 'exclusive_minimum' in node -%}
    {%- set high_open = 'exclusive_maximum' in node -%}
    {%- set low = node.get('minimum', node.get('exclusive_minimum')) -%}
    {%- set high = node.get('maximum', node.get('exclusive_maximum')) -%}
    {%- if low is not none and high is not none -%}
        {{ return(noun ~ " in " ~ ('(' if low_open else '[') ~ low ~ ", " ~ high ~ (')' if high_open else ']')) }}
    {%- elif low is not none -%}
        {{ return(noun ~ (' > ' if low_open else ' >= ') ~ low) }}
    {%- elif high is not none -%}
        {{ return(noun ~ (' < ' if high_open else ' <= ') ~ high) }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{% macro segments_config_validate(node, value, path) %}
    {#- Check value against a schema node (a compile error naming path on a mismatch). -#}
    {%- set types = [node.type] if node.type is string else node.type -%}
    {%- set words = [] -%}
    {%- for kind in types -%}
        {%- do words.append({'mapping': 'a mapping', 'list': 'a list', 'string': 'a string',
            'number': 'a finite number', 'integer': 'an integer', 'boolean': 'true or false',
            'date': 'a date as YYYY-MM-DD'}[kind]) -%}
    {%- endfor -%}
    {%- if value is none -%}
        {%- if node.get('nullable') -%}
            {{ return(none) }}
        {%- endif -%}
        {{ exceptions.raise_compiler_error(path ~ ": expected " ~ words | join(' or ') ~ ", got None") }}
    {%- endif -%}
    {%- if 'shorthand' in node and value is string -%}
        {%- set value = {node.shorthand: value} -%}
    {%- endif -%}
    {%- set ns = namespace(kind=none) -%}
    {%- for kind in types -%}
        {%- if ns.kind is none and segments_config_is_type(value, kind) -%}
            {%- set ns.kind = kind -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set kind = ns.kind -%}
    {%- if kind is none -%}
        {{ exceptions.raise_compiler_error(path ~ ": expected " ~ words | join(' or ') ~ (" (or null)" if node.get('nullable') else "") ~ ", got " ~ segments_config_repr(value)) }}
    {%- endif -%}
    {%- if kind in ['string', 'number', 'integer', 'boolean'] and 'allowed' in node and value not in node.allowed -%}
        {{ exceptions.raise_compiler_error(path ~ ": unknown value " ~ segments_config_repr(value) ~ "; expected one of: " ~ node.allowed | join(', ')) }}
    {%- endif -%}
    {%- if kind in ['number', 'integer'] -%}
        {%- set ok = ('minimum' not in node or value >= node.minimum)
            and ('exclusive_minimum' not in node or value > node.exclusive_minimum)
            and ('maximum' not in node or value <= node.maximum)
            and ('exclusive_maximum' not in node or value < node.exclusive_maximum) -%}
        {%- if not ok -%}
            {{ exceptions.raise_compiler_error(path ~ ": expected " ~ segments_config_range_words(node, 'a number' if kind == 'number' else 'an integer') ~ ", got " ~ segments_config_repr(value)) }}
        {%- endif -%}
    {%- endif -%}
    {%- if kind == 'string' and value | length < node.get('min_length', 0) -%}
        {{ exceptions.raise_compiler_error(path ~ ": expected a non-empty string, got " ~ segments_config_repr(value)) }}
    {%- endif -%}
    {%- if kind == 'list' -%}
        {%- set items = value | list -%}
        {%- set low, high = node.get('min_items'), node.get('max_items') -%}
        {%- if (low is not none and items | length < low) or (high is not none and items | length > high) -%}
            {%- if low == high -%}{%- set size = low ~ "" -%}
            {%- elif high is none -%}{%- set size = "at least " ~ low -%}
            {%- elif low is none -%}{%- set size = "at most " ~ high -%}
            {%- else -%}{%- set size = low ~ " to " ~ high -%}
            {%- endif -%}
            {{ exceptions.raise_compiler_error(path ~ ": expected a list of " ~ size ~ " item(s), got " ~ segments_config_repr(items)) }}
        {%- endif -%}
        {%- for item in items -%}
            {%- do segments_config_validate(node.get('items', {}), item, path ~ "[" ~ loop.index0 ~ "]") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if kind == 'mapping' -%}
        {%- set keys = node.get('keys') -%}
        {%- for key in value -%}
            {%- if key is not string -%}
                {{ exceptions.raise_compiler_error(path ~ ": expected names as keys, got " ~ segments_config_repr(key)) }}
            {%- endif -%}
            {%- if keys is not none and key not in keys -%}
                {{ exceptions.raise_compiler_error(path ~ "." ~ key ~ ": unknown key " ~ segments_config_repr(key) ~ "; expected some of: " ~ keys.keys() | join(', ')) }}
            {%- endif -%}
        {%- endfor -%}
        {%- for key in node.get('required', []) -%}
            {%- if key not in value -%}
                {{ exceptions.raise_compiler_error(path ~ ": missing required key " ~ segments_config_repr(key)) }}
            {%- endif -%}
        {%- endfor -%}
        {%- for key, item in value.items() -%}
            {%- do segments_config_validate(keys[key] if keys is not none else node.get('values', {}), item, path ~ "." ~ key) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{% macro segments_config_validated_var(name, default=none) %}
    {#- var(name, default) after segments_config_validate against its schema node. -#}
    {%- set value = var(name, default) -%}
    {%- do segments_config_validate(segments_config_var_node(name), value, name) -%}
    {{ return(value) }}
{% endmacro %}


{% macro segments_config_default(path) %}
    {#- The schema default of a dotted key path of fixed keys, e.g. segments_input_checks.reject_warn_share. -#}
    {%- set parts = path.split('.') -%}
    {%- set ns = namespace(node=segments_config_var_node(parts[0])) -%}
    {%- for key in parts[1:] -%}
        {%- set ns.node = ns.node['keys'][key] -%}
    {%- endfor -%}
    {{ return(ns.node.get('default')) }}
{% endmacro %}
