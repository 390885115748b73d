"""`python -m bench [--smoke] [--only mapping,calls,startup,streaming,bulk] [--out PATH]`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._core import Results, machine

SUITES = ("mapping", "calls", "startup", "streaming", "bulk")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks every case runs")
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    parser.add_argument("--repeat", type=int, default=3, help="mapping runs per case (best kept)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")

    results = Results()
    started = time.perf_counter()
    smoke = args.smoke
    if "mapping" in chosen:
        from . import mapping

        print("mapping", flush=True)
        mapping.run(
            results,
            records=300 if smoke else 100_000,
            page=100,
            repeat=1 if smoke else args.repeat,
            memory=True,
        )
    if "calls" in chosen:
        from . import calls

        print("calls", flush=True)
        calls.run(results, smoke=smoke)
    if "streaming" in chosen:
        from . import streaming

        print("streaming", flush=True)
        streaming.run(results, smoke=smoke)
    if "startup" in chosen:
        from . import startup

        print("start-up", flush=True)
        startup.run(results, smoke=smoke)
    if "bulk" in chosen:
        from . import bulk

        print("bulk", flush=True)
        bulk.run(results, smoke=smoke)

    meta = {
        "machine": machine(),
        "command": "python -m bench" + (" --smoke" if smoke else ""),
        "suites": chosen,
        "seconds": round(time.perf_counter() - started, 1),
    }
    results.write(args.out, meta)
    print()
    print(results.table())
    m = meta["machine"]
    print(
        f"\n{m['nproc']} cpus, Python {m['python']}, pydantic {m['pydantic']}; "
        f"{meta['seconds']} s; written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
