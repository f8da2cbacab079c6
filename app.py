"""Datadesk's entry point.

``flask --app app ...`` imports this module and finds ``app``.

``python3 app.py`` is the one command a newcomer runs: it makes a virtual environment in .venv,
installs requirements.txt, migrates the embedded SQLite database, loads the demo data, prints the
demo log-ins and serves on http://127.0.0.1:5000. ``python3 app.py test`` sets up the same way,
installs Chromium for the browser tests where it is missing, and runs the whole test suite
(extra arguments go to pytest).
"""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".requirements.sha256"


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
