"""CID throughput: movieminter.ipfs.unixfs (Kubo-default UnixFS import) against
two baselines measured in the same run on the same file:

  - hashlib.sha256 over the same bytes, read with the same 256 KiB buffer
    (goal: ratio >= 0.8 — the DAG encoding costs little beyond the hash);
  - Debian's ipfs_cid (Rust) on the same file (goal: we are faster).

    ./mm bench cid [--size-mib 256] [--repeat 3]   (or .venv/bin/python bench/cid.py)

Best of N runs each (warm page cache). Prints the table and writes
bench/results/cid.json. The CIDs of both implementations must agree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from movieminter.ipfs import unixfs  # noqa: E402
from movieminter.ipfs.car import file_to_car  # noqa: E402

BUF = 262144


def best(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    buf = bytearray(BUF)
    mv = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(mv):
            h.update(mv[:n])
    return h.hexdigest()


def ipfs_cid(path: Path) -> str:
    out = subprocess.run(["ipfs_cid", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[0])["CIDv1"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mib", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.bin"
        with open(path, "wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1 << 20))
        sha256_file(path)  # warm the page cache

        rows = []
        t_sha, _ = best(lambda: sha256_file(path), args.repeat)
        rows.append({"what": "hashlib.sha256 (baseline)", "seconds": t_sha})
        t_ours, cid = best(lambda: unixfs.import_file(path), args.repeat)
        rows.append({"what": "movieminter unixfs.import_file", "seconds": t_ours, "cid": cid})
        t_car, car_cid = best(lambda: file_to_car(path, Path(tmp) / "out.car"), 1)
        rows.append({"what": "movieminter file_to_car (writes a CAR)", "seconds": t_car, "cid": car_cid})
        t_tool = None
        if shutil.which("ipfs_cid"):
            t_tool, tool_cid = best(lambda: ipfs_cid(path), args.repeat)
            rows.append({"what": "ipfs_cid (Debian, Rust)", "seconds": t_tool, "cid": tool_cid})
            if tool_cid != cid:
                print(f"CID MISMATCH: ours {cid} vs ipfs_cid {tool_cid}", file=sys.stderr)
                return 1
        assert car_cid == cid

    for r in rows:
        r["mib_per_s"] = round(args.size_mib / r["seconds"], 1)
        r["seconds"] = round(r["seconds"], 4)
    ratio_sha = t_sha / t_ours
    result = {
        "size_mib": args.size_mib,
        "repeat": args.repeat,
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(), "platform": platform.platform()},
        "rows": rows,
        "ratio_vs_sha256": round(ratio_sha, 3),
        "goal_ratio_vs_sha256": 0.8,
        "speedup_vs_ipfs_cid": round(t_tool / t_ours, 2) if t_tool else None,
        "goal_speedup_vs_ipfs_cid": 1.0,
    }
    print(f"CID throughput on {args.size_mib} MiB (best of {args.repeat})")
    print(f"{'what':42} {'seconds':>9} {'MiB/s':>9}")
    for r in rows:
        print(f"{r['what']:42} {r['seconds']:9.3f} {r['mib_per_s']:9.1f}")
    print(
        f"ratio vs hashlib.sha256: {result['ratio_vs_sha256']:.3f} (goal >= 0.8) "
        f"{'OK' if ratio_sha >= 0.8 else 'BELOW GOAL'}"
    )
    if t_tool:
        print(
            f"speed-up vs ipfs_cid: {result['speedup_vs_ipfs_cid']:.2f}x (goal > 1) "
            f"{'OK' if t_tool > t_ours else 'BELOW GOAL'}"
        )
    out = HERE / "results" / "cid.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
