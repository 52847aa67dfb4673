"""NDJSON: one JSON object a line, its values as JSON gives them. Keys are read per row: a
key that `columns` maps is read as its field, a key named like a field as that field, and any
other key is an error for its row, or skipped with `unknown_columns=ignore`."""

import json
from collections.abc import Iterable
from typing import Any

from app.imports.formats.base import FileFormat, Plan
from app.imports.formats.fields import Names, Parsed, Reading, repair_isbn, shown
from app.imports.reader import Record, RowError

UNKNOWN_KEY = "Unknown key; send unknown_columns=ignore to skip it, or map it with columns."
# A row's unknown keys that are reported, each an error of its own.
MAX_KEY_ERRORS = 10


class NdjsonFormat(FileFormat):
    def plan(self, reading: Reading, _header: Record | None) -> Plan:
        return Plan(reading, Names.of(reading, str))

    def row(self, plan: Plan, text: str) -> Parsed:
        try:
            row = json.loads(text)
        except (ValueError, RecursionError):
            raise RowError((None, "The line is not valid JSON.", "json_invalid")) from None
        if not isinstance(row, dict):
            raise RowError((None, "The line is not a JSON object.", "object_type"))
        parsed = Parsed({})
        unknown: list[str] = []
        for key, value in row.items():
            name = plan.names.field(key)
            if name is not None:
                parsed.values[name] = value
            elif plan.reading.unknown_columns == "error":
                unknown.append(key)
        if unknown:
            faults = [(shown(key), UNKNOWN_KEY, "extra_forbidden") for key in unknown]
            raise RowError(*faults[:MAX_KEY_ERRORS])
        if isinstance(spelled := parsed.values.get("isbn"), str):
            repair_isbn(parsed, spelled)
        return parsed

    def header(self) -> str:
        return ""

    def rows(self, books: Iterable[dict[str, Any]]) -> str:
        return "".join(json.dumps(book, ensure_ascii=False) + "\n" for book in books)
