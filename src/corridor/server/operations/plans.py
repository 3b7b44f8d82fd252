"""A plan as the API takes it: the ``plan.json`` that ``corridor plan SCENARIO --out DIR`` writes
(``Plan.to_dict()``), in the one schema of the plan file, :mod:`corridor.plan.schema`.

The server does not solve or re-verify plans (``corridor plan`` verifies every plan it writes);
it checks that the file is a well-formed plan, so that its content hash is the one the planner
printed and its routes can give expected times.
"""

from __future__ import annotations

from corridor.plan.schema import PlanIn, PlanRouteIn

__all__ = ["PlanIn", "PlanRouteIn"]
