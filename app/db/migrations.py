"""Where the migrations are, and which one is the newest.

Alembic is imported where it is used, not here: the server's worker processes only compare
the database's revision with `SCHEMA_HEAD`, and Alembic would weigh 11 MB in each of them.
"""

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# The newest migration, as the server expects to find it in the database;
# tests/test_migrations.py checks that it is the scripts' head.
SCHEMA_HEAD = "5d0c7a91e3b8"


def alembic_config(url: str | None = None) -> "Config":
    """Alembic's configuration for migrating from within a process, for `url` when given
    (else DATABASE_URL), leaving the process's logging set-up alone."""
    from alembic.config import Config

    config = Config(PROJECT_ROOT / "alembic.ini")
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migration_scripts() -> "ScriptDirectory":
    """The project's migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def schema_head() -> str:
    """The newest migration, read from the migration files."""
    head = migration_scripts().get_current_head()
    assert head is not None, "no migrations found"
    return head
