"""Make an API key from the command line, the way to make the first admin key:

    python -m app.keys create --name NAME --scope SCOPE [--expires-in-days N]

The key is printed alone on the last line of the output; nothing else keeps it.
"""

import argparse
import asyncio
import sys
from datetime import timedelta
from typing import NoReturn

from pydantic import ValidationError

from app.config import Settings
from app.db.checks import check_start
from app.db.engine import create_database
from app.keys.repository import ApiKeyRepository
from app.keys.schemas import ApiKeyCreate
from app.keys.scopes import SCOPES
from app.models import utcnow

MAX_DAYS = 36_500


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr: the usage, then the error; exit code 2."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())
        self.exit(2, f"{usage} error: {message}\n")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = Parser(prog="python -m app.keys", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="make an API key and print it")
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument("--scope", required=True, choices=SCOPES)
    create.add_argument(
        "--expires-in-days", type=int, default=None, help="days until the key stops working"
    )
    return parser.parse_args(argv)


def request_for(arguments: argparse.Namespace) -> ApiKeyCreate:
    """Check the arguments by the rules `POST /api-keys` applies; exit with one line if bad."""
    days = arguments.expires_in_days
    if days is not None and not 1 <= days <= MAX_DAYS:
        sys.exit(f"error: --expires-in-days must be between 1 and {MAX_DAYS}")
    expires_at = None if days is None else utcnow() + timedelta(days=days)
    try:
        return ApiKeyCreate(name=arguments.name, scope=arguments.scope, expires_at=expires_at)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        sys.exit(f"error: --{field}: {error['msg']}")


async def create(data: ApiKeyCreate, settings: Settings) -> str:
    database = create_database(settings)
    try:
        async with database.writes() as session, session.begin():
            api_key, secret = await ApiKeyRepository(session).create(
                data.name, data.scope, data.expires_at
            )
            print(f"created {api_key.scope} key {api_key.prefix}... ({api_key.id})")  # noqa: T201
    finally:
        await database.dispose()
    return secret


def main(argv: list[str]) -> None:
    data = request_for(parse(argv))
    settings = check_start("keys", serving=False)
    try:
        secret = asyncio.run(create(data, settings))
    except Exception as exc:
        # The first line names the cause; the lines after it hold the SQL.
        cause = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        sys.exit(f"error: the key could not be stored: {cause}")
    print(secret)  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1:])
