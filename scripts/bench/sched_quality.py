#!/usr/bin/env python3
"""Scheduling quality: seeded random DAGs (300 tasks, ~2 dependencies each, sleeps drawn
from a heavy-tailed distribution between 10 and 300 ms) run by fanout at -j4 and -j8.
Compares wall time with the lower bound max(critical path, work / jobs), and with the same
graph run wave by wave (each level waits for its slowest task, via barrier tasks).
Writes the table to BENCHMARKS.md (section "scheduling").

    python3 scripts/bench/sched_quality.py [--seeds 3] [--tasks 300]
"""
import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]


WINDOW = 25


def make_graph(seed, n):
    """Each task depends on 1-3 (2 on average) of the WINDOW tasks before it: build graphs
    have locality, and uniform picks over all earlier tasks make unrealistically shallow
    graphs."""
    rng = random.Random(seed)
    durations = []
    deps = []
    for i in range(n):
        # Pareto-tailed, clipped to 10..300 ms.
        ms = min(300, max(10, int(10 * rng.paretovariate(1.1))))
        durations.append(ms)
        lo = max(0, i - WINDOW)
        k = min(i - lo, rng.choice([1, 2, 2, 3]))
        deps.append(sorted(rng.sample(range(lo, i), k)) if i else [])
    return durations, deps


def levels(deps):
    level = []
    for ds in deps:
        level.append(1 + max((level[d] for d in ds), default=-1))
    return level


def lower_bound(durations, deps, jobs):
    finish = []
    for i, ds in enumerate(deps):
        finish.append(durations[i] + max((finish[d] for d in ds), default=0))
    return max(max(finish), sum(durations) / jobs) / 1000.0


def ideal_schedule(durations, deps, jobs):
    """The wall time of fanout's own rule (ready tasks by longest remaining path, then plan
    order) on an ideal machine: no start-up cost, no overhead. What is left between this
    and the lower bound is the rule's (or the bound's); what is left between fanout's wall
    time and this is fanout's and the processes'."""
    import heapq
    n = len(durations)
    succ = [[] for _ in range(n)]
    for i, ds in enumerate(deps):
        for d in ds:
            succ[d].append(i)
    rest = [0] * n
    for i in reversed(range(n)):
        rest[i] = durations[i] + max((rest[s] for s in succ[i]), default=0)
    waiting = [len(ds) for ds in deps]
    ready = [(-rest[i], i) for i in range(n) if not deps[i]]
    heapq.heapify(ready)
    running, now, done = [], 0, 0
    while done < n:
        while ready and len(running) < jobs:
            _, i = heapq.heappop(ready)
            heapq.heappush(running, (now + durations[i], i))
        now, i = heapq.heappop(running)
        done += 1
        for s in succ[i]:
            waiting[s] -= 1
            if not waiting[s]:
                heapq.heappush(ready, (-rest[s], s))
    return now / 1000.0


def write_plan(path, durations, deps, waves):
    lines = []
    level = levels(deps)
    if waves:
        for k in range(1, max(level) + 1):
            before = [f"t{i}" for i in range(len(deps)) if level[i] == k - 1]
            lines.append(f'[[task]]\nid = "wave{k}"\nrun = "true"\nafter = {json.dumps(before)}\n')
    for i, ms in enumerate(durations):
        after = [f"t{d}" for d in deps[i]]
        if waves and level[i] > 0:
            after.append(f"wave{level[i]}")
        lines.append(
            f'[[task]]\nid = "t{i}"\nrun = "sleep {ms / 1000:.3f}"\nestimate = "{ms}ms"\n'
            f"after = {json.dumps(after)}\n"
        )
    path.write_text("[settings]\nsystemic_failure_stop = false\n\n" + "\n".join(lines))


def run(fanout, plan, jobs, state):
    out = subprocess.run(
        [fanout, "run", str(plan), "-j", str(jobs), "--json", "--no-progress", "--output", "none",
         "--state-dir", state],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)["wall_secs"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=300)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "fanout"], cwd=ROOT, check=True)
    fanout = str(ROOT / "target/release/fanout")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for seed in range(1, args.seeds + 1):
            durations, deps = make_graph(seed, args.tasks)
            plan, waves = tmp / f"g{seed}.toml", tmp / f"w{seed}.toml"
            write_plan(plan, durations, deps, waves=False)
            write_plan(waves, durations, deps, waves=True)
            for jobs in (4, 8):
                lb = lower_bound(durations, deps, jobs)
                wall = run(fanout, plan, jobs, str(tmp / "state"))
                wave_wall = run(fanout, waves, jobs, str(tmp / "state"))
                rows.append((seed, jobs, lb, wall, wave_wall, ideal_schedule(durations, deps, jobs)))
                print(f"seed {seed} -j{jobs}: lower bound {lb:.2f}s, fanout {wall:.2f}s, "
                      f"waves {wave_wall:.2f}s", file=sys.stderr)
    out = [
        "## Scheduling quality\n",
        f"Random DAGs of {args.tasks} tasks (1–3 dependencies each, 2 on average, drawn from the {WINDOW} tasks before;",
        "sleeps of 10–300 ms, Pareto-tailed; `estimate` set to each sleep),",
        f"seeds 1–{args.seeds}, on {os.cpu_count()} cores. Lower bound = max(critical path, work / jobs).",
        "Reproduce: `python3 scripts/bench/sched_quality.py`\n",
        "| seed | jobs | lower bound | fanout | wall / lower bound | same rule, ideal machine / lower bound | wave by wave | fanout vs waves |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for seed, jobs, lb, wall, wave_wall, ideal in rows:
        out.append(f"| {seed} | {jobs} | {lb:.2f} s | {wall:.2f} s | {wall / lb:.3f}× | "
                   f"{ideal / lb:.3f}× | {wave_wall:.2f} s | {100 * (1 - wall / wave_wall):.0f}% shorter |")
    worst = max(r[3] / r[2] for r in rows)
    worst_ideal = max(r[5] / r[2] for r in rows)
    least = min(1 - r[3] / r[4] for r in rows)
    out.append(f"\nWorst wall / lower bound: {worst:.3f}× (target ≤ 1.05×); "
               f"smallest gain over waves: {100 * least:.0f}% (target ≥ 20%). "
               f"The same rule on an ideal machine (no start-up cost) reaches {worst_ideal:.3f}× at worst: "
               "where that is above 1.05× the bound itself is out of reach of this rule, and "
               "the rest is the cost of starting 300 processes.")
    subprocess.run([sys.executable, str(ROOT / "scripts/bench/update_section.py"), "scheduling",
                    str(ROOT / "BENCHMARKS.md")], input="\n".join(out), text=True, check=True)


if __name__ == "__main__":
    main()
