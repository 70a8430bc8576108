"""The maintenance tables' contract: aliases, import rules through the ERP importer, row rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from nova_assets.lib.maintenance.contracts import CORRECTIVE, MAINTENANCE_TABLES, PREVENTIVE
from nova_assets.lib.sample.maintenance_generator import write_maintenance_exports
from nova_assets.lib.sources import erp_files
from tests.unit import maintenance_data


def test_the_importer_registers_the_maintenance_tables() -> None:
    for table, spec in MAINTENANCE_TABLES.items():
        assert erp_files.ERP_TABLES[table] is spec


def test_every_alias_names_one_column_of_its_table() -> None:
    for table, spec in MAINTENANCE_TABLES.items():
        names = [erp_files._normalise(n) for col, c in spec.columns.items() for n in (col, *c.aliases)]
        assert len(names) == len(set(names)), table


def test_portuguese_export_loads_with_contract_types(tmp_path: Path) -> None:
    path = tmp_path / "Base_Instalada.csv"
    path.write_text(
        "Código do Equipamento;Tipo de Equipamento;Modelo;Local;Data de Instalação;Situação;Data de Baixa\n"
        "EQ-1;BATTERY;Banco VRLA;TWR-SSA-01;15/03/2012;Em desativação;30/01/2026\n"
        "EQ-2;RADIO;RRU;TWR-SSA-01;2019-07-01;ativo;\n"
        "EQ-3;RADIO;RRU;TWR-SSA-01;2019-07-01;quebrado;\n"
        "EQ-4;COOLING;AC;TWR-SSA-02;01/01/2020;desativado;31/12/2019\n"
        "EQ-2;RADIO;RRU;TWR-SSA-02;2020-01-01;ativo;\n",
        encoding="cp1252",
    )
    assert erp_files.classify_erp_file(path) == "erp_installed_base"
    result = erp_files.read_erp_file(path, "erp_installed_base")
    assert result.good.columns.tolist() == list(MAINTENANCE_TABLES["erp_installed_base"].columns)
    assert result.good.to_dict("records")[0] == {
        "equipment_id": "EQ-1",
        "equipment_type": "BATTERY",
        "model": "Banco VRLA",
        "site_id": "TWR-SSA-01",
        "install_date": date(2012, 3, 15),
        "status": "phase_out",
        "decommission_date": date(2026, 1, 30),
    }
    reasons = dict(zip(result.quarantine["line_number"], result.quarantine["reason"], strict=True))
    assert reasons == {
        4: "unknown status: 'quebrado'",
        5: "decommission_date before install_date: '2019-12-31'",
        6: "duplicate equipment_id: 'EQ-2' (first at line 3)",
    }


def test_work_orders_and_their_parts_load_and_classify(tmp_path: Path) -> None:
    orders = tmp_path / "ordens_servico.csv"
    orders.write_text(
        "Ordem,Tipo,Equipamento,Local,Data Abertura,Data Programada,Data da Falha,Código Falha,Data Conclusão,Status\n"
        "4001,Preventiva,EQ-1,TWR-1,01/02/2025,15/03/2025,,,,Aberta\n"
        "4002,Corretiva,EQ-2,TWR-1,10/02/2025,,10/02/2025,RAD-OPTICO,11/02/2025,Concluída\n"
        "4003,Corretiva,EQ-2,TWR-1,10/02/2025,,12/02/2025,RAD-OPTICO,11/02/2025,Concluída\n"
        "4004,inspeção,EQ-2,TWR-1,10/02/2025,,,,,Aberta\n",
        encoding="utf-8",
    )
    parts = tmp_path / "work_order_parts.csv"
    parts.write_text("Ordem;Código Material;Qtd\n4002;MAT-1;2\n4002;MAT-2;1,5\n4002;MAT-1;1\n4003;MAT-3;0\n")
    assert erp_files.classify_erp_file(orders) == "erp_work_orders"
    assert erp_files.classify_erp_file(parts) == "erp_work_order_parts"
    assert erp_files.classify_erp_file(tmp_path / "materiais_ordem.csv") == "erp_work_order_parts"
    assert erp_files.classify_erp_file(tmp_path / "materials.csv") == "erp_materials"
    loaded = erp_files.read_erp_file(orders, "erp_work_orders")
    assert loaded.good["kind"].tolist() == [PREVENTIVE, CORRECTIVE]
    assert loaded.good["status"].tolist() == ["open", "completed"]
    assert set(loaded.quarantine["line_number"]) == {4, 5}
    assert "completion_date before failure_date" in loaded.quarantine["reason"].iloc[0]
    assert loaded.quarantine["reason"].iloc[1] == "unknown kind: 'inspeção'"
    lines = erp_files.read_erp_file(parts, "erp_work_order_parts")
    assert lines.good["quantity"].tolist() == [2.0, 1.5]
    assert lines.quarantine["reason"].tolist() == [
        "duplicate work_order_id+material_id: '4002|MAT-1' (first at line 2)",
        "zero quantity",
    ]


def test_order_rows_breaking_the_row_rules_are_quarantined_with_their_reasons(tmp_path: Path) -> None:
    path = tmp_path / "Ordens_Manutencao.csv"
    path.write_text(
        "OS;Tipo de Manutenção;Equipamento;Site;Data Programada;Data da Falha;Data Conclusão;Situação\n"
        "5001;Corretiva;EQ-1;TWR-1;;;;Aberta\n"
        "5002;Preventiva;EQ-1;TWR-1;;;;Aberta\n"
        "5003;Preventiva;EQ-1;TWR-1;01/03/2025;;;Concluída\n"
        "5004;Corretiva;EQ-1;TWR-1;;02/03/2025;;Aberta\n",
        encoding="utf-8",
    )
    assert erp_files.classify_erp_file(path) == "erp_work_orders"
    result = erp_files.read_erp_file(path, "erp_work_orders")
    assert result.good["work_order_id"].tolist() == ["5004"]
    assert result.messages() == [
        "Ordens_Manutencao.csv:2: corrective order without failure_date",
        "Ordens_Manutencao.csv:3: preventive order without planned_date",
        "Ordens_Manutencao.csv:4: completed order without completion_date",
    ]


def test_generated_exports_import_without_quarantine(tmp_path: Path) -> None:
    data = maintenance_data.sample(8, seed=3)
    written = write_maintenance_exports(data, tmp_path)
    for name, table in (
        ("installed_base", "erp_installed_base"),
        ("work_orders", "erp_work_orders"),
        ("work_order_parts", "erp_work_order_parts"),
    ):
        path = written[name]
        assert erp_files.classify_erp_file(path) == table
        result = erp_files.read_erp_file(path, table)
        assert result.file_error is None and result.quarantine.empty, result.messages()[:3]
        expected = getattr(data, name)
        assert len(result.good) == len(expected)
        pd.testing.assert_frame_equal(result.good, expected, check_dtype=False)
