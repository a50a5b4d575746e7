"""The Lambda layer as `sam build` makes it (no container): the storywink package with its data and
the runtime dependencies as arm64 wheels, but not the local stack, a dev tool."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "layers" / "storywink" / "storywink"
VENV_BIN = Path(sys.executable).parent
ELF_MAGIC = b"\x7fELF"
EM_AARCH64 = 183  # the ELF header's e_machine for arm64
# python3.11 on Lambda runs on Amazon Linux 2: a compiled library needing a newer glibc fails to load there.
LAMBDA_GLIBC = (2, 26)
GLIBC_SYMBOL_VERSION = re.compile(rb"GLIBC_(\d+)\.(\d+)")


def _sam_binary() -> str | None:
    beside_python = VENV_BIN / "sam"
    return str(beside_python) if beside_python.is_file() else shutil.which("sam")


def _build_path() -> str:
    """The layer's Makefile runs python3.11 from PATH: this environment's when it is 3.11."""
    return os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])


pytestmark = [
    pytest.mark.skipif(_sam_binary() is None, reason="the sam CLI is not installed"),
    pytest.mark.skipif(
        shutil.which("python3.11", path=_build_path()) is None,
        reason="the layer is built with python3.11, the functions' runtime",
    ),
]


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Builds StorywinkLayer into a temporary directory (about a minute: pip fetches the wheels)."""
    work = tmp_path_factory.mktemp("sam")
    env = {**os.environ, "PATH": _build_path(), "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [
            _sam_binary(), "build", "StorywinkLayer",
            "--template-file", str(ROOT / "template.yaml"),
            "--build-dir", str(work / "build"),
            "--cache-dir", str(work / "cache"),
            "--no-cached",
        ],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return work / "build" / "StorywinkLayer" / "python"


def _files(package: Path) -> set[str]:
    return {
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(layer: Path) -> dict[str, str]:
    installed = {}
    for metadata in layer.glob("*.dist-info/METADATA"):
        headers = dict(re.findall(r"^(Name|Version): (.+)$", metadata.read_text(errors="replace"), re.MULTILINE))
        installed[_canonical(headers["Name"])] = headers["Version"]
    return installed


def test_the_layer_holds_no_local_stack(layer):
    assert not (layer / "storywink" / "local").exists()
    assert [path for path in _files(layer / "storywink") if path.startswith("local/")] == []


def test_the_layer_holds_the_rest_of_the_package_as_it_is_in_the_source(layer):
    expected = {path for path in _files(SOURCE) if not path.startswith("local/")}

    assert _files(layer / "storywink") == expected


def test_the_layer_keeps_the_package_data(layer):
    package = layer / "storywink"

    assert {path.name for path in (package / "assets" / "fonts").glob("*.ttf")} == {
        path.name for path in (SOURCE / "assets" / "fonts").glob("*.ttf")
    }
    assert (package / "api" / "static" / "queues.html").is_file()
    assert (package / "db" / "migrations" / "script.py.mako").is_file()
    assert (package / "db" / "certificates" / "rds-ca-bundle.pem").read_bytes() == (
        SOURCE / "db" / "certificates" / "rds-ca-bundle.pem"
    ).read_bytes()
    assert list((package / "db" / "migrations" / "versions").glob("*.py"))


def test_the_layer_holds_no_bytecode(layer):
    assert list((layer / "storywink").rglob("__pycache__")) == []


def test_the_layer_has_every_runtime_dependency_at_its_pinned_version(layer):
    requirements = (ROOT / "layers" / "storywink" / "requirements.txt").read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", requirements, re.MULTILINE))
    installed = _installed(layer)

    assert {name: installed.get(_canonical(name)) for name in pinned} == pinned


def test_the_layer_compiled_code_is_for_arm64(layer):
    machines = {}
    for path in layer.rglob("*.so*"):
        with path.open("rb") as binary:
            header = binary.read(20)
        if header.startswith(ELF_MAGIC):
            machines[path.relative_to(layer).as_posix()] = int.from_bytes(header[18:20], "little")

    assert machines, "no compiled dependency in the layer"
    assert {path: machine for path, machine in machines.items() if machine != EM_AARCH64} == {}


def test_the_layer_compiled_code_needs_no_newer_glibc_than_the_runtime_has(layer):
    """The versioned glibc symbols each library asks for (its .dynstr) against Amazon Linux 2's glibc."""
    newest = {}
    for path in layer.rglob("*.so*"):
        if path.is_file() and path.read_bytes()[:4] == ELF_MAGIC:
            versions = [tuple(map(int, found)) for found in GLIBC_SYMBOL_VERSION.findall(path.read_bytes())]
            if versions:
                newest[path.relative_to(layer).as_posix()] = max(versions)

    assert newest, "no compiled dependency asks for glibc"
    assert {path: version for path, version in newest.items() if version > LAMBDA_GLIBC} == {}


def test_every_module_of_the_layer_package_imports_without_the_local_stack(layer, tmp_path):
    # The layer's own (arm64) dependencies cannot load here: import its storywink against this
    # environment's copies of the same versions instead.
    (tmp_path / "storywink").symlink_to(layer / "storywink")
    script = """
import importlib, pkgutil, sys
import storywink
assert storywink.__file__.startswith(sys.argv[1]), storywink.__file__
for module in pkgutil.walk_packages(storywink.__path__, "storywink."):
    if module.name != "storywink.db.migrations.env":  # runs only inside alembic
        importlib.import_module(module.name)
print(sorted(name for name in sys.modules if name.startswith("storywink.local")))
"""
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
