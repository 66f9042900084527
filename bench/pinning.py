"""Which core each process of the read benchmark runs on, and the CPU time it spends.

The server under test and PostgreSQL share core 0; the load generator gets core 1, so
it never takes CPU from what it measures. On a one-core machine nothing is pinned.
CPU time comes from /proc: `utime + stime` of a process (all its threads).
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_CORE = 0
LOAD_CORE = 1
_TICKS = os.sysconf("SC_CLK_TCK")
_TASKSET = shutil.which("taskset") or "/usr/bin/taskset"  # util-linux


def can_pin() -> bool:
    """Two cores at least: one for the servers, one for the load generator."""
    return len(os.sched_getaffinity(0)) >= 2


def pin(pid: int, cores: str) -> None:
    """Every thread of `pid` onto `cores` (taskset's list form: "0", "0,1")."""
    subprocess.run(  # noqa: S603 - taskset with a pid and a core list
        [_TASKSET, "-a", "-p", "-c", cores, str(pid)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def on_load_core(command: list[str]) -> list[str]:
    """`command`, started on the load generator's core when pinning is possible."""
    return [_TASKSET, "-c", str(LOAD_CORE), *command] if can_pin() else command


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces): field 3 onwards."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far (user + system, all threads)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, now."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # it ended while we looked
    return found


@dataclass(frozen=True)
class Postmaster:
    """An embedded PostgreSQL server's main process and, through it, all its processes."""

    pid: int

    @classmethod
    def of(cls, data_dir: Path) -> "Postmaster":
        """The server running on `data_dir` (its postmaster.pid's first line)."""
        return cls(int((data_dir / "postmaster.pid").read_text().split()[0]))

    def cpu_seconds(self) -> float:
        """CPU used by the postmaster, its live children and the children it has reaped
        (short-lived parallel workers and backends end within a run)."""
        fields = _stat_fields(self.pid)
        own_and_reaped = sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICKS
        return own_and_reaped + sum(_cpu_if_alive(child) for child in children(self.pid))

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """The postmaster and its present children on the server core (new backends
        inherit it); every one of them back on its former cores afterwards."""
        former = ",".join(str(core) for core in sorted(os.sched_getaffinity(self.pid)))
        self._pin_all(str(SERVER_CORE))
        try:
            yield
        finally:
            self._pin_all(former)

    def _pin_all(self, cores: str) -> None:
        for pid in (self.pid, *children(self.pid)):
            try:
                pin(pid, cores)
            except subprocess.CalledProcessError:
                continue  # a backend that ended meanwhile


def _cpu_if_alive(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
