#!/usr/bin/env bash
# Records what the reference validator of the Agent Skills specification (skills-ref, from
# PyPI) says of every skill folder in the shared collections: one line per folder, its path
# relative to the collections' root, a tab, `pass` or `fail`, a tab, the first message.
#
# Usage: scripts/skills-ref-verdicts.sh [COLLECTIONS_DIR] [OUT_FILE]
# Defaults: ../shared/corpus/skills and tests/fixtures/skills-ref-verdicts.tsv.
# skills-ref is installed into a throwaway virtualenv that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

root="${1:-../shared/corpus/skills}"
out="${2:-tests/fixtures/skills-ref-verdicts.tsv}"
version="${SKILLS_REF_VERSION:-}"
[ -d "$root" ] || { echo "no collections at $root" >&2; exit 2; }

venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "skills-ref${version:+==$version}"

"$venv/bin/python" - "$root" "$out" <<'PY'
import os, sys
from importlib.metadata import version
from pathlib import Path
from skills_ref.validator import validate

root, out = Path(sys.argv[1]), Path(sys.argv[2])
folders, seen = [], set()
for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
    real = os.path.realpath(dirpath)
    if real in seen:
        dirnames[:] = []
        continue
    seen.add(real)
    dirnames.sort()
    if "SKILL.md" in filenames or "skill.md" in filenames:
        folders.append(Path(dirpath))

lines = []
for folder in sorted(folders, key=lambda p: p.relative_to(root).as_posix()):
    try:
        errors = validate(folder)
    except Exception as e:  # the validator itself crashed (undecodable bytes, say)
        errors = [f"{type(e).__name__}: {e}"]
    verdict = "fail" if errors else "pass"
    first = errors[0].replace("\t", " ").replace("\n", " ")[:200] if errors else ""
    lines.append(f"{folder.relative_to(root).as_posix()}\t{verdict}\t{first}")

header = f"# skills-ref {version('skills-ref')} verdicts: path\tverdict\tfirst message\n"
out.write_text(header + "\n".join(lines) + "\n")
passed = sum(1 for l in lines if "\tpass\t" in l)
print(f"{len(lines)} skill folders, {passed} pass, {len(lines) - passed} fail -> {out}")
PY
