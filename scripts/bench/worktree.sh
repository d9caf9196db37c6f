#!/usr/bin/env bash
# Per-task cost of worktree isolation (create worktree, commit, merge-tree check, merge,
# remove) on a generated repository of 10,000 files: fanout running TASKS isolated tasks
# one at a time, against the same git commands typed by hand in a shell script, side by
# side in one hyperfine run. Writes the result to BENCHMARKS.md (section "worktree").
#
#   scripts/bench/worktree.sh                  # 10,000 files, 10 tasks
#   FILES=2000 TASKS=5 RUNS=3 scripts/bench/worktree.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/bench/lib.sh
need_debian hyperfine:hyperfine git:git
fanout=$(build_fanout)
files=${FILES:-10000}
tasks=${TASKS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo="$work/repo"

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
git init -q -b main "$repo"
git -C "$repo" config user.name bench
git -C "$repo" config user.email bench@example.com
python3 - "$repo" "$files" "$tasks" <<'PY'
import pathlib, sys
repo, n, tasks = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    d = repo / f"src/d{i // 100}"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"f{i}.txt").write_text(f"file {i}\n" * 4)
(repo / ".gitignore").write_text(".fanout/\n")
(repo / "plan.toml").write_text('[settings]\nisolate = "worktree"\njobs = 1\n' + "".join(
    f'[[task]]\nid = "t{i}"\nrun = "echo {i} > out{i}.txt"\n' for i in range(tasks)))
PY
git -C "$repo" add -A
git -C "$repo" commit -qm base
base=$(git -C "$repo" rev-parse HEAD)

# The same work by hand: for each task, a worktree from main's tip, the change, a commit,
# the in-memory merge, the merge commit, main's checkout fast-forwarded, cleanup.
cat > "$work/by-hand.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
cd "$repo"
for i in \$(seq 0 $((tasks - 1))); do
  wt=.fanout/worktrees/hand/t\$i
  git worktree add -q -b fanout/hand/t\$i "\$wt" "\$(git rev-parse refs/heads/main)"
  (cd "\$wt" && echo \$i > out\$i.txt && git add --all && git commit -q --no-verify -m t\$i)
  tip=\$(git -C "\$wt" rev-parse HEAD)
  target=\$(git rev-parse refs/heads/main)
  tree=\$(git merge-tree --write-tree --name-only --no-messages "\$target" "\$tip" | head -n1)
  commit=\$(git commit-tree "\$tree" -p "\$target" -p "\$tip" -m "Merge t\$i")
  git merge --ff-only -q --no-stat "\$commit"
  git worktree remove --force --force "\$wt"
  git branch -D -q fanout/hand/t\$i
done
SH
chmod +x "$work/by-hand.sh"

reset="git -C $repo reset -q --hard $base && rm -rf $repo/.fanout && git -C $repo worktree prune"
hyperfine --warmup 1 --runs "${RUNS:-5}" --export-json "$work/result.json" \
  --prepare "$reset" --command-name fanout \
  "$fanout run $repo/plan.toml --no-progress --no-store" \
  --prepare "$reset" --command-name by-hand \
  "$work/by-hand.sh" >&2

python3 - "$work/result.json" "$files" "$tasks" <<'PY' | python3 scripts/bench/update_section.py worktree
import json, os, sys
path, files, tasks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = {r["command"]: r["mean"] for r in json.load(open(path))["results"]}
f, h = data["fanout"], data["by-hand"]
print("## Worktree isolation\n")
print(f"{tasks} isolated tasks run one at a time on a repository of {files:,} files; each")
print("task: create a worktree and branch, change a file, commit, `git merge-tree` check,")
print("merge commit, fast-forward of the checkout, remove worktree and branch.")
print(f"Mean of hyperfine runs on {os.cpu_count()} cores. Reproduce: `scripts/bench/worktree.sh`\n")
print("| | fanout | same git commands by hand | fanout / by hand |")
print("|---|---:|---:|---:|")
print(f"| whole run | {f*1000:.0f} ms | {h*1000:.0f} ms | {f/h:.2f}× |")
print(f"| per task | {f/tasks*1000:.0f} ms | {h/tasks*1000:.0f} ms | |")
print("\nTarget: ≤ 1.2× the hand-written sequence.")
PY
echo "worktree: results written to BENCHMARKS.md" >&2
