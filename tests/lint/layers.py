#!/usr/bin/env python3
"""layers.py — keeps src/ in layers: every include points to its own folder or a lower one,
and no two modules of a folder include each other round a circle.

    python3 tests/lint/layers.py [SRC_DIR]     (default: src next to this script's tests/)

The layers, bottom to top (src/README.md says what each holds):

    base < crypto < pbx < s3 < archive < run < cmd

Rules, each broken one printed as "FILE:LINE: #include "X": why" (exit 1; exit 0 when clean):
  1. Every source file lives in a layer folder (src/LAYER/NAME.c|h).
  2. A header of the file's own folder is included by its bare name ("store.h"), and exists.
  3. A header of another folder is spelled "LAYER/NAME.h", exists, and LAYER is lower.
  4. No circle of modules inside a folder. A module is a header and the .c files whose first
     include it is (manifest.c and manifest_append.c are both "manifest"); NAME_internal.h
     belongs to module NAME. A circle means a call runs back up: fetch.c calling into lanes.c
     while lanes.c calls fetch.c.
  5. Every .c but main.c includes its module's header (or NAME_internal.h) first: what makes
     rule 4 see calls.
"""
import os
import re
import sys

LAYERS = ["base", "crypto", "pbx", "s3", "archive", "run", "cmd"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of_header(name):
    stem = name[:-2] if name.endswith(".h") else name
    return stem[: -len("_internal")] if stem.endswith("_internal") else stem


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "src")
    src = os.path.normpath(src)
    problems = []
    edges = {layer: {} for layer in LAYERS}  # layer -> module -> {module: (file, line)}

    def report(path, line, text):
        problems.append(f"{os.path.relpath(path, os.path.dirname(src))}:{line}: {text}")

    for entry in sorted(os.listdir(src)):
        full = os.path.join(src, entry)
        if os.path.isfile(full) and entry.endswith((".c", ".h")):
            report(full, 1, f"lies directly in src/: put it in a layer "
                   f"folder ({', '.join(LAYERS)})")
        elif os.path.isdir(full) and entry not in LAYERS:
            if any(f.endswith((".c", ".h")) for f in os.listdir(full)):
                report(full, 1, f"is not a layer ({' < '.join(LAYERS)}); add it to "
                       "tests/lint/layers.py and src/README.md, or move its files")

    for layer in LAYERS:
        folder = os.path.join(src, layer)
        if not os.path.isdir(folder):
            continue
        rank = LAYERS.index(layer)
        for name in sorted(os.listdir(folder)):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().split("\n")
            includes = [(i + 1, m.group(1)) for i, l in enumerate(lines)
                        for m in [INCLUDE.match(l)] if m]
            if name.endswith(".h"):
                module = module_of_header(name)
            elif includes and "/" not in includes[0][1]:
                module = module_of_header(includes[0][1])
            else:
                module = name[:-2]
            if name.endswith(".c") and name != "main.c" and (
                    not includes or includes[0][1] not in (module + ".h",
                                                           module + "_internal.h")):
                own = module + ".h"
                report(path, includes[0][0] if includes else 1,
                       f'the first include must be the module\'s own header "{own}"'
                       if os.path.exists(os.path.join(folder, own)) else
                       f"a module needs a header of its own ({layer}/{own}), included first")
            for line, inc in includes:
                if "/" not in inc:
                    if not os.path.exists(os.path.join(folder, inc)):
                        report(path, line, f'#include "{inc}": no {layer}/{inc}; a header '
                               "of another layer is spelled \"LAYER/NAME.h\"")
                        continue
                    target = module_of_header(inc)
                    if target != module:
                        edges[layer].setdefault(module, {}).setdefault(target, (path, line))
                    continue
                other, _, rest = inc.partition("/")
                if other not in LAYERS or "/" in rest:
                    report(path, line, f'#include "{inc}": not a header of a layer folder '
                           f"({', '.join(LAYERS)})")
                elif other == layer:
                    report(path, line, f'#include "{inc}": a header of its own folder is '
                           f'included by its bare name ("{rest}")')
                elif LAYERS.index(other) > rank:
                    report(path, line, f'#include "{inc}": {layer}/ may not use {other}/, a '
                           f"higher layer (order: {' < '.join(LAYERS)})")
                elif not os.path.exists(os.path.join(src, inc)):
                    report(path, line, f'#include "{inc}": no such header')

    for layer in LAYERS:
        graph = edges[layer]
        state = {}
        stack = []

        def visit(m):
            state[m] = "open"
            stack.append(m)
            for n in sorted(graph.get(m, {})):
                if state.get(n) == "open":
                    circle = stack[stack.index(n):] + [n]
                    path, line = graph[m][n]
                    report(path, line, f"import circle in {layer}/: " + " -> ".join(circle)
                           + " (move what both need below them, or let one side call down)")
                elif n not in state:
                    visit(n)
            stack.pop()
            state[m] = "done"

        for m in sorted(graph):
            if m not in state:
                visit(m)

    for p in problems:
        print(p)
    if problems:
        print(f"lint: {len(problems)} include(s) break the layers of src/ "
              "(tests/lint/layers.py says how)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
