"""Typed errors. Each says what a person must fix: the file, the line, the field."""

from __future__ import annotations

from pathlib import Path


class SobrieteError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(SobrieteError):
    """Bad input data: names the file, the 1-based line, the field and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.expected = expected
        self.found = found
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field!r}")
        text = (", ".join(where) + ": " if where else "") + self.reason
        if self.expected:
            text += f" (expected {self.expected}"
            text += f", found {self.found!r})" if self.found is not None else ")"
        return text


class FormatError(InputError):
    """The file is not of the announced format (wrong header, separator, encoding)."""


class ValueRangeError(InputError):
    """A value parsed but is impossible (negative energy, 300 °C outdoors)."""


class UnknownReferenceError(InputError):
    """A row refers to something unknown (a meter not in the registry)."""


class StoreError(SobrieteError):
    """The store refused an operation (schema out of date, bad URL, integrity)."""


class IntervalOverlapError(StoreError):
    """Incoming intervals partly overlap stored intervals of another length."""
