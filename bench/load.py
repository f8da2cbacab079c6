"""Load test: gunicorn with 4 workers, N simulated users reading and writing through the forms.

    DATABASE_URL=... .venv/bin/python -m bench.load [--users 50] [--seconds 60] [--workers 4]
        [--reads 0.7] [--requests 100000]

Serves the app as production would (``DATADESK_ENV=production``, a random secret key, the
log-in rate limits raised so 50 users may log in from one address) with ``gunicorn -w 4`` on the
database in ``DATABASE_URL`` (default: bench.pages' SQLite file of ``--requests``; the data
must have been built by ``python -m bench.pages --requests N``). Then ``--users`` threads, each
with its own cookies and a plain ``http.client`` connection, log in through the log-in form
(as the lead, the analysts and requesters of the data) and loop for ``--seconds``: 70 % reads
(request lists, the queue, the backlog, triage, request pages, chart JSON) and 30 % writes
through the real forms with their CSRF tokens (a comment on a request; an analyst blocking or
unblocking one of their own requests in progress, so no two users move the same request; a
requester submitting a new request through the intake form). A write is timed from its POST to
the answer (the redirect), the form's GET before it is not counted.

It prints throughput, the median, p95 and p99 latency per kind of request as the client saw it
and as gunicorn's access log saw it (time in the worker), the errors (any answer other than
the expected 200 or redirect, and any exception: must be 0, and no 5xx), and the CPU the workers
and this process used. The last line is one JSON object.

What bounds the p95. A request's latency in the client is the time it waits for a free worker
(in gunicorn's listen queue) plus its time in a worker (gunicorn's access log: ``in_worker``).
``workers_busy_share`` is the share of the run the workers spent on requests (1.0: always busy,
so new requests queue); ``workers_cpu_s`` the CPU they used, and ``workers_cpu_wait_s`` the
time they were ready to run but no CPU was free (the kernel's schedstat). Writes on SQLite also
wait for its single writer (``busy_timeout``): compare the writes' time in the worker with the
reads'.

Measured at issue 15's stop 25 (100,000 requests, a million events, 50 users, 60 s, on a quiet
2-core machine, the data restored to the same copy before each run): SQLite 68-75 requests/s,
0 errors, no 5xx, p95 629-737 ms, reads in the workers a median of 31-34 ms, 25-28 ms of CPU a
request; PostgreSQL 50-54 requests/s, p95 870-943 ms, the workers at 26-29 ms of CPU a request
and the database server using most of the other core. Both are bounded by CPU, not by SQLite's
single writer (writes are the fastest requests in the workers): the workers are busy 97 % of
the run and wait for a free core about as long as they run. Users do not pause between requests
(``--think`` adds a pause), so by Little's law a p95 of 1 s for 50 users needs about 50
requests/s: at most ~40 ms of CPU per request on 2 free cores, the app's and the database's
together. With ``REPORT_CACHE_URL`` set (charts kept in Redis for every worker, as the README's
production setup does) the figures are within the same range.
"""
import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench.common import PASSWORD
from tickets.reports.stats import percentile

ROOT = Path(__file__).resolve().parent.parent
READS = ("list", "queue", "request", "chart")
WRITES = ("comment", "transition", "new_request")
CHARTS = ("cumulative_flow", "backlog_by_team", "throughput", "lead_time", "ageing_wip")


# --- Forms ------------------------------------------------------------------------------------

