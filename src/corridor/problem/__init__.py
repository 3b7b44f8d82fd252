"""The discrete model every method solves and the verifier checks: integer arrays on the time axis."""

from corridor.problem.model import Problem

__all__ = ["Problem"]
