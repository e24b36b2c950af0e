"""The CI complexity check (.ci/complexity.py): it names each function above the limit,
methods and nested functions included, and fails; simple code passes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "complexity.py"


def _branchy(name: str, branches: int, indent: str = "") -> str:
    """A function of complexity ``branches + 1``."""
    body = "".join(
        f"{indent}    if x == {i}:\n{indent}        return {i}\n" for i in range(branches)
    )
    return f"{indent}def {name}(x):\n{body}{indent}    return -1\n"


def check(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "mod.py"
    path.write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args, str(path)], capture_output=True, text=True
    )


def test_a_complex_function_fails_the_check(tmp_path):
    result = check(tmp_path, _branchy("simple", 14) + _branchy("tangled", 15))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith("mod.py:31 tangled 16")  # after 30 lines of simple()
    assert lines[1] == "1 function(s) above complexity 15: split them up"
    assert "simple" not in result.stdout


def test_methods_and_nested_functions_are_checked(tmp_path):
    nested = "def outer():\n" + _branchy("inner", 16, indent="    ") + "    return inner\n"
    method = "class Thing:\n" + _branchy("method", 17, indent="    ")
    result = check(tmp_path, nested + method)
    assert result.returncode == 1
    assert " inner 17" in result.stdout
    assert " Thing.method 18" in result.stdout
    assert result.stdout.count("Thing.method") == 1  # listed once, not per radon block


def test_simple_code_passes_and_the_limit_is_an_option(tmp_path):
    source = _branchy("simple", 14)  # complexity 15: at the limit is fine
    passed = check(tmp_path, source)
    assert passed.returncode == 0
    assert "no function above complexity 15" in passed.stdout
    assert check(tmp_path, source, "--max", "10").returncode == 1
