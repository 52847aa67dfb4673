"""The file formats of imports and exports, one object each, found by name, media type or
file suffix: how a file's records are split, how its columns or keys are read as Folio's
fields, what a row holds, and how books are written back in it.

    CSV     text/csv              a header line, RFC 4180 quoting, `,` `;` or tab between cells
    NDJSON  application/x-ndjson  one JSON object a line

base.py says what a format is; fields.py holds what both share (the fields, the `columns`
option, the repairs of values); csvfile.py and ndjson.py are the two formats.
"""

from typing import get_args

from app.imports.formats.base import COLUMNS, FileFormat, Plan
from app.imports.formats.csvfile import CsvFormat
from app.imports.formats.fields import FIELDS, Parsed, Reading, Repair
from app.imports.formats.ndjson import NdjsonFormat
from app.models.import_job import FormatName

__all__ = ["COLUMNS", "FIELDS", "FileFormat", "Parsed", "Plan", "Reading", "Repair"]

CSV = CsvFormat(
    "csv", "text/csv", (".csv", ".tsv"), quoted=True, has_header=True, cr_ends_lines=True
)
NDJSON = NdjsonFormat(
    "ndjson",
    "application/x-ndjson",
    (".ndjson", ".jsonl"),
    quoted=False,
    has_header=False,
    cr_ends_lines=False,
)
FORMATS: dict[FormatName, FileFormat] = {"csv": CSV, "ndjson": NDJSON}
assert set(FORMATS) == set(get_args(FormatName)), "every format name has its object"


def by_name(name: str) -> FileFormat:
    """The format of this name, as an import stores it."""
    for found in FORMATS.values():
        if found.name == name:
            return found
    raise ValueError(f"no format is named {name!r}")


def by_media_type(media_type: str) -> FileFormat | None:
    """The format sent as this media type (no parameters), if any."""
    return next((found for found in FORMATS.values() if found.media_type == media_type), None)


def by_suffix(suffix: str) -> FileFormat | None:
    """The format of a file with this suffix (`.csv`), if any."""
    return next((found for found in FORMATS.values() if suffix.lower() in found.suffixes), None)
