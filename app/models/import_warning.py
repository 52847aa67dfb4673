"""A value of an applied import row that was read otherwise than the file spelled it."""

import uuid

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel


class ImportRowWarning(SQLModel, table=True):
    __tablename__ = "import_warning"
    # Serves GET /imports/{id}/warnings, a page by line.
    __table_args__ = (Index("ix_import_warning_import_id_line_id", "import_id", "line", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    import_id: uuid.UUID = Field(foreign_key="import.id", ondelete="CASCADE")
    line: int
    loc: str = Field(max_length=100)
    msg: str = Field(sa_type=Text)
    type: str = Field(max_length=100)
    # As the file spelled it, cut to a bounded length by the format that read it.
    value: str = Field(max_length=200)
