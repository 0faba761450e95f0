"""What the main command imports (issue 12): ``lockup --no-report`` draws nothing, so it loads
neither matplotlib (arch would import it for nothing) nor, with a warm cache, exchange-calendars;
matplotlib still works afterwards for arch's plots and ours."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, cache: Path) -> str:
    env = {**os.environ, "EVENTSTUDY_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_lockup_without_report_imports_no_plotting_and_no_calendar_library(tmp_path: Path) -> None:
    code = ("import sys\nfrom eventstudy.cli import main\n"
            "try:\n    main(['lockup', '0020.HK', '--offline', '--no-report'])\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
            "print('LOADED', [m for m in ('matplotlib', 'exchange_calendars', 'arch')"
            " if m in sys.modules])\n")
    first = _python(code, tmp_path / "cache")
    second = _python(code, tmp_path / "cache")
    assert "LOADED ['exchange_calendars', 'arch']" in first  # the calendar cache is built
    assert "LOADED ['arch']" in second
    assert "-46.15%" in second and "GARCH not fitted: 71 estimation sessions" in second
    def same(text: str) -> list[str]:
        return [line for line in text.splitlines()
                if not any(word in line for word in ("Time:", "data:", "LOADED"))]

    assert same(first) == same(second)


def test_matplotlib_works_after_arch_was_imported_without_it(tmp_path: Path) -> None:
    code = ("import sys\nimport numpy as np\nimport eventstudy.volatility.garch\n"
            "assert 'arch' in sys.modules and 'matplotlib' not in sys.modules\n"
            "import matplotlib\nmatplotlib.use('Agg')\nfrom arch import arch_model\n"
            "y = np.random.default_rng(0).standard_normal(300)  # synthetic\n"
            "fig = arch_model(y).fit(disp='off').plot()\n"
            "print('AXES', len(fig.axes))\n")
    assert "AXES 2" in _python(code, tmp_path / "cache")


def test_the_program_freezes_the_collector_on_exit_and_a_library_call_does_not(
        tmp_path: Path) -> None:
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: print('FROZEN', gc.get_freeze_count() > 0))\n"
            "from eventstudy.cli import main\n"
            "sys.argv = ['eventstudy', 'lockup', '0020.HK', '--offline', '--no-report']\n"
            "try:\n    main(sys.argv[1:] if 'args' in sys.orig_argv[-1:] else None)\n"
            "except SystemExit as exc:\n    assert not exc.code, exc.code\n")
    env = {**os.environ, "EVENTSTUDY_CACHE_DIR": str(tmp_path / "c"), "PYTHONPATH": str(ROOT)}
    for extra, frozen in (([], "FROZEN True"), (["args"], "FROZEN False")):
        done = subprocess.run([sys.executable, "-c", code, *extra], env=env, text=True,
                              capture_output=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "-46.15%" in done.stdout and done.stdout.rstrip().endswith(frozen)
