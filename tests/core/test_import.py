"""`import caudal` stays light: no CLI or server libraries, no plugin, no HTTP stack."""

import json
import subprocess
import sys

HEAVY = ["typer", "rich", "uvicorn", "starlette", "httpx", "hypothesis", "stevedore", "iso4217"]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_import_caudal_loads_no_heavy_module_and_no_plugin() -> None:
    loaded = _modules_after("import caudal")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert not {m for m in loaded if m.startswith(("caudal_khipu", "caudal_belvo"))}


def test_names_and_about_import_no_plugin() -> None:
    loaded = _modules_after(
        "import caudal\nfor n in caudal.registry.names(): caudal.registry.about(n)"
    )
    assert not {m for m in loaded if m.startswith(("caudal_khipu", "caudal_belvo"))}
    assert "httpx" not in loaded


def test_get_imports_exactly_one_plugin() -> None:
    loaded = _modules_after(
        "import caudal\ncaudal.registry.get('belvo.br', secret_id='i', secret_password='p')"
    )
    assert "caudal_belvo" in loaded
    assert not {m for m in loaded if m.startswith("caudal_khipu")}
