"""Which parts of the shared package may import which, read from the source files themselves.

Each rule is one test. Imports are found with ast, so a lazy import inside a function counts
as much as one at the top of a module, and relative imports are resolved to full names.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "layers" / "storywink" / "storywink"


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
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")
