"""Drive `wrk` (Debian package, installed by scripts/setup.sh) and read its results as JSON via a Lua
`done` hook. Paced runs use wrk's per-connection `delay()`, calibrated until the achieved rate is within 10%
of the target: wrk has no open-loop mode, so this is a closed loop with think time, stated as such."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

LUA = """
local n, prefix, pause = 1, "/", 0
init = function(args)
  n = tonumber(args[1]); prefix = args[2]; pause = tonumber(args[3])
  counter = math.random(n)
end
request = function()
  counter = counter % n + 1
  return wrk.format("GET", prefix .. (n > 1 and counter or ""))
end
delay = function() return pause end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, '
    .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
"""


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk not found; run `make setup` (scripts/setup.sh installs it)")
    return found


def run(
    base_url: str, path_prefix: str, distinct: int, seconds: float, connections: int, delay_ms: int = 0
) -> dict[str, Any]:
    """One wrk run over `path_prefix + 1..distinct` (or just `path_prefix` when distinct == 1)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    try:
        out = subprocess.run(
            [
                wrk_binary(),
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                base_url,
                "--",
                str(distinct),
                path_prefix,
                str(delay_ms),
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        Path(script.name).unlink()
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRKJSON "))
    result: dict[str, Any] = json.loads(line[len("WRKJSON ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def paced(
    base_url: str, path_prefix: str, distinct: int, seconds: float, target_rps: float, connections: int = 8
) -> dict[str, Any]:
    """Approximately `target_rps`, by giving each connection a think time, recalibrated from the achieved rate
    (at most five tries; the last run is reported with its achieved rate either way)."""
    delay = max(1, round(connections * 1000 / target_rps))
    result: dict[str, Any] = {}
    for _ in range(5):
        result = run(base_url, path_prefix, distinct, seconds, connections, delay)
        achieved = result["rps"]
        if abs(achieved - target_rps) <= 0.1 * target_rps:
            break
        latency_ms = max(0.0, connections * 1000 / achieved - delay)  # per request, as observed
        delay = max(1, round(connections * 1000 / target_rps - latency_ms))
    result["target_rps"] = target_rps
    result["delay_ms"] = delay
    return result
