"""`python -m cost report [--stage S]` writes cost/REPORT.md, cost/charts/*.png and reports/cost.json;
`python -m cost refresh` rebuilds the price tables from the AWS Price List bulk offer files."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from cost.hcl import SynthError
from cost.prices import PRICES_DIR, PriceError
from cost.profiles import ProfileError
from cost.report import CHARTS_DIR, REPORT_PATH, STAGE_ORDER, build_report


def _write_atomically(path: Path, content: bytes) -> None:
    """Write next to the target and rename, so a failure never leaves a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def report(args: argparse.Namespace) -> int:
    result = build_report(Path(args.outdir), args.stage)
    json_path = Path(args.json)
    _write_atomically(json_path, (json.dumps(result.data, indent=2, sort_keys=True) + "\n").encode())
    missing = [s for s in STAGE_ORDER if s not in result.data["stages"]]
    if args.stage:
        print(f"stage {args.stage} only: wrote {json_path}; cost/REPORT.md covers every stage (run without STAGE)")
    elif missing:
        print(
            f"cost: {args.outdir} has no stacks for {', '.join(missing)} (a one-stage synth?): wrote {json_path} "
            "but not cost/REPORT.md, which must cover every stage; run `make synth` without STAGE, then `make cost`",
            file=sys.stderr,
        )
        return 2
    else:
        for name, png in result.charts.items():
            _write_atomically(CHARTS_DIR / name, png)
        _write_atomically(REPORT_PATH, result.markdown.encode())
        print(
            f"wrote {REPORT_PATH.relative_to(Path.cwd()) if REPORT_PATH.is_relative_to(Path.cwd()) else REPORT_PATH}"
            f", {len(result.charts)} charts, {json_path}"
        )
    for stage, figures in result.data["stages"].items():
        unpriced = len(figures["unpriced"])
        profiles = ", ".join(f"{name} ${p['monthly_usd']:,.2f}" for name, p in figures["profiles"].items())
        print(f"  {stage:<8} {profiles}  ({unpriced} unpriced)")
    target = result.data.get("target")
    if target:
        state = "within" if target["within"] else f"OVER by ${target['over_by_usd']:,.2f}"
        print(f"  prod baseline ${target['monthly_usd']:,.2f} vs target ${target['max_monthly_usd']:,.0f}: {state}")
        path = target["pricing_path"]
        labels = {
            "with_flat_rate_plan_usd": "with CloudFront's flat-rate plan (no commitment)",
            "with_1yr_commitment_usd": "and a 1-year commitment",
        }
        for key, label in labels.items():
            if key in path:
                verdict = "within" if path[key] <= target["max_monthly_usd"] else "still over"
                print(f"  {label}: ${path[key]:,.2f} ({verdict})")
    return 0


def refresh(args: argparse.Namespace) -> int:
    from cost.refresh import RefreshError, refresh_tables

    try:
        changed = refresh_tables(Path(args.prices_dir), args.base_url, timeout=args.timeout)
    except RefreshError as exc:
        print(f"cost refresh failed: {exc}", file=sys.stderr)
        return 3
    for line in changed:
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="estimate every stage and write the report")
    rep.add_argument("--outdir", default="cdktf.out", help="the `make synth` output directory")
    rep.add_argument("--stage", default=os.environ.get("STAGE") or None, help="one stage only (JSON only)")
    rep.add_argument("--json", default="reports/cost.json", help="where to write the machine-readable figures")
    rep.set_defaults(run=report)
    ref = sub.add_parser("refresh", help="rebuild cost/prices/*.yaml from the AWS Price List bulk offer files")
    ref.add_argument("--prices-dir", default=str(PRICES_DIR))
    ref.add_argument("--base-url", default=os.environ.get("PRICE_LIST_URL", "https://pricing.us-east-1.amazonaws.com"))
    ref.add_argument("--timeout", type=float, default=20.0)
    ref.set_defaults(run=refresh)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (SynthError, PriceError, ProfileError) as exc:
        print(f"cost: {exc}", file=sys.stderr)
        return 2
