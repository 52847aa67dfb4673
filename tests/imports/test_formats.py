"""The format objects read a file's columns or keys as Folio's fields, values as real files
spell them, and write exports that a spreadsheet opens safely."""

import csv
import io
from typing import Any

import pytest

from app.imports.formats import CSV, NDJSON, Plan, Reading
from app.imports.formats.csvfile import MAX_HEADER_COLUMNS, found_delimiter, guarded, unguarded
from app.imports.formats.fields import MAX_NAME_CHARS, MAX_NAMES_SHOWN, parse_columns
from app.imports.reader import Record, RowError, Unreadable


def header(text: str, line: int = 1) -> Record:
    return Record(line, text + "\n", len(text) + 1, line)


def csv_plan(text: str, **options: Any) -> Plan:
    return CSV.plan(Reading(**options), header(text))


def csv_row(head: str, row: str, **options: Any) -> dict[str, Any]:
    return CSV.row(csv_plan(head, **options), row + "\n").values


def test_columns_option_is_field_column_pairs() -> None:
    assert parse_columns(" title : original_title ,authors:Authors") == {
        "title": "original_title",
        "authors": "Authors",
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("colour:Color", "unknown field 'colour'"),
        ("title", "is not field:column"),
        ("title:", "is not field:column"),
        (":name", "is not field:column"),
        ("title:a,", "is not field:column"),
        ("title:a,title:b", "the field title is mapped twice"),
        ("title:name,author:NAME", "mapped to both title and author"),
        ("x" * 500 + ":y", "unknown field"),
    ],
)
def test_columns_option_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as raised:
        parse_columns(text)
    assert len(str(raised.value)) < 300  # never the whole input back


@pytest.mark.parametrize(
    ("head", "delimiter"),
    [
        ("title,author", "comma"),
        ("title;author;isbn", "semicolon"),
        ("title\tauthor", "tab"),
        ('"title;x",author', "comma"),  # a semicolon inside quotes is not counted
        ('title;"a,b,c";author', "semicolon"),
        ("title;author,isbn", "comma"),  # a tie goes to the comma, then the semicolon
        ("title;author\tisbn", "semicolon"),
    ],
)
def test_the_delimiter_is_found_from_the_header(head: str, delimiter: str) -> None:
    assert found_delimiter(header(head), None) == delimiter


def test_a_delimiter_that_splits_nothing_fails_on_the_header_line() -> None:
    with pytest.raises(Unreadable, match="delimiter=semicolon splits nothing") as raised:
        csv_plan("title,author", delimiter="semicolon")
    assert raised.value.line == 1
    with pytest.raises(Unreadable, match="one column") as one:
        CSV.plan(Reading(), header("title", line=3))
    assert one.value.line == 3
    assert csv_plan("title;author", delimiter="semicolon").cells == ("title", "author")


def test_a_column_named_like_a_field_is_that_field_unless_mapped_elsewhere() -> None:
    plan = csv_plan("Title, AUTHOR ,isbn", columns={"isbn": "isbn"})
    assert plan.cells == ("title", "author", "isbn")
    columns = {"title": "original_title", "author": "Writer"}
    # `title` is read from original_title, so the column named title is unknown.
    with pytest.raises(Unreadable, match="Unknown columns 'title'"):
        csv_plan("title,original_title,writer", columns=columns)
    ignoring = csv_plan("title,original_title,writer", columns=columns, unknown_columns="ignore")
    assert ignoring.cells == (None, "title", "author")
    assert ignoring.ignored == ("title",)


def test_a_mapped_column_missing_from_the_header_fails_on_line_1() -> None:
    with pytest.raises(Unreadable, match="no column 'Authors'") as raised:
        csv_plan("title,author", columns={"authors": "Authors"})
    assert raised.value.line == 1


@pytest.mark.parametrize(
    ("head", "says"),
    [
        ("author,isbn", "no `title` column"),
        ("title,isbn", "no column for the author"),
        ("title,author,Author", "both read as author"),
    ],
)
def test_a_header_that_cannot_make_books_fails(head: str, says: str) -> None:
    with pytest.raises(Unreadable, match=says):
        csv_plan(head)


def test_ignored_columns_are_listed_within_bounds() -> None:
    unknown = [f"{n:03d}" + "x" * 300 for n in range(MAX_NAMES_SHOWN + 20)]
    plan = csv_plan(",".join(["title", "author", *unknown, unknown[0]]), unknown_columns="ignore")
    assert len(plan.ignored) == MAX_NAMES_SHOWN
    assert all(len(name) == MAX_NAME_CHARS for name in plan.ignored)
    assert [name[:4] for name in plan.ignored[:2]] == ["000x", "001x"]
    with pytest.raises(Unreadable) as raised:
        csv_plan(",".join(["title", "author", *unknown]))
    assert "and 60 more" in raised.value.detail
    assert len(raised.value.detail) < 1000


def test_a_header_of_too_many_columns_is_not_read() -> None:
    names = ",".join(f"c{n}" for n in range(MAX_HEADER_COLUMNS + 1))
    with pytest.raises(Unreadable, match=f"at most {MAX_HEADER_COLUMNS}"):
        csv_plan(f"title,author,{names}", unknown_columns="ignore")


def test_csv_values_become_fields() -> None:
    head = "title,authors,author_ids,tags,published_year,series,series_position,notes"
    row = csv_row(
        head,
        "T,Ann | Bob|ann|| Cy ,a|b,x| y||,2008.0,S,1.5,whatever",
        unknown_columns="ignore",
    )
    assert row == {
        "title": "T",
        "authors": ["Ann", "Bob", "Cy"],  # a name repeated counts once, at its first place
        "author_ids": ["a", "b"],
        "tags": ["x", " y"],
        "published_year": 2008,
        "series": "S",
        "series_position": 1.5,
    }
    assert csv_row(head, "T,A,,,-750.0,,x,", unknown_columns="ignore") == {
        "title": "T",
        "authors": ["A"],
        "published_year": -750,
        "series_position": "x",  # left as written: the book rules refuse it
    }


