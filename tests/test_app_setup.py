"""app.py's set-up: the front-end packages come from npm (package.json, pinned by integrity in
package-lock.json, no registry address in the repository) into node_modules, once, and what the
pages serve is copied to static/vendor/; the test command runs a worker per core."""
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Stands in for npm: logs its arguments and, like `npm ci`, replaces node_modules.
FAKE_NPM = '''#!{python}
import json, pathlib, shutil, sys
root = pathlib.Path.cwd()
with open(root / "npm-calls.log", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if {fails}:
    sys.exit("npm error code E404")
shutil.rmtree(root / "node_modules", ignore_errors=True)
chart = root / "node_modules" / "chart.js"
(chart / "dist").mkdir(parents=True)
lock = (root / "package-lock.json").read_text()
(chart / "dist" / "chart.umd.js").write_text("/* chart of " + lock + " */")
(chart / "LICENSE.md").write_text("MIT")
expander = root / "node_modules" / "@github" / "text-expander-element"
(expander / "dist").mkdir(parents=True)
(expander / "dist" / "bundle.js").write_text("/* expander */")
for package in (expander, root / "node_modules" / "@github" / "combobox-nav",
                root / "node_modules" / "dom-input-range"):
    package.mkdir(parents=True, exist_ok=True)
    (package / "LICENSE").write_text("MIT " + package.name)
'''


@pytest.fixture
def entry_point():
    """app.py, the set-up script (importing it builds a development app, which is harmless)."""
    return importlib.import_module("app")


@pytest.fixture
def clone(tmp_path):
    """A checkout with a package-lock.json, and fake npm executables beside it."""
    root = tmp_path / "clone"
    root.mkdir()
    (root / "package-lock.json").write_text('{"lockfileVersion": 3}')
    for name, fails in (("npm", False), ("failing-npm", True)):
        path = tmp_path / name
        path.write_text(FAKE_NPM.format(python=sys.executable, fails=fails))
        path.chmod(0o755)
    return root


def npm_calls(root):
    log = root / "npm-calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def served(root):
    """The files under static/vendor/ and their contents."""
    vendor = root / "static" / "vendor"
    return {str(p.relative_to(vendor)): p.read_text() for p in vendor.rglob("*") if p.is_file()}


def test_set_up_runs_npm_ci_once_and_copies_what_the_pages_serve(entry_point, clone):
    npm = str(clone.parent / "npm")
    assert entry_point.ensure_frontend(clone, npm) is True
    assert npm_calls(clone) == [entry_point.NPM_CI]
    assert served(clone) == {"chartjs/chart.umd.js": '/* chart of {"lockfileVersion": 3} */',
                             "chartjs/LICENSE.md": "MIT",
                             "text-expander/bundle.js": "/* expander */",
                             "text-expander/LICENSE": "MIT text-expander-element",
                             "text-expander/LICENSE.combobox-nav": "MIT combobox-nav",
                             "text-expander/LICENSE.dom-input-range": "MIT dom-input-range"}

    assert entry_point.ensure_frontend(clone, npm) is False
    assert len(npm_calls(clone)) == 1, "node_modules is there, from this lock: npm is not run"


def test_npm_ci_checks_the_lock_and_runs_no_package_scripts(entry_point):
    assert entry_point.NPM_CI[0] == "ci"
    assert {"--ignore-scripts", "--no-audit", "--no-fund"} <= set(entry_point.NPM_CI)


def test_static_vendor_is_copied_again_from_node_modules_without_npm(entry_point, clone):
    npm = str(clone.parent / "npm")
    entry_point.ensure_frontend(clone, npm)
    expected = served(clone)
    (clone / "static" / "vendor" / "chartjs" / "chart.umd.js").write_text("/* edited */")
    (clone / "static" / "vendor" / "chartjs" / "LICENSE.md").unlink()
    assert entry_point.ensure_frontend(clone, npm) is False
    assert served(clone) == expected
    assert len(npm_calls(clone)) == 1


