"""The optional load tool: wrk (Debian package `wrk`), scripted in Lua to send the same requests.

wrk cannot tell reads from writes in its latency histogram, so a mixed load reports one latency,
and it counts only statuses of 400 and above as errors.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.dataset import TAGS
from bench.load import LoadSpec

SCRIPT = """
local paths = {%(paths)s}
local authors = {%(authors)s}
local tags = {%(tags)s}
local write_share = %(write_share)s
local isbn_base = %(isbn_base)d
local read_headers = %(read_headers)s
local next_index = 0

function setup(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
end

function init(args)
  math.randomseed(index + 1)
  written = 0
end

local function isbn(number)
  local digits = "979" .. string.format("%%09d", number)
  local total = 0
  for i = 1, 12 do
    local weight = (i %% 2 == 0) and 3 or 1
    total = total + weight * tonumber(digits:sub(i, i))
  end
  return digits .. tostring((10 - total %% 10) %% 10)
end

local function some_tags()
  local picked, seen = {}, {}
  for _ = 1, math.random(0, 4) do
    local name = tags[math.random(#tags)]
    if not seen[name] then
      seen[name] = true
      table.insert(picked, '"' .. name .. '"')
    end
  end
  return table.concat(picked, ",")
end

function request()
  if math.random() < write_share then
    written = written + 1
    local number = isbn_base + index * 1000000 + written
    local body = string.format(
      '{"title":"Benchmark Book %%d","isbn":"%%s","published_year":%%d,' ..
      '"description":"Written by wrk.","author_id":"%%s","tags":[%%s]}',
      number, isbn(number), math.random(1900, 2025), authors[math.random(#authors)], some_tags())
    return wrk.format("POST", "/books",
      {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(key)s"}, body)
  end
  return wrk.format("GET", paths[math.random(#paths)], read_headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%%d,"duration_us":%%d,"status":%%d,"transport":%%d,' ..
    '"p50":%%d,"p90":%%d,"p99":%%d,"max":%%d,"mean":%%f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def lua_strings(values: list[str]) -> str:
    return ",".join(json.dumps(value) for value in values)


def write_script(spec: LoadSpec, path: Path, isbn_offset: int) -> None:
    workload = spec.workload
    path.write_text(
        SCRIPT
        % {
            "paths": lua_strings(workload.paths or ["/health/live"]),
            "authors": lua_strings(workload.authors or ["none"]),
            "tags": lua_strings(list(TAGS)),
            "write_share": repr(workload.write_share),
            "isbn_base": workload.isbn_base + isbn_offset,
            "read_headers": '{["Accept-Encoding"] = "gzip"}' if workload.gzip else "{}",
            "key": spec.key,
        }
    )


def run_wrk(spec: LoadSpec, script: Path, seconds: float) -> dict[str, Any]:
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(spec.connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "60s",
        "--script",
        str(script),
        spec.url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT "))
    data: dict[str, Any] = json.loads(line.removeprefix("WRK_RESULT "))
    return data


def drive(spec: LoadSpec, work: Path) -> dict[str, Any]:
    """Warm up, then measure one workload with wrk; the result has the asyncio client's keys."""
    script = work / f"wrk-{urlsplit(spec.url).port}.lua"  # one per server, as two may run
    if spec.warmup > 0:
        write_script(spec, script, isbn_offset=0)
        run_wrk(spec, script, spec.warmup)
    # The measured run must not reuse the warm-up's ISBNs: each wrk run counts from zero.
    write_script(spec, script, isbn_offset=50_000_000)
    data = run_wrk(spec, script, spec.duration)
    elapsed = data["duration_us"] / 1e6
    latency = {key: round(data[key] / 1000, 3) for key in ("p50", "p90", "p99", "max", "mean")}
    pure = spec.workload.write_share in (0.0, 1.0)
    writes = spec.workload.write_share >= 1.0
    return {
        "tool": "wrk",
        "requests": data["requests"],
        "elapsed_s": round(elapsed, 3),
        "rps": round(data["requests"] / elapsed, 1),
        "non_2xx": data["status"] + data["transport"],
        "transport_errors": data["transport"],
        "statuses": None,
        "latency_ms": latency,
        "read_latency_ms": latency if pure and not writes else None,
        "write_latency_ms": latency if pure and writes else None,
        "writes_per_s": round(data["requests"] * spec.workload.write_share / elapsed, 1),
        "client_cpu_share": None,
    }
