"""The ERP tables of the data contract (ERP_TABLES): per raw table its columns, their types, the names
they go by in an export, their plausible ranges, and the words of a file name that classify a file.

Kept apart from the reader (`erp_files`: DuckDB, pandas, pyarrow) so that the settings, which check
NOVA_ERP_PLAUSIBLE_LIMITS against these columns (`erp_limits`), import none of those.
"""

from __future__ import annotations

from nova_assets.lib.maintenance.contracts import MAINTENANCE_CLASSIFY_ORDER, MAINTENANCE_TABLES
from nova_assets.lib.sources.erp_columns import (
    MATERIAL_COLUMN,
    QUANTITY_ALIASES,
    SITE_COLUMN,
    Column,
    TableSpec,
)

MOVEMENT_TYPES = {
    **dict.fromkeys(("issue", "saida", "consumo", "baixa", "requisicao", "s", "out"), "issue"),
    **dict.fromkeys(("receipt", "entrada", "recebimento", "e", "in"), "receipt"),
}
SITE_TYPES = {
    **dict.fromkeys(("warehouse", "almoxarifado", "deposito", "armazem", "cd"), "warehouse"),
    **dict.fromkeys(("tower", "torre", "erb", "site"), "tower"),
}
CRITICALITY = {"a": "A", "b": "B", "c": "C"}
# Plausible ranges, overridable per column with NOVA_ERP_PLAUSIBLE_LIMITS (a row outside is held back)
QUANTITY_LIMITS = (None, 1_000_000.0)
MAX_LEAD_TIME_DAYS = 730.0
BRAZIL_LATITUDE = (-34.0, 6.0)
BRAZIL_LONGITUDE = (-75.0, -28.0)

_SUPPLIER = ("fornecedor", "codigo_fornecedor", "cod_fornecedor", "supplier", "vendor", "vendor_id")
_PO = (
    "pedido",
    "numero_pedido",
    "num_pedido",
    "nr_pedido",
    "no_pedido",
    "pedido_compra",
    "po",
    "po_number",
    "purchase_order",
)

