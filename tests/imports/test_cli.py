"""`python -m app.imports` and `python -m app.exports` run the same code as the API."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.config import Settings, get_settings
from app.exports.__main__ import main as export_main
from app.imports.__main__ import main as import_main


@pytest.fixture
def database_url(
    fresh_database: Callable[[], Settings], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    url = fresh_database().database_url
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.mark.usefixtures("database_url")
def test_import_then_export_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "books.csv"
    source.write_text(
        "title,author,isbn,published_year,tags\n"
        "Dune,Frank Herbert,0441172717,1965.0,sf|classic\n"
        "Bad,Someone,306406151,,\n",
        encoding="utf-8",
    )
    assert import_main([str(source)]) == 0
    captured = capsys.readouterr()
    job = json.loads(captured.out)
    assert job["status"] == "succeeded"
    assert (job["rows_created"], job["rows_failed"]) == (1, 1)
    assert "2/2 rows, 1 failed" in captured.err  # plain lines when not on a terminal

    assert import_main([str(source), "--on-duplicate", "skip", "--dry-run"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["rows_skipped"], again["dry_run"]) == (1, True)

    target = tmp_path / "out.csv"
    assert export_main(["--format", "csv", "--output", str(target), "--tag", "sf"]) == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "title,author,author_id,authors,author_ids,isbn,published_year,description,tags,"
        "publisher,language,series,series_position"
    )
    assert len(lines) == 2
    assert lines[1].startswith("Dune,Frank Herbert,")
    assert lines[1].endswith(",9780441172719,1965,,classic|sf,,,,")


@pytest.mark.usefixtures("database_url")
def test_command_line_mistakes_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert import_main([str(tmp_path / "missing.csv")]) == 2
    assert import_main([str(tmp_path / "books.txt")]) == 2
    assert export_main(["--sort", "colour"]) == 2
    assert "unknown sort field" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        import_main(["--help"])
    usage = capsys.readouterr().out
    for option in ("--on-duplicate", "--columns", "--unknown-columns", "--delimiter", "--charset"):
        assert option in usage


@pytest.mark.usefixtures("database_url")
def test_the_command_takes_the_options_of_post_imports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "livres.csv"
    source.write_bytes(
        "Titre;Auteurs;Rayon\r\nL'Été;Zoë Ça, Émile Zola;A1\r\nNoël;Zoë Ça;B2\r\n".encode("latin-1")
    )
    options = [
        "--columns=title:Titre,authors:Auteurs",
        "--unknown-columns=ignore",
        "--delimiter=semicolon",
        "--author-separator=,",
        "--charset=latin-1",
    ]
    assert import_main([str(source), *options]) == 0
    job = json.loads(capsys.readouterr().out)
    assert (job["status"], job["rows_created"]) == ("succeeded", 2)
    assert (job["charset"], job["delimiter"], job["author_separator"]) == (
        "iso-8859-1",
        "semicolon",
        ",",
    )
    assert job["columns"] == {"title": "Titre", "authors": "Auteurs"}
    assert job["ignored_columns"] == ["Rayon"]

    # Without its charset the file is not UTF-8: the import fails at once, on line 2.
    assert import_main([str(source), "--unknown-columns=ignore"]) == 1
    failed = json.loads(capsys.readouterr().out)
    assert (failed["status"], failed["error"]["line"]) == ("failed", 2)


@pytest.mark.usefixtures("database_url")
@pytest.mark.parametrize(
    ("option", "says"),
    [
        ("--columns=colour:x", "--columns: Value error, unknown field 'colour'"),
        ("--charset=shift_jis", "--charset: Folio reads utf-8"),
        ("--author-separator= ", "--author-separator: Value error"),
    ],
)
def test_bad_options_exit_2_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, says: str
) -> None:
    source = tmp_path / "books.csv"
    source.write_text("title,author\nx,y\n", encoding="utf-8")
    assert import_main([str(source), option]) == 2
    assert says in capsys.readouterr().err