def test_author_separator_splits_authors_and_author_cells() -> None:
    assert csv_row("title,authors", 'T,"King, Straub, king"', author_separator=",") == {
        "title": "T",
        "authors": ["King", "Straub"],
    }
    assert csv_row("title,author", 'T,"King, Straub"', author_separator=",") == {
        "title": "T",
        "authors": ["King", "Straub"],
    }
    # Without a separator an author cell is one name; with an authors column too, also.
    assert csv_row("title,author", 'T,"King, Straub"') == {"title": "T", "author": "King, Straub"}
    both = csv_row("title,author,authors", "T,King,King|Straub", author_separator="|")
    assert both == {"title": "T", "author": "King", "authors": ["King", "Straub"]}


def test_a_row_with_the_wrong_number_of_cells_is_an_error_of_its_own() -> None:
    with pytest.raises(RowError) as raised:
        csv_row("title,author", "a,b,c")
    assert raised.value.faults == ((None, "The row has 3 cells; the header has 2.", "csv_cells"),)


@pytest.mark.parametrize(
    ("cell", "isbn", "repaired"),
    [
        ("0439023483", "0439023483", False),
        ('="0439023483"', "0439023483", False),  # a text guard is not a repair
        ("439023483", "0439023483", True),
        ('="439023483"', "0439023483", True),
        ("1000004", "0001000004", True),
        ("306406151", "306406151", False),  # zero-padded, still not an ISBN-10: left alone
        ("9780306406157", "9780306406157", False),
        ("123456", "123456", False),  # too short to have been an ISBN
    ],
)
def test_isbns_as_spreadsheets_spell_them(cell: str, isbn: str, repaired: bool) -> None:
    parsed = CSV.row(csv_plan("title,author,isbn"), csv_line(["T", "A", cell]))
    assert parsed.values["isbn"] == isbn
    if repaired:
        [repair] = parsed.repairs
        assert (repair.loc, repair.type, repair.value) == ("isbn", "isbn_leading_zeros", cell)
        assert isbn in repair.msg
    else:
        assert parsed.repairs == []


def csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


TRICKY = [
    "=SUM(A1)",
    "-5 ways",
    "+1 for you",
    "@home",
    "\tindented",
    "\rcarriage",
    "'=already quoted",
    "''=twice quoted",
    "'plain quote",
    "'",
    "=",
    'a "quoted", comma',
    "Plain title",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_export_guards_formulas_and_import_restores_the_text(text: str) -> None:
    cell = guarded(text)
    assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert unguarded(cell) == text


def test_numbers_folio_writes_need_no_guard() -> None:
    assert guarded(-500) == -500
    assert guarded(1999) == 1999


def test_csv_export_rows_read_back_through_the_import() -> None:
    fields = ("title", "author", "authors", "published_year", "description", "tags", "series")
    books = [
        {
            "title": text,
            "author": "-A",
            "author_id": None,
            "authors": ["-A", "+B"],
            "author_ids": [],
            "isbn": None,
            "published_year": -500,
            "description": text,
            "tags": ["-t", "=u"],
            "publisher": None,
            "language": None,
            "series": text,
            "series_position": None,
        }
        for text in TRICKY
        if text.strip()
    ]
    written = CSV.header() + CSV.rows(books)
    # What a spreadsheet opens safely: no cell starts a formula; the year stays a number.
    assert written.split("\r\n")[1] == "'=SUM(A1),'-A,,'-A|+B,,,-500,'=SUM(A1),'-t|=u,,,'=SUM(A1),"
    rows = list(csv.reader(io.StringIO(written, newline="")))
    plan = csv_plan(",".join(rows[0]))
    for book, cells in zip(books, rows[1:], strict=True):
        assert CSV.row(plan, csv_line(cells)).values == {name: book[name] for name in fields}


def test_ndjson_keys_are_read_per_row() -> None:
    plan = NDJSON.plan(Reading(columns={"title": "name", "authors": "by"}), None)
    parsed = NDJSON.row(plan, '{"name": "T", "by": ["A", "B"], "isbn": "439023483"}')
    assert parsed.values == {"title": "T", "authors": ["A", "B"], "isbn": "0439023483"}
    assert [repair.value for repair in parsed.repairs] == ["439023483"]
    assert NDJSON.row(plan, '{"name": "T"}').values == {"title": "T"}  # a missing key is absent
    with pytest.raises(RowError) as raised:
        NDJSON.row(plan, '{"name": "T", "title": "displaced", "colour": "red"}')
    assert [(loc, type_) for loc, _msg, type_ in raised.value.faults] == [
        ("title", "extra_forbidden"),
        ("colour", "extra_forbidden"),
    ]
    ignoring = NDJSON.plan(Reading(unknown_columns="ignore"), None)
    assert NDJSON.row(ignoring, '{"title": "T", "colour": "red"}').values == {"title": "T"}


def test_ndjson_reports_a_bounded_number_of_unknown_keys() -> None:
    keys = ", ".join(f'"{"k" * 200}{n}": 1' for n in range(50))
    with pytest.raises(RowError) as raised:
        NDJSON.row(NDJSON.plan(Reading(), None), "{" + keys + "}")
    assert len(raised.value.faults) == 10
    assert all(len(loc or "") <= MAX_NAME_CHARS for loc, _msg, _type in raised.value.faults)
