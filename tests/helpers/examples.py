"""The shell examples of the README and the documentation site, and the output each one shows.

A page's ```sh blocks are its examples. The ```text title="output" block right after one is what
it prints, where a line `...` stands for any number of lines and `...` inside a line for any text
on that line; a block with no output block must print nothing. `<!-- not run: why -->` on the
line before a block leaves it out, saying why (it needs Docker, PostgreSQL, the project's
directory, or takes minutes).
"""

import re
from dataclasses import dataclass
from pathlib import Path

from app.db.migrations import PROJECT_ROOT

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*(?P<reason>.*?)\s*-->\s*$")
OUTPUT_INFO = 'text title="output"'
# Shell languages other than `sh` would escape the test: an example is `sh`, run or not.
OTHER_SHELLS = {"bash", "shell", "zsh", "console", "shell-session", "shellsession"}
# The address the examples name; the test serves on a free port and rewrites it.
EXAMPLE_ADDRESS = "127.0.0.1:8000"


@dataclass
class Example:
    """One ```sh block of a page."""

    page: Path
    line: int
    script: str
    not_run: str | None = None
    output: str | None = None

    @property
    def where(self) -> str:
        return f"{place(self.page)}:{self.line}"


def place(page: Path) -> Path:
    """A page's path from the project's top (pages elsewhere keep their own path)."""
    return page.relative_to(PROJECT_ROOT) if page.is_relative_to(PROJECT_ROOT) else page


@dataclass
class Fence:
    line: int
    info: str
    text: str
    before: str  # the last non-blank line before the fence
    follows_block: bool  # only blank lines lie between the previous fence's end and this one


def fences(text: str) -> list[Fence]:
    """Every fenced block of a Markdown text, indented ones (in list items) included."""
    found: list[Fence] = []
    lines = text.splitlines()
    index, before, previous_end = 0, "", -2
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            if lines[index].strip():
                before = lines[index]
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        end = index + 1
        closing = re.compile(f"{re.escape(fence[0])}{{{len(fence)},}}")
        while end < len(lines) and not closing.fullmatch(lines[end].strip()):
            end += 1
        body = "\n".join(line[indent:] for line in lines[index + 1 : end])
        between = lines[previous_end + 1 : index]
        follows = previous_end >= 0 and not any(line.strip() for line in between)
        found.append(Fence(index + 1, opening["info"].strip(), body, before, follows))
        before, previous_end, index = "", end, end + 1
    return found


def examples(page: Path) -> tuple[list[Example], list[str]]:
    """A page's examples with their outputs, and what is wrong with how the page marks them."""
    found: list[Example] = []
    wrong: list[str] = []
    where = place(page)
    for fence in fences(page.read_text()):
        language = fence.info.split(" ", 1)[0]
        if language in OTHER_SHELLS:
            wrong.append(f"{where}:{fence.line}: a ```{language} block; make it ```sh")
        elif language == "sh":
            marked = NOT_RUN.match(fence.before)
            reason = marked["reason"] if marked else None
            if marked and not reason:
                wrong.append(f"{where}:{fence.line}: `not run` must say why")
            found.append(Example(page, fence.line, fence.text + "\n", reason))
        elif fence.info == OUTPUT_INFO:
            shown_for = found[-1] if found and fence.follows_block else None
            if shown_for is None or shown_for.output is not None:
                wrong.append(f"{where}:{fence.line}: an output block that follows no ```sh block")
            elif shown_for.not_run:
                wrong.append(f"{where}:{fence.line}: an output block of a block that is not run")
            else:
                shown_for.output = fence.text
    return found, wrong


def pages() -> list[Path]:
    """The README and every page of the documentation site."""
    return [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]


def lines_of(text: str) -> list[str]:
    """Text as lines without carriage returns, trailing spaces or trailing blank lines."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def shows(expected: str, printed: str) -> bool:
    """Whether `printed` is what the output block `expected` shows (see the module's doc)."""
    pattern = ""
    for line in lines_of(expected):
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*"
        else:
            pattern += "[^\n]*".join(re.escape(part) for part in line.split("...")) + r"\n"
    return re.fullmatch(pattern, "".join(f"{line}\n" for line in lines_of(printed))) is not None


def aligned(expected: str, printed: str) -> list[str]:
    """The lines of an output block, each one that matches the printed line at its place
    replaced by that line, so that a diff of the two shows only the lines that differ."""
    got = lines_of(printed)
    return [
        got[index] if index < len(got) and "..." in line and shows(line, got[index]) else line
        for index, line in enumerate(lines_of(expected))
    ]
