#!/usr/bin/env python3
"""Plan analysis at scale: a generated plan of 100,000 tasks and ~300,000 edges through
`fanout plan --format json`, in JSON and TOML: wall time and peak memory (best of 3).
Writes the table to BENCHMARKS.md (section "plan-scale").

    python3 scripts/bench/plan_scale.py [--tasks 100000]
"""
import argparse
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def measure(cmd):
    """Wall seconds and peak RSS (MiB) of one run of `cmd`, in a fresh child process."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "wall = time.perf_counter() - t\n"
        "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *cmd], check=True, capture_output=True, text=True)
    wall, rss = out.stdout.split()
    return float(wall), float(rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100_000)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "fanout"], cwd=ROOT, check=True)
    fanout = str(ROOT / "target/release/fanout")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("json", "toml"):
            plan = pathlib.Path(tmp) / f"plan.{fmt}"
            with plan.open("w") as f:
                subprocess.run([sys.executable, str(ROOT / "scripts/bench/gen_plan.py"), "--tasks",
                                str(args.tasks), "--edges-per-task", "3", "--seed", "1", "--format", fmt],
                               stdout=f, check=True)
            runs = [measure([fanout, "plan", str(plan), "--format", "json"]) for _ in range(3)]
            wall = min(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            size = plan.stat().st_size / 1e6
            rows.append((fmt, size, wall, rss))
            print(f"{fmt}: {size:.1f} MB, {wall:.3f} s, {rss:.0f} MiB", file=sys.stderr)
    out = [
        "## Plan analysis at scale\n",
        f"`fanout plan --format json` on a generated plan of {args.tasks:,} tasks with up to 3",
        f"dependencies each (~{3 * args.tasks:,} edges); best wall time of 3 runs, peak RSS; {os.cpu_count()} cores.",
        "Reproduce: `python3 scripts/bench/plan_scale.py`\n",
        "| plan format | file size | wall | peak memory |",
        "|---|---:|---:|---:|",
    ]
    for fmt, size, wall, rss in rows:
        out.append(f"| {fmt} | {size:.1f} MB | {wall:.3f} s | {rss:.0f} MiB |")
    out.append("\nTarget: < 1 s and < 500 MB.")
    subprocess.run([sys.executable, str(ROOT / "scripts/bench/update_section.py"), "plan-scale",
                    str(ROOT / "BENCHMARKS.md")], input="\n".join(out), text=True, check=True)


if __name__ == "__main__":
    main()
