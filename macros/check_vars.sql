{#-
    Unknown vars are errors: on-run-start (dbt_project.yml) compares the keys of the --vars of
    the command with the vars of the configuration schema (src/segmentation/config_schema.yml,
    generated into macros/_config_schema.sql), so that a typo such as segment_timezone fails
    the command, naming the closest known var, instead of being ignored; then it validates
    every var against the schema (macros/config.sql), unknown keys at every level included.
    tests/python/test_config_vars.py keeps the schema's vars equal to the var('...') calls of
    macros, models, tests and analyses.
-#}

{% macro segments_known_vars() %}
    {{ return(segments_config_schema()['vars'].keys() | list) }}
{% endmacro %}


{% macro segments_edit_distance(a, b) %}
    {#- Levenshtein distance of two short texts. -#}
    {%- set ns = namespace(previous=range(b | length + 1) | list, current=[]) -%}
    {%- for i in range(1, a | length + 1) -%}
        {%- set ns.current = [i] -%}
        {%- for j in range(1, b | length + 1) -%}
            {%- set cost = 0 if a[i - 1] == b[j - 1] else 1 -%}
            {%- set ns.current = ns.current + [[ns.previous[j] + 1, ns.current[j - 1] + 1, ns.previous[j - 1] + cost] | min] -%}
        {%- endfor -%}
        {%- set ns.previous = ns.current -%}
    {%- endfor -%}
    {{ return(ns.previous[b | length]) }}
{% endmacro %}


{% macro segments_check_vars() %}
    {#- on-run-start: a compile error naming each unknown --vars key and the closest known var. -#}
    {%- set given = invocation_args_dict.get('vars') or {} -%}
    {%- if given is string -%}
        {%- set given = fromyaml(given) or {} -%}
    {%- endif -%}
    {%- set known = segments_known_vars() -%}
    {%- set problems = [] -%}
    {%- for name in given -%}
        {%- if name not in known -%}
            {%- set ns = namespace(best=none, distance=1000) -%}
            {%- for candidate in known -%}
                {%- set distance = segments_edit_distance(name, candidate) | int -%}
                {%- if distance < ns.distance -%}
                    {%- set ns.best = candidate -%}
                    {%- set ns.distance = distance -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do problems.append("unknown var '" ~ name ~ "' (--vars); did you mean '" ~ ns.best ~ "'?") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error(problems | join('; ') ~ " Known vars: " ~ known | join(', ') ~ " (docs/configuration.md)") }}
    {%- endif -%}
    {%- for name in known -%}
        {%- set value = var(name, none) -%}
        {%- if value is not none -%}
            {%- do segments_config_validate(segments_config_var_node(name), value, name) -%}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
