"""Exported text files before a CSV reader sees them: their encoding, their line ends and their lines.

DuckDB's CSV reader wants UTF-8 with one kind of line end. Real exports are UTF-8, Windows-1252
(Brazilian Windows machines), UTF-16 ("Unicode text" from Excel), with CRLF or a mix of line ends, and
sometimes UTF-8 with a stray Windows-1252 byte pasted in. So each file is looked at once:

* clean UTF-8 with `\\n` line ends (what a machine export usually is) is read where it lies;
* anything else is written once as a UTF-8 copy with `\\n` line ends. The encoding is decided per file:
  UTF-8 when the file holds valid multi-byte UTF-8 characters or no byte above 0x7F, Windows-1252
  when its non-ASCII bytes are not UTF-8 at all. A byte that is not valid in the encoding decided is
  read as Windows-1252 (Latin-1 for the five bytes Windows-1252 leaves undefined) and named in a
  warning with its file and line, so nothing is decoded differently without a word.

`LineMap` turns a record's position (as the CSV reader numbers them) into its line in the file, and
`read_spans` fetches the text of given lines, for the quarantine's "file, line, raw text".
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

CHUNK_BYTES = 16 << 20
SNIFF_BYTES = 65536
MAX_HEADER_CHARS = 10_000
MAX_WARNED_LINES = 20  # lines named per file in an encoding warning; the rest are counted
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_STRAY = re.compile("[\udc80-\udcff]+")  # bytes not valid in the encoding, as surrogateescape decodes them
_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a valid non-ASCII character


class NotReadable(ValueError):
    """The file cannot be read as text at all (empty, binary, no header): the whole file is rejected."""


@dataclass(frozen=True)
class PreparedText:
    """A text export ready for the CSV reader, and what was learned reading it."""

    path: Path  # the export itself, or its UTF-8 copy with '\n' line ends
    encoding: str  # "utf-8", "cp1252" or "utf-16"
    header_line: int  # 1-based line of the header (blank lines before it are skipped)
    header: str
    blank_lines: tuple[int, ...]  # empty lines after the header: the CSV reader skips them silently
    final_newline: bool
    quotes: bool  # whether any '"' occurs (else no record can span lines)
    warnings: tuple[str, ...] = ()


def prepare_text(path: Path, name: str, scratch: Path) -> PreparedText:
    """Check that `path` is text and decide its encoding; when the CSV reader cannot read it as it is,
    write a UTF-8 copy with '\\n' line ends into `scratch`. Raises NotReadable."""
    head = _head(path)
    if not head.strip() and _all_whitespace(path):
        raise NotReadable("empty file")
    if head.startswith(UTF16_BOMS):
        encoding, needs_copy = "utf-16", True
    else:
        sample = head.decode("utf-8", errors="replace")
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
        if b"\x00" in head or controls > 0.01 * len(sample):
            raise NotReadable("not a text file (binary content)")
        encoding, needs_copy = _survey(path)
    warnings: list[str] = []
    target = path
    if needs_copy:
        scratch.mkdir(parents=True, exist_ok=True)
        target = scratch / f"{path.name}.utf8"
        warnings += _write_normalised(path, target, encoding, name)
    header_line, header = _header(target)
    blank, final_newline, quotes = _lines(target, header_line)
    return PreparedText(target, encoding, header_line, header, blank, final_newline, quotes, tuple(warnings))


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _all_whitespace(path: Path) -> bool:
    return all(not chunk.strip() for chunk in _chunks(path))


def _survey(path: Path) -> tuple[str, bool]:
    """The file's encoding ('utf-8' unless its non-ASCII bytes are all invalid UTF-8: 'cp1252'), and
    whether the CSV reader needs a copy (carriage returns, or bytes to re-read)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    carriage_return = strays = multibyte = False
    for chunk in chain(_chunks(path), [b""]):
        carriage_return = carriage_return or b"\r" in chunk
        text = decoder.decode(chunk, final=not chunk)
        if not chunk.isascii() or not chunk:
            strays = strays or bool(_STRAY.search(text))
            multibyte = multibyte or bool(_MULTIBYTE.search(text))
    return ("cp1252" if strays and not multibyte else "utf-8"), carriage_return or strays


