"""Train the ``cpu`` paper sweeps (``scaletime reproduce paper --scale cpu``'s specs) and commit
their tidy tables under ``benchmarks/data/`` for the law benchmark (``bench_laws.py``).

Training only, resumable (each sweep folder is a results database); about 20 minutes on the
2-core machine. Usage: ``python benchmarks/make_law_data.py [--work runs/law-data] [NAME ...]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scaletime.report.reproduce import EXPERIMENTS, build_spec
from scaletime.sweep.executor import run_sweep
from scaletime.sweep.export import export_table

DATA = Path(__file__).parent / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", help="experiments (default: all of the cpu scale)")
    ap.add_argument("--work", type=Path, default=Path("runs/law-data"))
    args = ap.parse_args()
    DATA.mkdir(exist_ok=True)
    for exp in EXPERIMENTS:
        if args.names and exp.name not in args.names:
            continue
        spec = build_spec(exp, "cpu")
        if spec is None:
            continue
        folder = args.work / exp.name
        run_sweep(spec, folder, show_progress=False)
        out = DATA / f"{exp.name}-cpu.parquet"
        export_table(folder, out)
        print(f"{exp.name}: {out} ({out.stat().st_size / 1e3:.0f} kB)", flush=True)


if __name__ == "__main__":
    main()
