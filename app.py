"""Datadesk's entry point.

``flask --app app ...`` imports this module and finds ``app``.

``python3 app.py`` is the one command a newcomer runs: it makes a virtual environment in .venv,
installs requirements.txt, fetches Chart.js from the npm registry into static/vendor/ (checked
against a pinned integrity hash), migrates the embedded SQLite database, loads the demo data,
prints the demo log-ins and serves on http://127.0.0.1:5000. ``python3 app.py test`` sets up the
same way, installs Chromium for the browser tests where it is missing, and runs the whole test suite
(extra arguments go to pytest).
"""
import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"

# Chart.js draws the /reports charts. It is served from our own static files (no CDN); the
# tarball is the npm registry's, checked against the integrity the registry publishes for it.
CHARTJS_VERSION = "4.6.1"
CHARTJS_URL = f"https://registry.npmjs.org/chart.js/-/chart.js-{CHARTJS_VERSION}.tgz"
CHARTJS_INTEGRITY = ("sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3"
                     "HneSANFNYtRi61g==")
CHARTJS_DIR = ROOT / "static" / "vendor" / "chartjs"
CHARTJS_FILES = {"package/dist/chart.umd.js": "chart.umd.js", "package/LICENSE.md": "LICENSE.md"}


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


def ensure_chartjs(target=CHARTJS_DIR, url=CHARTJS_URL, integrity=CHARTJS_INTEGRITY,
                   version=CHARTJS_VERSION):
    """Put Chart.js's browser build and licence in ``target`` unless this version is there.

    Downloads the npm tarball, refuses it unless its SHA-512 matches ``integrity``, and extracts
    only the files it needs (so no path in the archive can write elsewhere). Standard library
    only, like the rest of this set-up.
    """
    stamp = target / "VERSION"
    if stamp.exists() and stamp.read_text().strip() == version and all(
            (target / name).exists() for name in CHARTJS_FILES.values()):
        return False
    print(f"Fetching Chart.js {version} from the npm registry (first run only) ...", flush=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            tarball = response.read()
    except (urllib.error.URLError, OSError) as problem:
        sys.exit(f"Could not download Chart.js from {url}: {problem}.\n"
                 "The reports page needs it. Check the network (or a proxy: HTTPS_PROXY), "
                 "then run this again.")
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        sys.exit(f"Chart.js from {url} does not match its pinned integrity "
                 f"({integrity}; got {algorithm}-{actual}). Nothing was installed.")
    contents = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, name in CHARTJS_FILES.items():
            try:
                contents[name] = archive.extractfile(member).read()
            except (KeyError, AttributeError):
                sys.exit(f"The Chart.js tarball has no {member}. Nothing was installed.")
    target.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        (target / name).write_bytes(content)
    stamp.write_text(version + "\n")
    return True


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
    ensure_chartjs()
    if argv[:1] == ["test"]:
        _ensure_chromium()
        result = subprocess.run([str(VENV_PYTHON), "-m", "pytest", *argv[1:]], cwd=ROOT)
        sys.exit(result.returncode)
    _flask("db", "upgrade")
    _flask("seed-demo")
    print("\nDatadesk is running at http://127.0.0.1:5000 (Ctrl+C stops it)\n", flush=True)
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), "-m", "flask", "--app", "app", "run",
                                "--host", "127.0.0.1", "--port", "5000"])


if __name__ == "__main__":
    main(sys.argv[1:])
else:
    from tickets import create_app

    app = create_app()
