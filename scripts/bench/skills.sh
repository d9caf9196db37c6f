#!/usr/bin/env bash
# `fanout skills check` on 10,000 skills: the shared collections copied repeatedly (under
# c001/, c002/, …) into a temporary folder until there are SKILLS skill folders. Measures
# fanout cold (empty cache) and cached, wall time and peak memory, and side by side in the
# same run, on the same folders: skills-ref (pip, in a throwaway virtualenv; its library
# called in one Python process, the most favourable way to run it, and its CLI, which
# takes one skill per call, over every folder with xargs -P NPROC; SAMPLE=N times the CLI
# on N folders and scales, for a quicker run) and skref (cargo install
# into a temporary root; its CLI checks one skill per call, run with xargs -P NPROC).
# Writes the results to BENCHMARKS.md (section "skills").
#
#   scripts/bench/skills.sh                 # 10,000 skills
#   SKILLS=2000 scripts/bench/skills.sh     # smaller
#   SAMPLE=100 scripts/bench/skills.sh      # skills-ref's CLI on 100 folders, scaled
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
need_debian time:time
corpus="${CORPUS:-../shared/corpus/skills}"
[ -d "$corpus" ] || { echo "no collections at $corpus" >&2; exit 2; }
skills=${SKILLS:-10000}
runs=${RUNS:-5}
sample=${SAMPLE:-}
fanout=$(build_fanout)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The skill folders, each copied with only its own files (nested skills are copied as
# skills of their own), until there are $skills of them.
python3 - "$corpus" "$work/skills" "$skills" > "$work/folders" <<'PY'
import os, re, shutil, sys
corpus, out, wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])
folders = []
for dp, dn, fn in os.walk(corpus, followlinks=True):
    dn.sort()
    if "SKILL.md" in fn or "skill.md" in fn:
        folders.append(dp)
folders.sort()
skill_set = set(folders)
made, copy = 0, 0
while made < wanted:
    copy += 1
    for src in folders:
        if made == wanted:
            break
        rel = os.path.relpath(src, corpus)
        # Copies after the first get a suffix on the folder and on the `name:` line, so
        # the library holds distinct skills (as a real one does) rather than one name
        # seventeen times over.
        suffix = "" if copy == 1 else f"-c{copy:03}"
        leaf = os.path.basename(rel) if rel != "." else ""
        dst = os.path.join(out, f"c{copy:03}", os.path.dirname(rel), leaf + suffix)
        for dp, dn, fn in os.walk(src, followlinks=True):
            dn[:] = [d for d in dn if os.path.join(dp, d) not in skill_set]
            target = os.path.join(dst, os.path.relpath(dp, src))
            os.makedirs(target, exist_ok=True)
            for f in fn:
                source, dest = os.path.join(dp, f), os.path.join(target, f)
                if suffix and dp == src and f in ("SKILL.md", "skill.md"):
                    data = open(source, "rb").read()
                    data = re.sub(rb"(?m)^(name:[ \t]*['\"]?)([^'\"\r\n]*?)(['\"]?[ \t]*\r?)$",
                                  lambda m: m.group(1) + m.group(2) + suffix.encode() + m.group(3),
                                  data, count=1)
                    open(dest, "wb").write(data)
                else:
                    shutil.copyfile(source, dest)
        print(dst)
        made += 1
PY
echo "$(wc -l < "$work/folders") skill folders in $work/skills" >&2

# Tools to compare with.
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check skills-ref
cargo install --quiet --root "$work/skref" skref
skref_version=$("$work/skref/bin/skref" --version)
skills_ref_version=$("$work/venv/bin/python" -c 'from importlib.metadata import version; print(version("skills-ref"))')
cat > "$work/skills_ref_all.py" <<'PY'
import sys
from pathlib import Path
from skills_ref.validator import validate
failed = 0
for line in open(sys.argv[1]):
    try:
        failed += bool(validate(Path(line.rstrip("\n"))))
    except Exception:
        failed += 1
print(failed, "failed", file=sys.stderr)
PY

