"""The error family. Every message says what is wrong, where, and what to do next."""

from __future__ import annotations


class CorridorError(Exception):
    """Base of every error corridor raises on purpose.

    ``where`` names the place (a file, a line, a field, a node); ``hint`` says what to do.
    """

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputError(CorridorError):
    """A file that cannot be read as what it claims to be."""


class ScenarioError(InputError):
    """A scenario file or table that is malformed or inconsistent."""


class NetworkError(InputError):
    """A road network that cannot be read or used."""


class SolverError(CorridorError):
    """A solver failed to give an answer it should have given."""


class InfeasibleError(CorridorError):
    """A model has no feasible solution (not the same as nobody getting out in time)."""


class ConflictError(CorridorError):
    """A write that contradicts what is already stored."""
