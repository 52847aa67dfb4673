"""A row of an import that could not be applied, with where it is in the file and why."""

import uuid

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel


class ImportRowError(SQLModel, table=True):
    __tablename__ = "import_error"
    __table_args__ = (Index("ix_import_error_import_id_line_id", "import_id", "line", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    import_id: uuid.UUID = Field(foreign_key="import.id", ondelete="CASCADE")
    line: int
    # The column (CSV) or key (NDJSON) at fault; null when the row as a whole is.
    loc: str | None = Field(default=None, max_length=100)
    msg: str = Field(sa_type=Text)
    type: str = Field(max_length=100)