def test_a_changed_lock_or_a_missing_node_modules_runs_npm_again(entry_point, clone):
    npm = str(clone.parent / "npm")
    entry_point.ensure_frontend(clone, npm)
    (clone / "package-lock.json").write_text('{"lockfileVersion": 3, "changed": true}')
    assert entry_point.ensure_frontend(clone, npm) is True
    assert "changed" in served(clone)["chartjs/chart.umd.js"]
    shutil.rmtree(clone / "node_modules")
    assert entry_point.ensure_frontend(clone, npm) is True
    assert len(npm_calls(clone)) == 3


def test_without_npm_set_up_says_what_to_install(entry_point, clone, monkeypatch):
    monkeypatch.setattr(entry_point.shutil, "which", lambda name: None)
    with pytest.raises(SystemExit, match=r"(?s)needs npm \(Node.js 20 or newer\).*Install"):
        entry_point.ensure_frontend(clone)
    assert not (clone / "static").exists()


def test_a_failed_npm_says_what_to_check_and_is_tried_again_next_time(entry_point, clone):
    with pytest.raises(SystemExit, match="npm could not install the front-end packages"):
        entry_point.ensure_frontend(clone, str(clone.parent / "failing-npm"))
    assert not (clone / "static").exists()
    assert entry_point.ensure_frontend(clone, str(clone.parent / "npm")) is True
    assert len(npm_calls(clone)) == 2


def test_the_pages_are_served_chartjs_and_the_mention_autocomplete_from_static_vendor(
        entry_point):
    # templates/reports/index.html loads vendor/chartjs/chart.umd.js (tests/test_reports_page.py);
    # the request page vendor/text-expander/bundle.js (tests/browser/test_conversation.py).
    assert entry_point.VENDOR_FILES == {
        "chart.js/dist/chart.umd.js": "chartjs/chart.umd.js",
        "chart.js/LICENSE.md": "chartjs/LICENSE.md",
        "@github/text-expander-element/dist/bundle.js": "text-expander/bundle.js",
        "@github/text-expander-element/LICENSE": "text-expander/LICENSE",
        "@github/combobox-nav/LICENSE": "text-expander/LICENSE.combobox-nav",
        "dom-input-range/LICENSE": "text-expander/LICENSE.dom-input-range"}


def test_the_lock_pins_every_package_by_integrity_and_names_no_registry():
    declared = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert sorted(declared) == ["@github/text-expander-element", "axe-core", "chart.js"]
    assert all(version[0].isdigit() for version in declared.values()), "exact versions only"
    assert lock["packages"][""]["dependencies"] == declared
    packages = {path: entry for path, entry in lock["packages"].items() if path}
    assert all(entry["integrity"].startswith("sha512-") for entry in packages.values())
    assert [path for path, entry in packages.items() if "resolved" in entry] == []
    chartjs = packages["node_modules/chart.js"]
    assert chartjs["version"] == declared["chart.js"] == "4.6.1"
    assert chartjs["integrity"].startswith("sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kax")


def test_no_tracked_file_names_a_package_registry():
    # Spelled in two parts, so that this file does not name them either.
    hosts = [("registry" + ".npmjs").encode(), ("https://" + "registry").encode()]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True,
                             capture_output=True).stdout.decode().split("\0")
    assert "package-lock.json" in tracked
    naming = [name for name in tracked if name and (ROOT / name).is_file()
              and any(host in (ROOT / name).read_bytes().lower() for host in hosts)]
    assert naming == []


@pytest.mark.parametrize(("args", "addopts", "expected"), [
    ([], "", ["-n", "auto"]),
    (["-k", "lifecycle", "-x"], "", ["-n", "auto", "-k", "lifecycle", "-x"]),
    (["-q", "-p", "no:cacheprovider"], "", ["-n", "auto", "-q", "-p", "no:cacheprovider"]),
    (["-n", "0"], "", ["-n", "0"]),
    (["-n3", "-x"], "", ["-n3", "-x"]),
    (["--numprocesses=2"], "", ["--numprocesses=2"]),
    (["-p", "no:xdist", "-x"], "", ["-p", "no:xdist", "-x"]),
    (["-pno:xdist"], "", ["-pno:xdist"]),
    (["-x"], "-n 0", ["-x"]),
    (["-x"], "-p no:xdist", ["-x"]),
])
def test_the_test_command_runs_a_worker_per_core_unless_told_otherwise(entry_point, args, addopts,
                                                                        expected):
    assert entry_point.pytest_args(args, addopts) == expected
