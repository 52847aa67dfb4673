"""The charsets an upload may be sent in, and its transcoding to UTF-8 as it arrives: what is
stored is always UTF-8 without a byte-order mark, so the runner reads one encoding and its
checkpoints stay byte offsets into what is stored."""

import codecs
from typing import get_args

from app.models.import_job import Charset

# Each charset by the names a Content-Type may give it (compared in lower case).
CHARSETS: dict[str, Charset] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-16": "utf-16",
    "iso-8859-1": "iso-8859-1",
    "latin-1": "iso-8859-1",
    "latin1": "iso-8859-1",
    "windows-1252": "windows-1252",
    "cp1252": "windows-1252",
}
CHARSET_NAMES = "utf-8, utf-16, iso-8859-1 (latin-1, latin1) and windows-1252 (cp1252)"
# Python's codec for each; its "utf-16" reads the byte-order mark and drops it.
CODECS: dict[Charset, str] = {
    "utf-8": "utf-8",
    "utf-16": "utf-16",
    "iso-8859-1": "latin-1",
    "windows-1252": "cp1252",
}
assert set(CODECS) == set(get_args(Charset)), "every charset has its codec"
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def charset_named(name: str) -> Charset | None:
    """The charset a Content-Type's `charset` parameter names, if Folio reads it."""
    return CHARSETS.get(name.strip().strip('"').lower())


class Undecodable(Exception):
    """Bytes that are not text in the upload's charset; `line` is the line they are on."""

    def __init__(self, detail: str, line: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.line = line


class Transcoder:
    """Decodes an upload fed in order and gives it back as UTF-8, counting line ends as the
    format does, so that bytes it cannot decode are reported with their line."""

    def __init__(self, charset: Charset, cr_ends_lines: bool, media_type: str) -> None:
        self.charset = charset
        self.cr_ends_lines = cr_ends_lines
        self.media_type = media_type
        self.codec = codecs.getincrementaldecoder(CODECS[charset])
        self.decoder = self.codec()
        self.head: bytes | None = b""  # the first bytes, until the byte-order mark is known
        self.lines = 0  # line ends so far
        self.after_cr = False

    def feed(self, data: bytes, final: bool = False) -> bytes:
        """The UTF-8 of `data` (and of what earlier calls held back); Undecodable on bad bytes."""
        if self.head is not None:
            data = self.head + data
            if len(data) < len(UTF8_BOM) and not final:
                self.head = data
                return b""
            self.head = None
            data = self.without_mark(data)
        state = self.decoder.getstate()
        try:
            text = self.decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            # Decode again, from the same state, up to the bad bytes, to count their line.
            again = self.codec()
            again.setstate(state)
            valid = again.decode(data[: max(0, exc.start - len(state[0]))])
            line = self.lines + self.line_ends(valid) + 1
            raise Undecodable(self.fault(exc, line), line) from None
        self.lines += self.line_ends(text)
        if text:
            self.after_cr = text.endswith("\r")
        return text.encode("utf-8")

    def without_mark(self, data: bytes) -> bytes:
        """The file without its UTF-8 byte-order mark; a UTF-16 file must have its own."""
        if self.charset == "utf-8" and data.startswith(UTF8_BOM):
            return data[len(UTF8_BOM) :]
        if self.charset == "utf-16" and data and not data.startswith(UTF16_BOMS):
            raise Undecodable(
                "A utf-16 file starts with its byte-order mark, and this one has none.", 1
            )
        return data

    def line_ends(self, text: str) -> int:
        ends = text.count("\n")
        if self.cr_ends_lines:
            ends += text.count("\r") - text.count("\r\n")
            if self.after_cr and text.startswith("\n"):
                ends -= 1  # the CRLF that the last piece began was counted at its CR
        return ends

    def fault(self, exc: UnicodeDecodeError, line: int) -> str:
        bad = exc.object[exc.start : min(exc.end, exc.start + 4)].hex(" ")
        if exc.end >= len(exc.object) and exc.reason.startswith(("unexpected end", "truncated")):
            found = f"The file is not {self.charset}: it ends inside a character (line {line})"
        else:
            found = f"The file is not {self.charset}: line {line} has the bytes {bad}"
        if self.charset == "utf-8":
            return (
                f"{found}. Send the file's encoding as the charset of its Content-Type, e.g. "
                f"{self.media_type}; charset=windows-1252 (Folio reads {CHARSET_NAMES})."
            )
        return f"{found}. Is the charset right? Folio reads {CHARSET_NAMES}."
