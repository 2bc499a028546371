"""The package layout (issue 12): no import cycles, and each package imports only what its docstring allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pipeline

ROOT = Path(pipeline.__file__).parent
JOBS = {"infer", "evaluate", "train", "nli_train", "compare", "headroom", "bench", "bench_scale", "bench_kernels",
        "make_data", "story_sweep"}
# package -> packages it may import (besides itself); "predict" is the orchestrator, jobs are the top-level modules
ALLOWED = {
    "core": set(),
    "learn": {"core"},
    "stages": {"core", "learn.finetune"},
    "measure": {"core", "stages"},
    "predict": {"core", "stages"},
}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every pipeline module imported anywhere in the file (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if (ROOT.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                          or (ROOT.parent / candidate.replace(".", "/")).is_dir() else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pipeline.")}
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in ROOT.rglob("*.py")}


def test_no_import_cycles():
    g = graph()
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in g.get(node, ()):
            if nxt not in g:
                continue
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]) \
                if nxt in stack else f"import cycle through {nxt}"
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in sorted(g):
        if module not in state:
            visit(module, [module])


def _area(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] in JOBS:
        return "job"
    return parts[1]


def test_packages_import_only_what_their_docstrings_allow():
    bad = []
    for module, deps in graph().items():
        area = _area(module)
        if area in ("job", "root"):
            continue
        for dep in deps:
            dep_area = _area(dep)
            if dep_area == area or dep == "pipeline":
                continue
            allowed = ALLOWED[area]
            if dep_area not in allowed and not any(dep.startswith(f"pipeline.{a}") for a in allowed):
                bad.append(f"{module} imports {dep}")
    assert not bad, "\n".join(sorted(bad))


def test_nothing_below_the_orchestrator_imports_it_or_a_job():
    offenders = [f"{m} imports {d}" for m, deps in graph().items() if _area(m) not in ("job", "root")
                 for d in deps if d == "pipeline.predict" or _area(d) == "job"]
    assert not offenders, offenders


def test_every_package_has_a_docstring():
    for init in ROOT.rglob("__init__.py"):
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"


def test_the_checker_sees_a_cycle(tmp_path, monkeypatch):
    """The cycle check can fail: a graph with a -> b -> a is reported."""
    cyclic = {"pipeline.a": {"pipeline.b"}, "pipeline.b": {"pipeline.a"}}
    monkeypatch.setattr(__import__(__name__), "graph", lambda: cyclic)
    try:
        test_no_import_cycles()
    except AssertionError as err:
        assert "cycle" in str(err)
    else:
        raise AssertionError("cycle not detected")
