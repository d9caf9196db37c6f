#!/usr/bin/env bash
# The store's cost and the cache's hashing speed:
#  1. the 2000-task overhead plan (tasks of `true`, -j8) with the store on and with
#     --no-store, side by side in one hyperfine run (target: within 5%);
#  2. computing the cache key of a task whose inputs are 10,000 files / 100 MB (a cached
#     run: hash everything, find the earlier result, run nothing), next to reading the same
#     files with cat.
# Writes the results to BENCHMARKS.md (section "store").
#
#   scripts/bench/store.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
need_debian hyperfine:hyperfine
fanout=$(build_fanout)
tasks=${TASKS:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$tasks" <<'PY'
import os, pathlib, sys
work, n = pathlib.Path(sys.argv[1]), int(sys.argv[2])
(work / "plan.toml").write_text("".join(f'[[task]]\nid = "t{i}"\nrun = "true"\n\n' for i in range(n)))
data = work / "inputs" / "data"
for d in range(100):
    (data / f"d{d:02}").mkdir(parents=True)
    for f in range(100):
        (data / f"d{d:02}" / f"f{f:03}.bin").write_bytes(os.urandom(10_000))
(work / "inputs" / "plan.toml").write_text('[[task]]\nid = "digest"\nrun = "true"\ninputs = ["data/**"]\n')
PY
"$fanout" run "$work/inputs/plan.toml" --no-progress >/dev/null 2>&1

hyperfine --warmup 1 --min-runs 10 --export-json "$work/store.json" -N \
  --command-name "store on" --prepare "rm -rf $work/a" "$fanout run $work/plan.toml -j 8 --no-progress --state-dir $work/a" \
  --command-name "store off" --prepare "rm -rf $work/b" "$fanout run $work/plan.toml -j 8 --no-progress --state-dir $work/b --no-store" >&2
hyperfine --warmup 1 --min-runs 10 --export-json "$work/hash.json" \
  --command-name "fanout cached run (hash 100 MB)" "$fanout run $work/inputs/plan.toml --no-progress" \
  --command-name "cat the same files" "find $work/inputs/data -type f -exec cat {} + > /dev/null" >&2
hashing=$("$fanout" run "$work/inputs/plan.toml" --no-progress -v 2>&1 | grep -o 'hashed .*' | head -1)

python3 - "$work" "$tasks" "$hashing" <<'PY' | python3 scripts/bench/update_section.py store
import json, os, sys
work, tasks, hashing = sys.argv[1], sys.argv[2], sys.argv[3]
store = {r["command"]: r for r in json.load(open(f"{work}/store.json"))["results"]}
hashed = {r["command"]: r for r in json.load(open(f"{work}/hash.json"))["results"]}
on, off = store["store on"]["mean"], store["store off"]["mean"]
print("## The store's cost and input hashing\n")
print(f"{tasks} tasks of `true` at -j8, with the SQLite store and with `--no-store`; mean of hyperfine runs on {os.cpu_count()} cores.")
print("Reproduce: `scripts/bench/store.sh`\n")
print("| run | time | ± |")
print("|---|---:|---:|")
for name in ["store on", "store off"]:
    r = store[name]
    print(f"| {name} | {r['mean']*1000:.0f} ms | {r['stddev']*1000:.0f} ms |")
print(f"\nStore on / store off: **{on/off:.3f}×** (target ≤ 1.05×).\n")
print("Cache key of one task whose inputs are 10,000 files of 10 kB (100 MB): a run that hashes")
print("every input, finds the earlier success and runs nothing, next to reading the files with cat.\n")
print("| command | time |")
print("|---|---:|")
for name, r in hashed.items():
    print(f"| {name} | {r['mean']*1000:.0f} ms |")
print(f"\nfanout's own account (`-v`): {hashing}.")
PY
echo "store: results written to BENCHMARKS.md" >&2
