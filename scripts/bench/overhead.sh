#!/usr/bin/env bash
# Per-task overhead: 2000 tasks of `true` (and of `/usr/bin/true`), no dependencies, at -j2
# and -j8, side by side in one hyperfine run with ninja, make -j, xargs -P and GNU parallel
# on equivalent inputs.
# Writes the results and ratios to BENCHMARKS.md (section "overhead").
#
#   scripts/bench/overhead.sh            # 2000 tasks
#   TASKS=500 scripts/bench/overhead.sh  # smaller
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
need_debian hyperfine:hyperfine ninja:ninja-build parallel:parallel make:make
fanout=$(build_fanout)
tasks=${TASKS:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
floor=$(build_spawn_floor "$work")

# Two task programs: `true` as written (ninja's shell runs it as its builtin, so ninja
# starts no program per task), and `/usr/bin/true`, a program every tool has to start.
python3 - "$work" "$tasks" <<'PY'
import pathlib, sys
work, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
for name, prog in (("builtin", "true"), ("program", "/usr/bin/true")):
    d = work / name
    d.mkdir()
    (d / "plan.toml").write_text("".join(f'[[task]]\nid = "t{i}"\nrun = "{prog}"\n\n' for i in range(n)))
    (d / "build.ninja").write_text(f"rule t\n  command = {prog}\n" + "".join(f"build o{i}: t\n" for i in range(n)))
    (d / "Makefile").write_text(".PHONY: all " + " ".join(f"t{i}" for i in range(n)) + "\nall: " + " ".join(f"t{i}" for i in range(n)) + "\n" + "".join(f"t{i}:\n\t{prog}\n" for i in range(n)))
    (d / "inputs").write_text("".join(f"{i}\n" for i in range(n)))
PY

results=()
for kind in builtin program; do
  dir="$work/$kind"
  prog=true
  [ "$kind" = program ] && prog=/usr/bin/true
  for j in 2 8; do
    out="$work/$kind-j$j.json"
    hyperfine --warmup 1 --min-runs "${RUNS:-10}" --export-json "$out" \
      -N --command-name fanout --prepare "rm -rf $dir/state" "$fanout run $dir/plan.toml -j $j --no-progress --state-dir $dir/state" \
      --command-name ninja --prepare "rm -f $dir/.ninja_log $dir/.ninja_deps" "ninja -C $dir -j $j" \
      --command-name make --prepare "true" "make -s -C $dir -j $j" \
      --command-name xargs --prepare "true" "xargs -P $j -n 1 -a $dir/inputs $prog" \
      --command-name parallel --prepare "true" "parallel -j $j -a $dir/inputs $prog" \
      --command-name floor --prepare "true" "$floor $j $tasks /usr/bin/true" \
      >&2
    results+=("$out")
  done
done

python3 - "$tasks" "${results[@]}" <<'PY' | python3 scripts/bench/update_section.py overhead
import json, sys, platform, os
tasks = sys.argv[1]
print("## Per-task overhead\n")
print(f"{tasks} tasks, no dependencies; median of {os.environ.get('RUNS', '10')} or more hyperfine runs on {os.cpu_count()} cores.")
print("Reproduce: `scripts/bench/overhead.sh`\n")
print("| program | jobs | fanout | ninja | make | xargs -P | GNU parallel | bare spawn loop | fanout / ninja | fanout / parallel | fanout / bare loop |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
cpu_rows = []
for path in sys.argv[2:]:
    results = {r["command"]: r for r in json.load(open(path))["results"]}
    data = {k: r["median"] for k, r in results.items()}
    kind, j = path.rsplit("/", 1)[1].split(".")[0].split("-j")
    prog = "`true`" if kind == "builtin" else "`/usr/bin/true`"
    f = data["fanout"]
    cells = " | ".join(f"{data[k]*1000:.0f} ms" for k in ["fanout", "ninja", "make", "xargs", "parallel", "floor"])
    print(f"| {prog} | {j} | {cells} | {f/data['ninja']:.2f}× | {f/data['parallel']:.3f}× | {f/data['floor']:.2f}× |")
    cpu = {k: r["user"] + r["system"] for k, r in results.items()}
    cpu_rows.append((prog, j, cpu))
print("\nCPU time (user + system) of the whole run, the tool and its tasks together:\n")
print("| program | jobs | fanout | ninja | make | xargs -P | GNU parallel | bare spawn loop | fanout / ninja |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for prog, j, cpu in cpu_rows:
    cells = " | ".join(f"{cpu[k]*1000:.0f} ms" for k in ["fanout", "ninja", "make", "xargs", "parallel", "floor"])
    print(f"| {prog} | {j} | {cells} | {cpu['fanout']/cpu['ninja']:.2f}× |")
print("\nWith `true`, ninja's `sh -c true` runs the shell's builtin: ninja starts one small"
      " program (the shell) per task and never `true` itself, while every other tool starts"
      " `/usr/bin/true`. With `/usr/bin/true` every tool starts the same program (ninja"
      f" through its shell). Most of each run's CPU is the {int(tasks):,} processes' start-up, which no"
      " tool can shorten: on 2 cores a run cannot be much shorter than half its tasks' CPU"
      " time. The bare spawn loop (`scripts/bench/spawn_floor.c`: `posix_spawn` and `waitpid`,"
      " no output captured, nothing recorded) starts the same `/usr/bin/true` and is the floor"
      " under every tool here."
      " When jobs outnumber CPUs (-j8 here) fanout supervises its tasks on a thread per CPU; otherwise on the one thread that decides what runs.")
print("\nTargets: fanout ≤ 0.9× ninja's time and ≤ 0.15× GNU parallel's.")
PY
echo "overhead: results written to BENCHMARKS.md" >&2
