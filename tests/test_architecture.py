"""The shape of the code (README, Architecture): imports go one way, with no cycle among the
modules of tickets/ (imports inside functions count), and no domain module imports forms or
views."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tickets"
WEB_LAYER = ("tickets.views", "tickets.forms")


def _modules():
    """{dotted name: path} of every module of the tickets package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name, path, known):
    """The modules of ``known`` that module ``name`` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            out |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in out if module in known and module not in (name, "tickets")}


def _graph():
    known = _modules()
    return {name: _imports(name, path, known) for name, path in known.items() if name != "tickets"}


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan), and self-loops."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_import_map_has_no_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_domain_modules_never_import_forms_or_views():
    # The REST API is a web layer like the pages: it fills the pages' forms from its bodies.
    web_callers = ("tickets.views", "tickets.forms", "tickets.cli", "tickets.api")
    offenders = {name: sorted(module for module in imported if module.startswith(WEB_LAYER))
                 for name, imported in _graph().items() if not name.startswith(web_callers)}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_imports_inside_functions_count(tmp_path):
    module = tmp_path / "wip.py"
    module.write_text("def check():\n    from . import lifecycle\n    from .models import User\n")
    known = {"tickets.lifecycle", "tickets.models", "tickets.wip"}
    assert _imports("tickets.wip", module, known) == {"tickets.lifecycle", "tickets.models"}
