"""How long jobs (imports, sends) report progress without knowing who is watching."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives a job's stages and how far each has got."""

    def start(self, label: str, total: int) -> None:
        """A stage of `total` steps begins."""

    def advance(self, steps: int) -> None:
        """`steps` more steps of the current stage are done."""

    def finish(self) -> None:
        """The current stage is over."""


class NoProgress:
    """Progress that goes nowhere (tests, library callers)."""

    def start(self, label: str, total: int) -> None:
        """Ignore the stage."""

    def advance(self, steps: int) -> None:
        """Ignore the steps."""

    def finish(self) -> None:
        """Ignore the end."""
