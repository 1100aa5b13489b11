"""The layers of DESIGN.md hold: a package imports only from packages below it, so there are no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

# Lower number = lower layer. Packages on one level may not import each other either. intents sits
# above consent: the action server checks consent itself before it reads any case data.
LAYERS = {"storage": 0, "consent": 1, "intents": 2, "bot": 3, "webhooks": 4, "dashboard": 4}
# The app factory registers the edges' blueprints from inside create_app (Flask's tutorial pattern).
ALLOWED = {("bot/app.py", "webhooks"), ("bot/app.py", "dashboard")}
# Test doubles stand beside the app, not in it: they import no app package and no app package imports
# them; only tests/ and bench/ may.
TEST_DOUBLES = ("twilio_fake",)


def imports_of(path: Path, among: set[str] | None = None) -> set[str]:
    """Top-level packages this module imports (anywhere in it, functions included), among `among`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & (set(LAYERS) if among is None else among)


def test_no_package_imports_one_above_or_beside_it() -> None:
    violations = []
    checked = 0
    for package, level in LAYERS.items():
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            checked += 1
            relative = path.relative_to(ROOT).as_posix()
            for target in imports_of(path) - {package}:
                if LAYERS[target] >= level and (relative, target) not in ALLOWED:
                    violations.append(f"{relative} imports {target}")
    assert checked > 20
    assert violations == []


def test_the_checker_sees_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from webhooks import sms\n    import bot.app\n")
    assert imports_of(module) == {"webhooks", "bot"}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


def test_test_doubles_stay_outside_the_app() -> None:
    app_packages = set(LAYERS)
    violations = []
    for double in TEST_DOUBLES:
        files = python_files(double)
        assert len(files) > 5, f"{double} has moved: update TEST_DOUBLES"
        for path in files:
            for target in imports_of(path, among=app_packages):
                violations.append(f"{path.relative_to(ROOT).as_posix()} imports {target}")
    for package in LAYERS:
        for path in python_files(package):
            for target in imports_of(path, among=set(TEST_DOUBLES)):
                violations.append(f"{path.relative_to(ROOT).as_posix()} imports {target}")
    assert violations == []


def test_the_checker_sees_imports_of_a_test_double(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import twilio_fake.client\nfrom storage import models\n")
    assert imports_of(module, among=set(TEST_DOUBLES)) == {"twilio_fake"}
    assert imports_of(module, among=set(LAYERS)) == {"storage"}