class FormParser(HTMLParser):
    """The forms of a page: [{"action", "method", "fields": [(name, value)], "text": [names of
    textareas], "radios": {name: [values]}}]."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action", ""), "method": attrs.get(
                "method", "get").lower(), "fields": {}, "text": [], "radios": {}}
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "name" not in attrs and tag != "option":
            return
        name = attrs.get("name")
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind == "radio":
                form["radios"].setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    form["fields"][name] = attrs.get("value", "on")
            elif kind == "checkbox":
                if "checked" in attrs:
                    form["fields"][name] = attrs.get("value", "y")
            elif kind not in ("submit", "button", "file", "image", "reset"):
                form["fields"][name] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            form["fields"][name] = ""
            form["text"].append(name)
        elif tag == "select":
            self._select = name
            form["fields"].setdefault(name, None)
        elif tag == "option" and self._select:
            if form["fields"].get(self._select) is None or "selected" in attrs:
                form["fields"][self._select] = attrs.get("value", "")

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def forms_of(html):
    """The forms of ``html`` (see FormParser)."""
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def form_with(html, pattern, page):
    """The first form posting to an address that matches ``pattern`` (a regular expression) on
    ``html``, the page at ``page`` (where a form without an action posts): (action, fields,
    names of its text areas), with its radios on their first choice; None when there is
    none."""
    for form in forms_of(html):
        form["action"] = form["action"] or page
        if form["method"] == "post" and re.search(pattern, form["action"]):
            fields = {name: value for name, value in form["fields"].items() if value is not None}
            for name, values in form["radios"].items():
                fields.setdefault(name, values[0])
            return form["action"], fields, form["text"]
    return None


# --- One simulated user -----------------------------------------------------------------------

class Browser:
    """One user's cookies over one HTTP connection (reopened when the server closes it)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.cookies = {}
        self.connection = None

    def _send(self, method, path, body=None):
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "bench.load"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.connection.close()
                self.connection = None
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        if response.headers.get("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, response.headers.get("Location"), data.decode("utf-8", "replace")

    def get(self, path):
        return self._send("GET", path)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def post(self, path, fields):
        return self._send("POST", path, urlencode(fields, doseq=True))

    def log_in(self, email):
        status, _, html = self.get("/login")
        action, fields, _ = form_with(html, r"login", "/login")
        fields.update(email=email, password=PASSWORD)
        status, location, _ = self.post(urlsplit(action).path or "/login", fields)
        if status != 302 or "login" in (location or ""):
            raise RuntimeError(f"log-in of {email} failed: HTTP {status}")


class User(threading.Thread):
    """A simulated user: logs in, then reads and writes until the deadline."""

    def __init__(self, number, role, email, plan, host, port, until, reads, record, seed,
                 think=0.0):
        super().__init__(daemon=True)
        self.think = think
        self.number, self.role, self.email, self.plan = number, role, email, plan
        self.browser = Browser(host, port)
        self.until, self.reads, self.record = until, reads, record
        self.rng = random.Random(seed)
        self.logged_in = False

    def run(self):
        try:
            if not self.logged_in:
                self.browser.log_in(self.email)
        except Exception as error:  # noqa: BLE001 - every failure is counted, none stops the run
            self.record("login", 0, None, repr(error))
            return
        while time.monotonic() < self.until:
            try:
                if self.rng.random() < self.reads:
                    self.read()
                else:
                    self.write()
            except Exception as error:  # noqa: BLE001
                self.record("exception", 0, None, repr(error))
            if self.think:
                time.sleep(self.rng.expovariate(1 / self.think))

    def _timed(self, kind, method, path, fields=None, expect=(200,)):
        started = time.perf_counter()
        if method == "GET":
            status, location, html = self.browser.get(path)
        else:
            status, location, html = self.browser.post(path, fields)
        elapsed = (time.perf_counter() - started) * 1000
        error = None if status in expect else f"HTTP {status} on {method} {path}"
        self.record(kind, elapsed, status, error)
        return status, location, html

    def read(self):
        kind = self.rng.choice(READS)
        plan = self.plan
        if kind == "list":
            path = self.rng.choice(plan["lists"])
        elif kind == "queue":
            path = self.rng.choice(plan["queues"])
        elif kind == "request":
            path = f"/requests/{self.rng.choice(plan['visible'])}"
        else:
            path = self.rng.choice(plan["charts"])
        self._timed(kind, "GET", path)

    def write(self):
        choices = ["comment"] if self.plan["open"] else []
        if self.plan.get("own"):
            choices.append("transition")
        if self.role == "requester":
            choices.append("new_request")
        if choices:
            getattr(self, "_" + self.rng.choice(choices))()
        else:
            self.read()

    def _comment(self):
        request_id = self.rng.choice(self.plan["open"])
        _, _, html = self.browser.get(f"/requests/{request_id}")
        # A requester whose answer the team waits for has the reply box instead (a write too).
        found = form_with(html, rf"/requests/{request_id}/(comments|reply)$", "")
        if found is None:
            self.record("comment", 0, None, f"no comment form on #{request_id}")
            return
        action, fields, texts = found
        for name in texts:  # "text", or "reply-text" in the reply box
            fields[name] = f"Any news? (load test, user {self.number})"
        self._timed("comment", "POST", action, fields, expect=(302, 303))

    def _transition(self):
        request_id = self.rng.choice(self.plan["own"])
        _, _, html = self.browser.get(f"/requests/{request_id}")
        found = form_with(html, rf"/requests/{request_id}/actions/(block|unblock)$", "")
        if found is None:
            self.record("transition", 0, None, f"no block/unblock form on #{request_id}")
            return
        action, fields, texts = found
        for name in texts:
            fields[name] = "Waiting for the warehouse load (load test)."
        self._timed("transition", "POST", action, fields, expect=(302, 303))

    def _new_request(self):
        _, _, html = self.browser.get("/requests/new")
        action, fields, texts = form_with(html, r"/requests/new", "/requests/new")
        for name in texts:
            if not fields.get(name, "").strip():
                fields[name] = "Weekly numbers by region, for the planning meeting."
        fields["title"] = f"Load test request {self.number}-{self.rng.randrange(10 ** 6)}"
        fields.pop("deadline", None)
        fields["no_deadline"] = "y"
        fields["watchers"] = ""
        status, _, page = self._timed("new_request", "POST", action, fields,
                                      expect=(302, 303, 200))
        if status == 200:
            # The intake held the request to show similar ones first: submit it as it is.
            found = form_with(page, r"/requests/new", "/requests/new")
            if found is None:
                self.record("new_request", 0, None, "no intake form after the hold")
                return
            action, fields, _ = found
            fields["no_deadline"] = "y"
            self._timed("new_request", "POST", action, fields, expect=(302, 303))


# --- The server -------------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(url, workers, port, access_log, error_log):
    """Start gunicorn serving the app on ``url``; return the process once it answers."""
    env = dict(os.environ, DATABASE_URL=url, DATADESK_ENV="production",
               SECRET_KEY=secrets.token_hex(32), DATADESK_ALLOW_SQLITE="1",
               BASE_URL=f"http://127.0.0.1:{port}", SESSION_COOKIE_SECURE="0",
               RATELIMIT_LOGIN="100000 per minute", RATELIMIT_LOGIN_ACCOUNT="100000 per minute")
    with error_log.open("wb") as errors:  # gunicorn keeps its own copy of the file
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b",
             f"127.0.0.1:{port}", "--timeout", "300", "--access-logfile", str(access_log),
             "--access-logformat", "%(m)s %(U)s %(s)s %(D)s", "app:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
    try:
        return _wait_for(process, port, error_log)
    except BaseException:
        stop(process)
        raise


def stop(process):
    """Stop gunicorn (its whole process group) and wait for it."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for(process, port, error_log):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn stopped: " + error_log.read_text()[-2000:])
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                connection.request("GET", "/login")
                if connection.getresponse().status == 200:
                    return process
            finally:
                connection.close()
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within two minutes")


def worker_pids(master):
    """The pids of gunicorn's workers (the children of its master)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def cpu_seconds(pids):
    """(CPU seconds used, seconds spent ready to run but waiting for a CPU) by the processes
    ``pids`` so far, from the kernel's schedstat (both in nanoseconds there)."""
    used = waited = 0
    for pid in pids:
        try:
            running, waiting = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
        except OSError:
            continue
        used += int(running)
        waited += int(waiting)
    return used / 1e9, waited / 1e9


# --- Who does what ----------------------------------------------------------------------------

def plans(url, n_users, seed=5):
    """The users to simulate: [(role, email, plan)], about 30 % requesters, half analysts (each
    with their own requests in progress to block and unblock) and the rest leads."""
    from sqlalchemy import create_engine, select

    from tickets.models import OPEN_STATES, Request, User as Person, team_memberships

    rng = random.Random(seed)
    today = date.today()
    five = f"start={today - timedelta(days=1819)}&end={today}"
    year = f"start={today - timedelta(days=364)}&end={today}"
    charts = [f"/reports/{key}.json?{span}" for key in CHARTS for span in (year, five)]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            people = connection.execute(select(Person.id, Person.email, Person.role)
                                        .where(Person.is_active).order_by(Person.id)).all()
            visible = connection.execute(
                select(Request.id, Request.team_id, Request.state.in_(OPEN_STATES))
                .where(Request.is_confidential.is_(False))
                .order_by(Request.id.desc()).limit(20000)).all()
            working = connection.execute(
                select(Request.id, Request.assignee_id).where(
                    Request.state.in_(("in_progress", "blocked")),
                    Request.is_confidential.is_(False))).all()
            memberships = connection.execute(select(team_memberships.c.user_id,
                                                    team_memberships.c.team_id)).all()
    finally:
        engine.dispose()
    by_role = {role: [p for p in people if p[2] == role]
               for role in ("lead", "analyst", "requester")}
    by_team, open_by_team = {}, {}
    for request_id, team_id, is_open in visible:
        by_team.setdefault(team_id, []).append(request_id)
        if is_open:  # closed requests take no comments
            open_by_team.setdefault(team_id, []).append(request_id)
    teams_of = {}
    for user_id, team_id in memberships:
        teams_of.setdefault(user_id, []).append(team_id)
    users = []
    n_requesters = round(n_users * 0.3)
    n_analysts = min(len(by_role["analyst"]), (n_users - n_requesters) // 2 + 1)
    n_leads = n_users - n_requesters - n_analysts
    all_ids = [request_id for ids in by_team.values() for request_id in ids]
    all_open = [request_id for ids in open_by_team.values() for request_id in ids]

    def seen_by(person):
        teams = teams_of.get(person[0], [])
        return ([r for t in teams for r in by_team.get(t, [])][:2000],
                [r for t in teams for r in open_by_team.get(t, [])][:2000])

    for person in rng.sample(by_role["requester"], n_requesters):
        visible, commentable = seen_by(person)
        users.append(("requester", person[1], {
            "lists": ["/requests/mine", "/requests/team"], "queues": ["/requests/mine"],
            "visible": visible, "open": commentable, "charts": ["/requests/mine"]}))
    for person in by_role["analyst"][:n_analysts]:
        visible, commentable = seen_by(person)
        own = [r for r, assignee in working if assignee == person[0]]
        users.append(("analyst", person[1], {
            "lists": ["/requests/team", "/requests/mine"], "queues": ["/queue", "/triage"],
            "visible": visible, "open": commentable, "charts": charts, "own": own}))
    for i in range(n_leads):
        person = by_role["lead"][i % len(by_role["lead"])]
        users.append(("lead", person[1], {
            "lists": ["/requests/all", "/requests/all?state=any&sort=deadline"],
            "queues": ["/backlog", "/queue", "/triage"], "visible": all_ids[:5000],
            "open": all_open[:5000], "charts": charts}))
    return users


# --- The run ------------------------------------------------------------------------------------

def summarise(samples, kinds):
    """{kind: {count, median_ms, p95_ms, p99_ms}} of the timed samples."""
    out = {}
    for kind in kinds:
        times = sorted(ms for k, ms in samples if k == kind)
        if times:
            out[kind] = {"count": len(times), "median_ms": round(percentile(times, 0.5), 1),
                         "p95_ms": round(percentile(times, 0.95), 1),
                         "p99_ms": round(percentile(times, 0.99), 1)}
    return out


def server_times(access_log):
    """{"read": [ms], "write": [ms]} from gunicorn's access log (time in the worker)."""
    found = {"read": [], "write": []}
    for line in Path(access_log).read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3].isdigit():
            found["write" if parts[0] == "POST" else "read"].append(int(parts[3]) / 1000)
    return found


def run(url, users=50, seconds=60, workers=4, reads=0.7, think=0.0):
    """Start gunicorn on ``url``, run the users for ``seconds``; return the figures."""
    who = plans(url, users)
    port = free_port()
    access_log = Path(f"/tmp/bench_load_{port}.log")
    error_log = Path(f"/tmp/bench_load_{port}.err")
    server = start_gunicorn(url, workers, port, access_log, error_log)
    samples, errors = [], []
    lock = threading.Lock()

    def record(kind, ms, status, error):
        with lock:
            if error:
                errors.append((kind, status, error))
            else:
                samples.append((kind, ms))

    threads = []
    try:
        # Everyone logs in first (not timed: password hashing is slow on purpose), then all
        # start together.
        until = time.monotonic() + 3600
        for number, (role, email, plan) in enumerate(who):
            threads.append(User(number, role, email, plan, "127.0.0.1", port, until, reads,
                                record, seed=number, think=think))
        for thread in threads:
            thread.browser.log_in(thread.email)
            thread.logged_in = True
        access_log.write_text("")
        pids = worker_pids(server.pid)  # all booted by now: every user has logged in
        (cpu_before, wait_before), own_before = cpu_seconds(pids), time.process_time()
        started = time.monotonic()
        for thread in threads:
            thread.until = started + seconds
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 300)
        elapsed = time.monotonic() - started
        cpu_after, wait_after = cpu_seconds(pids)
        cpu_used, cpu_waited = cpu_after - cpu_before, wait_after - wait_before
        own_used = time.process_time() - own_before
        five_xx = sum(1 for line in access_log.read_text().splitlines()
                      if len(line.split()) == 4 and line.split()[2].startswith("5"))
    finally:
        for thread in threads:
            thread.browser.close()
        stop(server)
    in_worker = server_times(access_log)
    access_log.unlink(missing_ok=True)
    error_log.unlink(missing_ok=True)
    by_kind = summarise(samples, READS + WRITES)
    all_reads = sorted(ms for kind, ms in samples if kind in READS)
    all_writes = sorted(ms for kind, ms in samples if kind in WRITES)
    figures = {**by_kind}
    for name, times, server in (("reads", all_reads, in_worker["read"]),
                                ("writes", all_writes, in_worker["write"])):
        server = sorted(server)
        if times:
            figures[name] = {
                "count": len(times), "median_ms": round(percentile(times, 0.5), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "p99_ms": round(percentile(times, 0.99), 1),
                "in_worker_median_ms": round(percentile(server, 0.5), 1) if server else None,
                "in_worker_p95_ms": round(percentile(server, 0.95), 1) if server else None}
    everything = sorted(ms for _, ms in samples)
    figures["_meta"] = {
        "database": url.split(":")[0].split("+")[0], "users": users, "workers": workers,
        "think_s": think,
        "seconds": round(elapsed, 1), "requests": len(samples),
        "throughput_per_s": round(len(samples) / elapsed, 1),
        "p95_ms": round(percentile(everything, 0.95), 1) if everything else None,
        "errors": len(errors), "http_5xx": five_xx,
        "error_examples": sorted({error for _, _, error in errors})[:5],
        "workers_cpu_s": round(cpu_used, 1),
        "workers_cpu_share": round(cpu_used / elapsed, 2),
        # Time the workers were ready to run but no CPU was free (the machine's other work
        # and this load generator), against the time requests spent in them.
        "workers_cpu_wait_s": round(cpu_waited, 1),
        "in_workers_s": round((sum(in_worker["read"]) + sum(in_worker["write"])) / 1000, 1),
        "workers_busy_share": round((sum(in_worker["read"]) + sum(in_worker["write"]))
                                    / 1000 / (workers * elapsed), 2),
        "load_generator_cpu_s": round(own_used, 1), "cpus": os.cpu_count(),
        "load_avg": round(os.getloadavg()[0], 1)}
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reads", type=float, default=0.7)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause of a user between requests, in seconds (default none)")
    parser.add_argument("--requests", type=int, default=100000,
                        help="the size bench.pages built (picks its SQLite file by default)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:////tmp/bench_pages/pages-{args.requests}.db"
    figures = run(url, args.users, args.seconds, args.workers, args.reads, args.think)
    meta = figures["_meta"]
    print(f"{meta['users']} users, {meta['workers']} workers, {meta['seconds']} s on "
          f"{meta['database']}: {meta['requests']} requests, {meta['throughput_per_s']}/s, "
          f"{meta['errors']} errors, {meta['http_5xx']} answers 5xx")
    print(f"{'kind':<12} {'count':>6} {'median ms':>10} {'p95 ms':>9} {'p99 ms':>9} "
          f"{'in worker median/p95':>22}")
    for kind, found in figures.items():
        if kind == "_meta":
            continue
        worker = (f"{found['in_worker_median_ms']}/{found['in_worker_p95_ms']}"
                  if "in_worker_median_ms" in found else "")
        print(f"{kind:<12} {found['count']:>6} {found['median_ms']:>10} {found['p95_ms']:>9} "
              f"{found['p99_ms']:>9} {worker:>22}")
    print(f"workers used {meta['workers_cpu_s']} CPU s ({meta['workers_cpu_share']} cores of "
          f"{meta['cpus']}) and waited {meta['workers_cpu_wait_s']} s for a free CPU, of "
          f"{meta['in_workers_s']} s that requests spent in them (busy "
          f"{meta['workers_busy_share']:.0%} of the run); this load generator used "
          f"{meta['load_generator_cpu_s']} CPU s; load average {meta['load_avg']}")
    for example in meta["error_examples"]:
        print("error:", example)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
