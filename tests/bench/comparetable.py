#!/usr/bin/python3
"""Markdown tables from the JSON lines of taskbench-bench and peer_dask.py (compare.sh).

Lines are keyed by (engine, workload); an engine/workload measured in several processes
(compare.sh interleaves per workload, so every process prints its own start-up line) is
reduced to the median. Ratios are to Dask with processes, as the issue's targets are.
"""
import argparse
import json
import statistics
import sys

# Issue 6's targets: (process workers, thread workers), as multiples of dask-processes.
TARGETS = {"submit": (100, 300), "map": (150, 800), "chain": (100, 300), "tree": (30, 100),
           "retries": (100, 300)}
LATENCY_TARGETS = {"processes": 50, "threads": 200}  # Dask p50 / ours at least this
WORKLOADS = ("submit", "map", "chain", "tree", "latency", "retries")


def load(paths):
    by = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                by.setdefault((rec.get("engine"), rec.get("workload")), []).append(rec)
    return by


def pick(by, engine, workload, field):
    """Median of a field over the lines for (engine, workload); None if any failed or none."""
    recs = by.get((engine, workload), [])
    if not recs or not all(r.get("ok") for r in recs) or (engine, workload) in EXITS:
        return None
    vals = [r.get(field) for r in recs]
    if any(v is None for v in vals):
        return None
    return statistics.median(vals)


EXITS = {}  # (engine, workload) -> exit status of a process that failed (--failed)


def status(by, engine, workload):
    recs = by.get((engine, workload), [])
    if (engine, workload) in EXITS and (not recs or all(r.get("ok") for r in recs)):
        code = EXITS[(engine, workload)]
        return "FAILED (timeout)" if code == "124" else f"FAILED (exit {code})"
    if not recs:
        return "not run"
    return "ok" if all(r.get("ok") for r in recs) else "FAILED"


def seen(by, engine, workload):
    return (engine, workload) in by or (engine, workload) in EXITS


def num(v, fmt=",.0f"):
    return "—" if v is None else format(v, fmt)


