"""ERP text files the way exporters write them: RFC 4180 quoting, encodings decided per file with a
warning where a byte is not valid, files cut short (issue 16, items 3 and 4)."""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np

from nova_assets.lib.sources.erp_files import ImportResult, read_erp_file
from nova_assets.lib.sources.text_files import LineMap

MATERIALS = "material_id,description,unit_cost\n"
MOVEMENTS = "movement_date,material_id,site_id,movement_type,quantity\n"


def write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def quarantined(result: ImportResult) -> dict[int, str]:
    return dict(zip(result.quarantine["line_number"], result.quarantine["reason"], strict=True))


def test_a_quoted_line_break_is_part_of_its_field_and_later_lines_keep_their_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "materials.csv",
        MATERIALS + 'MAT-1,"Bateria VRLA\n12V 100Ah",10\n'  # lines 2-3: one record
        'MAT-2,"Cabo ""drop"" 2F",5\n'  # line 4: a doubled quote inside quotes
        "MAT-3,Conector,abc\n"  # line 5: a bad cost, reported on its own line
        'MAT-4,"Retificador\n\n48V",7\n'  # lines 6-8: a blank line inside the quotes
        "MAT-5,Antena,x\n",  # line 9
    )
    result = read_erp_file(path, "erp_materials")
    assert result.good["description"].tolist() == ["Bateria VRLA\n12V 100Ah", 'Cabo "drop" 2F', "Retificador\n\n48V"]
    assert quarantined(result) == {5: "non-numeric unit_cost: 'abc'", 9: "non-numeric unit_cost: 'x'"}
    assert result.quarantine["raw_row"].tolist() == ["MAT-3,Conector,abc", "MAT-5,Antena,x"]


def test_a_quote_left_open_quarantines_the_lines_it_swallows_with_one_clear_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movements.csv",
        MOVEMENTS + '2025-11-01,"MAT-1,WH-1,issue,1\n2025-11-02,MAT-2,WH-1,issue,2\n2025-11-03,MAT-1,WH-1,issue,3\n',
    )
    result = read_erp_file(path, "erp_movements")
    (reason,) = quarantined(result).values()
    assert list(quarantined(result)) == [2]
    assert reason.startswith("unterminated or misplaced quote") and "runs over lines 2-4" in reason


def test_an_inch_mark_inside_an_unquoted_field_is_just_a_character(tmp_path: Path) -> None:
    path = write(tmp_path, "materials.csv", MATERIALS + 'MAT-1,Cabo coaxial 1/2" superflexivel,60\n')
    assert read_erp_file(path, "erp_materials").good["description"].tolist() == ['Cabo coaxial 1/2" superflexivel']


def test_a_utf8_file_with_one_stray_windows_1252_byte_keeps_its_accents_and_names_the_line(tmp_path: Path) -> None:
    text = (
        "depósito;nome;município\n"
        "TWR-IOS-01;ERB Ilhéus 01;Ilhéus\n"
        "WH-SSA-01;Almoxarifado São Cristóvão;Salvador\n"
        "TWR-FSA-01;ERB Feira;Feira de Santana\n"
    ).encode()
    stray = text.replace(b"ERB Feira", b"ERB Feira de Sant\xe9")  # one byte typed on a Windows machine
    result = read_erp_file(write(tmp_path, "locais.csv", stray), "erp_sites")
    assert result.good["site_name"].tolist() == ["ERB Ilhéus 01", "Almoxarifado São Cristóvão", "ERB Feira de Santé"]
    assert result.good["municipality"].tolist()[1] == "Salvador"
    (warning,) = result.warnings
    assert warning.startswith("locais.csv: 1 byte sequence(s) not valid UTF-8")
    assert "line 4: 0xE9 read as 'é'" in warning


def test_a_windows_1252_file_is_decoded_as_such_without_a_warning(tmp_path: Path) -> None:
    text = "depósito;nome;município\nTWR-IOS-01;ERB Ilhéus “centro”;Ilhéus\n"
    result = read_erp_file(write(tmp_path, "locais.csv", text.encode("cp1252")), "erp_sites")
    assert result.good["site_name"].tolist() == ["ERB Ilhéus “centro”"] and result.warnings == ()


def test_utf16_unicode_text_from_excel_loads(tmp_path: Path) -> None:
    text = "material_id\tdescription\tunit_cost\r\nMAT-1\tConector N fêmea\t12,5\r\n"
    path = write(tmp_path, "materiais.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    result = read_erp_file(path, "erp_materials")
    assert result.good[["material_id", "description", "unit_cost"]].values.tolist() == [
        ["MAT-1", "Conector N fêmea", 12.5]
    ]


def test_a_file_cut_inside_its_last_line_is_said_to_be_truncated(tmp_path: Path) -> None:
    dated_last = "material_id,site_id,movement_type,quantity,movement_date\n"
    cut_in_type = write(
        tmp_path, "movements.csv", dated_last + "MAT-1,WH-1,issue,1,2025-11-01\nMAT-2,WH-1,issue,2,2025-11-0"
    )
    assert quarantined(read_erp_file(cut_in_type, "erp_movements")) == {
        3: "truncated last line (the file does not end with a newline): bad date in movement_date: '2025-11-0'"
    }
    cut_in_date = write(tmp_path, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,1\n2025-11-0")
    assert quarantined(read_erp_file(cut_in_date, "erp_movements")) == {
        3: "wrong number of fields: expected 5, found 1 (truncated or malformed line)"
    }
    # a last line that still reads (a quantity "12" cut to "1") cannot be told from a whole one: it
    # loads, and the file's warning says where to look
    complete_looking = write(tmp_path, "movements.csv", MOVEMENTS + "2025-11-01,MAT-1,WH-1,issue,1")
    result = read_erp_file(complete_looking, "erp_movements")
    assert result.good["quantity"].tolist() == [1.0]
    assert result.warnings == (
        "movements.csv: the file does not end with a newline; its last line (2) was loaded as it is: check that "
        "the export is complete",
    )


def test_blank_and_whitespace_lines_hold_no_record(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "movements.csv",
        "\n\n" + MOVEMENTS + "\n2025-11-01,MAT-1,WH-1,issue,1\n   \n\t\n2025-11-02,MAT-1,WH-1,issue,-2\n",
    )
    result = read_erp_file(path, "erp_movements")
    assert result.good["quantity"].tolist() == [1.0]
    assert quarantined(result) == {8: "negative quantity: '-2'"}


def test_line_map_follows_blank_rejected_and_multi_line_records() -> None:
    # header on line 1; line 3 blank, line 5 rejected, record 2 spans lines 6-8
    lines = LineMap(header_line=1, excluded=(3, 5), multiline=((2, 2),))
    assert lines.lines(np.array([0, 1, 2, 3])).tolist() == [2, 4, 6, 9]
    assert lines.lines(np.array([3, 0])).tolist() == [9, 2]
