{#-
    Derived attributes: an arithmetic expression over input columns, configured as
        segments_inputs.customers.attributes.<name>: {expression: "Kidhome + Teenhome", type: numeric}
    The expression is checked token by token before it reaches SQL, and rebuilt from the tokens:
    numbers, input column names (bare, or in double quotes when they contain other characters,
    e.g. "Mnt Wines"), the operators + - * /, parentheses, commas between function arguments,
    and the functions abs, coalesce, greatest, least, nullif and round. Anything else (a
    semicolon, a quote, a keyword such as select, an unknown function or column) is refused with
    a message naming the key, so no SQL of the configuration is ever executed as written.
-#}

{% macro segments_expression_functions() %}
    {{ return(['abs', 'coalesce', 'greatest', 'least', 'nullif', 'round']) }}
{% endmacro %}


{% macro segments_expression_tokens(expression, key) %}
    {#- The tokens of an expression as [kind, text] pairs; an unknown character is an error. -#}
    {%- set pattern = '\\s*(?:(\\d+(?:\\.\\d*)?(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|"((?:[^"]|"")+)"|([-+*/(),]))' -%}
    {%- set state = namespace(position=0) -%}
    {%- set tokens = [] -%}
    {%- for match in modules.re.finditer(pattern, expression) -%}
        {%- if match.start() != state.position -%}
            {{ exceptions.raise_compiler_error(segments_expression_error(expression, key, state.position)) }}
        {%- endif -%}
        {%- if match.group(1) is not none -%}
            {%- do tokens.append(['number', match.group(1)]) -%}
        {%- elif match.group(2) is not none -%}
            {%- do tokens.append(['name', match.group(2)]) -%}
        {%- elif match.group(3) is not none -%}
            {%- do tokens.append(['column', match.group(3) | replace('""', '"')]) -%}
        {%- else -%}
            {%- do tokens.append(['operator', match.group(4)]) -%}
        {%- endif -%}
        {%- set state.position = match.end() -%}
    {%- endfor -%}
    {%- if expression[state.position:] | trim | length > 0 -%}
        {{ exceptions.raise_compiler_error(segments_expression_error(expression, key, state.position)) }}
    {%- endif -%}
    {{ return(tokens) }}
{% endmacro %}


{% macro segments_expression_error(expression, key, position, reason=none) %}
    {%- set rest = expression[position:] | trim -%}
    {{ return(
        key ~ ": " ~ (reason or ("unexpected '" ~ rest[:20] ~ "'"))
        ~ " at character " ~ (position + 1) ~ " of '" ~ expression ~ "'; an expression is"
        ~ " numbers, input columns (in double quotes when the name has other characters than"
        ~ " letters, digits and underscores), + - * /, parentheses and the functions "
        ~ segments_expression_functions() | join(', ')
    ) }}
{% endmacro %}


{% macro segments_attribute_expression(expression, available, key, number_format=none) %}
    {#-
        Check a derived attribute's expression against the input's columns (available: their
        names; none to check only the syntax; number_format: the input's rule, as for
        segments_parse_number) and return
        {'sql': the expression with every column as its parsed number (a double, null when not a
        number), 'columns': the input columns it reads}.
    -#}
    {%- if expression is not string or expression | trim | length == 0 -%}
        {{ exceptions.raise_compiler_error(key ~ ": expected an arithmetic expression over input columns, e.g. \"Kidhome + Teenhome\", got " ~ expression) }}
    {%- endif -%}
    {%- set tokens = segments_expression_tokens(expression, key) -%}
    {%- set functions = segments_expression_functions() -%}
    {%- set state = namespace(expect_operand=true, after_function=false) -%}
    {%- set stack = [] -%}
    {%- set parts = [] -%}
    {%- set columns = [] -%}
    {%- for token in tokens -%}
        {%- set kind, text = token[0], token[1] -%}
        {%- set following = tokens[loop.index][1] if loop.index < tokens | length else none -%}
        {%- set where = 'token ' ~ loop.index ~ " ('" ~ text ~ "')" -%}
        {%- if kind == 'name' and following == '(' -%}
            {%- if not state.expect_operand or (text | lower) not in functions -%}
                {{ exceptions.raise_compiler_error(key ~ ": '" ~ text ~ "(' is not allowed in '" ~ expression ~ "'; the functions are " ~ functions | join(', ')) }}
            {%- endif -%}
            {%- do parts.append(text | lower) -%}
            {%- set state.after_function = true -%}
        {%- elif kind in ['name', 'column', 'number'] -%}
            {%- if not state.expect_operand -%}
                {{ exceptions.raise_compiler_error(key ~ ": " ~ where ~ " follows a value without an operator in '" ~ expression ~ "'") }}
            {%- endif -%}
            {%- if kind == 'number' -%}
                {%- do parts.append(text) -%}
            {%- else -%}
                {%- if available is not none and text not in available -%}
                    {{ exceptions.raise_compiler_error(key ~ ": column '" ~ text ~ "' not found in the input; available columns: " ~ available | join(', ')) }}
                {%- endif -%}
                {%- if text not in columns -%}{%- do columns.append(text) -%}{%- endif -%}
                {%- do parts.append(segments_parse_number(segments_clean_text(segments_quote_column(text)), number_format) | trim) -%}
            {%- endif -%}
            {%- set state.expect_operand = false -%}
        {%- elif text == '(' -%}
            {%- if not state.expect_operand -%}
                {{ exceptions.raise_compiler_error(key ~ ": " ~ where ~ " follows a value without an operator in '" ~ expression ~ "'") }}
            {%- endif -%}
            {%- do stack.append('call' if state.after_function else 'group') -%}
            {%- set state.after_function = false -%}
            {%- do parts.append('(') -%}
        {%- elif text == ')' -%}
            {%- if state.expect_operand or not stack -%}
                {{ exceptions.raise_compiler_error(key ~ ": " ~ where ~ " closes nothing or follows an operator in '" ~ expression ~ "'") }}
            {%- endif -%}
            {%- do stack.pop() -%}
            {%- do parts.append(')') -%}
        {%- elif text == ',' -%}
            {%- if state.expect_operand or not stack or stack[-1] != 'call' -%}
                {{ exceptions.raise_compiler_error(key ~ ": " ~ where ~ " is only allowed between function arguments in '" ~ expression ~ "'") }}
            {%- endif -%}
            {%- do parts.append(',') -%}
            {%- set state.expect_operand = true -%}
        {%- elif text in ['+', '-'] and state.expect_operand -%}
            {%- do parts.append(text) -%}
        {%- else -%}
            {%- if state.expect_operand -%}
                {{ exceptions.raise_compiler_error(key ~ ": " ~ where ~ " needs a value before it in '" ~ expression ~ "'") }}
            {%- endif -%}
            {%- do parts.append(text) -%}
            {%- set state.expect_operand = true -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.expect_operand or stack -%}
        {{ exceptions.raise_compiler_error(key ~ ": '" ~ expression ~ "' is incomplete (a value or a closing parenthesis is missing)") }}
    {%- endif -%}
    {{ return({'sql': 'cast((' ~ parts | join(' ') ~ ') as double)', 'columns': columns}) }}
{% endmacro %}
