"""Pairs each wake-up in `perf sched timehist -w` output with the woken thread's wait for a CPU.

  perf sched timehist -i sched.data -w | python3 wakeups.py [MIN_COUNT]

A `-w` line "… WAKER awakened: WAKEE" is followed, when WAKEE next runs, by WAKEE's own line, whose
"sch delay" column is the time from that wake-up to running. Prints one row per (waker, wakee)
pair seen at least MIN_COUNT times (default 100), most frequent first: the count, the p50 and p90
delay in µs, and the share of delays over 15 µs (on a VM, a wake-up on another, idle vCPU).
Thread names are cut at "[" (the tid) so that one pair covers a thread's whole run.
"""
import sys


def name(field):
    return field.split("[")[0]


def main(min_count):
    waiting = {}  # wakee -> its waker
    delays = {}
    for line in sys.stdin:
        fields = line.split()
        if "awakened:" in line and len(fields) >= 5:
            waiting[name(line.split("awakened:")[1].strip())] = name(fields[2])
        elif len(fields) == 6 and name(fields[2]) in waiting:
            try:
                delay = float(fields[4]) * 1000
            except ValueError:
                continue
            waker = waiting.pop(name(fields[2]))
            delays.setdefault((waker, name(fields[2])), []).append(delay)
    print("| wake-up | count | p50 µs | p90 µs | share over 15 µs |")
    print("|---|---:|---:|---:|---:|")
    for (waker, wakee), values in sorted(delays.items(), key=lambda item: -len(item[1])):
        if len(values) < min_count:
            continue
        values.sort()
        p50, p90 = values[len(values) // 2], values[int(len(values) * 0.9)]
        over = sum(1 for value in values if value > 15) / len(values)
        print(f"| {waker} → {wakee} | {len(values)} | {p50:.0f} | {p90:.0f} | {over:.0%} |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
