"""Data contract of the three maintenance tables an ERP exports (SAP PM, Maximo, TOTVS alike).

They use the ERP importer's own column/table specs (erp_files.Column, TableSpec), so the same import
rules apply: Portuguese or English headers, Brazilian dates and decimals, bad rows quarantined with
file, line and reason. The parts an order used are a table of their own (`erp_work_order_parts`, one
line per order and material), not a bill of materials per equipment type: that is what an ERP
records when it issues goods against an order, it holds the parts a corrective order really needed
(a BOM says what might be needed), and an open order's lines are its reservations, the known future
demand. The rules a column spec cannot state (a corrective order needs a failure date, a preventive
one a planned date) are `WORK_ORDER_RULES`, checked by the import like the column rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nova_assets.lib.sources.erp_columns import (
    MATERIAL_COLUMN,
    QUANTITY_ALIASES,
    SITE_COLUMN,
    Column,
    RowRule,
    TableSpec,
)

# pandas and numpy are imported by the functions that use them: the ERP table registry
# (lib.sources.erp_tables), which every `nova` command reads through the settings, imports this module
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PREVENTIVE = "preventive"
CORRECTIVE = "corrective"
ACTIVE = "active"
PHASE_OUT = "phase_out"  # still in service, decommissioning planned (decommission_date ahead)
DECOMMISSIONED = "decommissioned"
OPEN = "open"
COMPLETED = "completed"
CANCELLED = "cancelled"

ORDER_KINDS = {
    **dict.fromkeys(("preventive", "preventiva", "preventivo", "prev", "pm", "planejada", "programada"), PREVENTIVE),
    **dict.fromkeys(
        ("corrective", "corretiva", "corretivo", "corr", "cm", "falha", "emergencial", "avaria"), CORRECTIVE
    ),
}
EQUIPMENT_STATUSES = {
    **dict.fromkeys(("active", "ativo", "operacional", "em_operacao", "em_servico", "in_service"), ACTIVE),
    **dict.fromkeys(("phase_out", "em_desativacao", "a_desativar", "descontinuado", "phasing_out"), PHASE_OUT),
    **dict.fromkeys(
        ("decommissioned", "desativado", "baixado", "retirado", "inativo", "descomissionado", "removed"), DECOMMISSIONED
    ),
}
ORDER_STATUSES = {
    **dict.fromkeys(
        ("open", "aberta", "aberto", "liberada", "planejada", "programada", "pendente", "em_execucao"), OPEN
    ),
    **dict.fromkeys(
        ("completed", "concluida", "concluido", "encerrada", "fechada", "executada", "closed", "teco"), COMPLETED
    ),
    **dict.fromkeys(("cancelled", "canceled", "cancelada", "cancelado", "anulada"), CANCELLED),
}

_EQUIPMENT = Column(
    "str",
    True,
    (
        "equipamento",
        "codigo_equipamento",
        "cod_equipamento",
        "id_equipamento",
        "numero_equipamento",
        "tag",
        "ativo_id",
        "asset",
        "asset_id",
        "equipment",
    ),
)
_WORK_ORDER = Column(
    "str",
    True,
    (
        "ordem",
        "ordem_servico",
        "numero_ordem",
        "num_ordem",
        "nr_ordem",
        "numero_os",
        "nr_os",
        "os",
        "ordem_manutencao",
        "work_order",
        "order_id",
        "wo",
    ),
)

# What a column spec cannot state: a corrective order needs its failure date (the event the failure
# model counts), a preventive one its planned date (the plan the parts forecast reads), a completed
# one its completion date (the day its parts were issued). Such rows are quarantined with the reason.
WORK_ORDER_RULES = (
    RowRule(f"kind = '{CORRECTIVE}' AND failure_date IS NULL", "corrective order without failure_date"),
    RowRule(f"kind = '{PREVENTIVE}' AND planned_date IS NULL", "preventive order without planned_date"),
    RowRule(f"status = '{COMPLETED}' AND completion_date IS NULL", "completed order without completion_date"),
)

MAINTENANCE_TABLES: dict[str, TableSpec] = {
    "erp_installed_base": TableSpec(
        {
            "equipment_id": _EQUIPMENT,
            "equipment_type": Column(
                "str",
                True,
                ("tipo_equipamento", "tipo", "classe_equipamento", "categoria_equipamento", "equipment_class"),
            ),
            "model": Column("str", False, ("modelo", "modelo_equipamento", "model_number", "equipment_model")),
            "site_id": SITE_COLUMN,
            "install_date": Column(
                "date",
                True,
                (
                    "data_instalacao",
                    "data_ativacao",
                    "data_entrada_operacao",
                    "data_comissionamento",
                    "installed_on",
                    "startup_date",
                ),
            ),
            "status": Column("str", False, ("situacao", "status_equipamento", "estado"), values=EQUIPMENT_STATUSES),
            "decommission_date": Column(
                "date",
                False,
                ("data_desativacao", "data_baixa", "data_retirada", "data_descomissionamento", "decommissioned_on"),
                not_before="install_date",
            ),
        },
        key=("equipment_id",),
        file_words=("installed_base", "base_instalada", "equipamentos", "equipment", "cadastro_equipamentos"),
    ),
    "erp_work_orders": TableSpec(
        {
            "work_order_id": _WORK_ORDER,
            "kind": Column(
                "str", True, ("tipo_ordem", "tipo_manutencao", "natureza", "tipo", "order_type"), values=ORDER_KINDS
            ),
            "equipment_id": _EQUIPMENT,
            "site_id": SITE_COLUMN,
            "created_date": Column("date", False, ("data_abertura", "data_criacao", "data_emissao", "created_on")),
            "planned_date": Column(
                "date",
                False,
                ("data_planejada", "data_programada", "data_prevista", "inicio_planejado", "scheduled_date"),
            ),
            "failure_date": Column(
                "date", False, ("data_falha", "data_avaria", "data_ocorrencia", "data_quebra", "malfunction_date")
            ),
            "failure_code": Column(
                "str", False, ("codigo_falha", "cod_falha", "causa", "codigo_causa", "codigo_dano", "cause_code")
            ),
            "completion_date": Column(
                "date",
                False,
                ("data_conclusao", "data_encerramento", "data_fechamento", "data_execucao", "data_termino"),
                not_before="failure_date",
            ),
            "status": Column("str", False, ("situacao", "status_ordem", "estado"), values=ORDER_STATUSES),
        },
        key=("work_order_id",),
        file_words=("work_orders", "work_order", "ordens_servico", "ordens_manutencao", "ordens"),
        row_rules=WORK_ORDER_RULES,
    ),
    "erp_work_order_parts": TableSpec(
        {
            "work_order_id": _WORK_ORDER,
            "material_id": MATERIAL_COLUMN,
            "quantity": Column("float", True, QUANTITY_ALIASES, positive=True),
        },
        key=("work_order_id", "material_id"),
        file_words=("work_order_parts", "work_order_components", "componentes_ordem", "pecas_ordem", "materiais_ordem"),
    ),
}
# Checked before the other ERP tables when a landing file is classified ("materiais_ordem" holds the
# word "materiais", "work_order_parts" the words of "work_orders").
MAINTENANCE_CLASSIFY_ORDER = ("erp_work_order_parts", "erp_work_orders", "erp_installed_base")


def typed_installed_base(installed_base: pd.DataFrame) -> pd.DataFrame:
    """The installed base as the domain reads it: Timestamp dates, a fresh index, and a model on every
    unit (its type when the ERP gives none)."""
    import pandas as pd

    base = installed_base.reset_index(drop=True).copy()
    for column in ("install_date", "decommission_date"):
        base[column] = pd.to_datetime(base[column])
    model = base["model"] if "model" in base else pd.Series(None, index=base.index, dtype=object)
    base["model"] = model.fillna(base["equipment_type"])
    return base


def service_days(base: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Per unit of a typed installed base: the first and one-past-last day index of [start, end] it is
    in service (from its install date to the day before its decommission date); empty when first >= stop."""
    import numpy as np

    install = (base["install_date"] - start).dt.days.to_numpy()
    stop = (base["decommission_date"] - start).dt.days.fillna((end - start).days + 1).to_numpy()
    first = np.maximum(install, 0)
    return first.astype(int), np.minimum(stop, (end - start).days + 1).astype(int)


def typed_work_orders(work_orders: pd.DataFrame) -> pd.DataFrame:
    """Work orders as the domain reads them: cancelled ones dropped, Timestamp dates."""
    import pandas as pd

    orders = work_orders[work_orders["status"] != CANCELLED].copy()
    for column in ("created_date", "planned_date", "failure_date", "completion_date"):
        orders[column] = pd.to_datetime(orders[column])
    return orders
