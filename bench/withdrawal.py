"""Withdrawal planner benchmark: generated forces, the planner beside the FFD baseline.

    .venv/bin/python bench/withdrawal.py [--scale 1 10] [--seeds N] [--time-limit S]

One line per instance: size, sorties and sortie_ratio, closure and ratio, the binding
bound, the ratio to the bounds valid only for the chosen packing (pk_ratio), solve
seconds; then the first-fit-decreasing loads scheduled greedily (the baseline) with its
own ratios. `ratio` is to the best lower bound valid for EVERY plan (bounds.py).
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._support import machine  # noqa: E402
from sitroom.forces.planner import solve  # noqa: E402
from sitroom.forces.planner.generate import generate  # noqa: E402
from sitroom.forces.planner.handover import check_handover  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, nargs="+", default=[1])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"# {machine()}; time limit {args.time_limit:g} s, {args.workers} workers")
    print(
        "scale seed personnel vehicles | sorties sortie_ratio (bound) closure_min ratio "
        "(binding) pk_ratio seconds | FFD: sorties sortie_ratio closure_min ratio seconds | gaps"
    )
    for scale in args.scale:
        for seed in range(args.seeds):
            problem = generate(scale, seed)
            people = sum(u.personnel for u in problem.units)
            cars = sum(len(u.vehicles) for u in problem.units)
            plan = solve(problem, time_limit_s=args.time_limit, workers=args.workers)
            base = solve(problem, time_limit_s=args.time_limit, workers=args.workers, baseline=True)
            gaps = len(check_handover(problem, plan)) + len(check_handover(problem, base))
            print(
                f"x{scale} {seed} {people} {cars} | {len(plan.sorties)} "
                f"{plan.sortie_ratio:.3f} ({plan.sortie_bound_name}) {plan.closure_min} "
                f"{plan.ratio:.3f} ({plan.closure_bound_name} {plan.closure_bound}) "
                f"{plan.packing_ratio or 0:.3f} {plan.seconds:.1f} | "
                f"{len(base.sorties)} {base.sortie_ratio:.3f} {base.closure_min} "
                f"{base.ratio:.3f} {base.seconds:.1f} | {gaps}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
