"""Waits until a standby has applied a target, polling from one process for the whole wait.

  wait_applied.py [--armed] understudy URL SEQNO [TIMEOUT]  polls GET URL/status until
      repository.applied.seqno reaches SEQNO. URL may be @FILE: the node's stdout, whose ready line
      (`understudy standby ready: http=HOST:PORT …`) names the URL once it is written.
  wait_applied.py [--armed] postgres PSQL PORT LSN [TIMEOUT]  polls pg_last_wal_replay_lsn() through
      one psql session (\\watch) until it reaches LSN; while the server is starting, it waits for the
      port to accept a connection before it starts psql, and starts psql again (after 50 ms) if
      psql fails.

Both poll every 20 ms and exit 1 after TIMEOUT seconds (default 1800). One long-lived poller, not a
curl, jq or psql process per poll: those cost 10–35 ms of CPU each, which on a 2-core machine comes
out of the catch-up being timed.

--armed is for a timed catch-up: the poller prints "armed" once it has started (Python's own start
takes about 0.1 s of CPU here) and "reached" when the target is reached, each on its own line, so
that the caller starts its clock and the node after the first line and stops the clock at the
second: the clock then covers the node's start and its catch-up, and nothing of the poller's start.
"""
import json, socket, subprocess, sys, time, urllib.request

INTERVAL = 0.02
# Between psql sessions that could not connect (the server still starting): each costs a psql start.
RETRY = 0.05


def understudy(url, seqno, deadline):
    while time.time() < deadline:
        base = url if not url.startswith("@") else ready_url(url[1:])
        try:
            if base:
                status = json.load(urllib.request.urlopen(base + "/status", timeout=2))
                if status["repository"]["applied"]["seqno"] >= seqno:
                    return True
        except OSError:
            pass  # not listening yet
        time.sleep(INTERVAL)
    return False


def ready_url(path):
    """The http= address of the ready line in a node's stdout file, or None before it is written."""
    try:
        with open(path) as out:
            for line in out:
                if " ready: " in line:
                    address = next(field for field in line.split() if field.startswith("http="))
                    return "http://" + address[len("http="):]
    except FileNotFoundError:
        pass
    return None


def postgres(psql, port, lsn, deadline):
    query = f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn;\n\\watch {INTERVAL}\n"
    while time.time() < deadline:
        if not accepts_connections(int(port)):
            time.sleep(INTERVAL)
            continue
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
        time.sleep(RETRY)
    return False


def accepts_connections(port):
    """Whether something listens on 127.0.0.1:PORT: a connect costs far less than a psql."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


arguments = sys.argv[1:]
armed = arguments[:1] == ["--armed"]
if armed:
    arguments = arguments[1:]
    print("armed", flush=True)
timeout = lambda index: time.time() + (float(arguments[index]) if len(arguments) > index else 1800)
if arguments[0] == "understudy":
    reached = understudy(arguments[1], int(arguments[2]), timeout(3))
else:
    reached = postgres(arguments[1], arguments[2], arguments[3], timeout(4))
if armed and reached:
    print("reached", flush=True)
sys.exit(0 if reached else 1)
