"""Domain errors: each one is a sentence a clerk can act on."""

from __future__ import annotations

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
        shown = self.value if self.value != "" else "(empty)"
        return f"row {self.row}, column {self.column!r}, value {shown!r}: {self.why}"


class IngestError(DunningError):
    """A file cannot be ingested; the message says why and what to do."""

    def __init__(self, reason: str, problems: list[RowProblem] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems: list[RowProblem] = list(problems or [])

    def report(self) -> str:
        """The full text for NAME.error.txt: the reason, then every bad row."""
        lines = [self.reason]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


class NotFoundError(DunningError):
    """A customer, document or letter that was asked for does not exist."""


class FutureDateError(DunningError):
    """A date after today where only the past makes sense (a letter sent, a pack dated)."""
