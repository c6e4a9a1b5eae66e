"""Drive `wrk` (Debian package `wrk`) with a Lua script and read its numbers back.

Every script gets a common Lua tail: each thread counts responses per status and, through the
scenario's ``check(status, headers, body)``, the responses that were not the expected one; a
``done()`` hook prints one ``WRK_JSON {...}`` line that ``run_wrk`` parses. wrk itself only
counts statuses above 399 as errors, so a 303 where a 200 was due would otherwise pass.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _measure import _children

WRK_MISSING = "wrk not found: install it (Debian: apt-get install -y wrk); this benchmark needs it"

LUA_TAIL = r"""
local threads, counter = {}, 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

statuses, bad, exhausted = {}, 0, 0

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if not check(status, headers, body) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local st, nbad, nexh, parts = {}, 0, 0, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do st[k] = (st[k] or 0) + v end
    nbad = nbad + t:get("bad")
    nexh = nexh + t:get("exhausted")
  end
  for k, v in pairs(st) do table.insert(parts, string.format('"%d":%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"socket_errors":%d,"bad":%d,"exhausted":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, nbad, nexh,
    table.concat(parts, ",")))
end
"""


def lua_str(value: str) -> str:
    """A Lua string literal (JSON's escapes are valid Lua for ASCII text)."""
    return json.dumps(value)


def machine_line() -> str:
    """The machine and how busy it was before the run (other processes share its CPUs)."""
    load1, load5, load15 = os.getloadavg()
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average before: {load1:.2f} {load5:.2f} {load15:.2f}"
    )


def require_wrk() -> str:
    exe = shutil.which("wrk")
    if exe is None:
        raise SystemExit(WRK_MISSING)
    return exe


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += _children(pid)
    return pids


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU time of a process and its live descendants."""
    ticks = 0
    for pid in _tree(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    """User + system CPU time of this process's finished children (wrk, once it exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors + responses the scenario's check() refused
    exhausted: int  # requests sent after the scenario ran out of inputs
    statuses: dict[str, int] = field(default_factory=dict)
    server_cpu_cores: float = 0.0  # server CPU seconds per wall second during the run
    client_cpu_cores: float = 0.0  # wrk's CPU seconds per wall second

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    url: str,
    lua: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    server_pid: int,
) -> WrkResult:
    """Run wrk against ``url`` with ``lua`` (which must define ``check``) plus the common tail."""
    exe = require_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(lua + "\n" + LUA_TAIL)
        script = fh.name
    cmd = [exe, "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
    cmd += ["--timeout", "10s", "-s", script, url]
    try:
        cpu0, t0 = tree_cpu_seconds(server_pid), time.perf_counter()
        wrk0 = _children_cpu()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        cpu = tree_cpu_seconds(server_pid) - cpu0
        wrk_cpu = _children_cpu() - wrk0
        wall = time.perf_counter() - t0
    finally:
        Path(script).unlink()
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=data["socket_errors"] + data["bad"],
        exhausted=data["exhausted"],
        statuses=data["statuses"],
        server_cpu_cores=cpu / wall if wall else 0.0,
        client_cpu_cores=wrk_cpu / wall if wall else 0.0,
    )
