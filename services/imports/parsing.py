"""Reading an uploaded file as CSV: UTF-8 (a BOM is allowed), comma or semicolon."""

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.errors import DomainError, ErrorCode

if TYPE_CHECKING:
    from _csv import Reader as _reader

_DELIMITERS = (",", ";")


@dataclass(frozen=True, slots=True)
class SourceRow:
    line: int  # where the row starts in the file; the header is line 1
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CsvFile:
    headers: tuple[str, ...]
    rows: tuple[SourceRow, ...]


def read_csv(content: bytes, *, max_rows: int, field: tuple[str, ...]) -> CsvFile:
    """The header and the data rows (blank lines skipped), or a refusal saying what is
    wrong with the file as a whole: not UTF-8, not CSV, empty, or too many rows."""
    text = _decode(content, field)
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, delimiter=_delimiter(text), strict=True)
    try:
        headers = next(reader, None)
        if headers is None or not any(h.strip() for h in headers):
            raise _refused("The file is empty: its first line must name the columns.", field)
        rows = _data_rows(reader, max_rows, field)
    except csv.Error as error:
        raise _refused(f"Line {reader.line_num} is not valid CSV: {error}.", field) from None
    return CsvFile(headers=tuple(h.strip() for h in headers), rows=rows)


def _data_rows(reader: "_reader", max_rows: int, field: tuple[str, ...]) -> tuple[SourceRow, ...]:
    rows: list[SourceRow] = []
    line = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            if len(rows) == max_rows:
                raise _refused(f"The file has more than {max_rows} rows; split it.", field)
            rows.append(SourceRow(line=line, cells=tuple(cells)))
        line = reader.line_num + 1
    return tuple(rows)


def _decode(content: bytes, field: tuple[str, ...]) -> str:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise _refused(
            f"The file is not UTF-8 text (line {line}); save it as CSV UTF-8.", field
        ) from None
    if "\x00" in text:
        raise _refused("The file is not CSV text (it holds NUL bytes).", field)
    return text


def _delimiter(text: str) -> str:
    """The separator of the header line: whichever of `,` and `;` it holds more of."""
    header = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=header.count)


def _refused(message: str, field: tuple[str, ...]) -> DomainError:
    return DomainError.single(ErrorCode.VALIDATION_FAILED, message, field)
