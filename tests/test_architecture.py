"""The layers hold: `lint-imports` (./dev test) checks .importlinter's contract; these tests
keep the contract itself whole, and keep imports where the contract can see them."""

import ast
import configparser
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOT_CODE = {"tests", "bench", "docs", "static", "templates", "node_modules", "var", "artifacts"}


def _packages() -> set[str]:
    return {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_CODE and not path.parent.name.startswith(".")
    }


def _contract() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config


def test_every_package_of_the_project_is_in_a_layer():
    config = _contract()
    roots = set(config["importlinter"]["root_packages"].split())
    layers = config["importlinter:contract:layers"]["layers"].split()
    in_layers = {name for layer in layers for name in layer.split("|") if name.strip()} - {"|"}

    assert roots == _packages()
    assert in_layers == roots


def test_no_import_hides_inside_a_function_but_an_apps_ready():
    """An import inside a function is how a cycle hides from a reader: the only ones allowed
    are in apps.py, where Django's models cannot be imported at the top."""
    hidden = []
    for package in sorted(_packages()):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts or path.name == "apps.py":
                continue
            tree = ast.parse(path.read_text())
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                hidden += [
                    f"{path.relative_to(ROOT)}:{node.lineno}"
                    for node in ast.walk(function)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
    assert hidden == []
