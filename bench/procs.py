"""What the benches read of this machine's processes and CPUs in /proc: CPU seconds per part of the stack,
memory peaks, and what the host gave this VM (busy and stolen time), so that a slow run can be told from a
slow change."""
from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[str, int, float]]:
    """Every process's (name, parent, CPU seconds so far: user + system, its own and its ended children's)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
        except OSError:  # ended meanwhile
            continue
        fields = tail.split()
        found[int(entry.name)] = (head.split("(", 1)[1], int(fields[1]), sum(map(int, fields[11:15])) / TICK)
    return found


def cpu_by_part(services: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far: each named service process with its descendants, PostgreSQL's processes,
    RabbitMQ's, this bench's."""
    stats = _stats()
    trees = {}
    for name, root in services.items():
        tree, grew = {root}, True
        while grew:
            more = {p for p, (_, parent, _) in stats.items() if parent in tree} - tree
            tree |= more
            grew = bool(more)
        trees[name] = tree
    parts = dict.fromkeys(services, 0.0) | {"postgres": 0.0, "rabbitmq": 0.0, "bench": time.process_time()}
    # A process's own CPU and its ended children's (PostgreSQL's backends end with their connections).
    for pid, (name, _, cpu) in stats.items():
        part = next((s for s, tree in trees.items() if pid in tree), None) or (
            "postgres" if name.startswith("postgres")
            else "rabbitmq" if name in ("beam.smp", "erl_child_setup", "epmd") else None)
        if part:
            parts[part] += cpu
    return parts


def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before[k] for k, v in after.items()}


class HostTime:
    """The machine's CPU time between start and stop (/proc/stat): the share of its CPUs busy, and the share
    the hypervisor took for others (steal: a VM on a busy host runs the same work slower)."""

    def __init__(self) -> None:
        self.busy = self.steal = 0.0
        self._start: list[int] = []

    @staticmethod
    def _read() -> list[int]:
        with open("/proc/stat") as f:
            return [int(v) for v in f.readline().split()[1:9]]

    def start(self) -> HostTime:
        self._start = self._read()
        return self

    def stop(self) -> HostTime:
        d = [b - a for a, b in zip(self._start, self._read())]
        total = sum(d) or 1
        idle = d[3] + d[4]  # idle, iowait
        self.steal, self.busy = d[7] / total, (total - idle - d[7]) / total
        return self

    def __str__(self) -> str:
        return f"CPUs {self.busy:.0%} busy, {self.steal:.0%} stolen"


def host_speed(rounds: int = 5) -> float:
    """Milliseconds a fixed piece of pure Python takes on one core, the best of a few rounds: the same figure
    on the same machine on another day says whether the host gives it the same CPU."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i % 7
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def status_kib(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in KiB (VmRSS, VmHWM, ...)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def peak_memory(pid: int) -> dict[int, int]:
    """The peak resident memory (MiB) of a process and of each of its children."""
    children = [int(c) for t in os.listdir(f"/proc/{pid}/task")
                for c in Path(f"/proc/{pid}/task/{t}/children").read_text().split()]
    return {p: status_kib(p, "VmHWM") // 1024 for p in (pid, *children)}
