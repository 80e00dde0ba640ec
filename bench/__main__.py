"""`make bench`: every benchmark in turn (each also runs alone: python -m bench.ack, .picker, .budget,
.throughput, .resources, .new_credits, .inbox, .volume). Prints the machine first; docs/benchmarks.md records a
run's output."""
from __future__ import annotations

import sys
import time

from bench import ack, budget, inbox, new_credits, picker, resources, throughput, volume
from bench.rig import machine

BENCHMARKS = {"ack": ack.run, "picker": picker.run, "budget": budget.run, "throughput": throughput.run,
              "resources": resources.run, "new_credits": new_credits.run, "inbox": inbox.run, "volume": volume.run}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    print(machine())
    for name in chosen:
        started = time.monotonic()
        BENCHMARKS[name]()
        print(f"   ({name}: {time.monotonic() - started:.0f} s)\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
