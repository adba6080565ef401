#!/usr/bin/env python3
"""Times shell commands, interleaved, and prints each one's median, min and max wall time.

    timeit.py RUNS NAME 'COMMAND' 'PREPARE' 'CLEANUP' [NAME 'COMMAND' 'PREPARE' 'CLEANUP' ...]

Each round runs every command once, in the order given, so that on a noisy machine a slow
spell slows the import and its decompression baseline alike. PREPARE runs before and CLEANUP
after each run, outside the timing (either may be ''); all three get the round's number as
$RUN. Prints one line per command: `NAME median min max` (seconds). A failing command stops
the measurement, with its standard error shown.
"""

import os
import statistics
import subprocess
import sys
import time


def sh(command, run):
    if not command:
        return
    env = dict(os.environ, RUN=str(run))
    result = subprocess.run(["bash", "-c", command], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    if result.returncode != 0:
        sys.stderr.write(result.stderr.decode(errors="replace"))
        sys.exit(f"command failed ({result.returncode}): {command}")


def main():
    runs = int(sys.argv[1])
    args = sys.argv[2:]
    if not args or len(args) % 4:
        sys.exit(__doc__)
    benches = [args[i:i + 4] for i in range(0, len(args), 4)]
    times = {name: [] for name, *_ in benches}
    for run in range(runs):
        for name, command, prepare, cleanup in benches:
            sh(prepare, run)
            start = time.perf_counter()
            sh(command, run)
            times[name].append(time.perf_counter() - start)
            sh(cleanup, run)
    for name, *_ in benches:
        t = times[name]
        print(f"{name} {statistics.median(t):.4f} {min(t):.4f} {max(t):.4f}")


if __name__ == "__main__":
    main()