def cell(by, engine, workload, field, fmt=",.0f"):
    v = pick(by, engine, workload, field)
    if v is None:
        s = status(by, engine, workload)
        return s if s.startswith("FAILED") else "—"
    return format(v, fmt)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def rtext(r, target=None):
    if r is None:
        return "—"
    s = f"{r:,.1f}×" if r < 100 else f"{r:,.0f}×"
    if target is not None:
        s += " ✓" if r >= target else " ✗"
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl", nargs="+")
    ap.add_argument("--scale", default="1.0")
    ap.add_argument("--repeat", default="3")
    ap.add_argument("--tmpdir", default=None, help="where retries put its marker files")
    ap.add_argument("--failed", action="append", default=[], metavar="ENGINE:WORKLOAD:STATUS",
                    help="a benchmark process that did not exit 0 (compare.sh)")
    a = ap.parse_args(argv)
    by = load(a.jsonl)
    for f in a.failed:
        engine, workload, code = (f.split(":") + ["", "", ""])[:3]
        EXITS[(engine, workload)] = code
    out = []
    p = out.append

    p(f"### Throughput (tasks/s; median of {a.repeat} run(s), --scale {a.scale}, "
      "2 workers × 1 thread)")
    p("")
    p("| workload | tasks | Taskbench threads | Taskbench processes | Dask threads | "
      "Dask processes | threads ÷ Dask | processes ÷ Dask | target threads / processes |")
    p("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for w in WORKLOADS:
        if not any(seen(by, e, w) for e in ("threads", "processes", "dask-processes")):
            continue
        tasks = next((r["tasks"] for e in ("threads", "processes", "dask-processes")
                      for r in by.get((e, w), [])), None)
        dask = pick(by, "dask-processes", w, "tasks_per_s")
        thr = pick(by, "threads", w, "tasks_per_s")
        prc = pick(by, "processes", w, "tasks_per_s")
        tp, tt = TARGETS.get(w, (None, None))
        target = f"≥ {tt}× / ≥ {tp}×" if tp else "see latency"
        p(f"| {w} | {num(tasks, ',')} | {cell(by, 'threads', w, 'tasks_per_s')} | "
          f"{cell(by, 'processes', w, 'tasks_per_s')} | "
          f"{cell(by, 'dask-threads', w, 'tasks_per_s')} | "
          f"{cell(by, 'dask-processes', w, 'tasks_per_s')} | "
          f"{rtext(ratio(thr, dask), tt)} | {rtext(ratio(prc, dask), tp)} | {target} |")
    p("")
    p("Ratios are Taskbench ÷ Dask `LocalCluster(processes=True)` from the same run "
      "(the issue's reference); ✓/✗ against the issue's targets."
      + (f" Retries marker files in `{a.tmpdir}`." if a.tmpdir else ""))
    p("")

    if any(seen(by, e, "latency") for e in ("threads", "processes", "dask-processes")):
        dask50 = pick(by, "dask-processes", "latency", "latency_us_p50")
        pool50 = pick(by, "processpool", "latency", "latency_us_p50")
        p("### Submit → result latency (µs)")
        p("")
        p("| engine | p50 | p99 | Dask processes p50 ÷ p50 | target |")
        p("|---|--:|--:|--:|--:|")
        for e, name in (("threads", "Taskbench threads"), ("processes", "Taskbench processes"),
                        ("dask-threads", "Dask threads"), ("dask-processes", "Dask processes"),
                        ("processpool", "ProcessPoolExecutor(2)"),
                        ("threadpool", "ThreadPoolExecutor(2)")):
            if not seen(by, e, "latency"):
                continue
            mine = pick(by, e, "latency", "latency_us_p50")
            t = LATENCY_TARGETS.get(e)
            p(f"| {name} | {cell(by, e, 'latency', 'latency_us_p50', ',.1f')} | "
              f"{cell(by, e, 'latency', 'latency_us_p99', ',.1f')} | "
              f"{rtext(ratio(dask50, mine), t)} | {f'≥ {t}×' if t else ''} |")
        p("")

    rows = []
    tbmap = pick(by, "processes", "map", "tasks_per_s")
    poolmap = pick(by, "processpool", "map", "tasks_per_s")
    if seen(by, "processes", "map") or seen(by, "processpool", "map"):
        rows.append(("map: Taskbench processes ÷ ProcessPoolExecutor (tasks/s)",
                     rtext(ratio(tbmap, poolmap), 10), "≥ 10×"))
    tblat = pick(by, "processes", "latency", "latency_us_p50")
    poollat = pick(by, "processpool", "latency", "latency_us_p50")
    if seen(by, "processes", "latency") or seen(by, "processpool", "latency"):
        rows.append(("latency p50: ProcessPoolExecutor ÷ Taskbench processes",
                     rtext(ratio(poollat, tblat), 1), "> 1× (below ProcessPool)"))
    if rows:
        p("### Against ProcessPoolExecutor(2)")
        p("")
        p("| comparison | ratio | target |")
        p("|---|--:|--:|")
        for r in rows:
            p(f"| {r[0]} | {r[1]} | {r[2]} |")
        p("")
        p(f"ProcessPoolExecutor: map {num(poolmap)} tasks/s, latency p50 {num(poollat, ',.1f')} µs; "
          f"ThreadPoolExecutor: map {num(pick(by, 'threadpool', 'map', 'tasks_per_s'))} tasks/s.")
        p("")

    mem = [e for e in ("threads", "processes") if seen(by, e, "memory_per_future")]
    if mem:
        p("### Memory per pending future (engine RSS growth ÷ futures)")
        p("")
        p("| engine | pending futures | bytes per future | target |")
        p("|---|--:|--:|--:|")
        for e in mem:
            recs = by.get((e, "memory_per_future"), [])
            r = recs[-1] if recs else {}
            b = r.get("bytes_per_future")
            s = status(by, e, "memory_per_future")
            # The figure is measured before clean-up: show it even if clean-up failed later.
            v = s if b is None else f"{b:,.0f}" + (" ✓" if b < 1024 else " ✗")
            if b is not None and s != "ok":
                v += f" ({s})"
            p(f"| Taskbench {e} | {r.get('futures', 0):,} | {v} | < 1,024 |")
        p("")

    starts = [(e, pick(by, e, "startup", "seconds")) for e in
              ("threads", "processes", "dask-threads", "dask-processes", "processpool",
               "threadpool") if seen(by, e, "startup")]
    if starts:
        p("### Cluster start-up (s, median over the processes of this run)")
        p("")
        p("| " + " | ".join(e for e, _ in starts) + " |")
        p("|" + "--:|" * len(starts))
        p("| " + " | ".join(num(s, ".3f") if s is not None else "FAILED" for _, s in starts)
          + " |")
        p("")

    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
