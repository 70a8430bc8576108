{#- Root folder of the lake (raw/, silver/, warehouse.duckdb). Trailing slashes removed. -#}
{% macro lake_dir() -%}
  {{- return(env_var('NOVA_LAKE_DIR').rstrip('/')) -}}
{%- endmacro %}


{#-
  Create a directory from DuckDB SQL (DuckDB has no mkdir). A partitioned COPY creates its
  target directory (one level: the parent must exist) and, with overwrite_or_ignore and zero
  rows, writes no file and leaves existing files untouched. Idempotent.
-#}
{% macro ensure_directory(path) -%}
  copy (select 1 as _p, 1 as _v where false)
  to '{{ path }}' (format parquet, partition_by (_p), overwrite_or_ignore true)
{%- endmacro %}


{#-
  Post-hook: export the model's table to $NOVA_LAKE_DIR/silver/<model>.parquet (sorted by
  `order_by`), creating silver/ if needed. No-op on non-duckdb targets.
  Usage: {{ config(post_hook=["{{ export_to_silver('material_id, date') }}"]) }}
-#}
{% macro export_to_silver(order_by=none) -%}
  {%- if target.type == 'duckdb' -%}
    {%- set silver = lake_dir() ~ '/silver' -%}
    {%- set location = silver ~ '/' ~ this.identifier ~ '.parquet' -%}
    {{ ensure_directory(silver) }};
    copy (
      select * from {{ this }}
      {%- if order_by %} order by {{ order_by }}{% endif %}
    ) to '{{ location }}' (format parquet, compression zstd)
  {%- else -%}
    select 1 /* export_to_silver: parquet export only on duckdb targets */
  {%- endif -%}
{%- endmacro %}
