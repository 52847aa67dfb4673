"""The command-line tools: --help, a usage line for unknown arguments, progress, make targets."""

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command

from app.commands.progress import Progress
from app.config import EXIT_CONFIG, EXIT_UNAVAILABLE, Settings
from app.db.migrations import PROJECT_ROOT, alembic_config

MODULES = [
    "app",
    "app.commands.seed",
    "app.commands.backup",
    "app.commands.copy_database",
    "app.commands.openapi",
    "app.keys",
    "app.imports",
    "app.exports",
    "bench",
]
# What a module requires, so that the unknown argument is what it refuses.
REQUIRED = {
    "app.commands.copy_database": ["--from", "sqlite+aiosqlite:///a.db", "--to", "x"],
    "app.keys": ["create", "--name", "x", "--scope", "read"],
    "app.imports": ["books.csv"],
}


def run(*arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        arguments,
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("module", MODULES)
def test_every_command_answers_help(module: str) -> None:
    result = run(sys.executable, "-m", module, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {module}")


@pytest.mark.parametrize("module", MODULES)
def test_every_command_refuses_an_unknown_argument_with_a_usage_line(module: str) -> None:
    result = run(sys.executable, "-m", module, *REQUIRED.get(module, []), "--no-such-option")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"usage: python -m {module}")
    assert "--no-such-option" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "module",
    [
        "app.commands.seed",
        "app.commands.backup",
        "app.commands.copy_database",
        "app.keys",
        "app.imports",
        "app.exports",
    ],
)
def test_every_command_refuses_a_bad_setting_in_one_line(module: str) -> None:
    result = run(sys.executable, "-m", module, *REQUIRED.get(module, []), POOL_SIZE="0")
    assert result.returncode == EXIT_CONFIG, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "POOL_SIZE=0 is not valid" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_shows_plain_progress_lines_when_not_on_a_terminal(
    fresh_database: Callable[[], Settings],
) -> None:
    settings = fresh_database()
    # No slow-statement lines among them, however slow the machine.
    result = run(
        sys.executable,
        "-m",
        "app.commands.seed",
        DATABASE_URL=settings.database_url,
        SLOW_QUERY_MS="0",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    # A line at the start and at the end, and one per interval between on a slow machine.
    assert lines[0] == "seeding: 0/1200 authors and books (0%)"
    assert lines[-1] == "seeding: 1200/1200 authors and books (100%)"
    found = [
        re.fullmatch(r"seeding: (\d+)/1200 authors and books \(\d+%\)", line) for line in lines
    ]
    done = [int(match[1]) for match in found if match is not None]
    assert len(done) == len(lines), lines
    assert done == sorted(done)
    assert result.stdout == "Seeded 300 authors, 900 books and 40 new tags.\n"


def test_plain_progress_lines_come_at_each_interval() -> None:
    stream = io.StringIO()
    with Progress("copying", 3, "rows", stream=stream, interval=0) as progress:
        for _ in range(3):
            progress.advance()
    assert stream.getvalue().splitlines() == [
        "copying: 0/3 rows (0%)",
        "copying: 1/3 rows (33%)",
        "copying: 2/3 rows (66%)",
        "copying: 3/3 rows (100%)",
        "copying: 3/3 rows (100%)",
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal() -> None:
    stream = Terminal()
    with Progress("copying", 4, "rows", stream=stream) as progress:
        progress.advance(4)
    shown = stream.getvalue()
    assert "copying" in shown
    assert "4/4" in shown
    assert "\u2501" in shown  # the bar itself
    assert "copying: " not in shown  # no plain lines


def make_dry_run(*target: str) -> str:
    """What `make target` would run from scratch (-B: as if nothing were installed yet)."""
    result = run("make", "--no-print-directory", "-n", "-B", *target)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_clean_keeps_the_data() -> None:
    assert "data" not in make_dry_run("clean").replace("mypy_cache", "")


def test_make_clean_data_says_what_it_deletes() -> None:
    recipe = make_dry_run("clean-data")
    assert "echo" in recipe
    assert "rm -rf data" in recipe


@pytest.mark.parametrize(
    "target", ["run", "migrate", "import FILE=books.csv", "export", "seed", "key NAME=a SCOPE=read"]
)
def test_make_targets_that_serve_or_load_install_only_what_serving_needs(target: str) -> None:
    recipe = make_dry_run(*target.split())
    syncs = [line for line in recipe.splitlines() if " sync " in line]
    assert syncs
    assert all("--no-dev" in line for line in syncs), syncs


def test_an_autogenerated_migration_with_no_change_is_not_written(
    fresh_database: Callable[[], Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fresh_database()
    config = alembic_config(settings.database_url)
    versions = tmp_path / "versions"
    versions.mkdir()
    written = command.revision(
        config, message="nothing", autogenerate=True, version_path=str(versions)
    )
    assert written is None or written == []
    assert list(versions.iterdir()) == []
    assert "no migration written" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("env", "code", "words"),
    [
        ({"POOL_SIZE": "0"}, EXIT_CONFIG, "POOL_SIZE=0 is not valid"),
        ({"DATABASE_URL": "mysql://folio@db/folio"}, EXIT_CONFIG, "DATABASE_URL uses mysql://"),
        (
            {"DATABASE_URL": "postgresql+asyncpg://folio@127.0.0.1:1/folio"},
            EXIT_UNAVAILABLE,
            "unreachable",
        ),
    ],
)
def test_migrate_refuses_what_stands_in_the_way_in_one_line(
    env: dict[str, str], code: int, words: str
) -> None:
    """`make migrate` runs `alembic upgrade head`, which starts as every command does."""
    result = run(sys.executable, "-m", "alembic", "upgrade", "head", **env)
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("migrate cannot start: ")
    assert words in result.stderr
    assert "Traceback" not in result.stderr


def test_the_env_example_lists_every_setting_with_its_default() -> None:
    listed = dict(
        line.removeprefix("# ").split("=", 1)
        for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
        if re.fullmatch(r"# [A-Z_]+=.*", line)
    )
    assert set(listed) == {name.upper() for name in Settings.model_fields}
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert listed[name.upper()] == shown, name
        # And the setting reads it as its default.
        assert Settings.model_validate({name: listed[name.upper()]}).model_dump()[name] == default