def _write_normalised(source: Path, target: Path, encoding: str, name: str) -> list[str]:
    """Copy `source` as UTF-8 with '\\n' line ends; return a warning naming the lines whose bytes were
    not valid in `encoding` (read as Windows-1252/Latin-1)."""
    codec = {"utf-8": "utf-8-sig", "cp1252": "cp1252", "utf-16": "utf-16"}[encoding]
    decoder = codecs.getincrementaldecoder(codec)(errors="surrogateescape" if encoding != "utf-16" else "replace")
    bad_lines: list[tuple[int, str]] = []
    newlines = 0
    carry = ""  # a trailing '\r' waits for the next chunk: it may be half of '\r\n'
    with target.open("w", encoding="utf-8", newline="") as out:
        for chunk in chain(_chunks(source), [b""]):
            text = carry + decoder.decode(chunk, final=not chunk)
            carry = "\r" if chunk and text.endswith("\r") else ""
            text = (text[: -len(carry)] if carry else text).replace("\r\n", "\n").replace("\r", "\n")
            if _STRAY.search(text):
                text = _read_strays(text, newlines, bad_lines)
            newlines += text.count("\n")
            out.write(text)
    if not bad_lines:
        return []
    described = "; ".join(f"line {line}: {what}" for line, what in bad_lines[:MAX_WARNED_LINES])
    more = f" (and {len(bad_lines) - MAX_WARNED_LINES} more)" if len(bad_lines) > MAX_WARNED_LINES else ""
    detected = "UTF-8" if encoding == "utf-8" else "Windows-1252"
    return [
        f"{name}: {len(bad_lines)} byte sequence(s) not valid {detected}, read as Windows-1252/Latin-1 "
        f"({described}{more}); check these values"
    ]


def _read_strays(text: str, newlines_before: int, bad_lines: list[tuple[int, str]]) -> str:
    """Replace each run of invalid bytes (surrogate-escaped) by its Windows-1252 reading, noting its line."""

    def fix(match: re.Match[str]) -> str:
        raw = bytes(ord(ch) - 0xDC00 for ch in match.group())
        decoded = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in raw)
        line = newlines_before + text.count("\n", 0, match.start()) + 1
        bad_lines.append((line, f"{' '.join(f'0x{b:02X}' for b in raw)} read as {decoded!r}"))
        return decoded

    return _STRAY.sub(fix, text)


def _header(path: Path) -> tuple[int, str]:
    """The first non-blank line and its number."""
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="\n") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.rstrip("\n")
            if len(text) > MAX_HEADER_CHARS:
                raise NotReadable(f"header line too long ({len(text)} characters)")
            if text.strip():
                return number, text
    raise NotReadable("empty file")


def _lines(path: Path, header_line: int) -> tuple[tuple[int, ...], bool, bool]:
    """Empty lines after the header, whether the file ends with a newline, and whether it holds a quote."""
    blank: list[np.ndarray] = []
    newlines = 0
    ends_with_newline = quotes = False
    for chunk in _chunks(path):
        positions = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
        if len(positions):
            # the line ending at a newline is empty when the byte before that newline is a newline too
            previous = np.concatenate(([-1 if ends_with_newline else -2], positions[:-1]))
            blank.append(newlines + np.flatnonzero(positions - previous == 1) + 1)
        ends_with_newline = chunk.endswith(b"\n")
        quotes = quotes or b'"' in chunk
        newlines += len(positions)
    lines = np.concatenate(blank) if blank else np.empty(0, dtype=np.int64)
    return tuple(int(n) for n in lines[lines > header_line]), ends_with_newline, quotes


