"""Datadesk's entry point.

``flask --app app ...`` imports this module and finds ``app``.

``python3 app.py`` is the one command a newcomer runs: it makes a virtual environment in .venv,
installs requirements.txt, installs the front-end packages of package-lock.json with npm and copies
what the pages serve into static/vendor/, migrates the embedded SQLite database, loads the demo
data, prints the demo log-ins and serves on http://127.0.0.1:5000. ``python3 app.py test`` sets up
the same way, installs Chromium for the browser tests where it is missing, and runs the whole test
suite in parallel (extra arguments go to pytest).
"""
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"

# Front-end packages (package.json, pinned with their integrity hashes in package-lock.json) are
# served from our own static files, no CDN: these are the files copied out of node_modules, to
# their place under static/vendor/. The registry is npm's own configuration, never written here.
VENDOR_FILES = {"chart.js/dist/chart.umd.js": "chartjs/chart.umd.js",
                "chart.js/LICENSE.md": "chartjs/LICENSE.md",
                # The @mention autocomplete of comments: GitHub's <text-expander> element, whose
                # bundle carries its two dependencies (combobox-nav, dom-input-range).
                "@github/text-expander-element/dist/bundle.js": "text-expander/bundle.js",
                "@github/text-expander-element/LICENSE": "text-expander/LICENSE",
                "@github/combobox-nav/LICENSE": "text-expander/LICENSE.combobox-nav",
                "dom-input-range/LICENSE": "text-expander/LICENSE.dom-input-range"}
NPM_CI = ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier"]
NPM_STAMP = ".datadesk-lock.sha256"  # in node_modules: the package-lock.json it was installed from


def _in_venv():
    return Path(sys.prefix).resolve() == VENV.resolve()


def _ensure_environment():
    """Create .venv and install requirements.txt when it changed; then re-run inside .venv."""
    requirements = ROOT / "requirements.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if not VENV_PYTHON.exists():
        print("Creating a virtual environment in .venv ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not STAMP.exists() or STAMP.read_text() != digest:
        print("Installing requirements (first run only) ...", flush=True)
        subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
                       check=True)
        subprocess.run([str(VENV_PYTHON), "-m", "pip", "install", "--quiet", "-r",
                        str(requirements)], check=True)
        STAMP.write_text(digest)
    if not _in_venv():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(ROOT / "app.py"), *sys.argv[1:]])


def ensure_frontend(root=ROOT, npm=None):
    """Install package-lock.json's packages in node_modules; copy VENDOR_FILES to static/vendor/.

    npm runs only when node_modules was not installed from this very package-lock.json (its hash
    is stamped in node_modules), so set-up works offline once done. ``npm ci`` refuses a package
    that does not match the lock's integrity hash and runs no package scripts. ``npm`` is the
    executable (default: the one on PATH). Return True when npm ran.
    """
    digest = hashlib.sha256((root / "package-lock.json").read_bytes()).hexdigest()
    modules = root / "node_modules"
    stamp = modules / NPM_STAMP
    installed = stamp.exists() and stamp.read_text() == digest
    if not installed:
        _npm_ci(root, npm or shutil.which("npm"))
        modules.mkdir(exist_ok=True)
        stamp.write_text(digest)
    for source, target in VENDOR_FILES.items():
        source, target = modules / source, root / "static" / "vendor" / target
        if not source.exists():
            sys.exit(f"npm installed no {source.relative_to(root)}: package.json and VENDOR_FILES "
                     "in app.py disagree.")
        if not target.exists() or target.read_bytes() != source.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return not installed


def _npm_ci(root, npm):
    if npm is None:
        sys.exit("Datadesk's set-up needs npm (Node.js 20 or newer) to install its front-end "
                 "packages (Chart.js, listed in package.json).\nInstall Node.js with npm (Debian: "
                 "`sudo apt-get install -y npm`), then run this again.")
    print("Installing the front-end packages with npm (first run only) ...", flush=True)
    if subprocess.run([npm, *NPM_CI], cwd=root).returncode != 0:
        sys.exit("npm could not install the front-end packages (its message is above). Check the "
                 "network, or npm's registry and proxy settings (`npm config list`), then run "
                 "this again.")


def pytest_args(args, addopts=""):
    """Return the test command's pytest arguments: ``args``, on a worker per core (``-n auto``)
    unless they or ``addopts`` (PYTEST_ADDOPTS) choose (``-n 3``, ``-n 0``, ``-p no:xdist``)."""
    tokens = [*shlex.split(addopts), *args]
    for token, following in zip(tokens, [*tokens[1:], ""]):
        workers = token.startswith("--numprocesses") or (token.startswith("-n")
                                                          and not token.startswith("--"))
        if workers or token == "-pno:xdist" or (token, following) == ("-p", "no:xdist"):
            return list(args)
    return ["-n", "auto", *args]


def _flask(*args):
    subprocess.run([str(VENV_PYTHON), "-m", "flask", "--app", "app", *args], check=True, cwd=ROOT)


def _ensure_chromium():
    """The browser tests drive Debian's Chromium; install it when it is missing and we may."""
    if shutil.which("chromium") or os.environ.get("CHROMIUM_PATH"):
        return
    if os.geteuid() != 0:
        sys.exit("The browser tests need Chromium: run `sudo apt-get install -y chromium` once.")
    print("Installing Chromium for the browser tests (first run only) ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def main(argv):
    """Set up, then run the demo server or the test suite."""
    _ensure_environment()
    ensure_frontend()
    if argv[:1] == ["test"]:
        _ensure_chromium()
        result = subprocess.run([str(VENV_PYTHON), "-m", "pytest",
                                 *pytest_args(argv[1:], os.environ.get("PYTEST_ADDOPTS", ""))],
                                cwd=ROOT)
        sys.exit(result.returncode)
    _flask("db", "upgrade")
    _flask("seed-demo")
    print("\nDatadesk is running at http://127.0.0.1:5000 (Ctrl+C stops it)\n", flush=True)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), "-m", "flask", "--app", "app", "run",
                                "--host", "127.0.0.1", "--port", "5000"])


if __name__ == "__main__":
    main(sys.argv[1:])
else:
    import gc

    from tickets import create_app

    app = create_app()
    # What exists now (the app, its mappers and compiled templates) lives as long as the
    # process: the collector need not walk it again on every full collection (66 ms at a
    # time under load, on the 125,000 objects of a started worker).
    gc.freeze()
