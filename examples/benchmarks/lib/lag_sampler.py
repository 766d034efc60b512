"""Replay-lag samples of a standby, taken the same way for Understudy and PostgreSQL.

  lag_sampler.py understudy URL SECONDS [INTERVAL]  polls the standby's GET /status every INTERVAL
      seconds (default 0.1) for SECONDS and prints one lag (seconds) per line: 0 when everything it
      flushed is applied, else the age of the last applied commit.
  lag_sampler.py summary  reads such lines (or psql's output of the PostgreSQL query) and prints
      "p50_ms p99_ms samples nonzero_share".
"""
import json, sys, time, urllib.request
from datetime import datetime


def understudy(url, seconds, interval):
    end = time.time() + seconds
    while time.time() < end:
        started = time.time()
        try:
            status = json.load(urllib.request.urlopen(url + "/status", timeout=2))
        except OSError:
            continue
        # The node's own clock when it read its applied position: like PostgreSQL's clock_timestamp()
        # in the benchmark's query, the sample leaves out the request's round trip.
        sampled = datetime.fromisoformat(status["time"].replace("Z", "+00:00")).timestamp()
        applied = status["repository"]["applied"]
        flushed = status["replication"]["flushed"]["seqno"]
        caught_up = applied["seqno"] >= flushed or applied.get("time") is None
        committed = datetime.fromisoformat(applied["time"].replace("Z", "+00:00")).timestamp() if applied.get("time") else sampled
        print(0.0 if caught_up else max(0.0, sampled - committed), flush=True)
        time.sleep(max(0.0, interval - (time.time() - started)))


def number(line):
    try:
        return float(line)
    except ValueError:
        return None  # blank lines and titles between psql's \watch results


def summary():
    lags = sorted(value for value in map(number, sys.stdin) if value is not None)
    if not lags:
        print("- - 0 -")
        return
    pick = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
    nonzero = sum(1 for lag in lags if lag > 0) / len(lags)
    print(f"{pick(0.50) * 1000:.1f} {pick(0.99) * 1000:.1f} {len(lags)} {nonzero:.2f}")


if sys.argv[1] == "understudy":
    understudy(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.1)
else:
    summary()
