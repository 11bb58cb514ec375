"""`make bench`: every benchmark in bench/, one table. Figures are ratios against a baseline
measured in the same run, on the same machine."""

import os
import platform
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")

from bench import (  # noqa: E402
    concurrency,
    gallery,
    inflight,
    load,
    locks,
    many,
    memory,
    overhead,
    pages,
    payload,
    requests,
    scale,
    streams,
)

BENCHMARKS = [
    ("Requests (same server, floors in the same run)", requests),
    ("Pages (gallery scale, transfer, static files)", pages),
    ("Gallery of 100,000 (10 people, one with 50,000)", gallery),
    ("Overhead (Chromium, 12 and 24 MP photos, demo gateway 2 s in its own process)", overhead),
    ("Concurrency (demo gateway, 3 s per edit)", concurrency),
    ("In flight (256 edits of 12 MP, gateway 30 s, make run defaults)", inflight),
    ("Many people (64 clients: studio, gallery, detail, media, API)", many),
    ("Load (uploads and browsing)", load),
    ("SQLite write lock (4 writing processes)", locks),
    ("Payload shaping (24-megapixel JPEG, 2048 px sent)", payload),
    ("Memory (make run, 8 edits of 24-megapixel JPEGs at once)", memory),
    ("Live streams (1,000 open on one web process)", streams),
    ("Scale-out (PostgreSQL, Redis, S3, 2 web processes) vs embedded, same run", scale),
]


def main() -> None:
    chosen = sys.argv[1:]  # e.g. `bench/run.py load` runs only that one
    rows, failed = [], 0
    for title, module in BENCHMARKS:
        if chosen and module.__name__.rsplit(".", 1)[-1] not in chosen:
            continue
        print(f"running: {title} …", file=sys.stderr, flush=True)
        try:
            found = [(title, *row) for row in module.run()]
        except Exception as exc:
            # One bench that cannot finish does not take the others' figures with it.
            traceback.print_exc()
            failed += 1
            found = [(title, "did not finish", f"{type(exc).__name__}: {str(exc)[:200]}", "-")]
        for row in found:  # as each bench ends, for a run cut short
            print("| " + " | ".join(row) + " |", file=sys.stderr, flush=True)
        rows += found
    cpu = platform.processor() or platform.machine()
    print(f"\nMachine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}\n")
    print("| benchmark | measure | figure | goal |")
    print("| --- | --- | --- | --- |")
    for title, measure, figure, goal in rows:
        print(f"| {title} | {measure} | {figure} | {goal} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
