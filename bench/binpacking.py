"""Sortie-count core: the exact packer against known optima, with FFD as the baseline.

    .venv/bin/python bench/binpacking.py [--instances DIR] [--match GLOB] [--optima FILE]
        [--time-limit 30] [--workers 2] [--generate-triplets N ...] [--triplet-seeds 3]
        [--markdown]

What is measured, for every instance:

- `sitroom.forces.planner.packing.solve` (FFD, L1/L2, the arc-flow LP bound on HiGHS,
  then arc-flow on CP-SAT): bins used, the proven lower bound and which bound it is, and
  the wall-clock seconds of the call;
- baseline, in the same run: `first_fit_decreasing` on the same items (bins, seconds);
- for the record, L2 and the arc-flow LP bound on their own (computed outside the timing;
  the bound `solve` reports is the cheapest one that reaches the largest value);
- whether the known optimum is reached. An instance with no known optimum passes only
  if the solver proved its packing optimal (bins = lower bound).

Instances:

- every file of DIR (or those matching --match, e.g. '*u120*') in BPPLIB's BPP format:
  first line n, second line the capacity, then n weights, one a line. BPPLIB's files are
  CC BY-NC-ND: read them from where they lie, never copy them into this repository.
  Known optima come from --optima FILE, either BPPLib.jl's Bounds.txt (name, LB, UB,
  tab-separated; an optimum where LB = UB) or lines "name optimum"; without it, from the
  table in DIR/../SOURCE.md if there is one (rows like "| u120_00 … u120_19 | 48 49 … |"
  or "| t60_00 … t60_19 | 20 each |"). A name matches a file whose stem is the name or
  ends with "_" + name.
- triplet instances made here (sitroom/forces/planner/triplets.py, Falkenauer's
  construction: each bin of the optimum is filled exactly by three items, capacity 1000,
  optimum items / 3), --triplet-seeds of each size given by --generate-triplets (item
  counts, multiples of 3; default 60 120 249 501 1002 — 1002 is the first multiple of 3
  from 1,000 items). --generate-triplets with no sizes makes none.

Exit status 0 only when every instance reaches its known optimum. Each instance gets
--time-limit seconds (default 30); those that ran into it are listed at the end.
"""

from __future__ import annotations

import argparse
import ctypes
import fnmatch
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sitroom.forces.planner.packing import (  # noqa: E402
    arcflow_lp_bound,
    first_fit_decreasing,
    l2_bound,
    solve,
)
from sitroom.forces.planner.triplets import CAPACITY, triplet_instance  # noqa: E402

DEFAULT_TRIPLETS = [60, 120, 249, 501, 1002]


@dataclass
class Instance:
    name: str
    capacity: int
    weights: list[int]
    optimum: int | None


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--instances", type=Path, help="folder of BPPLIB BPP-format files")
    p.add_argument("--match", default="*", help="only files whose name matches (default *)")
    p.add_argument("--optima", type=Path, help="Bounds.txt or 'name optimum' lines")
    p.add_argument("--time-limit", type=float, default=30.0, help="seconds per instance")
    p.add_argument("--workers", type=int, default=2, help="CP-SAT threads (default 2)")
    p.add_argument(
        "--generate-triplets",
        type=int,
        nargs="*",
        default=DEFAULT_TRIPLETS,
        metavar="N",
        help="item counts of generated triplet instances (default 60 120 249 501 1002)",
    )
    p.add_argument("--triplet-seeds", type=int, default=3, help="instances per size")
    p.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = p.parse_args(argv)
    for n in args.generate_triplets:
        if n <= 0 or n % 3:
            p.error(f"--generate-triplets: {n} is not a positive multiple of 3")
    return args


def read_bpp(path: Path) -> tuple[int, list[int]] | None:
    """(capacity, weights) of a BPP-format file, or None if it is not one."""
    try:
        numbers = [int(x) for x in path.read_text().split()]
    except (ValueError, UnicodeDecodeError):
        return None
    if len(numbers) < 2 or numbers[0] != len(numbers) - 2:
        return None
    return numbers[1], numbers[2:]


def read_optima_file(path: Path) -> dict[str, int | None]:
    optima: dict[str, int | None] = {}
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) == 3:  # Bounds.txt: name, LB, UB
            optima[fields[0]] = int(fields[1]) if fields[1] == fields[2] else None
        elif len(fields) == 2:
            optima[fields[0]] = int(fields[1])
    return optima


ROW = re.compile(r"^\|\s*([A-Za-z0-9]+)_(\d+)\s*(?:…|\.\.\.)\s*\1_(\d+)\s*\|\s*([^|]+)\|")


def read_source_table(path: Path) -> dict[str, int | None]:
    """Optima from the "| u120_00 … u120_19 | 48 49 … |" rows of a SOURCE.md."""
    optima: dict[str, int | None] = {}
    for line in path.read_text().splitlines():
        m = ROW.match(line.strip())
        if not m:
            continue
        prefix, first, last, cell = m.groups()
        width = len(first)
        names = [f"{prefix}_{i:0{width}d}" for i in range(int(first), int(last) + 1)]
        values = [int(v) for v in re.findall(r"\d+", cell.split("(")[0])]
        if "each" in cell and values:
            values = values[:1] * len(names)
        if len(values) != len(names):
            raise SystemExit(f"{path}: cannot read the optima of {prefix}: {cell.strip()}")
        optima.update(zip(names, values, strict=True))
    return optima


