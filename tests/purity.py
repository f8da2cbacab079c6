"""Check that a domain module stays pure: what top-level modules does a source file import?"""
import ast
from pathlib import Path


def imported_top_level_modules(path):
    """Return the top-level names a module imports; fail on relative (package) imports."""
    tree = ast.parse(Path(path).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{Path(path).name} must not import from the tickets package"
            imported.add(node.module.split(".")[0])
    return imported
