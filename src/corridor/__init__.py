"""corridor: plan, run and account for civilian evacuations."""

__version__ = "0.1.0"
