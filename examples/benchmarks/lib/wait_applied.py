"""Waits until a standby has applied a target, polling from one process for the whole wait.

  wait_applied.py understudy URL SEQNO [TIMEOUT]  polls GET URL/status until repository.applied.seqno
      reaches SEQNO.
  wait_applied.py postgres PSQL PORT LSN [TIMEOUT]  polls pg_last_wal_replay_lsn() through one psql
      session (\\watch) until it reaches LSN; reconnects while the server is still starting.

Both poll every 50 ms and exit 1 after TIMEOUT seconds (default 1800). One long-lived poller, not a
curl, jq or psql process per poll: those cost 10–35 ms of CPU each, which on a 2-core machine comes
out of the catch-up being timed.
"""
import json, subprocess, sys, time, urllib.request

INTERVAL = 0.05


def understudy(url, seqno, deadline):
    while time.time() < deadline:
        try:
            status = json.load(urllib.request.urlopen(url + "/status", timeout=2))
            if status["repository"]["applied"]["seqno"] >= seqno:
                return True
        except OSError:
            pass  # not listening yet
        time.sleep(INTERVAL)
    return False


def postgres(psql, port, lsn, deadline):
    query = f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn;\n\\watch {INTERVAL}\n"
    while time.time() < deadline:
        session = subprocess.Popen(
            [psql, "-X", "-q", "-At", "-h", "127.0.0.1", "-p", port, "-U", "postgres"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        session.stdin.write(query)
        session.stdin.close()
        for line in session.stdout:
            if line.strip() == "t" or time.time() >= deadline:
                session.kill()
                session.wait()
                return line.strip() == "t"
        session.wait()  # could not connect (still starting): try again
        time.sleep(INTERVAL)
    return False


timeout = lambda index: time.time() + (float(sys.argv[index]) if len(sys.argv) > index else 1800)
if sys.argv[1] == "understudy":
    reached = understudy(sys.argv[2], int(sys.argv[3]), timeout(4))
else:
    reached = postgres(sys.argv[2], sys.argv[3], sys.argv[4], timeout(5))
sys.exit(0 if reached else 1)
