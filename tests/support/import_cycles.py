"""Import cycles among a set of modules of a grimp graph (used by the structure guards)."""
from __future__ import annotations


def find_cycles(graph, modules: set[str]) -> list[list[str]]:
    """Each cycle found by a depth-first walk, as the list of its modules in import order."""
    edges = {m: {i for i in graph.find_modules_directly_imported_by(m) if i in modules} for m in modules}
    # a package importing its own submodules (re-exports in __init__) is not a cycle to break
    for m in modules:
        edges[m] = {i for i in edges[m] if not i.startswith(m + ".")}
    cycles, state = [], {}

    def visit(m, path):
        state[m] = "open"
        for n in sorted(edges[m]):
            if state.get(n) == "open":
                cycles.append(path[path.index(n):])
            elif n not in state:
                visit(n, path + [n])
        state[m] = "done"

    for m in sorted(modules):
        if m not in state:
            visit(m, [m])
    return cycles
