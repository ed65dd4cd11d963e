"""`make bench-synth`: wall time of a full HCL synth of every stage against its floor, the import of the
provider bindings alone, measured alternately in one run so machine load hits both alike.

Writes reports/bench-synth.json: synth_s, import_floor_s, ratio, stacks, resources (+ the raw samples)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stacks.summary import count_resources, synthesized_stacks

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
TARGET_RATIO = 1.5
FLOOR_CODE = "import cdktf, cdktf_cdktf_provider_aws"


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    floor_samples: list[float] = []
    synth_samples: list[float] = []
    with tempfile.TemporaryDirectory() as outdir:
        env = {**os.environ, "SYNTH_HCL_OUTPUT": "true", "CDKTF_OUTDIR": outdir}
        env.pop("STAGE", None)
        for _ in range(ROUNDS):
            floor_samples.append(timed([sys.executable, "-c", FLOOR_CODE], env))
            synth_samples.append(timed([sys.executable, "main.py"], env))
        stacks = synthesized_stacks(outdir)
        resources = sum(count_resources(path) for path in stacks.values())
    synth_s, floor_s = min(synth_samples), min(floor_samples)
    report = {
        "synth_s": round(synth_s, 2),
        "import_floor_s": round(floor_s, 2),
        "ratio": round(synth_s / floor_s, 3),
        "target_ratio": TARGET_RATIO,
        "stacks": len(stacks),
        "resources": resources,
        "rounds": ROUNDS,
        "synth_samples_s": [round(s, 2) for s in synth_samples],
        "floor_samples_s": [round(s, 2) for s in floor_samples],
        "load_average": list(os.getloadavg()),
    }
    out = ROOT / "reports" / "bench-synth.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
