"""`caudal new`: the scaffold installs into a fresh venv against this caudal checkout (not a
package index), passes its own tests, ruff and mypy (what its CI runs), and is listed."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from caudal import ConfigurationError
from caudal.scaffold import Names, create

REPO = Path(__file__).resolve().parents[2]


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    assert Path(found).exists() or shutil.which(found), "uv is needed (make bootstraps it)"
    return found


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAUDAL_", "VIRTUAL_ENV", "UV_PROJECT"))
    }
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_names_are_derived_from_the_connector_name() -> None:
    names = Names.of("acme.mx")
    assert (names.distribution, names.package, names.cls, names.env) == (
        "caudal-acme-mx",
        "caudal_acme_mx",
        "AcmeMxConnector",
        "CAUDAL_ACME_MX_",
    )
    for bad in ("Acme.mx", "acme..mx", "1acme", "acme mx", ""):
        with pytest.raises(ConfigurationError):
            Names.of(bad)


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    create("acme.mx", tmp_path)
    with pytest.raises(ConfigurationError, match="already exists"):
        create("acme.mx", tmp_path)


@pytest.mark.slow
def test_scaffold_passes_its_own_tests_in_a_fresh_venv(tmp_path: Path) -> None:
    made = run(
        sys.executable, "-m", "caudal", "new", "acme.mx", "--dir", str(tmp_path), cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    project = tmp_path / "caudal-acme-mx"
    uv = _uv()
    venv = run(uv, "venv", "-q", str(project / ".venv"), "--python", sys.executable, cwd=project)
    assert venv.returncode == 0, venv.stderr
    python = str(project / ".venv" / "bin" / "python")
    installed = run(
        uv,
        "pip",
        "install",
        "-q",
        "-p",
        python,
        "-e",
        str(REPO / "core"),
        "-e",
        ".[testing]",
        cwd=project,
    )
    assert installed.returncode == 0, installed.stderr
    # The test dependencies were installed against the checkout: caudal is this repository's.
    where = run(python, "-c", "import caudal; print(caudal.__file__)", cwd=project)
    assert where.stdout.strip() == str(REPO / "core" / "src" / "caudal" / "__init__.py")
    for check in (
        ("ruff", "check", "."),
        ("ruff", "format", "--check", "."),
        ("mypy", "src", "tests"),
    ):
        linted = run(python, "-m", *check, cwd=project)
        assert linted.returncode == 0, f"{' '.join(check)}: {linted.stdout[-3000:]}"
    tested = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert " passed" in tested.stdout and "failed" not in tested.stdout
    listed = run(str(project / ".venv" / "bin" / "caudal"), "list", "--json", cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert '"name": "acme.mx"' in listed.stdout
