"""Every Python snippet of the README and of the user guide runs as written, each in a fresh process.

A snippet whose first line is ``# needs: ...`` (a TensorFlow Serving server, a cluster) is skipped
with that reason. The pages' data paths (``../shared/data/``) are read from the directory of
``$VAE_TF_MNIST``, as ``.ci/run`` sets it; without it the snippets that read those files are skipped.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = sorted((ROOT / "docs" / "guide").glob("*.md"))
SHARED_DATA = "../shared/data/"


def snippets(page):
    """The ```` ```python ```` blocks of a Markdown page, each with the line it starts on."""
    text = page.read_text()
    found = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, flags=re.S | re.M):
        line = text[:match.start()].count("\n") + 1
        found.append(pytest.param(match.group(1), id=f"{page.relative_to(ROOT)} line {line}"))
    return found


def test_the_readme_has_snippets():
    assert len(snippets(README)) >= 1


def test_the_user_guide_has_snippets():
    assert GUIDE, "docs/guide/*.md: none found"
    assert len([s for page in GUIDE for s in snippets(page)]) >= 6


@pytest.mark.parametrize("code", [s for page in [README, *GUIDE] for s in snippets(page)])
def test_snippet_runs_in_a_fresh_process(code, tmp_path):
    first = code.splitlines()[0]
    if first.startswith("# needs:"):
        pytest.skip(first[2:])
    if SHARED_DATA in code:
        mnist = os.environ.get("VAE_TF_MNIST")
        if not (mnist and os.path.exists(mnist)):
            pytest.skip("the snippet reads ../shared/data/, found through $VAE_TF_MNIST, which is not set")
        code = code.replace(SHARED_DATA, os.path.dirname(os.path.abspath(mnist)) + os.sep)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=900)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
