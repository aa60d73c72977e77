"""Under CI=true a skip fails the run unless the test is on conftest's short allow-list; outside
CI a skip stays a skip. Runs pytest in a child process with this suite's conftest as a plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = '''
import pytest

def test_skips():
    pytest.skip("chromium is missing")

def test_passes():
    pass
'''
MODULE_SKIP = 'import pytest\npytest.skip("openai is missing", allow_module_level=True)\n'


def run(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "test_module_skip.py").write_text(MODULE_SKIP)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(CI=ci, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:randomly",
                           "-p", "no:cacheprovider", "-q", "--continue-on-collection-errors",
                           "test_sample.py", "test_module_skip.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # two child pytest runs that load the suite's conftest (~20 s)
def test_a_skip_fails_under_ci_unless_allowed(tmp_path):
    done = run(tmp_path, "true")
    assert done.returncode == 1, done.stdout
    assert "1 failed, 1 passed" in done.stdout and "1 error" in done.stdout, done.stdout
    assert done.stdout.count("skipped under CI=true") >= 2  # the test and the module
    done = run(tmp_path, "")
    assert done.returncode == 0 and "1 passed, 2 skipped" in done.stdout, done.stdout