@dataclass(frozen=True)
class LineMap:
    """Where the records of a CSV file start, as the CSV reader numbers them (0, 1, ... in file order,
    rejected records not counted).

    Records follow the header one per line, except that blank lines and rejected records hold no
    counted record, and a record with quoted line breaks spans several lines.
    """

    header_line: int
    excluded: tuple[int, ...] = ()  # lines after the header where no counted record starts, sorted
    multiline: tuple[tuple[int, int], ...] = ()  # (record, extra lines it spans), sorted by record

    def lines(self, records: Sequence[int] | np.ndarray) -> np.ndarray:
        """The 1-based line where each of `records` starts."""
        wanted = np.asarray(records, dtype=np.int64)
        order = np.argsort(wanted, kind="stable")
        ranks = wanted[order]
        excluded = np.asarray(self.excluded, dtype=np.int64)
        found = np.empty(len(ranks), dtype=np.int64)
        base_line, first_record, done = self.header_line + 1, 0, 0
        for record, extra in self.multiline:
            upto = int(np.searchsorted(ranks, record, side="right"))
            found[done:upto] = _free_lines(base_line, ranks[done:upto] - first_record, excluded)
            done = upto
            if done == len(ranks):
                break
            start = int(_free_lines(base_line, np.array([record - first_record]), excluded)[0])
            base_line, first_record = start + extra + 1, record + 1
        found[done:] = _free_lines(base_line, ranks[done:] - first_record, excluded)
        out = np.empty(len(ranks), dtype=np.int64)
        out[order] = found
        return out

    def extra_lines(self, record: int) -> int:
        """Lines a record spans beyond its first (quoted line breaks)."""
        records = [r for r, _ in self.multiline]
        i = int(np.searchsorted(records, record))
        return self.multiline[i][1] if i < len(records) and records[i] == record else 0

    def to_json(self) -> dict[str, object]:
        return {"header_line": self.header_line, "excluded": list(self.excluded), "multiline": self.multiline}

    @classmethod
    def from_json(cls, data: dict) -> LineMap:
        return cls(data["header_line"], tuple(data["excluded"]), tuple(tuple(m) for m in data["multiline"]))


def _free_lines(base: int, ranks: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """The line of the rank-th (0-based) line at or after `base` that is not excluded."""
    after = excluded[excluded >= base]
    free_before = after - base - np.arange(len(after))  # free lines before each excluded line
    return base + ranks + np.searchsorted(free_before, ranks, side="right")


def lines_of_offsets(path: Path, offsets: Sequence[int]) -> list[int]:
    """The 1-based line holding each byte offset of `path` (offsets sorted ascending)."""
    out: list[int] = []
    position = newlines = 0
    for chunk in _chunks(path):
        end = position + len(chunk)
        while len(out) < len(offsets) and offsets[len(out)] < end:
            out.append(newlines + chunk.count(b"\n", 0, offsets[len(out)] - position) + 1)
        newlines += chunk.count(b"\n")
        position = end
    return out + [newlines + 1] * (len(offsets) - len(out))


def read_spans(
    path: Path, spans: Sequence[tuple[int, int]], max_chars: int, encoding: str = "utf-8"
) -> list[tuple[str, int]]:
    """For each (first line, number of lines) of a text file: its text (at most `max_chars` characters
    kept) and its full length in characters. Any line end counts, as `prepare_text` counts them."""
    wanted = sorted(set(spans))
    found: dict[tuple[int, int], tuple[str, int]] = {}
    active: list[tuple[tuple[int, int], list[str], list[int]]] = []
    next_span = 0
    codec = {"utf-8": "utf-8-sig"}.get(encoding, encoding)
    with path.open("r", encoding=codec, errors="replace", newline=None) as handle:
        for number, line in enumerate(handle, start=1):
            while next_span < len(wanted) and wanted[next_span][0] == number:
                active.append((wanted[next_span], [], [0]))
                next_span += 1
            if not active:
                if next_span == len(wanted):
                    break
                continue
            still = []
            for span, parts, length in active:
                length[0] += len(line)
                if sum(map(len, parts)) <= max_chars:
                    parts.append(line[: max_chars + 1])
                if number >= span[0] + span[1] - 1:
                    text = "".join(parts)
                    full = length[0] - (1 if line.endswith("\n") else 0)
                    found[span] = (text.rstrip("\n")[:max_chars], full)
                else:
                    still.append((span, parts, length))
            active = still
    for span, parts, length in active:  # spans running to the end of the file
        found[span] = ("".join(parts).rstrip("\n")[:max_chars], length[0])
    return [found.get(span, ("", 0)) for span in spans]
