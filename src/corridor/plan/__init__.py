"""The Plan contract that every method produces, and its solver-independent verifier."""

from corridor.plan.model import Plan, Route
from corridor.plan.verify import verify_plan

__all__ = ["Plan", "Route", "verify_plan"]
