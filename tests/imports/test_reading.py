"""Files split into records whatever their line ends, and uploads become UTF-8 whatever their
charset, with the line of any byte that is not text."""

import codecs

import pytest

from app.imports.charsets import Transcoder, Undecodable, charset_named
from app.imports.reader import Record, Splitter, Unreadable
from app.models.import_job import Charset


def split(data: bytes, pieces: int = 1, cr: bool = True, lines: int = 3) -> list[Record]:
    """The records of `data` fed in `pieces` parts, split `lines` lines a step."""
    splitter = Splitter(quoted=True, cr_ends_lines=cr, offset=0, line=0)
    size = -(-len(data) // pieces)
    found: list[Record] = []
    for start in range(0, len(data), size):
        splitter.feed(data[start : start + size])
        used_up = False
        while not used_up:
            step, used_up = splitter.step(lines)
            found += step
    return found + splitter.end()


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("pieces", [1, 2, 5, 40])
def test_lf_crlf_and_cr_line_ends_give_the_same_records(end: bytes, pieces: int) -> None:
    data = end.join([b"title,author", b'"two', b'lines",x', b"", b"last,y"]) + end
    records = split(data, pieces)
    assert [(record.line, record.end_line) for record in records] == [(1, 1), (2, 3), (5, 5)]
    assert [record.text for record in records] == [
        "title,author" + end.decode(),
        '"two' + end.decode() + 'lines",x' + end.decode(),
        "last,y" + end.decode(),
    ]
    # The offset of each record's end is where the next one starts in the bytes.
    assert [record.end_offset for record in records] == [
        data.index(b'"two'),
        data.index(end + end) + len(end),
        len(data),
    ]


def test_a_crlf_split_between_two_chunks_is_one_line_end() -> None:
    data = b"a,b\r\nc,d\r\ne,f"
    for cut in range(1, len(data)):
        splitter = Splitter(quoted=True, cr_ends_lines=True, offset=0, line=0)
        found: list[Record] = []
        for part in (data[:cut], data[cut:]):
            splitter.feed(part)
            found += splitter.step(100)[0]
        found += splitter.end()
        assert [record.line for record in found] == [1, 2, 3], cut


def test_ndjson_ends_lines_at_lf_only() -> None:
    records = split(b'{"a": 1}\r\n{"b":\r 2}\n', cr=False)
    assert [record.text for record in records] == ['{"a": 1}\r\n', '{"b":\r 2}\n']


def test_splitting_resumes_from_a_checkpoint() -> None:
    data = b"h\rone\rtwo\rthree\r"
    first = split(data)
    resumed = Splitter(quoted=True, cr_ends_lines=True, offset=first[1].end_offset, line=2)
    resumed.feed(data[first[1].end_offset :])
    rest = resumed.step(100)[0] + resumed.end()
    assert [(record.line, record.text) for record in rest] == [(3, "two\r"), (4, "three\r")]


def test_a_quote_that_never_closes_names_its_line() -> None:
    with pytest.raises(Unreadable, match="starts on line 2") as raised:
        split(b'title\r"open\rstill open\r')
    assert raised.value.line == 2


def transcode(data: bytes, charset: Charset, pieces: int = 1, cr: bool = True) -> bytes:
    transcoder = Transcoder(charset, cr, "text/csv")
    size = max(1, -(-len(data) // pieces))
    out = b"".join(
        transcoder.feed(data[start : start + size]) for start in range(0, len(data), size)
    )
    return out + transcoder.feed(b"", final=True)


TEXT = "title;author\r\nL’Été;Zoë\r\n€ and “quotes”\r\n"


@pytest.mark.parametrize(
    ("charset", "encoded"),
    [
        ("utf-8", TEXT.encode()),
        ("utf-8", codecs.BOM_UTF8 + TEXT.encode()),
        ("utf-16", TEXT.encode("utf-16")),
        ("utf-16", codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be")),
        ("windows-1252", TEXT.encode("cp1252")),
        (
            "iso-8859-1",
            TEXT.replace("’", "'")
            .replace("€", "E")
            .replace("“", '"')
            .replace("”", '"')
            .encode("latin-1"),
        ),
    ],
)
@pytest.mark.parametrize("pieces", [1, 2, 7, 100])
def test_every_charset_becomes_utf8_without_a_byte_order_mark(
    charset: Charset, encoded: bytes, pieces: int
) -> None:
    out = transcode(encoded, charset, pieces)
    assert (
        out.decode("utf-8")
        .replace("E and", "€ and")
        .replace("L'", "L’")
        .replace('"quotes"', "“quotes”")
        == TEXT
    )


@pytest.mark.parametrize(
    ("data", "charset", "line", "says"),
    [
        (b"title\nok\n\xe9t\xe9\n", "utf-8", 3, "line 3 has the bytes e9"),
        (b"title\r\nok\r\n\xff", "utf-8", 3, "line 3"),
        (b"a\rb\rc\xff", "utf-8", 3, "line 3"),
        (b"title\nok\xe2\x82", "utf-8", 2, "ends inside a character"),
        (b"title\n\x81\n", "windows-1252", 2, "not windows-1252"),
        (b"t\x00i\x00", "utf-16", 1, "byte-order mark"),
        (codecs.BOM_UTF16_LE + "a\nb".encode("utf-16-le") + b"\x00", "utf-16", 2, "ends inside"),
    ],
)
@pytest.mark.parametrize("pieces", [1, 3])
def test_bytes_that_are_not_text_are_reported_with_their_line(
    data: bytes, charset: Charset, line: int, says: str, pieces: int
) -> None:
    with pytest.raises(Undecodable) as raised:
        transcode(data, charset, pieces)
    assert raised.value.line == line
    assert says in raised.value.detail
    if charset == "utf-8":
        assert "charset=windows-1252" in raised.value.detail


def test_lines_are_counted_as_the_format_counts_them() -> None:
    with pytest.raises(Undecodable) as raised:
        transcode(b"{}\r{}\r\xff", "utf-8", cr=False)
    assert raised.value.line == 1


@pytest.mark.parametrize(
    ("name", "charset"),
    [
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ('"utf-16"', "utf-16"),
        ("ISO-8859-1", "iso-8859-1"),
        ("latin-1", "iso-8859-1"),
        ("Latin1", "iso-8859-1"),
        ("windows-1252", "windows-1252"),
        ("CP1252", "windows-1252"),
        ("shift_jis", None),
        ("utf-32", None),
    ],
)
def test_charset_names(name: str, charset: str | None) -> None:
    assert charset_named(name) == charset
