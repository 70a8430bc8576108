"""The ERP importer: good rows load, bad rows are quarantined with file, line and reason."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from nova_assets.lib.sources.erp_files import (
    ERP_TABLES,
    MAX_LINE_CHARS,
    QUARANTINE_COLUMNS,
    ImportResult,
    classify_erp_file,
    read_erp_file,
)
from nova_assets.lib.sources.landing import file_content_hash

HEADER = "movement_date,material_id,site_id,movement_type,quantity"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def quarantined(result: ImportResult) -> dict[int, str]:
    return dict(zip(result.quarantine["line_number"], result.quarantine["reason"], strict=True))


def test_clean_file_loads_with_contract_types(tmp_path: Path) -> None:
    path = write(
        tmp_path, "movements.csv", f"{HEADER}\n2024-01-05,MAT-1,WH-1,issue,3\n2024-01-06,MAT-2,TWR-1,receipt,10.5\n"
    )
    result = read_erp_file(path, "erp_movements")
    assert result.file_error is None and result.quarantine.empty
    assert result.good.columns.tolist() == [*ERP_TABLES["erp_movements"].columns, "source_file"]
    assert result.good.to_dict("records") == [
        {
            "movement_date": date(2024, 1, 5),
            "material_id": "MAT-1",
            "site_id": "WH-1",
            "movement_type": "issue",
            "quantity": 3.0,
            "movement_id": None,
            "po_id": None,
            "source_file": "movements.csv",
        },
        {
            "movement_date": date(2024, 1, 6),
            "material_id": "MAT-2",
            "site_id": "TWR-1",
            "movement_type": "receipt",
            "quantity": 10.5,
            "movement_id": None,
            "po_id": None,
            "source_file": "movements.csv",
        },
    ]
    assert result.good["quantity"].dtype == "float64"


def test_semicolons_brazilian_decimals_dates_and_portuguese_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movimentos.csv",
        "Data;Código do Material;Depósito;Tipo;Qtd.\n"
        "05/01/2024;MAT-1;WH-1;Saída;1.234,5\n"
        "06/01/2024;MAT-2;WH-1;entrada;12,5\n"
        "07/01/2024;MAT-3;WH-1;consumo;7\n",
    )
    result = read_erp_file(path, "erp_movements")
    assert result.file_error is None and result.quarantine.empty
    good = result.good
    assert good["movement_date"].tolist() == [date(2024, 1, 5), date(2024, 1, 6), date(2024, 1, 7)]
    assert good["quantity"].tolist() == [1234.5, 12.5, 7.0]
    assert good["movement_type"].tolist() == ["issue", "receipt", "issue"]


def test_document_and_purchase_order_numbers_of_movements(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movimentos.csv",
        "Nº Documento;Data;Material;Depósito;Tipo;Qtd;Número do Pedido\n"
        "4900000001;05/01/2024;MAT-1;WH-1;entrada;10;4500000007\n"
        "4900000002;05/01/2024;MAT-1;WH-1;saída;2;\n"
        "4900000001;06/01/2024;MAT-1;WH-1;saída;1;\n",
    )
    result = read_erp_file(path, "erp_movements")
    assert result.good[["movement_id", "po_id"]].values.tolist() == [["4900000001", "4500000007"], ["4900000002", None]]
    # one document number is one movement line: a second line with it is a duplicate, not a movement
    assert quarantined(result) == {4: "duplicate movement_id: '4900000001' (first at line 2)"}


def test_purchase_order_history_columns_and_date_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "historico_pedidos.csv",
        "Pedido;Material;Fornecedor;Depósito;Qtd;Data do Pedido;Data Prometida\n"
        "4500000001;MAT-1;SUP-1;WH-1;12;02/01/2024;09/01/2024\n"
        "4500000001;MAT-2;SUP-1;WH-1;3;02/01/2024;09/01/2024\n"
        "4500000002;MAT-1;SUP-1;;5;10/01/2024;08/01/2024\n"
        "4500000001;MAT-1;SUP-1;WH-1;12;02/01/2024;10/01/2024\n"
        "4500000003;MAT-1;SUP-2;TWR-1;4;11/01/2024;\n",
    )
    assert classify_erp_file(path) == "erp_purchase_orders"
    result = read_erp_file(path, "erp_purchase_orders")
    assert result.good.columns.tolist() == [
        "po_id",
        "material_id",
        "supplier_id",
        "site_id",
        "quantity",
        "order_date",
        "promised_date",
    ]
    assert result.good.to_dict("records") == [
        {
            "po_id": "4500000001",
            "material_id": "MAT-1",
            "supplier_id": "SUP-1",
            "site_id": "WH-1",
            "quantity": 12.0,
            "order_date": date(2024, 1, 2),
            "promised_date": date(2024, 1, 9),
        },
        {
            "po_id": "4500000001",
            "material_id": "MAT-2",
            "supplier_id": "SUP-1",
            "site_id": "WH-1",
            "quantity": 3.0,
            "order_date": date(2024, 1, 2),
            "promised_date": date(2024, 1, 9),
        },
    ]
    assert quarantined(result) == {
        4: "promised_date before order_date: '2024-01-08'",
        5: "duplicate po_id+material_id: '4500000001|MAT-1' (first at line 2)",
        6: "missing promised_date",
    }


def test_dot_decimals_and_thousands_in_comma_files(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "materials.csv",
        "material_id,description,unit_cost\n"
        "MAT-1,Bateria 12V,1234.5\n"
        'MAT-2,"Retificador 48V, 3kW","1,234.50"\n'
        "MAT-3,Conector N,1.234\n",
    )
    result = read_erp_file(path, "erp_materials")
    assert result.quarantine.empty
    assert result.good["unit_cost"].tolist() == [1234.5, 1234.5, 1.234]
    assert result.good["description"].tolist()[1] == "Retificador 48V, 3kW"


def test_ambiguous_thousands_follow_the_column_convention(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "estoque.csv",
        "data;material;deposito;saldo\n31/12/2024;MAT-1;WH-1;1.500\n31/12/2024;MAT-2;WH-1;2,5\n",
    )
    assert read_erp_file(path, "erp_stock").good["on_hand"].tolist() == [1500.0, 2.5]


def test_latin1_accents_are_decoded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "locais.csv",
        "código;nome;município;tipo\n"
        "TWR-IOS-01;ERB Ilhéus 01;Ilhéus;torre\n"
        "WH-SSA-01;Almoxarifado São Cristóvão;Salvador;almoxarifado\n",
        encoding="latin-1",
    )
    result = read_erp_file(path, "erp_sites")
    assert result.file_error == (
        "locais.csv: missing required column(s): site_id (found: código, nome, município, tipo)"
    )
    path = write(
        tmp_path,
        "locais.csv",
        "depósito;nome;município;tipo\n"
        "TWR-IOS-01;ERB Ilhéus 01;Ilhéus;torre\n"
        "WH-SSA-01;Almoxarifado São Cristóvão;Salvador;almoxarifado\n",
        encoding="latin-1",
    )
    result = read_erp_file(path, "erp_sites")
    assert result.quarantine.empty
    assert result.good["municipality"].tolist() == ["Ilhéus", "Salvador"]
    assert result.good["site_name"].tolist()[1] == "Almoxarifado São Cristóvão"
    assert result.good["site_type"].tolist() == ["tower", "warehouse"]


def test_missing_required_columns_reject_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "movements.csv", "data,material,deposito,qtd_x\n2024-01-05,MAT-1,WH-1,3\n")
    result = read_erp_file(path, "erp_movements")
    assert result.file_error == (
        "movements.csv: missing required column(s): quantity (found: data, material, deposito, qtd_x)"
    )
    assert result.good.empty and result.messages() == [result.file_error]


def test_missing_type_column_means_issues(tmp_path: Path) -> None:
    path = write(tmp_path, "consumo.csv", "data,material,deposito,quantidade\n2024-01-05,MAT-1,WH-1,3\n")
    result = read_erp_file(path, "erp_movements")
    assert result.good["movement_type"].tolist() == ["issue"]


def test_bad_dates_are_quarantined_and_good_rows_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movements.csv",
        f"{HEADER}\n2024-01-05,MAT-1,WH-1,issue,1\n"
        "2024-13-45,MAT-1,WH-1,issue,1\n"
        "31/02/2024,MAT-1,WH-1,issue,1\n"
        "yesterday,MAT-1,WH-1,issue,1\n"
        "06/01/2024,MAT-1,WH-1,issue,1\n",
    )
    result = read_erp_file(path, "erp_movements")
    assert quarantined(result) == {
        3: "bad date in movement_date: '2024-13-45'",
        4: "bad date in movement_date: '31/02/2024'",
        5: "bad date in movement_date: 'yesterday'",
    }
    assert result.good["movement_date"].tolist() == [date(2024, 1, 5), date(2024, 1, 6)]
    assert result.messages()[0] == "movements.csv:3: bad date in movement_date: '2024-13-45'"


def test_negative_zero_and_non_numeric_quantities(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movements.csv",
        f"{HEADER}\n2024-01-05,MAT-1,WH-1,issue,-5\n"
        "2024-01-05,MAT-2,WH-1,issue,abc\n"
        "2024-01-05,MAT-3,WH-1,issue,0\n"
        "2024-01-05,MAT-4,WH-1,issue,2\n"
        "2024-01-05,MAT-5,WH-1,issue,\n",
    )
    result = read_erp_file(path, "erp_movements")
    assert quarantined(result) == {
        2: "negative quantity: '-5'",
        3: "non-numeric quantity: 'abc'",
        4: "zero quantity",
        6: "missing quantity",
    }
    assert result.good["material_id"].tolist() == ["MAT-4"]
    assert (result.quarantine["source_file"] == "movements.csv").all()
    assert result.quarantine.columns.tolist() == QUARANTINE_COLUMNS


def test_missing_ids_and_unknown_types_collect_every_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "movements.csv", f"{HEADER}\n2024-01-05,,WH-1,issue,1\n2024-01-05,MAT-1,,transfer,1\n")
    result = read_erp_file(path, "erp_movements")
    assert quarantined(result) == {2: "missing material_id", 3: "missing site_id; unknown movement_type: 'transfer'"}
    assert result.quarantine["raw_row"].tolist() == ["2024-01-05,,WH-1,issue,1", "2024-01-05,MAT-1,,transfer,1"]


def test_exact_duplicates_and_duplicate_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movements.csv",
        f"{HEADER}\n2024-01-05,MAT-1,WH-1,issue,1\n2024-01-05,MAT-1,WH-1,issue,2\n2024-01-05,MAT-1,WH-1,issue,1\n",
    )
    result = read_erp_file(path, "erp_movements")
    assert quarantined(result) == {4: "exact duplicate: the same as line 2"}
    assert result.good["quantity"].tolist() == [1.0, 2.0]
    path = write(tmp_path, "materials.csv", "material_id,description\nMAT-1,Bateria\nMAT-1,Bateria 12V\n")
    result = read_erp_file(path, "erp_materials")
    assert quarantined(result) == {3: "duplicate material_id: 'MAT-1' (first at line 2)"}


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    result = read_erp_file(write(tmp_path, "movements.csv", ""), "erp_movements")
    assert result.file_error == "movements.csv: empty file"
    assert result.good.columns.tolist() == [*ERP_TABLES["erp_movements"].columns, "source_file"]
    result = read_erp_file(write(tmp_path, "movements.csv", "\n  \n"), "erp_movements")
    assert result.file_error == "movements.csv: empty file"
    result = read_erp_file(write(tmp_path, "movements.csv", HEADER + "\n"), "erp_movements")
    assert result.file_error is None and result.good.empty and result.quarantine.empty


def test_truncated_last_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movements.csv",
        f"{HEADER}\n2024-01-05,MAT-1,WH-1,issue,1\n2024-01-06,MAT-2,WH-1,issue,4\n2024-01-07,MAT-3,WH",
    )
    result = read_erp_file(path, "erp_movements")
    assert quarantined(result) == {4: "wrong number of fields: expected 5, found 3 (truncated or malformed line)"}
    assert result.quarantine["raw_row"].tolist() == ["2024-01-07,MAT-3,WH"]
    assert result.good["material_id"].tolist() == ["MAT-1", "MAT-2"]


def test_huge_line_is_quarantined_without_keeping_it_whole(tmp_path: Path) -> None:
    huge = "2024-01-05,MAT-1,WH-1,issue," + "9" * (MAX_LINE_CHARS + 500)
    path = write(tmp_path, "movements.csv", f"{HEADER}\n{huge}\n2024-01-06,MAT-2,WH-1,issue,1\n")
    result = read_erp_file(path, "erp_movements")
    assert quarantined(result) == {2: f"line too long: {len(huge)} characters (limit {MAX_LINE_CHARS})"}
    assert len(result.quarantine["raw_row"].iloc[0]) < 1000
    assert result.good["material_id"].tolist() == ["MAT-2"]


def test_binary_garbage_and_headerless_files_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "movements.csv"
    path.write_bytes(bytes(range(256)) * 40)
    error = read_erp_file(path, "erp_movements").file_error
    assert error == "movements.csv: not a text file (binary content)"
    path = write(tmp_path, "movements.csv", "2024-01-05,MAT-1,WH-1,issue,1\n2024-01-06,MAT-1,WH-1,issue,1\n")
    error = read_erp_file(path, "erp_movements").file_error
    assert error is not None and error.startswith("movements.csv: no header row")


def test_ambiguous_columns_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "movements.csv", "data,date,material,deposito,qtd\n2024-01-05,2024-01-05,M,W,1\n")
    assert read_erp_file(path, "erp_movements").file_error == (
        "movements.csv: ambiguous columns: data, date -> movement_date"
    )


def test_parquet_files(tmp_path: Path) -> None:
    path = tmp_path / "estoque.parquet"
    pd.DataFrame(
        {
            "data": pd.to_datetime(["2024-12-31", "2024-12-31", "2024-12-31"]),
            "material": [101, 102, 103],
            "deposito": ["WH-1", "WH-1", None],
            "saldo": [5.0, -1.0, 2.0],
        }
    ).to_parquet(path)
    result = read_erp_file(path, "erp_stock")
    assert result.good.to_dict("records") == [
        {"snapshot_date": date(2024, 12, 31), "material_id": "101", "site_id": "WH-1", "on_hand": 5.0}
    ]
    assert quarantined(result) == {3: "negative on_hand: '-1'", 4: "missing site_id"}
    corrupt = tmp_path / "estoque2.parquet"
    corrupt.write_bytes(b"PAR1 not really parquet")
    error = read_erp_file(corrupt, "erp_stock").file_error
    assert error is not None and error.startswith("estoque2.parquet: cannot read Parquet file")


def test_unknown_table_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown ERP table"):
        read_erp_file(write(tmp_path, "x.csv", HEADER), "movements")


@pytest.mark.parametrize(
    ("name", "table"),
    [
        ("materials.csv", "erp_materials"),
        ("Materiais_2024.CSV", "erp_materials"),
        ("sites.csv", "erp_sites"),
        ("locais.txt", "erp_sites"),
        ("fornecedores.csv", "erp_suppliers"),
        ("movements.csv", "erp_movements"),
        ("movimentos_estoque_jan.csv", "erp_movements"),
        ("consumo-2024-01.parquet", "erp_movements"),
        ("stock_on_hand.csv", "erp_stock"),
        ("estoque.csv", "erp_stock"),
        ("open_orders.csv", "erp_open_orders"),
        ("pedidos_abertos.csv", "erp_open_orders"),
        ("purchase_order_history.csv", "erp_purchase_orders"),
        ("historico_pedidos_2024.csv", "erp_purchase_orders"),
        ("Pedidos_Histórico.csv", "erp_purchase_orders"),
        ("pedidos_compra_historico.parquet", "erp_purchase_orders"),
        ("estacoes_licenciadas.csv", None),
        ("SYNTHETIC_DATA.txt", None),
        ("materials.xlsx", None),
    ],
)
def test_classify_by_file_name(name: str, table: str | None) -> None:
    assert classify_erp_file(Path("landing") / name) == table


def test_content_hash_follows_the_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "movements.csv", HEADER + "\n")
    first = file_content_hash(path)
    assert first == hashlib.sha256(path.read_bytes()).hexdigest()
    write(tmp_path, "movements.csv", HEADER + "\n2024-01-05,MAT-1,WH-1,issue,1\n")
    assert file_content_hash(path) != first


def test_quoted_lines_keep_their_place_among_plain_ones(tmp_path: Path) -> None:
    # plain lines are split by Arrow, quoted ones by the csv module: rows and line numbers stay in file order
    path = write(
        tmp_path,
        "movements.csv",
        f"{HEADER}\n"
        "2024-01-05,MAT-1,WH-1,issue,3\n"
        '2024-01-06,"MAT-2, rev B",WH-1,issue,4\n'
        "   \n"
        "2024-01-07,MAT-3,WH-1,issue\n"
        '2024-01-08,"MAT-4",WH-1,issue,"5",extra\n'
        "2024-01-09,MAT-5,WH-1,issue,6\r\n",
    )
    result = read_erp_file(path, "erp_movements")
    assert result.good["material_id"].tolist() == ["MAT-1", "MAT-2, rev B", "MAT-5"]
    assert result.good["quantity"].tolist() == [3.0, 4.0, 6.0]
    assert quarantined(result) == {
        5: "wrong number of fields: expected 5, found 4 (truncated or malformed line)",
        6: "wrong number of fields: expected 5, found 6 (truncated or malformed line)",
    }
    assert result.quarantine.set_index("line_number")["raw_row"].to_dict() == {
        5: "2024-01-07,MAT-3,WH-1,issue",
        6: '2024-01-08,"MAT-4",WH-1,issue,"5",extra',
    }
