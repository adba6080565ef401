#!/usr/bin/env python3
"""Compares two scholia binaries' import cost in CPU time and peak RSS (results: BENCHMARKS.md).

    bench/import_cpu.py OLD_BIN NEW_BIN BIG_EPUB [ROUNDS]

Run from the repo root. Each round measures, with /usr/bin/time -v, `scholia --data-dir FRESH
import fixtures/epub --json` and `... import BIG_EPUB --json` with both binaries, and `unzip -p`
of the same files as a baseline. CPU time (user + sys, the importer's threads and children
included) is reported rather than wall time: on a machine shared with other work it varies far
less. Old and new alternate which goes first from one round to the next, so a slow spell does
not always land on the same binary. Every import must report every file imported. Prints the
load average around each run, then a Markdown table of medians and the new/old ratios.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def measure(argv, work, stdout_path):
    """Runs argv under /usr/bin/time -v; returns (user+sys seconds, max RSS KiB, wall seconds)."""
    time_path = os.path.join(work, "time.txt")
    with open(stdout_path, "wb") as out:
        result = subprocess.run(["/usr/bin/time", "-v", "-o", time_path, *argv], stdout=out,
                                stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.stderr.write(result.stderr.decode(errors="replace"))
        sys.exit(f"failed ({result.returncode}): {' '.join(argv)}")
    fields = {}
    for line in open(time_path):
        key, _, value = line.strip().rpartition(": ")
        fields[key] = value
    wall = 0.0
    for part in fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    cpu = float(fields["User time (seconds)"]) + float(fields["System time (seconds)"])
    return cpu, int(fields["Maximum resident set size (kbytes)"]), wall


def check_imported(stdout_path, expected):
    rows = [json.loads(line) for line in open(stdout_path) if line.strip()]
    imported = [r for r in rows if r.get("status") == "imported"]
    if len(rows) != expected or len(imported) != expected:
        sys.exit(f"not every file imported: {open(stdout_path).read()}")
    return sum(r["passages"] for r in imported)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    old_bin, new_bin, big = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) == 5 else 3
    fixtures = sorted(os.path.join("fixtures/epub", f) for f in os.listdir("fixtures/epub")
                      if f.endswith(".epub"))
    unzip_all = "for f in fixtures/epub/*.epub; do unzip -p \"$f\" >/dev/null; done"
    work = tempfile.mkdtemp(prefix="scholia-import-cpu.")
    out = os.path.join(work, "out")
    results = {}  # name -> [(cpu, rss, wall)]
    passages = {}

    def run(name, argv, expected=None):
        data = os.path.join(work, "data")
        shutil.rmtree(data, ignore_errors=True)
        argv = [a.replace("DATA", data) for a in argv]
        load_before = os.getloadavg()[0]
        cpu, rss, wall = measure(argv, work, out)
        load_after = os.getloadavg()[0]
        if expected is not None:
            passages[name] = check_imported(out, expected)
        shutil.rmtree(data, ignore_errors=True)
        results.setdefault(name, []).append((cpu, rss, wall))
        print(f"{name:16} cpu {cpu:7.2f} s  rss {rss / 1024:6.0f} MiB  wall {wall:7.2f} s  "
              f"load {load_before:.1f}->{load_after:.1f}", file=sys.stderr, flush=True)

    # Warm the page cache, outside the measurement.
    subprocess.run(["bash", "-c", unzip_all + f"; unzip -p {big} >/dev/null"], check=True)
    for r in range(rounds):
        binaries = [("old", old_bin), ("new", new_bin)]
        if r % 2:
            binaries.reverse()
        for tag, binary in binaries:
            run(f"{tag}-corpus", [binary, "--data-dir", "DATA", "import", "fixtures/epub",
                                  "--json"], len(fixtures))
        run("unzip-corpus", ["bash", "-c", unzip_all])
        for tag, binary in binaries:
            run(f"{tag}-big", [binary, "--data-dir", "DATA", "import", big, "--json"], 1)
        run("unzip-big", ["unzip", "-p", big], None)
    shutil.rmtree(work, ignore_errors=True)

    def med(name, i):
        return statistics.median(x[i] for x in results[name])

    print(f"\n| measurement (median of {rounds}) | old CPU s | new CPU s | new/old | "
          f"old RSS MiB | new RSS MiB | old wall s | new wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for what, label in (("corpus", f"import {len(fixtures)} fixtures"),
                        ("big", f"import {os.path.basename(big)}")):
        o, n = f"old-{what}", f"new-{what}"
        print(f"| {label} | {med(o, 0):.2f} | {med(n, 0):.2f} | {med(n, 0) / med(o, 0):.2f}x | "
              f"{med(o, 1) / 1024:.0f} | {med(n, 1) / 1024:.0f} | {med(o, 2):.2f} | "
              f"{med(n, 2):.2f} |")
    print(f"\n| baseline (median of {rounds}) | `unzip -p` CPU s | old / unzip | new / unzip |")
    print("|---|---:|---:|---:|")
    for what in ("corpus", "big"):
        u = med(f"unzip-{what}", 0)
        print(f"| {what} | {u:.2f} | {med(f'old-{what}', 0) / u:.1f}x | "
              f"{med(f'new-{what}', 0) / u:.1f}x |")
    print(f"\npassages: " + ", ".join(f"{k} {v}" for k, v in sorted(passages.items())))
    print("runs (cpu s): " + "; ".join(
        f"{k} " + ", ".join(f"{x[0]:.2f}" for x in v) for k, v in results.items()))


if __name__ == "__main__":
    main()
