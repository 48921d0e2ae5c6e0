"""Scene errors: ``FILE:LINE:COL: key.path: message``, every one of bounded length.

A key path or a value pasted from a 3 MB line must never come back whole: messages and
quoted values are cut here, in one place, with the limits that go with them.
"""

from __future__ import annotations

__all__ = ["ConfigError", "ConfigErrors", "shorten", "bounded_report",
           "MAX_QUOTED_CHARS", "MAX_MESSAGE_CHARS", "MAX_PROBLEMS"]

#: characters of a user's value quoted back in a message.
MAX_QUOTED_CHARS = 80
#: characters of one whole message line (key path and message together).
MAX_MESSAGE_CHARS = 400
#: problems printed for one command; the rest are counted.
MAX_PROBLEMS = 50


def shorten(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` cut to about ``limit`` characters, saying how long it was."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 1, 1)]}… ({len(text):,} characters)"


def bounded_report(text: str, lines: int = MAX_PROBLEMS, chars: int = MAX_MESSAGE_CHARS) -> str:
    """A multi-line error report cut to ``lines`` lines of at most ``chars`` characters."""
    rows = str(text).splitlines() or [""]
    shown = [shorten(r, chars) for r in rows[:lines]]
    if len(rows) > lines:
        shown.append(f"... and {len(rows) - lines:,} more problems")
    return "\n".join(shown)


class ConfigError(ValueError):
    """One problem in a scene, with where it is."""

    def __init__(self, where: str, path: str, message: str) -> None:
        self.where, self.path, self.message = where, path, message
        super().__init__(self.format())

    def format(self) -> str:
        # Bounded: a key path or a value pasted from a 3 MB line must not come back whole.
        key = f" {shorten(self.path, MAX_QUOTED_CHARS)}:" if self.path else ""
        return f"{self.where}:{key} {shorten(self.message, MAX_MESSAGE_CHARS)}"


class ConfigErrors(ValueError):
    """Every problem found in a scene, reported together."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.format() for e in errors))
