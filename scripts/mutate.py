"""Targeted mutation testing: inject one small, realistic bug at a time and check the suite
catches it (``make mutate``; not part of ``make test``).

Each mutant replaces one exact piece of source text (a sign, a tail, a lag rule, an off-by-one,
a threshold) in a copy of the checkout and runs the tests that guard it. A mutant is *killed*
when those tests fail, *survives* when they pass, and is *stale* when its text is no longer in
the source (the code moved: update the mutant). Every mutant here changes a number a study
reports. Exit 0 only when every mutant is killed and none is stale.

Usage: python scripts/mutate.py [--only SUBSTRING] [--list] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUARDS = "tests/test_mutation_guards.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...] = (GUARDS,)


MUTANTS: tuple[Mutant, ...] = (
    # --- engine: per-event measures
    Mutant("BHAR: market - stock", "eventstudy/engine/bhar.py",
           "return own, bench, own - bench", "return own, bench, bench - own",
           (GUARDS, "tests/test_listing_study.py", "tests/test_significance.py")),
    Mutant("BHAR: simple sum", "eventstudy/engine/bhar.py",
           "np.prod(1.0 + np.asarray(returns, dtype=float), axis=-1) - 1.0",
           "np.sum(np.asarray(returns, dtype=float), axis=-1)",
           (GUARDS, "tests/test_listing_study.py", "tests/test_significance.py")),
    Mutant("BHAR table: columns swapped", "eventstudy/engine/abnormal.py",
           '"return": stock, "market_return": market', '"return": market, "market_return": stock'),
    Mutant("CAR p: normal dof", "eventstudy/engine/abnormal.py",
           "t_two_sided(t, ar.dof), p_sq", "t_two_sided(t, ar.dof + 1), p_sq"),
    Mutant("CAR p: one-tailed", "eventstudy/engine/abnormal.py",
           "t_two_sided(t, ar.dof), p_sq", "t_two_sided(t, ar.dof) / 2, p_sq"),
    Mutant("volume t: k instead of sqrt(k)", "eventstudy/engine/volume.py",
           "t = mean_abn / (est_std / np.sqrt(days))", "t = mean_abn / (est_std / days)"),
    Mutant("volume sd: ddof 0", "eventstudy/engine/volume.py",
           "_positive(nanstd_rows(est, ddof=1)),",
           "_positive(nanstd_rows(est, ddof=0)),"),
    Mutant("volume: market-adjustment share", "eventstudy/engine/volume.py",
           "MIN_MARKET_SHARE = 0.5", "MIN_MARKET_SHARE = 0.6"),
    Mutant("volume: market-adjustment >=", "eventstudy/engine/volume.py",
           "have.sum(axis=1) >= MIN_MARKET_SHARE", "have.sum(axis=1) > MIN_MARKET_SHARE"),
    Mutant("lock-up estimation cap 250 -> 251", "eventstudy/engine/panel.py",
           "LOCKUP_MAX_ESTIMATION = 250", "LOCKUP_MAX_ESTIMATION = 251"),
    Mutant("estimation cap off by one", "eventstudy/engine/locate.py",
           "np.maximum(start, end - max_estimation + 1)",
           "np.maximum(start, end - max_estimation)"),
    Mutant("estimation cap off by one (one event)", "eventstudy/engine/locate.py",
           "start = max(start, end - max_estimation + 1)",
           "start = max(start, end - max_estimation)",
           (GUARDS, "tests/test_panel_fast.py")),
    Mutant("default windows: >= estimation end", "eventstudy/engine/windows.py",
           "if w[0] > estimation_end", "if w[0] >= estimation_end"),
    # --- cross-event tests
    Mutant("sign test: zeros count as positive", "eventstudy/engine/significance.py",
           "w = (car > 0).sum(axis=-1)", "w = (car >= 0).sum(axis=-1)"),
    # --- designs
    Mutant("Newey-West lags: 4 -> 3", "eventstudy/engine/calendar_time.py",
           "int(math.floor(4 * (nobs / 100.0)", "int(math.floor(3 * (nobs / 100.0)"),
    Mutant("Newey-West lags: exponent", "eventstudy/engine/calendar_time.py",
           "** (2.0 / 9.0)", "** (1.0 / 4.0)"),
    Mutant("few-cluster note: < 10 -> < 9", "eventstudy/engine/regression.py",
           "if n_clusters < 10:", "if n_clusters < 9:"),
    # --- volatility
    Mutant("GJR persistence: gamma not gamma/2", "eventstudy/volatility/garch.py",
           '0.5 * params.get("gamma[1]", 0.0)', 'params.get("gamma[1]", 0.0)'),
    Mutant("persistence threshold 0.999 -> 0.99", "eventstudy/volatility/base.py",
           "MAX_PERSISTENCE = 0.999", "MAX_PERSISTENCE = 0.99"),
    Mutant("variance dummy Wald p: one-tailed", "eventstudy/volatility/dummy.py",
           "wald_pvalue=float(2.0 * stats.norm.sf(abs(wald)))",
           "wald_pvalue=float(stats.norm.sf(abs(wald)))"),
    Mutant("variance dummy LR p: chi2(2)", "eventstudy/volatility/dummy.py",
           "lr_pvalue=float(stats.chi2.sf(lr, 1))", "lr_pvalue=float(stats.chi2.sf(lr, 2))"),
    Mutant("GARCH-BMP: t(n) instead of t(n-1)", "eventstudy/volatility/garch_bmp.py",
           "stats.t.sf(abs(t_stat), scar.size - 1)", "stats.t.sf(abs(t_stat), scar.size)",
           ("tests/test_volatility.py",)),
    Mutant("GARCH sample OLS variance: n not n-k dof", "eventstudy/volatility/base.py",
           "dof = max(len(y) - x.shape[1], 1)", "dof = max(len(y), 1)",
           ("tests/test_volatility.py",)),
    Mutant("GARCH raw variance ratio: z not resid", "eventstudy/volatility/ratio.py",
           'raw, raw_p = permutation_variance_test(before["resid"].to_numpy(),',
           'raw, raw_p = permutation_variance_test(before["z"].to_numpy(),',
           ("tests/test_inference.py::test_garch_ratio_reports_the_raw_residual_variance_"
            "ratio_beside_it",)),
)


def _copy_tree(dest: Path) -> None:
    """The tracked and untracked (not ignored) files of the checkout, as they are now."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def _run(tree: Path, tests: tuple[str, ...], timeout: float) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    return "survived" if done.returncode == 0 else "killed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the mutants whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if args.only.lower() in m.name.lower()]
    if args.list:
        for m in chosen:
            print(f"{m.name:45s} {m.path}")
        return 0
    results: list[tuple[Mutant, str]] = []
    with tempfile.TemporaryDirectory(prefix="eventstudy-mutate-") as tmp:
        tree = Path(tmp)
        _copy_tree(tree)
        baseline = _run(tree, tuple(sorted({t for m in chosen for t in m.tests})), args.timeout)
        if baseline != "survived":
            print("the guarding tests fail without any mutation: fix them first", file=sys.stderr)
            return 2
        for m in chosen:
            target = tree / m.path
            source = target.read_text(encoding="utf-8")
            if source.count(m.old) != 1:
                results.append((m, "stale"))
            else:
                target.write_text(source.replace(m.old, m.new), encoding="utf-8")
                started = time.monotonic()
                try:
                    results.append((m, _run(tree, m.tests, args.timeout)))
                finally:
                    target.write_text(source, encoding="utf-8")
                print(f"{results[-1][1]:18s} {m.name} ({time.monotonic() - started:.0f} s)",
                      flush=True)
    killed = sum(r.startswith("killed") for _, r in results)
    counted = sum(r != "stale" for _, r in results)
    print(f"\nmutation score: {killed}/{counted} killed"
          + (f" ({100.0 * killed / counted:.0f}%)" if counted else ""))
    for m, r in results:
        if r in ("survived", "stale"):
            print(f"  {r}: {m.name} ({m.path})")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
