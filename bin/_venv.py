"""Shared by bin/demo and bin/test: make .venv and install a requirements file into it.

Only the standard library is used here, because these scripts run before anything is
installed. A hash of the requirements file is kept in the venv so a second run skips pip.
"""

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirements_digest(requirements: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("requirements*.txt")):
        digest.update(path.read_bytes())
    digest.update(requirements.name.encode())
    return digest.hexdigest()


def ensure_venv(requirements: str) -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036  (runs before the venv, on any Python)
        sys.exit(f"Precis needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    req = ROOT / requirements
    if not PYTHON.exists():
        print(f"creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    marker = VENV / f".installed-{req.stem}"
    wanted = requirements_digest(req)
    if not marker.exists() or marker.read_text() != wanted:
        print(f"installing {requirements} (first run takes a few minutes)", flush=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-r", str(req)], check=True)
        marker.write_text(wanted)
    return PYTHON
