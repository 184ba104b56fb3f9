"""The layering of dmh/, read from its source with `ast`: every import, at module level or
inside a function, relative or absolute, becomes an edge of the graph of dmh modules.

Rules: no import cycle; the presentation layer (`dmh.report`, `dmh.book`) reaches neither
the runner nor the training jobs, and imports no training function; `dmh.core` stands
alone; only `dmh/core/paths.py` reads the environment; no module is over 300 lines."""
import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dmh

PACKAGE = Path(dmh.__file__).resolve().parent
MAX_LINES = 300
TRAINING_MODULES = {"dmh.experiments.runner", "dmh.experiments.jobs", "dmh.experiments.shallow_jobs"}
TRAINING_NAMES = {"fit", "train_run"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@dataclass(frozen=True)
class Import:
    module: str  # the dmh module imported from
    name: str | None  # the name imported from it (`from module import name`), None for a module
    line: int


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(target: str) -> str | None:
    """The dmh module a dotted name lives in (`dmh.run.fit.fit` -> `dmh.run.fit`)."""
    while target and target not in modules():
        target = target.rpartition(".")[0]
    return target or None


@cache
def imports(module: str) -> tuple[Import, ...]:
    """Every import of a dmh module by `module`."""
    path = modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [Import(m, None, node.lineno) for a in node.names if (m := _resolve(a.name))]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            if not (m := _resolve(base)):
                continue
            out.append(Import(m, None, node.lineno))  # runs `base` (a package's __init__)
            for a in node.names:
                full = f"{base}.{a.name}"
                if full in modules():  # `from dmh.run import fit`: the submodule
                    out.append(Import(full, None, node.lineno))
                else:
                    out.append(Import(m, a.name, node.lineno))
    return tuple(out)


@cache
def graph() -> dict[str, set[str]]:
    return {m: {i.module for i in imports(m)} - {m} for m in modules()}


@cache
def paths_from(start: str) -> dict[str, tuple[str, ...]]:
    """Every module `start` reaches through one or more imports, with one import path to it."""
    seen: dict[str, tuple[str, ...]] = {}
    todo = [(start, (start,))]
    while todo:
        m, path = todo.pop()
        for n in sorted(graph()[m]):
            if n not in seen:
                seen[n] = path + (n,)
                todo.append((n, seen[n]))
    return seen


def _layer(prefix: str) -> list[str]:
    return [m for m in modules() if m == prefix or m.startswith(prefix + ".")]


def test_the_graph_sees_every_kind_of_import():
    assert len(modules()) > 50 and "dmh.report.frames" in modules()
    g = graph()
    assert "dmh.methods" in g["dmh.run.fit"]  # from ..methods import create_method
    assert "dmh.core.atomic" in g["dmh.run.checkpoint"]  # two levels up
    assert "dmh.methods.builders" in g["dmh.methods"]  # from . import builders
    assert "dmh.experiments.runner" in g["dmh.cli.grids"]  # inside a function
    assert "dmh.core.paths" in g["dmh.run.store"]  # relative, two levels up, names listed
    assert ("dmh.experiments.jobs", "train_run") in {(i.module, i.name) for i in imports("dmh.cli.runs")}
    # what the presentation rule allows: a name of dmh.run.fit other than the training loop
    assert ("dmh.run.fit", "protocol_parts") in {(i.module, i.name) for i in imports("dmh.report.unseen")}
    assert paths_from("dmh.experiments.runner")["dmh.run.fit"][-2:] in {
        ("dmh.experiments.jobs", "dmh.run.fit"), ("dmh.run.examples", "dmh.run.fit")}  # the first found


def test_no_import_cycle():
    cyclic = sorted(m for m in modules() if m in paths_from(m))
    assert not cyclic, "import cycles:\n" + "\n".join(
        " -> ".join(paths_from(m)[m]) for m in cyclic)


def test_presentation_layer_never_trains():
    reached = [f"{m} reaches {t}: {' -> '.join(paths_from(m)[t])}"
               for m in _layer("dmh.report") + _layer("dmh.book")
               for t in sorted(TRAINING_MODULES & paths_from(m).keys())]
    assert not reached, "report/book reach the training code:\n" + "\n".join(reached)
    named = [f"{m}:{i.line} imports {i.name} from {i.module}"
             for m in _layer("dmh.report") + _layer("dmh.book")
             for i in imports(m) if i.name in TRAINING_NAMES]
    assert not named, "report/book import a training function:\n" + "\n".join(named)


def test_core_imports_no_other_dmh_module():
    core = set(_layer("dmh.core"))
    assert core, "no dmh.core modules found"
    out = [f"{m}:{i.line} imports {i.module}" for m in sorted(core) for i in imports(m)
           if i.module not in core]
    assert not out, "dmh.core imports the layers above it:\n" + "\n".join(out)


def test_only_paths_reads_the_environment():
    allowed = PACKAGE / "core" / "paths.py"
    readers = [f"{p.relative_to(PACKAGE.parent)}:{n}" for p in modules().values() if p != allowed
               for n, line in enumerate(p.read_text().splitlines(), 1)
               if "os.environ" in line or "getenv" in line]
    assert not readers, "environment read outside dmh/core/paths.py:\n" + "\n".join(readers)


def test_no_module_over_300_lines():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in modules().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
