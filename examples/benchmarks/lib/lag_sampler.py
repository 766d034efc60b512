"""Replay-lag samples of a standby, taken the same way for Understudy and PostgreSQL.

  lag_sampler.py understudy URL SECONDS [INTERVAL]  polls the standby's GET /status every INTERVAL
      seconds (default 0.1) for SECONDS and prints one lag (seconds) per line: 0 when everything it
      synced is applied, else the age of the last applied commit (`replication.applyBacklog`).
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
        # The standby's synced and applied positions, read at one moment, the synced one first, and
        # the node's clock then: as the benchmark's PostgreSQL query compares pg_last_wal_receive_lsn()
        # with pg_last_wal_replay_lsn() and takes clock_timestamp(). The sample leaves out the
        # request's round trip.
        backlog = status["replication"]["applyBacklog"]
        if backlog["records"] == 0 or backlog.get("appliedTime") is None:
            print(0.0, flush=True)
        else:
            print(max(0.0, seconds_of(backlog["readAt"]) - seconds_of(backlog["appliedTime"])), flush=True)
        time.sleep(max(0.0, interval - (time.time() - started)))


def seconds_of(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


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
