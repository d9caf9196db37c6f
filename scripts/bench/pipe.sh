#!/usr/bin/env bash
# `fanout map --pipe` against GNU parallel's `--pipe`: about 100 MB of lines on stdin, cut
# into 1 MB blocks (the default of both) and into 10 MB blocks, each block counted by
# `wc -l`, at -j2; and `--pipe-part` on the same file (parts read straight from it, GNU
# parallel's default of 10 parts per job slot); side by side in one hyperfine run. Writes
# the results and ratios to BENCHMARKS.md (section "pipe").
#
#   scripts/bench/pipe.sh                 # 12 million lines (about 100 MB)
#   LINES=1000000 scripts/bench/pipe.sh   # fewer
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
need_debian hyperfine:hyperfine parallel:parallel
fanout=$(build_fanout)
lines=${LINES:-12000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/.parallel" && touch "$work/home/.parallel/will-cite"
seq 1 "$lines" > "$work/input"

commands=()
for block in 1M 10M; do
  commands+=(
    --command-name "fanout $block" "$fanout map -j2 --pipe --block $block wc -l < $work/input > /dev/null"
    --command-name "parallel $block" "env HOME=$work/home parallel -j2 --pipe --block $block wc -l < $work/input > /dev/null"
  )
done
commands+=(
  --command-name "fanout part" "$fanout map -j2 --pipe-part -a $work/input wc -l > /dev/null"
  --command-name "parallel part" "env HOME=$work/home parallel -j2 --pipe-part -a $work/input wc -l > /dev/null"
  --command-name "wc" "wc -l < $work/input > /dev/null"
)
hyperfine --warmup 1 --min-runs "${RUNS:-10}" --export-json "$work/pipe.json" "${commands[@]}" >&2

python3 - "$work/input" "$work/pipe.json" <<'PY' | python3 scripts/bench/update_section.py pipe
import json, os, sys
size = os.path.getsize(sys.argv[1])
results = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
data = {k: r["median"] for k, r in results.items()}
print("## fanout map --pipe\n")
print(f"{size / 1e6:.0f} MB of numbered lines on stdin, cut into blocks, each block counted by `wc -l`, -j2;"
      f" median of {os.environ.get('RUNS', '10')} or more hyperfine runs on {os.cpu_count()} cores.")
print("Reproduce: `scripts/bench/pipe.sh`\n")
print("| block | fanout map --pipe | GNU parallel --pipe | fanout / parallel | MB/s through fanout |")
print("|---:|---:|---:|---:|---:|")
for block in ("1M", "10M"):
    f, p = data[f"fanout {block}"], data[f"parallel {block}"]
    print(f"| {block} | {f*1000:.0f} ms | {p*1000:.0f} ms | {f/p:.2f}× | {size / 1e6 / f:.0f} |")
f, p = data["fanout part"], data["parallel part"]
print(f"| --pipe-part | {f*1000:.0f} ms | {p*1000:.0f} ms | {f/p:.2f}× | {size / 1e6 / f:.0f} |")
print(f"\nOne `wc -l` over the whole input alone takes {data['wc']*1000:.0f} ms.")
print("fanout writes each block to a file under the temp directory and gives the job that file as"
      " its stdin; GNU parallel writes each block into the job's stdin pipe. With --pipe-part"
      " (same file, read from disk, 10 parts per job slot) both give each job its part through"
      " a pipe, fanout from its own process and GNU parallel through a perl process per job.")
PY
echo "pipe: results written to BENCHMARKS.md" >&2
