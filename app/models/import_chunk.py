"""A piece of an uploaded import body, stored so that any process can run the import."""

import uuid

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

CHUNK_BYTES = 256 * 1024


class ImportChunk(SQLModel, table=True):
    __tablename__ = "import_chunk"

    import_id: uuid.UUID = Field(foreign_key="import.id", ondelete="CASCADE", primary_key=True)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_type=LargeBinary)
