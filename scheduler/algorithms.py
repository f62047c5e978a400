"""The registry of recorded algorithms: what ``suiji verify`` recomputes each draw with.

Every draw stores the id of the algorithm that made it. Verification looks the
id up here (never the draw's scope), so the day ``suiji-inspections/2``
exists, a ``/1`` draw is still recomputed with the ``/1`` functions. A new
algorithm id gets a new entry; an entry is never changed or removed while any
draw made with it must verify. Events are looked up by their recorded
``algorithm`` parameter when they have one (``suiji-substitution/2``), else by
their kind (the substitutions and declines recorded before event versions).
"""

from __future__ import annotations

from suiji.data.verify import Algorithm, Registry
from suiji.sampler import reviews
from suiji.scheduler import panels, plan, tasks_plan

REGISTRY = Registry((
    # /1 and /2 plans recorded before the date search may have CP-SAT dates: their own path
    Algorithm(plan.ALGORITHM, plan.compute_plan,
              {"substitution": plan.compute_substitution,  # suiji-substitution/1 (legacy)
               plan.SUBSTITUTION_ALGORITHM: plan.compute_substitution_v2}),
    Algorithm(plan.ALGORITHM_V2, plan.compute_plan_v2,
              {"substitution": plan.compute_substitution,
               plan.SUBSTITUTION_ALGORITHM: plan.compute_substitution_v2}),
    Algorithm(plan.ALGORITHM_V3, plan.compute_plan_v3,
              {"substitution": plan.compute_substitution,
               plan.SUBSTITUTION_ALGORITHM: plan.compute_substitution_v2}),
    Algorithm(reviews.ALGORITHM, reviews.compute_sample),
    Algorithm(panels.ALGORITHM, panels.compute_panels, {"decline": panels.compute_decline}),
    Algorithm(panels.ALGORITHM_V2, panels.compute_panels_v2,
              {"decline": panels.compute_decline}),
    Algorithm(tasks_plan.ALGORITHM, tasks_plan.compute_task_plan),
))
