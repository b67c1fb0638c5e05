"""Read candidates for `hem consult --input FILE`: one formula per line, or CSV with a header."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hemkg.consultation.consultation import Consultation, Structure, consult
from hemkg.consultation.literature import LibraryFindings
from hemkg.errors import BatchFileError, FormulaError, InputError
from hemkg.graph.vocab import spoken_list, vocab

MAX_FILE_BYTES = 50_000_000
CSV_FIELDS = {"formula", "ion", *Structure.field_names()}  # a candidate's formula and ion, and its structure


@dataclass
class Candidate:
    line: int
    text: str
    consultation: Consultation | None = None
    error: str | None = None


def _float(value: str, name: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{name} '{value}' is not a number") from None
    if not 0 < number < 1e6:
        raise InputError(f"{name} must be a positive size in nm, not {value}")
    return number


def _row_candidate(row: dict[str, str], ion: str, default: Structure) -> tuple[str, str, Structure]:
    formula = (row.get("formula") or "").strip()
    row_ion = (row.get("ion") or "").strip() or ion
    ions = vocab().ion_symbols
    if row_ion not in ions:
        raise InputError(f"ion '{row_ion}' is not {spoken_list(ions, 'or')}")
    flag = (row.get("defect_rich") or "").strip().lower()
    if flag not in ("", "true", "false", "yes", "no", "1", "0"):
        raise InputError(f"defect_rich '{flag}' is not true/false")
    given: dict[str, Any] = {  # Structure's fields, of several types; None: not in the row, keep the default
        **{size: _float(row.get(size) or "", size)
           for size in ("primary_particle_size_nm", "conversion_product_size_nm")},
        "framework": (row.get("framework") or "").strip() or None,
        "morphology": (row.get("morphology") or "").strip() or None,
        "defect_rich": flag in ("true", "yes", "1") or None,
    }
    structure = replace(default, **{k: v for k, v in given.items() if v is not None})
    return formula, row_ion, structure.validated()


def read_candidates(path: Path, ion: str, default: Structure, library: LibraryFindings | None = None
                    ) -> Iterator[Candidate]:
    """Consult each candidate of the file in order; errors are attached to their line, not raised."""
    if str(path) == "-":  # --input -: standard input, read up to the same limit as a file
        raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise BatchFileError(f"standard input is larger than {MAX_FILE_BYTES // 1_000_000} MB",
                                 "split it into smaller files")
    elif not path.is_file():
        raise BatchFileError(f"no file '{path}'", "give the path of a text or CSV file")
    elif path.stat().st_size > MAX_FILE_BYTES:
        raise BatchFileError(f"'{path}' is larger than {MAX_FILE_BYTES // 1_000_000} MB", "split it into smaller files")
    else:
        raw = path.read_bytes()  # not read_text: its universal newlines split at a lone \r
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BatchFileError(f"'{path}' is not UTF-8 text (byte {err.start})", "save it as UTF-8 text or CSV") from None
    lines = split_lines(text)
    content = [(n, line) for n, line in enumerate(lines, start=1) if line.strip() and not line.lstrip().startswith("#")]
    is_csv = bool(content) and "formula" in [h.strip().lower() for h in content[0][1].split(",")]
    return (_csv_candidates(content, ion, default, library) if is_csv
            else _plain_candidates(content, ion, default, library))


def split_lines(text: str) -> list[str]:
    """The lines of `text` as the user wrote them: split at \\n and \\r\\n only.

    str.splitlines also splits at U+2028, U+2029, \\x85, \\x0b, \\x0c and
    \\x1c-\\x1e, so a line holding one became two candidates and every later
    error named the wrong line; here one line is one record, whatever it holds.
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _plain_candidates(content: list[tuple[int, str]], ion: str, default: Structure,
                      library: LibraryFindings | None) -> Iterator[Candidate]:
    for number, line in content:
        text = line.strip()
        yield _one(number, text, text, ion, default, library)


QUOTING_HINT = ('quote a whole field or none of it ("Fe2O3",Li), write a quote inside a quoted field twice (""), '
                "and keep each record on one line")


def _csv_candidates(content: list[tuple[int, str]], ion: str, default: Structure,
                    library: LibraryFindings | None) -> Iterator[Candidate]:
    """Each line is one record, parsed on its own: no field here may hold a line break, so a stray
    quote spoils its own line only (read as CSV, it swallowed every record up to the next quote)."""
    (header_line, header), *records = content
    try:
        (names,) = csv.reader([header], strict=True)
    except csv.Error as err:
        raise BatchFileError(f"line {header_line}: the CSV header is malformed ({err})", QUOTING_HINT) from None
    fields = [f.strip().lower() for f in names]
    unknown = set(fields) - CSV_FIELDS
    if unknown:
        raise BatchFileError(f"unknown CSV column(s): {', '.join(sorted(unknown))}",
                             f"columns may be {', '.join(sorted(CSV_FIELDS))}")
    for line, record in records:
        try:
            (values,) = csv.reader([record], strict=True)
        except csv.Error as err:
            yield Candidate(line, record, error=f"malformed CSV record ({_quoting_problem(err)}): {QUOTING_HINT}")
            continue
        if any('"' in v for v in values):
            yield Candidate(line, record, error=f"malformed CSV record (a stray quote inside a field): {QUOTING_HINT}")
            continue
        if len(values) > len(fields):
            yield Candidate(line, record, error="more fields than the header has columns")
            continue
        row = dict(zip(fields, values, strict=False))  # a short record leaves its last columns empty
        try:
            formula, row_ion, structure = _row_candidate(row, ion, default)
        except ValueError as err:
            yield Candidate(line, record, error=str(err))
            continue
        yield _one(line, formula, formula, row_ion, structure, library)


def _quoting_problem(err: csv.Error) -> str:
    text = str(err)
    if "unexpected end of data" in text:
        return "a quote opens a field that this line does not close"
    if "expected after" in text:
        return "text follows the quote that closes a field"
    return text


def _one(line: int, text: str, formula: str, ion: str, structure: Structure, library: LibraryFindings | None
         ) -> Candidate:
    try:
        return Candidate(line, text, consultation=consult(formula, ion, structure, library))
    except (FormulaError, ValueError) as err:
        return Candidate(line, text, error=str(err))
