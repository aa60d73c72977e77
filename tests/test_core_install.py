"""The core install (`pip install .`, no extras) imports, builds an index and answers a question,
without the evaluation extra's packages: a fresh virtual environment, the package installed from
a copy of the source, and the seed article."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devtools.ui_samples import REPO, SEED

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent('''
    import importlib.util, json, sys
    from pathlib import Path
    from assistant import service
    from assistant.config import Settings

    root = Path(sys.argv[1])
    settings = Settings().replace(corpus_dir=root / "corpus", index_dir=root / "index")
    service.build_index(settings, log=lambda m: None)
    answer = service.Assistant.open(settings=settings).ask(sys.argv[2])
    absent = [m for m in ("matplotlib", "ranx", "openai", "pytest")
              if importlib.util.find_spec(m) is None]
    print(json.dumps({"answer": answer.to_json(), "absent": absent,
                      "package": service.__file__}))
''')


def test_core_install_answers_a_question(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    src = tmp_path / "src"
    shutil.copytree(REPO / "assistant", src / "assistant",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    # torch first, pinned: an unpinned torch would pull the CUDA build.
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "torch==2.13.0"], check=True, timeout=1200)
    subprocess.run([*pip, str(src), "torch==2.13.0"], check=True, timeout=1200)

    work = tmp_path / "work"
    (work / "corpus").mkdir(parents=True)
    shutil.copy(SEED, work / "corpus" / SEED.name)
    question = "Who will lead the coordinated efforts?"
    run = subprocess.run([str(py), "-c", SCRIPT, str(work), question], cwd=work,
                         capture_output=True, text=True, timeout=600,
                         env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                              "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(out["package"]).is_relative_to(venv), out["package"]  # not the repository's copy
    assert out["absent"] == ["matplotlib", "ranx", "openai", "pytest"]
    answer = out["answer"]
    assert not answer["abstained"] and answer["citations"], answer
    assert answer["citations"][0]["source"] == SEED.name
    assert "Drug Enforcement Administration" in answer["answer"]
