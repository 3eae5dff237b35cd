"""The package as operators install it: a wheel built from this checkout, installed in a fresh
venv (no editable install, no source tree on the path), runs `spc demo` to the end, so the
migrations, the France Services data file and every module are inside the package."""

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None, timeout=600):
    result = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[:4000]}...{result.stderr[-2000:]}"
    return result


def test_the_built_wheel_installed_in_a_fresh_venv_runs_the_demo(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(ROOT))
    [wheel] = (tmp_path / "dist").glob("service_public_citoyen-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    run(python, "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), str(wheel))
    away = tmp_path / "elsewhere"  # not the checkout: nothing can come from the source tree
    away.mkdir()
    demo = run(str(tmp_path / "venv" / "bin" / "spc"), "demo", cwd=away, timeout=300)
    assert "The story is complete." in demo.stdout
    assert "counters imported" in demo.stdout
