"""Run a plan under seeded disruptions."""
