#!/usr/bin/env python3
"""Generate a large synthetic plan for benchmarking fanout's plan loading and analysis.

Each task is ``{"id": "t<i>", "run": "true", "after": [...]}`` with up to
``--edges-per-task`` distinct earlier tasks as dependencies (so the plan is always
acyclic), and about one task in ten carries an ``estimate``. The output depends only on
the arguments: the same seed gives the same plan, byte for byte.

    python3 scripts/bench/gen_plan.py --tasks 100000 --edges-per-task 3 --seed 1 \\
        --format json > plan.json
"""

import argparse
import json
import random
import sys


def generate(tasks, edges_per_task, seed):
    """The tasks as dictionaries, in plan order."""
    rng = random.Random(seed)
    plan = []
    for i in range(tasks):
        task = {"id": f"t{i}", "run": "true"}
        wanted = min(edges_per_task, i)
        if wanted:
            # Mostly recent tasks, sometimes any earlier one: long chains and wide fans.
            deps = set()
            while len(deps) < wanted:
                if rng.random() < 0.8:
                    deps.add(rng.randrange(max(0, i - 64), i))
                else:
                    deps.add(rng.randrange(0, i))
            task["after"] = [f"t{d}" for d in sorted(deps)]
        else:
            task["after"] = []
        if rng.random() < 0.1:
            task["estimate"] = f"{rng.randint(1, 120)}s"
        plan.append(task)
    return plan


def toml_string(value):
    """A TOML basic string (ids and commands here are plain ASCII)."""
    return json.dumps(value)


def write_toml(plan, out):
    for task in plan:
        out.write("[[tasks]]\n")
        out.write(f"id = {toml_string(task['id'])}\n")
        out.write(f"run = {toml_string(task['run'])}\n")
        after = ", ".join(toml_string(d) for d in task["after"])
        out.write(f"after = [{after}]\n")
        if "estimate" in task:
            out.write(f"estimate = {toml_string(task['estimate'])}\n")
        out.write("\n")


def write_json(plan, out):
    out.write('{"tasks": [\n')
    for k, task in enumerate(plan):
        sep = ",\n" if k + 1 < len(plan) else "\n"
        out.write(json.dumps(task, separators=(", ", ": ")) + sep)
    out.write("]}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000, help="number of tasks")
    parser.add_argument(
        "--edges-per-task",
        type=int,
        default=3,
        help="dependencies per task (fewer for the first tasks)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--format", choices=["json", "toml"], default="json")
    args = parser.parse_args(argv)
    if args.tasks < 0 or args.edges_per_task < 0:
        parser.error("--tasks and --edges-per-task must not be negative")

    plan = generate(args.tasks, args.edges_per_task, args.seed)
    if args.format == "json":
        write_json(plan, sys.stdout)
    else:
        write_toml(plan, sys.stdout)


if __name__ == "__main__":
    main()
