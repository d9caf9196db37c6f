#!/usr/bin/env python3
"""Replaces the section between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in
BENCHMARKS.md with standard input (appending the section when it is missing)."""
import pathlib
import sys

name = sys.argv[1]
path = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "BENCHMARKS.md")
body = sys.stdin.read().rstrip() + "\n"
start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
text = path.read_text() if path.exists() else "# Benchmarks\n"
block = f"{start}\n{body}{end}"
if start in text and end in text:
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    text = head + block + tail
else:
    text = text.rstrip() + "\n\n" + block + "\n"
path.write_text(text)
