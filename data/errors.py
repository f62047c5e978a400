"""The exception hierarchy of suiji's core.

Every message says what is wrong in the user's terms and how to fix it. Each
:class:`SuijiError` carries the exit code the CLI uses for it (``exit_code``):
1 for a domain refusal, 2 for a usage mistake (:class:`UsageError`). An
internal inconsistency is a :class:`BugError`, which is not a user error and
is shown as a bug to report.
"""

from __future__ import annotations


class SuijiError(Exception):
    """Base class of every error the core raises on purpose (a domain refusal)."""

    exit_code: int = 1


class UsageError(SuijiError):
    """The command was used wrongly: a redraw without a reason, an option that
    does not apply to this command, ... Exit code 2, like click's own usage errors."""

    exit_code = 2


class BugError(Exception):
    """An internal inconsistency: suiji itself is wrong, not the user's input.

    Deliberately not a :class:`SuijiError`: it is never dressed as a user
    error; the CLI shows it as a bug ("please report this") with its details.
    """


class InputFileError(SuijiError):
    """An input file was rejected; nothing was written.

    ``problems`` holds one ``row N, column X: problem`` line per bad cell,
    with N the row number as Excel shows it (header = row 1).
    """

    def __init__(self, summary: str, problems: list[str] | None = None,
                 total: int | None = None) -> None:
        self.summary = summary
        self.problems = list(problems or [])
        self.total = max(total or 0, len(self.problems))  # problems may hold only the first
        super().__init__(self.render())

    def render(self, limit: int = 50) -> str:
        lines = [self.summary]
        lines.extend(self.problems[:limit])
        if self.total > limit:
            lines.append(f"... and {self.total - limit:,} more problems ({self.total:,} in all)")
        lines.append("Nothing was written. Fix the rows above and import the file again.")
        return "\n".join(lines)


class ImportRefusedError(SuijiError):
    """A well-formed file whose import looks like a mistake (it would remove much of a
    directory, or it is another kind of file); the message names the flag to force it."""


class RemovalsNotConfirmedError(ImportRefusedError):
    """A directory import that would remove rows the caller wanted to confirm first.

    Nothing was written. ``removed`` is how many current rows the file lacks,
    ``keys`` the first of them (their key values), ``inserted`` and ``updated``
    what else the import would do: what a confirmation page shows.
    """

    def __init__(self, message: str, *, kind: str, removed: int, keys: list[str],
                 inserted: int, updated: int) -> None:
        self.kind = kind
        self.removed = removed
        self.keys = list(keys)
        self.inserted = inserted
        self.updated = updated
        super().__init__(message)


class RulesError(SuijiError):
    """The rules file is invalid; the message names the key."""


class CalendarError(SuijiError):
    """No holiday calendar is known for a year the period needs."""


class StoreError(SuijiError):
    """The database cannot be used as it is (version, missing init, ...)."""


class FreezeError(SuijiError):
    """No freeze, or the inputs changed since the freeze."""


class AlreadyDrawnError(SuijiError):
    """A period already has a plan; a redraw needs --redraw --reason."""


class InfeasibleError(SuijiError):
    """No plan satisfies the rules; the message names what binds and what to change."""


class LeadTimeError(SuijiError):
    """A panel draw is too close to the meeting."""


class ExportError(SuijiError):
    """An export could not be written where asked; nothing was exported or logged."""


class VerificationError(SuijiError):
    """A recomputation or a digest did not match."""
