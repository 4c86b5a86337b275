"""Tiny helpers every benchmark may share: best-of-N timing, the table, the JSON beside it."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as `.venv/bin/python bench/NAME.py` from anywhere


def best_of(fn, repeat: int) -> float:
    """Shortest wall time of `repeat` calls (least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: steadier than wall time on a busy machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    w, c = time.perf_counter(), cpu_seconds()
    fn()
    return time.perf_counter() - w, cpu_seconds() - c


def report(name: str, rows: list[dict], params: dict) -> dict:
    """Print rows (case, seconds, ratio, goal) as a table; write bench/results/<name>.json."""
    print(f"{'case':<48} {'seconds':>9} {'ratio':>7} {'goal':>7}  ok")
    for r in rows:
        ratio = f"{r['ratio']:.3f}" if r.get("ratio") is not None else ""
        goal = f"<={r['goal']}" if r.get("goal") is not None else ""
        ok = "" if r.get("goal") is None else ("yes" if r["ratio"] <= r["goal"] else "NO")
        print(f"{r['case']:<48} {r['seconds']:>9.3f} {ratio:>7} {goal:>7}  {ok}")
    result = {
        "benchmark": name,
        "params": params,
        "rows": rows,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    out = HERE / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")
    return result
