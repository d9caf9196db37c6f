#!/usr/bin/env bash
# Peak memory of `fanout map` over a long stream of jobs, against GNU parallel and
# xargs -P: the same stdin of SMALL and then LARGE lines, one `true` job each, -j8. A
# tool whose memory stays flat can run an endless stream (`tail -f log | fanout map …`).
# Writes the results to BENCHMARKS.md (section "map-memory").
#
#   scripts/bench/map_memory.sh                     # 5,000 and 40,000 jobs
#   SMALL=1000 LARGE=10000 scripts/bench/map_memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
need_debian parallel:parallel
[ -x /usr/bin/time ] || need_debian /usr/bin/time:time
fanout=$(build_fanout)
small=${SMALL:-5000}
large=${LARGE:-40000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home/.parallel" && touch "$work/home/.parallel/will-cite"

# Peak resident memory (KiB) of COMMAND... reading N lines on stdin.
peak() {
  local n=$1
  shift
  seq 1 "$n" | /usr/bin/time -f %M -o "$work/peak" "$@" >/dev/null 2>&1
  cat "$work/peak"
}

results=()
for tool in fanout parallel xargs; do
  case $tool in
    fanout) cmd=("$fanout" map -j8 true) ;;
    parallel) cmd=(env HOME="$work/home" parallel -j8 true) ;;
    xargs) cmd=(xargs -P 8 -n 1 true) ;;
  esac
  for n in "$small" "$large"; do
    echo "map-memory: $tool, $n jobs" >&2
    results+=("$tool $n $(peak "$n" "${cmd[@]}")")
  done
done

printf '%s\n' "${results[@]}" > "$work/peaks"
python3 - "$small" "$large" "$work/peaks" <<'PY' | python3 scripts/bench/update_section.py map-memory
import sys
small, large = int(sys.argv[1]), int(sys.argv[2])
peak = {}
for line in open(sys.argv[3]):
    tool, n, kib = line.split()
    peak[(tool, int(n))] = int(kib)
print("## fanout map: memory over a long stream\n")
print(f"Peak resident memory of `seq N | TOOL -j8 true`, for {small:,} and {large:,} jobs.")
print("Reproduce: `scripts/bench/map_memory.sh`\n")
print(f"| tool | {small:,} jobs | {large:,} jobs | more per 1,000 jobs |")
print("|---|---:|---:|---:|")
names = {"fanout": "fanout map", "parallel": "GNU parallel", "xargs": "xargs -P"}
for tool in ("fanout", "parallel", "xargs"):
    a, b = peak[(tool, small)], peak[(tool, large)]
    per = (b - a) / ((large - small) / 1000)
    print(f"| {names[tool]} | {a / 1024:.1f} MiB | {b / 1024:.1f} MiB | {per:+.0f} KiB |")
print("\nfanout map reads about a thousand jobs ahead of those running, and lets go of what it"
      " knows of each job (its output, job log line, results, summary record) once that is"
      " written, so its memory does not grow with the number of jobs.")
PY
echo "map-memory: results written to BENCHMARKS.md" >&2
