{#-
  Incremental-by-date support for the daily fact and feature tables.

  Vars (both optional, 'YYYY-MM-DD'; Dagster passes the partition's time window):
    start_date  first day to (re)write, inclusive
    end_date    first day NOT to write, exclusive (a one-day window is start_date .. start_date + 1)
  Without start_date an incremental run rewrites the last day already in the table and every
  later day; without end_date the window is open-ended.

  On an incremental run a model (re)writes the rows of the days that are
    * inside [start_date, end_date), or
    * after the last day already in the table (gaps are filled, never left behind), or
    * every day of the spine when the table's grid no longer matches the data (a material or a
      material x site pair appeared or disappeared, or the spine's first/last day moved): then
      the incremental run rewrites everything, like a full refresh.
  Rows of other days are left untouched (delete+insert on `date`). Late corrections of days
  outside the window need those days re-run (a Dagster backfill) or `--full-refresh`.
-#}

{% macro _window_var(name) -%}
  {%- set value = var(name, none) -%}
  {%- if value is none or value | string | trim == '' -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set text = value | string | trim -%}
  {#- reject anything that is not an ISO date before it reaches the SQL -#}
  {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
    {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a YYYY-MM-DD date, got '" ~ text ~ "'") }}
  {%- endif -%}
  {%- do modules.datetime.date.fromisoformat(text) -%}
  {{ return(text) }}
{%- endmacro %}


{#-
  One-row CTE body describing what this run writes. Columns:
    rebuild_all       true on a full build / full refresh, or when the grid changed (see above)
    window_start      first day of the requested window (inclusive)
    window_end        end of the requested window (exclusive)
    target_last_date  last day already in the table (NULL when empty)
    write_from        earliest day that may be written
  Arguments:
    spine          relation with one row per day (column `date`)
    key_columns    grid columns besides `date` (e.g. 'material_id' or 'material_id, site_id')
    expected_keys  SQL returning the grid keys the table must hold (same columns, same order)
-#}
{% macro incremental_bounds(spine, key_columns, expected_keys) -%}
  {%- if is_incremental() -%}
    {%- set start_date = _window_var('start_date') -%}
    {%- set end_date = _window_var('end_date') -%}
    {%- if start_date and end_date and end_date <= start_date -%}
      {{ exceptions.raise_compiler_error("end_date (" ~ end_date ~ ") must be after start_date (" ~ start_date ~ ")") }}
    {%- endif -%}
    with expected_keys as materialized (
        {{ expected_keys }}
    ),

    -- Every day of the table holds the same keys (a run whose keys changed rewrites every day),
    -- so the last day's keys are the table's: one day read instead of the whole table.
    last_day_keys as materialized (
        select {{ key_columns }} from {{ this }} where date = (select max(date) from {{ this }})
    )

    select
        rebuild_all,
        window_start,
        window_end,
        target_last_date,
        case
            when rebuild_all then cast('0001-01-01' as date)
            else least(window_start, cast(target_last_date + interval 1 day as date))
        end as write_from
    from (
        select
            (
                target.first_date is null
                or target.first_date <> grid.first_date
                or target.last_date > grid.last_date
                or exists (select * from expected_keys except select * from last_day_keys)
                or exists (select * from last_day_keys except select * from expected_keys)
            ) as rebuild_all,
            {% if start_date -%}
            cast('{{ start_date }}' as date)
            {%- else -%}
            target.last_date
            {%- endif %} as window_start,
            {% if end_date -%}
            cast('{{ end_date }}' as date)
            {%- else -%}
            cast('9999-12-31' as date)
            {%- endif %} as window_end,
            target.last_date as target_last_date
        from
            (select min(date) as first_date, max(date) as last_date from {{ this }}) as target,
            (select min(date) as first_date, max(date) as last_date from {{ spine }}) as grid
    ) as state
  {%- else -%}
    select
        true                      as rebuild_all,
        cast(null as date)        as window_start,
        cast(null as date)        as window_end,
        cast(null as date)        as target_last_date,
        cast('0001-01-01' as date) as write_from
  {%- endif -%}
{%- endmacro %}


{#- Predicate: the day `date_column` is written by this run (`bounds` is the incremental_bounds CTE). -#}
{% macro in_write_window(date_column, bounds='bounds') -%}
  {%- if is_incremental() -%}
    (
        (select rebuild_all from {{ bounds }})
        or ({{ date_column }} >= (select window_start from {{ bounds }})
            and {{ date_column }} < (select window_end from {{ bounds }}))
        or {{ date_column }} > (select target_last_date from {{ bounds }})
    )
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}


{#-
  Pre-hook of the incremental tables: on an incremental run, delete the rows of days that are no
  longer on the spine (delete+insert on `date` would otherwise keep them). No-op otherwise.
-#}
{% macro prune_outside_spine(spine) -%}
  {%- if is_incremental() -%}
    delete from {{ this }}
    where date < (select min(date) from {{ spine }})
       or date > (select max(date) from {{ spine }})
  {%- else -%}
    select 1 /* prune_outside_spine: only on incremental runs */
  {%- endif -%}
{%- endmacro %}
