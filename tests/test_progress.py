"""Progress bars in a log file: a redraw a minute, not one per batch."""

import os
import subprocess
import sys

SCRIPT = """
import pipeline
from tqdm.auto import tqdm
import time
for _ in tqdm(range(200), desc="NLI"):
    time.sleep(0.002)
"""


def _redraws(env_extra: dict) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TQDM_")} | env_extra
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, check=True)
    return proc.stderr.count("NLI:")


def test_a_bar_written_to_a_file_is_not_redrawn_per_batch():
    # stderr is a pipe here, as in `make train > log 2>&1`: the first and the closing draw only
    assert _redraws({}) <= 3


def test_an_explicit_tqdm_setting_wins():
    assert _redraws({"TQDM_MININTERVAL": "0"}) > 50
