"""What the benches read of running processes in /proc: a process tree, each process's role in
Gaitu, its memory fields and the CPU time it has used."""

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def tree(root: int) -> list[int]:
    """root and every live process below it."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def kib_fields(path: Path) -> dict[str, int]:
    """The numeric fields of /proc/PID/status or smaps_rollup: "Name: N kB" in KiB, and
    counts such as "Threads: N" as they are."""
    fields = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        words = value.split()
        if words and words[0].isdigit():
            fields[key] = int(words[0])
    return fields


def role(pid: int) -> str:
    words = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    if "uvicorn" in words or any("spawn_main" in word for word in words):
        return "uvicorn (web)"  # uvicorn's parent, or one of the web processes it spawns
    if "run_worker" in words:
        return "huey worker"
    if "webapp.supervisor" in words:
        return "serve parent"
    if "demo_gateway" in words:
        return "gateway"
    return Path(f"/proc/{pid}/comm").read_text().strip()


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a live process has used, all its threads together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)


def cpu_by_role() -> dict[str, float]:
    """CPU seconds used so far by this process (the bench) and those below it, by role."""
    used: dict[str, float] = {}
    for pid in tree(os.getpid()):
        try:
            name = "bench" if pid == os.getpid() else role(pid)
            seconds = cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        used[name] = used.get(name, 0.0) + seconds
    return used