def optimum_for(stem: str, optima: dict[str, int | None]) -> int | None:
    if stem in optima:
        return optima[stem]
    for name, value in optima.items():
        if stem.endswith("_" + name):
            return value
    return None


def load_instances(args) -> list[Instance]:
    instances = []
    if args.instances:
        if args.optima:
            optima = read_optima_file(args.optima)
        elif (args.instances.parent / "SOURCE.md").exists():
            optima = read_source_table(args.instances.parent / "SOURCE.md")
        else:
            optima = {}
        for path in sorted(args.instances.iterdir()):
            if not path.is_file() or not fnmatch.fnmatch(path.name, args.match):
                continue
            parsed = read_bpp(path)
            if parsed is None:
                print(f"# skipped {path.name}: not in BPP format")
                continue
            capacity, weights = parsed
            instances.append(Instance(path.name, capacity, weights, optimum_for(path.stem, optima)))
    for n in args.generate_triplets:
        for seed in range(args.triplet_seeds):
            weights = triplet_instance(n, seed)
            instances.append(Instance(f"triplets_{n}_s{seed}", CAPACITY, weights, n // 3))
    return instances


def quiet_highs_banner() -> None:
    """HiGHS prints a banner on stdout when its first solver object is made; make that one
    here with stdout pointed at /dev/null so it does not break the table."""
    import highspy

    sys.stdout.flush()
    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        highspy.Highs()
        ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


def main(argv=None) -> int:
    args = parse_args(argv)
    instances = load_instances(args)
    if not instances:
        print("no instances: give --instances DIR and/or --generate-triplets N")
        return 2
    quiet_highs_banner()
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, ortools "
        f"{version('ortools')}, highspy {version('highspy')}; workers={args.workers}, "
        f"time limit {args.time_limit:g} s per instance"
    )
    header = (
        f"{'instance':<26} {'n':>5} {'cap':>5} {'bins':>5} {'opt':>5} {'lower bound':>17} "
        f"{'FFD':>5} {'seconds':>8} {'FFD s':>7} {'L2':>5} {'LP':>5}  result"
    )
    print(header)
    rows, failed, slow = [], [], []
    for inst in instances:
        t = time.perf_counter()
        ffd = len(first_fit_decreasing(inst.weights, inst.capacity))
        ffd_seconds = time.perf_counter() - t
        r = solve(inst.weights, inst.capacity, time_limit=args.time_limit, workers=args.workers)
        l2 = l2_bound(inst.weights, inst.capacity)
        lp = arcflow_lp_bound(inst.weights, inst.capacity)
        if inst.optimum is None:
            ok = r.optimal
            verdict = "proven optimal" if ok else f"unknown optimum ({r.status})"
        else:
            ok = r.bin_count == inst.optimum
            verdict = "optimum" if ok else f"MISSED by {r.bin_count - inst.optimum} ({r.status})"
            if max(r.lower_bound, l2, lp) > inst.optimum:
                ok, verdict = False, "A BOUND IS ABOVE THE OPTIMUM"
        if not ok:
            failed.append(inst.name)
        if r.status == "time limit":
            slow.append(inst.name)
        opt = "?" if inst.optimum is None else str(inst.optimum)
        bound = f"{r.lower_bound} ({r.bound_name})"
        print(
            f"{inst.name:<26} {len(inst.weights):>5} {inst.capacity:>5} {r.bin_count:>5} "
            f"{opt:>5} {bound:>17} {ffd:>5} {r.seconds:>8.2f} {ffd_seconds:>7.3f} {l2:>5} {lp:>5}  "
            f"{verdict}",
            flush=True,
        )
        rows.append((inst, r, ffd, opt, bound, l2, lp))

    seconds = [r.seconds for _, r, *_ in rows]
    reached = len(rows) - len(failed)
    ffd_at_opt = sum(1 for inst, _, ffd, *_ in rows if inst.optimum == ffd)
    print(
        f"# {reached}/{len(rows)} reached the known optimum (or proved optimality); "
        f"FFD alone: {ffd_at_opt}/{len(rows)}; solve seconds mean {sum(seconds) / len(rows):.2f}, "
        f"max {max(seconds):.2f}"
    )
    if slow:
        print(f"# needed more than {args.time_limit:g} s: {', '.join(slow)}")
    if failed:
        print(f"# FAILED: {', '.join(failed)}")
    if args.markdown:
        print()
        print(
            "| instance | n | bins | optimum | lower bound | FFD (baseline) | seconds | L2 | LP |"
        )
        print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
        for inst, r, ffd, opt, bound, l2, lp in rows:
            print(
                f"| {inst.name.removesuffix('.txt')} | {len(inst.weights)} | {r.bin_count} | "
                f"{opt} | {bound} | {ffd} | {r.seconds:.2f} | {l2} | {lp} |"
            )
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
