"""A GARCH study never changes the BLAS of a caller's other threads (issue 24): a user's own
``arch_model(...).fit()`` running in a thread while ``garch_study`` runs sees the BLAS thread
count of a clean process and gets the same parameters as in a clean process. Each side runs in
its own fresh interpreter (with two OpenBLAS threads), bounded in time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json, sys, threading
import numpy as np
from arch import arch_model
from threadpoolctl import threadpool_info
from eventstudy.data.files import bundled_source

def blas():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})

close = bundled_source().load("0700.HK")["close"].to_numpy()
r = 100 * np.diff(np.log(close))[-1500:]  # real Tencent returns

def user_fit():
    return arch_model(r, vol="GARCH", p=1, q=1).fit(disp="off").params.tolist()

if sys.argv[1] == "clean":
    print(json.dumps({"seen": blas(), "fits": [user_fit()]}))
else:
    seen, fits, done = [], [], threading.Event()

    def user():
        while not done.is_set() or len(fits) < 2:
            seen.extend(blas())
            fits.append(user_fit())

    thread = threading.Thread(target=user)
    thread.start()
    from eventstudy.studies.garch import garch_study
    result = garch_study("0020.HK", offline=True)
    done.set()
    thread.join()
    print(json.dumps({"seen": sorted(set(seen)), "fits": fits, "ratio": result.summary()[:40]}))
"""


def _run(mode: str) -> dict[str, object]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2",
           "MKL_NUM_THREADS": "2"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_concurrent_user_fit_is_the_clean_process_fit() -> None:
    clean = _run("clean")
    busy = _run("concurrent")
    assert busy["seen"] == clean["seen"] == [2]  # never limited to 1 under the user's feet
    fits = busy["fits"]
    assert isinstance(fits, list) and len(fits) >= 2
    assert all(fit == clean["fits"][0] for fit in fits)  # type: ignore[index]
