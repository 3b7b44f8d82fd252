"""Benchmarks of corridor's planners against peers (not part of ``make test``).

Run ``python -m bench.planner --help``; see ``bench/README.md`` and ``docs/performance.md``.
"""
