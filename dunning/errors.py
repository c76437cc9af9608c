"""Domain errors: each one is a sentence a clerk can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class DunningError(Exception):
    """Base of every error the library raises on purpose; the CLI shows its message."""


class NotADeskError(DunningError):
    """No desk folder was found or given."""


class DeskExistsError(DunningError):
    """`init` refuses to overwrite an existing desk."""


class ConfigError(DunningError):
    """`dunning.toml` is unreadable or holds an invalid value."""


@dataclass(frozen=True)
class RowProblem:
    """One bad cell of a ledger file, as the clerk sees it in Excel."""

    row: int
    column: str
    value: str
    why: str

    def __str__(self) -> str:
        """`第 12 行「应收金额」'abc'：不是金额…`: the row as Excel numbers it, the file's header."""
        shown = repr(self.value) if self.value != "" else "（空）"
        return f"第 {self.row} 行「{self.column}」{shown}：{self.why}"


class IngestError(DunningError):
    """A file cannot be ingested; the message says why and what to do."""

    def __init__(self, reason: str, problems: list[RowProblem] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems: list[RowProblem] = list(problems or [])

    def report(self) -> str:
        """The full text for NAME.error.txt: the reason, then every bad row."""
        lines = [self.reason]
        lines.extend(problem_lines(self.problems))
        return "\n".join(lines)


# Bad rows shown in a terminal or a web page before pointing at the error file for the rest.
SHOWN_PROBLEMS = 20


def problem_lines(
    problems: Sequence[RowProblem], *, limit: int | None = None, error_file: str | None = None
) -> list[str]:
    """The bad rows as NAME.error.txt lists them (`  - 第 5 行「…」…`), at most `limit` of
    them, then `  另有 N 行见 failed/NAME.error.txt`."""
    shown = problems if limit is None else problems[:limit]
    lines = [f"  - {p}" for p in shown]
    rest = len(problems) - len(shown)
    if rest:
        lines.append(f"  另有 {rest} 行见 {error_file or 'failed/ 中的说明文件'}")
    return lines


class NotFoundError(DunningError):
    """A customer, document or letter that was asked for does not exist."""


class ArchiveUnusableError(DunningError):
    """archive.db is missing beside a store that holds files, or it is damaged."""


class FutureDateError(DunningError):
    """A date after today where only the past makes sense (a letter sent, a pack dated)."""
