#!/usr/bin/env bash
# `fanout map` against the tools it stands in for: 2000 jobs of `true`, one per input
# line, at -j2 and -j8, side by side in one hyperfine run with GNU parallel, xargs -P and
# rust-parallel (installed with cargo into a temporary directory). Writes the results and
# ratios to BENCHMARKS.md (section "map").
#
#   scripts/bench/map.sh            # 2000 jobs
#   JOBS=500 scripts/bench/map.sh   # fewer
#   RUST_PARALLEL=/path/to/rust-parallel scripts/bench/map.sh   # skip the cargo install
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
need_debian hyperfine:hyperfine parallel:parallel
fanout=$(build_fanout)
jobs=${JOBS:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
floor=$(build_spawn_floor "$work")

rust_parallel=${RUST_PARALLEL:-}
if [ -z "$rust_parallel" ]; then
  echo "map: installing rust-parallel into $work/rust-parallel" >&2
  cargo install rust-parallel --quiet --locked --root "$work/rust-parallel" >&2
  rust_parallel="$work/rust-parallel/bin/rust-parallel"
fi
mkdir -p "$work/home/.parallel" && touch "$work/home/.parallel/will-cite"
seq 1 "$jobs" > "$work/inputs"

commands=()
for j in 2 8; do
  commands+=(
    --command-name "fanout -j$j" "$fanout map -j $j true :::: $work/inputs"
    --command-name "parallel -j$j" "env HOME=$work/home parallel -j $j true :::: $work/inputs"
    --command-name "xargs -j$j" "xargs -P $j -n 1 -a $work/inputs true"
    --command-name "rust-parallel -j$j" "$rust_parallel -j $j -i $work/inputs true"
    --command-name "floor -j$j" "$floor $j $jobs /usr/bin/true 1"
  )
done
hyperfine -N --warmup 1 --min-runs "${RUNS:-10}" --export-json "$work/map.json" "${commands[@]}" >&2

python3 - "$jobs" "$work/map.json" <<'PY' | python3 scripts/bench/update_section.py map
import json, os, sys
jobs, path = sys.argv[1], sys.argv[2]
results = {r["command"]: r for r in json.load(open(path))["results"]}
data = {k: r["median"] for k, r in results.items()}
cpu = {k: r["user"] + r["system"] for k, r in results.items()}
print("## fanout map\n")
print(f"{jobs} jobs of `true`, one per input line; median of {os.environ.get('RUNS', '10')} or more hyperfine runs on {os.cpu_count()} cores.")
print("Reproduce: `scripts/bench/map.sh`\n")
print("| jobs | fanout map | GNU parallel | xargs -P | rust-parallel | bare spawn loop | fanout / parallel | fanout / xargs | fanout / rust-parallel | fanout / bare loop |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for j in (2, 8):
    f, p, x, r, b = (data[f"{tool} -j{j}"] for tool in ("fanout", "parallel", "xargs", "rust-parallel", "floor"))
    cells = " | ".join(f"{t*1000:.0f} ms" for t in (f, p, x, r, b))
    print(f"| {j} | {cells} | {f/p:.3f}× | {f/x:.2f}× | {f/r:.2f}× | {f/b:.2f}× |")
print("\nCPU time (user + system) of the whole run, the tool and its jobs together:\n")
print("| jobs | fanout map | GNU parallel | xargs -P | rust-parallel | bare spawn loop |")
print("|---:|---:|---:|---:|---:|---:|")
for j in (2, 8):
    cells = " | ".join(f"{cpu[f'{tool} -j{j}']*1000:.0f} ms" for tool in ("fanout", "parallel", "xargs", "rust-parallel", "floor"))
    print(f"| {j} | {cells} |")
print(f"\nOn {os.cpu_count()} cores a run cannot take much less than half the CPU time of its {int(jobs):,} `true`"
      " processes, which every tool pays alike. The bare spawn loop (`scripts/bench/spawn_floor.c`:"
      " `posix_spawn` and `waitpid`, no output captured) runs the same `true 1` and is that floor.")
print("\nEvery job gets an argument here; given one, coreutils' `true` sets up its locale, so each"
      " job costs more than a `true` of the overhead benchmark."
      " When jobs outnumber CPUs (-j8 here) fanout supervises its jobs on a thread per CPU, as rust-parallel does; otherwise on the one thread that decides what runs.")
print("\nTargets: fanout map ≤ 0.15× GNU parallel's time and ≤ 0.8× xargs'.")
PY
echo "map: results written to BENCHMARKS.md" >&2