# measure NAME RUNS PREPARE COMMAND: prints "NAME<TAB>median wall s<TAB>max peak RSS KiB".
measure() {
  local name=$1 n=$2 prepare=$3 command=$4 walls=() rss=0 i
  for ((i = 0; i < n; i++)); do
    bash -c "$prepare"
    /usr/bin/time -f '%e %M' -o "$work/time" bash -c "$command" > /dev/null 2>&1 || true
    read -r wall kib < <(tail -n 1 "$work/time")
    walls+=("$wall")
    ((kib > rss)) && rss=$kib
  done
  printf '%s\t%s\t%s\n' "$name" "$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$rss"
}

nproc=$(nproc)
state="$work/state"
{
  measure "fanout cold" "$runs" "rm -rf $state" "$fanout skills check -q --state-dir $state $work/skills"
  measure "fanout cached" "$runs" "test -f $state/skills-cache.json || $fanout skills check -q --state-dir $state $work/skills" \
    "$fanout skills check -q --state-dir $state $work/skills"
  measure "fanout --no-cache" "$runs" "true" "$fanout skills check -q --no-cache $work/skills"
  measure "skref (xargs -P $nproc)" "${SLOW_RUNS:-1}" "true" "xargs -P $nproc -n 1 -a $work/folders $work/skref/bin/skref validate"
  measure "skills-ref (one process)" "${SLOW_RUNS:-1}" "true" "$work/venv/bin/python $work/skills_ref_all.py $work/folders"
  # Its CLI (`agentskills validate`), which takes one skill per call: over every folder,
  # or timed on a sample and scaled.
  if [ -z "$sample" ]; then
    measure "skills-ref CLI (xargs -P $nproc)" 1 "true" \
      "xargs -P $nproc -n 1 -a $work/folders $work/venv/bin/agentskills validate"
  else
    head -n "$sample" "$work/folders" > "$work/sample"
    measure "skills-ref CLI (xargs -P $nproc, scaled from $sample)" 1 "true" \
      "xargs -P $nproc -n 1 -a $work/sample $work/venv/bin/agentskills validate" |
      awk -F'\t' -v f="$(($(wc -l < "$work/folders") / sample))" 'BEGIN {OFS = FS} {$2 = $2 * f; print}'
  fi
} > "$work/results.tsv"
cat "$work/results.tsv" >&2

python3 - "$work/results.tsv" "$(wc -l < "$work/folders")" "$skref_version" "$skills_ref_version" "$nproc" <<'PY' | python3 scripts/bench/update_section.py skills
import os, platform, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
n, skref, skills_ref, cpus = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
wall = {r[0]: float(r[1]) for r in rows}
cold = wall["fanout cold"]
print(f"## Skills: `fanout skills check` on {int(n):,} skills\n")
load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
print(f"The shared collections copied repeatedly until there are {int(n):,} skill folders; "
      f"{platform.machine()}, {cpus} CPUs, load average {load} at the end of the run. Median wall time of the fanout runs, one run of the "
      f"others; peak memory is the largest resident set. {skref}; skills-ref {skills_ref} "
      "(its CLI, which validates one skill per call, run on every folder unless the row says it "
      "was scaled from a sample; and its library called in one Python process, which its CLI "
      "does not offer but is the most favourable way to run it). "
      "Reproduce with `scripts/bench/skills.sh`.\n")
print("| tool | wall | peak memory | fanout cold is faster by |")
print("|---|---:|---:|---:|")
for name, w, kib in rows:
    ratio = "" if name.startswith("fanout") else f"{float(w) / cold:.0f}×"
    print(f"| {name} | {float(w):.2f} s | {int(kib) / 1024:.0f} MiB | {ratio} |")
def verdict(ok):
    return "met" if ok else "missed"
cli = next(w for k, w in wall.items() if k.startswith("skills-ref CLI"))
one = wall["skills-ref (one process)"]
skref_wall = next(w for k, w in wall.items() if k.startswith("skref"))
print(f"\nTargets: cold ≤ 1 s ({verdict(cold <= 1)}), cached ≤ 0.2 s "
      f"({verdict(wall['fanout cached'] <= 0.2)}), ≥ 2× skref ({verdict(skref_wall / cold >= 2)}), "
      f"≥ 50× skills-ref: {cli / cold:.0f}× its CLI ({verdict(cli / cold >= 50)}), "
      f"{one / cold:.0f}× its library in one process ({verdict(one / cold >= 50)}).")
PY
echo "BENCHMARKS.md updated" >&2
