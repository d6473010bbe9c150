"""The shape of the package: files per folder, longest functions, import cycles, imports inside functions.

    .venv/bin/python benchmarks/structure.py [--src src/optassign] [--top 12]

Function length counts code lines without the docstring (as the architecture notes measure
it); cycles are strongly connected groups of modules in the graph of package imports made at
module level (imports under `if TYPE_CHECKING:` are left out, as they never run)."""

from __future__ import annotations

import argparse
import ast
from collections import Counter, defaultdict
from pathlib import Path

from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = here.split(".") if is_package else here.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.Module, here: str, is_package: bool, root: str, known: set[str]):
    """(target module, inside a function?) for every import of a package module."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((a.name, in_function) for a in child.names if a.name.split(".")[0] == root)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(child, here, is_package)
                if target.split(".")[0] != root:
                    continue
                for alias in child.names:  # `from pkg import module` imports the module
                    sub = f"{target}.{alias.name}"
                    found.append((sub if sub in known else target, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def function_lengths(tree: ast.Module, here: str):
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
            ):
                body = body[1:]
            if not body:
                continue
            lines = body[-1].end_lineno - body[0].lineno + 1
            out.append((lines, f"{here}.{node.name}"))
    return out


def _cycles(edges: dict[str, set[str]], order: list[str], root: str) -> list[list[str]]:
    """Strongly connected groups of more than one module (a package importing its own
    submodules is not a cycle)."""
    index = {n: i for i, n in enumerate(order)}
    pairs = [
        (index[a], index[b]) for a, bs in edges.items() for b in bs if a != root and not b.startswith(a + ".")
    ]
    rows, cols = [p[0] for p in pairs], [p[1] for p in pairs]
    graph = csr_matrix(([1] * len(pairs), (rows, cols)), shape=(len(order), len(order)))
    _, labels = connected_components(graph, directed=True, connection="strong")
    groups = [sorted(order[i] for i in range(len(order)) if labels[i] == g) for g in set(labels)]
    return sorted((g for g in groups if len(g) > 1), key=len, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src", type=Path, default=Path(__file__).resolve().parent.parent / "src" / "optassign"
    )
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    src: Path = args.src
    root = src.name
    files = sorted(src.rglob("*.py"))
    names = {module_name(p, src): p for p in files}
    known = set(names)
    edges: dict[str, set[str]] = defaultdict(set)
    inside: list[tuple[str, str]] = []
    lengths = []
    code_lines = 0
    for name, path in names.items():
        text = path.read_text()
        code_lines += sum(1 for line in text.splitlines() if line.strip())
        tree = ast.parse(text)
        for target, in_function in imports(tree, name, path.name == "__init__.py", root, known):
            if target not in known or target == name:
                continue
            if in_function:
                inside.append((name, target))
            else:
                edges[name].add(target)
        lengths += function_lengths(tree, name)

    per_folder = Counter(p.parent.relative_to(src.parent).as_posix() for p in files)
    print(f"{len(files)} files, {code_lines:,} non-blank lines")
    for folder, n in sorted(per_folder.items()):
        print(f"  {folder + '/':<32} {n:>3} files")

    all_edges = {a: set(bs) for a, bs in edges.items()}
    for a, b in inside:
        all_edges.setdefault(a, set()).add(b)
    for label, graph_edges in (("at module level", edges), ("counting imports inside functions", all_edges)):
        cycles = _cycles(graph_edges, sorted(known), root)
        print(f"import cycles {label}: {len(cycles)} ({sum(map(len, cycles))} modules)")
        for g in cycles:
            print("  " + " <-> ".join(m.removeprefix(root + ".") for m in g))
    print(f"package imports inside functions: {len(inside)}")
    for a, b in sorted(inside):
        print(f"  {a.removeprefix(root + '.')} -> {b.removeprefix(root + '.')}")

    lengths.sort(reverse=True)
    long = sum(1 for n, _ in lengths if n > 40)
    print(
        f"functions: {len(lengths)}, over 40 code lines: {long}"
        f" ({1000 * long / code_lines:.1f} per 1,000 lines)"
    )
    for n, name in lengths[: args.top]:
        print(f"  {n:>4}  {name.removeprefix(root + '.')}")


if __name__ == "__main__":
    main()
