"""Write the OpenAPI document a server with the default settings serves:
`python -m app.commands.openapi [--output FILE]`, which `make lint-openapi` lints.

The document depends on the settings (which operations need a key, the rate limits), so it is
built from the defaults alone, whatever the environment or a `.env` file says: the check then
judges the same document on every machine. A running server serves its own at `/openapi.json`.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from app.config import Settings
from app.main import create_app


class DefaultSettings(Settings):
    """The settings with every value at its default: no environment, no `.env` file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # pydantic-settings names every source; only the values passed in are kept.
        del settings_cls, env_settings, dotenv_settings, file_secret_settings
        return (init_settings,)


def default_document() -> dict[str, Any]:
    """The OpenAPI document of a server with the default settings."""
    return create_app(DefaultSettings()).openapi()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m app.commands.openapi",
        description="Write the OpenAPI document of a server with the default settings.",
    )
    parser.add_argument("--output", type=Path, help="the file to write (default: stdout)")
    arguments = parser.parse_args()
    text = json.dumps(default_document(), indent=2, ensure_ascii=False) + "\n"
    if arguments.output is None:
        sys.stdout.write(text)
        return
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