ERP_TABLES: dict[str, TableSpec] = {
    "erp_materials": TableSpec(
        {
            "material_id": MATERIAL_COLUMN,
            "description": Column("str", True, ("descricao", "descricao_material", "desc", "item_description", "nome")),
            "category": Column("str", False, ("categoria", "grupo", "familia", "grupo_material")),
            "unit": Column("str", False, ("unidade", "un", "und", "uom", "unidade_medida")),
            "unit_cost": Column(
                "float",
                False,
                ("custo_unitario", "preco_unitario", "custo", "preco", "valor_unitario", "cost", "price"),
                nonnegative=True,
                limits=(None, 10_000_000),
            ),
            "criticality": Column("str", False, ("criticidade", "classe_abc", "abc", "classe"), values=CRITICALITY),
            "supplier_id": Column("str", False, _SUPPLIER, code=True),
            # the part this one replaces (lib/maintenance/lifecycle.py: history, stock and orders move to it)
            "supersedes": Column(
                "str",
                False,
                ("substitui", "substitui_material", "material_substituido", "material_anterior", "replaces"),
                code=True,
            ),
        },
        key=("material_id",),
        file_words=("materials", "material", "materiais", "itens", "items", "catalogo"),
    ),
    "erp_sites": TableSpec(
        {
            "site_id": SITE_COLUMN,
            "site_name": Column("str", False, ("nome_site", "nome_local", "nome", "name", "descricao")),
            "site_type": Column("str", False, ("tipo", "tipo_site", "tipo_local", "type"), values=SITE_TYPES),
            "region": Column("str", False, ("regiao", "territorio")),
            "state": Column("str", False, ("uf", "estado")),
            "municipality": Column("str", False, ("municipio", "cidade", "city")),
            "ibge_code": Column("str", False, ("codigo_ibge", "cod_ibge", "ibge", "cod_municipio", "codigo_municipio")),
            "latitude": Column("float", False, ("lat",), limits=BRAZIL_LATITUDE),
            "longitude": Column("float", False, ("lon", "long", "lng"), limits=BRAZIL_LONGITUDE),
            "sla_penalty_brl_day": Column(
                "float",
                False,
                ("multa_sla", "multa_sla_dia", "penalidade_sla", "multa_diaria", "sla_penalty"),
                nonnegative=True,
                limits=(None, 10_000_000),
            ),
        },
        key=("site_id",),
        file_words=("sites", "site", "locais", "depositos"),
    ),
    "erp_suppliers": TableSpec(
        {
            "supplier_id": Column("str", True, _SUPPLIER, code=True),
            "supplier_name": Column("str", False, ("nome_fornecedor", "razao_social", "nome", "name")),
            "lead_time_mean_days": Column(
                "float",
                False,
                (
                    "lead_time",
                    "lead_time_medio",
                    "lead_time_mean",
                    "lead_time_days",
                    "prazo_entrega",
                    "prazo_medio",
                    "prazo_entrega_dias",
                ),
                nonnegative=True,
                limits=(None, MAX_LEAD_TIME_DAYS),
            ),
            "lead_time_std_days": Column(
                "float",
                False,
                ("lead_time_std", "lead_time_desvio", "desvio_prazo", "desvio_padrao_prazo"),
                nonnegative=True,
                limits=(None, MAX_LEAD_TIME_DAYS),
            ),
        },
        key=("supplier_id",),
        file_words=("suppliers", "supplier", "fornecedores", "fornecedor", "vendors"),
    ),
    "erp_movements": TableSpec(
        {
            "movement_date": Column(
                "date", True, ("data", "data_movimento", "data_movimentacao", "data_lancamento", "date", "dt")
            ),
            "material_id": MATERIAL_COLUMN,
            "site_id": SITE_COLUMN,
            # a consumption export often has no type column: its rows are issues
            "movement_type": Column(
                "str",
                False,
                ("tipo", "tipo_movimento", "tipo_movimentacao", "movimento", "type"),
                values=MOVEMENT_TYPES,
                default="issue",
            ),
            "quantity": Column(
                "float",
                True,
                QUANTITY_ALIASES,
                positive=True,
                limits=QUANTITY_LIMITS,
                history_by=("material_id", "movement_type"),
            ),
            # the ERP document number of one movement line: a re-export carrying it replaces that line
            "movement_id": Column(
                "str",
                False,
                (
                    "documento",
                    "num_documento",
                    "nr_documento",
                    "numero_documento",
                    "no_documento",
                    "doc",
                    "documento_material",
                    "document",
                    "document_number",
                ),
            ),
            "po_id": Column("str", False, _PO),  # on receipts: the purchase order received
        },
        key=("movement_id",),
        file_words=("movements", "movement", "movimentos", "movimentacao", "movimentacoes", "consumo", "consumption"),
    ),
    "erp_stock": TableSpec(
        {
            "snapshot_date": Column("date", True, ("data", "data_posicao", "data_saldo", "data_referencia", "date")),
            "material_id": MATERIAL_COLUMN,
            "site_id": SITE_COLUMN,
            "on_hand": Column(
                "float",
                True,
                ("saldo", "saldo_atual", "estoque", "estoque_atual", "quantidade", "qtd", "qty"),
                nonnegative=True,
                limits=QUANTITY_LIMITS,
            ),
        },
        key=("snapshot_date", "material_id", "site_id"),
        file_words=("stock_on_hand", "stock", "estoque", "saldo", "saldos", "inventory"),
    ),
    "erp_open_orders": TableSpec(
        {
            "po_id": Column("str", False, _PO),
            "material_id": MATERIAL_COLUMN,
            "supplier_id": Column("str", False, _SUPPLIER, code=True),
            "quantity": Column("float", True, QUANTITY_ALIASES, positive=True, limits=QUANTITY_LIMITS),
            "order_date": Column("date", False, ("data_pedido", "data_emissao", "data")),
            "expected_date": Column(
                "date",
                True,
                ("data_prevista", "data_entrega", "data_prevista_entrega", "previsao_entrega", "eta", "delivery_date"),
            ),
        },
        file_words=("open_orders", "pedidos_abertos", "pedidos_compra", "pedidos", "purchase_orders"),
    ),
    # every purchase order placed, received or not: promised vs actual delivery (receipts carry po_id)
    "erp_purchase_orders": TableSpec(
        {
            "po_id": Column("str", True, _PO),
            "material_id": MATERIAL_COLUMN,
            "supplier_id": Column("str", False, _SUPPLIER, code=True),
            "site_id": Column("str", False, SITE_COLUMN.aliases, code=True),
            "quantity": Column("float", True, QUANTITY_ALIASES, positive=True, limits=QUANTITY_LIMITS),
            "order_date": Column("date", True, ("data_pedido", "data_emissao", "data_compra", "data")),
            "promised_date": Column(
                "date",
                True,
                (
                    "data_prevista",
                    "data_entrega_prometida",
                    "data_prometida",
                    "data_entrega_prevista",
                    "data_prevista_entrega",
                    "previsao_entrega",
                    "promised_delivery_date",
                    "due_date",
                    "eta",
                ),
                not_before="order_date",
            ),
        },
        key=("po_id", "material_id"),
        file_words=(
            "purchase_order_history",
            "po_history",
            "historico_pedidos",
            "pedidos_historico",
            "pedidos_compra_historico",
            "historico_compras",
        ),
    ),
    **MAINTENANCE_TABLES,
}
# What the stock analyses read of the movements: 13 M rows at 10,000 materials, so the document
# numbers and source files (a string per row) stay on disk
STOCK_MOVEMENT_COLUMNS = ["movement_date", "material_id", "site_id", "movement_type", "quantity"]
# checked in this order, so "movimentos_estoque" is movements, "pedidos_materiais" open orders and
# "historico_pedidos" the purchase-order history
CLASSIFY_ORDER = (
    *MAINTENANCE_CLASSIFY_ORDER,
    "erp_purchase_orders",
    "erp_open_orders",
    "erp_movements",
    "erp_stock",
    "erp_suppliers",
    "erp_sites",
    "erp_materials",
)
