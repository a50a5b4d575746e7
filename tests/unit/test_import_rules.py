"""Which parts of the shared package may import which, read from the source files themselves.

Each rule is one test. Imports are found with ast, so a lazy import inside a function counts
as much as one at the top of a module, and relative imports are resolved to full names.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "layers" / "storywink" / "storywink"
HANDLERS = ROOT / "functions"


def production_modules() -> list[Path]:
    """The package as the Lambda layer ships it (no local stack)."""
    return sorted(path for path in PACKAGE.rglob("*.py") if not _within(_module_name(path), "storywink.local"))


def modules_of(package: str) -> list[Path]:
    return [path for path in production_modules() if _within(_module_name(path), package)]


def violations(sources: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{_module_name(source)} imports {name}"
        for source in sources
        for name in sorted(imported_modules(source))
        if any(_within(name, package) for package in forbidden)
    ]


def test_only_the_settings_read_the_environment():
    # config.py validates every variable once per container; everything else is handed its settings.
    readers = [
        str(source.relative_to(ROOT))
        for source in [*production_modules(), *sorted(HANDLERS.glob("*.py"))]
        if source != PACKAGE / "config.py" and _reads_environment(source)
    ]
    assert readers == []


def test_the_domain_imports_nothing_of_ours_but_the_domain():
    ours = [
        f"{_module_name(source)} imports {name}"
        for source in modules_of("storywink.domain")
        for name in sorted(imported_modules(source))
        if _within(name, "storywink") and not _within(name, "storywink.domain")
    ]
    assert ours == []


def test_services_import_no_outer_layer():
    assert violations(modules_of("storywink.services"), ("storywink.realtime", "storywink.api", "storywink.pipeline", "storywink.local")) == []


def test_pipeline_steps_know_nothing_of_fault_injection():
    assert violations(modules_of("storywink.pipeline"), ("storywink.faults",)) == []


def test_no_production_module_imports_the_local_stack():
    handlers = sorted(HANDLERS.glob("*.py"))
    assert violations([*production_modules(), *handlers], ("storywink.local",)) == []


ENVIRONMENT_READERS = {"environ", "getenv", "environb"}


def test_no_production_module_checks_with_assert():
    """`python -O` strips asserts: a check the service relies on is an explicit `if ... raise`."""
    sources = [*production_modules(), *sorted(HANDLERS.glob("*.py"))]
    asserts = [
        f"{source.relative_to(ROOT)}:{node.lineno}"
        for source in sources
        for node in ast.walk(ast.parse(source.read_text(), str(source)))
        if isinstance(node, ast.Assert)
    ]
    assert asserts == []


def _reads_environment(source: Path) -> bool:
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_READERS
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ENVIRONMENT_READERS for alias in node.names)
        ):
            return True
    return False


def test_no_provider_package_imports_another_provider_package():
    # Providers are interchangeable: what two of them share lives in storywink.imaging (or
    # another shared module), never in one provider for the other to borrow.
    packages = {_module_name(path): path for path in _provider_packages()}
    assert {"storywink.providers.offline", "storywink.providers.openai"} <= packages.keys()
    crossings = [
        f"{_module_name(source)} imports {name}"
        for package, folder in packages.items()
        for source in sorted(folder.rglob("*.py"))
        for name in sorted(imported_modules(source))
        if any(_within(name, other) for other in packages if other != package)
    ]
    assert crossings == []


def imported_modules(source: Path) -> set[str]:
    """Every module ``source`` imports, by full name; ``from a import b`` yields a and a.b."""
    module = _module_name(source)
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _provider_packages() -> list[Path]:
    return sorted(path.parent for path in (PACKAGE / "providers").glob("*/__init__.py"))


def _module_name(path: Path) -> str:
    if path.parent == HANDLERS:
        return path.stem
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")
