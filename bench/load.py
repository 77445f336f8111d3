"""Classroom load test: many real browser sessions on the running app, each checking it only ever sees its own settings.

Run:  python bench/load.py [--sessions 20] [--rounds 4] [--think 1.0] [--behind-nginx [--backends 2]] [--json out.json]
      [--no-warmup] (sessions hit a cold server)  [--waves 3] (the class again, RSS per wave)  [--settle 130] (RSS
      after Streamlit's 2-minute reconnect window)  [--browser-nice 19] (chromium yields the CPU to the server)
      [--ramp 20] (the sessions open one after another over 20 s instead of all at once)

What it does, all on loopback, everything started here is stopped here:
1. starts `streamlit run app.py` (headless, free port, no file watcher), or --backends of them plus Debian's nginx
   configured from deploy/nginx.conf.template in a temporary directory (`nginx -t` first); waits for health;
2. launches one Debian chromium (Playwright, async API) and opens --sessions browser contexts AT ONCE (a context is
   a separate cookie jar and cache, so a separate student), or evenly spread over --ramp seconds; session i opens
   a deep link with its own settings (h, w, kh, seed all differ between sessions), then --rounds times: switches
   page through the sidebar navigation, then changes one setting (H or the random seed) in the sidebar, with a think
   pause of about --think seconds;
3. after every interaction it waits until the app is idle in the state that session expects - the URL query, the
   sidebar inputs, the geometry caption "x (1, 1, H, W)" (not on OWN_LAYER_PAGES), the current page in the navigation - and then checks
   that state again, plus: no Streamlit exception box, no uncaught page error. Another session's values anywhere
   (a "bleed") or an error is a failure, and any failure makes the exit code 1;
4. reports latency per interaction kind, twice (p50/p95/max): in the browser (action -> app idle in the expected
   state) and on the wire (the page's rerun request sent -> the script-finished message received, from Chrome's
   network events; these still wait for a busy renderer: one that does not read its websocket holds the network
   service back, and an open's request is sent only once the renderer has loaded the page); then on the server's own
   clock (bench/server_clock/sitecustomize.py, loaded by the app processes it starts): from reading each rerun
   request to queueing its reply and to writing it to the socket, and how late the event loop runs; the server's RSS
   (sum over the app processes, /proc) before, at peak and after the sessions closed, CPU seconds used by the
   server(s), by chromium and by the whole machine during the sessions (2 cores are shared with other work);
   behind nginx also how many sessions each backend served and whether every session stayed on one backend
   (from nginx's access log: the upstream of every request, keyed by the session's sticky cookie).

Latency is measured from just before the click/keypress until the moment the app went idle with the expected
state (the browser records that moment; the 250 ms quiet window used to be sure it is over is not counted).
On this 2-core machine the 20 headless browsers use most of the CPU (each one stands in for a student's own laptop);
--browser-nice runs their renderers at a lower priority so that the server's column shows what the server can do,
while the browser column then also carries the renderers' wait for CPU.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))
sys.path.insert(0, str(REPO))  # the catalog (convviz/stages.py) lists the pages
# the browser tests' harness: chromium set-up, page list and app server
from browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    launch_server,
    log_tail,
    stop_server,
    wait_healthy,
)
from browser_support import app_pages as catalog_pages  # noqa: E402

SERVER_CLOCK_DIR = REPO / "bench" / "server_clock"
NGINX = "/usr/sbin/nginx"
TEMPLATE = REPO / "deploy" / "nginx.conf.template"
# The load test's own window, not the browser tests' VIEWPORT: wide enough that the sidebar (controls, navigation) stays open.
SESSION_VIEWPORT = {"width": 1280, "height": 900}
INTERACTION_TIMEOUT = 90.0  # seconds one interaction may take before it counts as a failure
QUIET_MS = 250  # the app must stay idle in the expected state this long before an interaction counts as done
POLL_MS = 100  # browser-side polling of the expected state (the latency's resolution)
RECONNECT_TTL_S = 120  # Streamlit keeps a closed session this long for a reconnect
SPREAD_PROBES = 64  # cookie-less requests that show nginx spreads new browsers over every backend

# Pages whose geometry caption is a layer of their own (Methods & speed times its own sizes), not the sidebar's: their
# sidebar inputs, URL and navigation are still checked.
OWN_LAYER_PAGES = {"methods"}

# (nav title, url path) of the pages, in the sidebar's order; the first page is the app's root. From the catalog
# (convviz/stages.py), as the browser tests read it.
PAGE_LIST: list[tuple[str, str]] = []


def app_pages() -> list[tuple[str, str]]:
    """(nav title, url path) of every page, in the sidebar's order (browser_support's app_pages, swapped)."""
    return [(title, path) for path, title in catalog_pages()]


# ------------------------------------------------------------------------------------------ what a session expects

H_LABEL, W_LABEL, KH_LABEL, SEED_LABEL = "H (height)", "W (width)", "KH (kernel)", "random seed"
SEED_STEP = 1000  # PageUp / PageDown on the seed slider (0-9999): a tenth of its range


@dataclass
class Expected:
    """One session's settings (none at its default, so every one of them is in the URL) and the page it is on."""

    h: int
    w: int
    kh: int
    seed: int
    page: int  # index into PAGE_LIST

    def query(self) -> dict[str, str]:
        return {"h": str(self.h), "w": str(self.w), "kh": str(self.kh), "seed": str(self.seed)}

    def js(self) -> dict:
        """What the browser-side check compares with."""
        return {"query": self.query(),
                "inputs": {H_LABEL: str(self.h), W_LABEL: str(self.w), KH_LABEL: str(self.kh), SEED_LABEL: str(self.seed)},
                "caption": "" if PAGE_LIST[self.page][1] in OWN_LAYER_PAGES else f"x (1, 1, {self.h}, {self.w})",
                "nav": PAGE_LIST[self.page][0]}


def url_path(page: int) -> str:
    """The page's URL path: st.navigation serves the default (first) page at the root only; /shapes would open a
    'Page not found' dialog and fall back to the root."""
    return "" if page == 0 else PAGE_LIST[page][1]


def session_settings(i: int) -> Expected:
    """Distinct settings per session: the seed alone tells sessions apart; h, w and kh vary too (all valid
    geometries, none at the default 6/6/3/0, so the URL always carries all four)."""
    return Expected(h=7 + i % 20, w=7 + (7 * i + i // 20) % 20, kh=(2, 4, 5)[i % 3], seed=1 + i, page=i % len(PAGE_LIST))


# Installed in every page before the app's own scripts: counts script runs (stApp's data-test-script-state turning
# to "running"), so an interaction is only over once a run it caused has happened and finished.
INIT_JS = """
window.__cv = {runs: 0, idleSince: null};
new MutationObserver((muts) => {
  for (const m of muts) {
    if (m.target.dataset && m.target.dataset.testScriptState === 'running' && m.oldValue !== 'running') window.__cv.runs++;
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true});
"""

# What the page shows now (also used to report a mismatch).
SNAPSHOT_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const inputs = {};  // sliders: their range input's value; segmented controls: the selected segment's text
  for (const el of document.querySelectorAll('[data-testid="stSidebar"] input[aria-label]')) {
    inputs[el.getAttribute('aria-label')] = el.value;
  }
  for (const el of document.querySelectorAll('[data-testid="stSidebar"] [role="radiogroup"][aria-label]')) {
    const on = el.querySelector('[role="radio"][aria-checked="true"]');
    inputs[el.getAttribute('aria-label')] = on ? on.textContent.trim() : '';
  }
  const nav = document.querySelector('[data-testid="stSidebarNav"] a[aria-current="page"] [data-testid="stMarkdownContainer"]');
  return {
    connected: !!app && app.dataset.testConnectionState === 'CONNECTED',
    busy: !app || app.dataset.testScriptState !== 'notRunning'
      || !!document.querySelector('[data-testid="stStatusWidgetRunningIcon"]') || !!document.querySelector('[data-stale="true"]'),
    query: Object.fromEntries(new URLSearchParams(location.search)),
    inputs,
    captions: Array.from(document.querySelectorAll('[data-testid="stCaptionContainer"]'), (c) => c.textContent).join(' | '),
    nav: nav ? nav.innerText.trim() : '',
    title: document.querySelector('[data-testid="stMain"] h1')?.textContent ?? '',
    dialogs: Array.from(document.querySelectorAll('[role="dialog"]'), (d) => d.innerText.slice(0, 200)),
    exceptions: Array.from(document.querySelectorAll('[data-testid="stException"]'), (e) => e.innerText.slice(0, 300)),
    runs: window.__cv ? window.__cv.runs : -1,
    idleAge: window.__cv && window.__cv.idleSince !== null ? performance.now() - window.__cv.idleSince : null,
  };
}"""

# Polled in the browser: true once the app has been idle in the expected state for QUIET_MS (or shows an exception).
# The cheap part (stApp's two attributes) runs first, so the 20 polling tabs cost little while a run is under way.
DONE_JS = """([exp, oldTitle, quietMs]) => {
  const cv = window.__cv;
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testScriptState !== 'notRunning') { cv.idleSince = null; return false; }
  const snap = (""" + SNAPSHOT_JS + """)();
  if (snap.exceptions.length) return 'exception';
  const sameQuery = JSON.stringify(Object.entries(snap.query).sort()) === JSON.stringify(Object.entries(exp.query).sort());
  const sameInputs = Object.entries(exp.inputs).every(([k, v]) => snap.inputs[k] === v);
  const ok = snap.connected && !snap.busy && snap.title !== oldTitle && sameQuery && sameInputs
    && snap.captions.includes(exp.caption) && snap.nav === exp.nav;
  const now = performance.now();
  if (!ok) { cv.idleSince = null; return false; }
  if (cv.idleSince === null) cv.idleSince = now;
  return now - cv.idleSince >= quietMs ? 'ok' : false;
}"""


def mismatches(snap: dict, exp: Expected) -> list[str]:
    """Every way the page differs from what the session expects (empty: all checks pass). One entry per failed check."""
    e = exp.js()
    out = []
    if snap["query"] != e["query"]:
        out.append(f"URL query {snap['query']} != {e['query']}")
    for label, want in e["inputs"].items():
        if snap["inputs"].get(label) != want:
            out.append(f"sidebar {label!r} = {snap['inputs'].get(label)!r}, expected {want!r}")
    if e["caption"] not in snap["captions"]:
        out.append(f"geometry caption without {e['caption']!r}: {snap['captions'][:160]!r}")
    if snap["nav"] != e["nav"]:
        out.append(f"current page {snap['nav']!r}, expected {e['nav']!r}")
    if snap.get("dialogs"):
        out.append(f"a dialog is open: {snap['dialogs'][0]!r}")
    if snap["exceptions"]:
        out.append(f"Streamlit exception: {snap['exceptions'][0]!r}")
    return out


def seed_owners(snap: dict) -> set[int]:
    """The sessions whose seed the page shows (URL or sidebar): seeds are 1 + i or 1001 + i for session i."""
    owners = set()
    for raw in (snap["query"].get("seed"), snap["inputs"].get(SEED_LABEL)):
        with contextlib.suppress(TypeError, ValueError):
            if int(raw) >= 1:
                owners.add((int(raw) - 1) % SEED_STEP)
    return owners


CHECKS_PER_SNAPSHOT = 5 + 4 + 1  # query, nav, caption, exception box, dialog; 4 sidebar inputs; page errors


# ------------------------------------------------------------------------------------------ processes and /proc


def children_of() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = defaultdict(list)
    for d in os.listdir("/proc"):
        if d.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{d}/stat").read_text()
                kids[int(stat[stat.rindex(")") + 2:].split()[1])].append(int(d))
    return kids


def tree(pid: int, kids: dict[int, list[int]] | None = None) -> list[int]:
    """pid and all its descendants."""
    kids = children_of() if kids is None else kids
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of the processes (live ones; reaped children are in their parent's cutime)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        with contextlib.suppress(OSError, ValueError):
            stat = Path(f"/proc/{p}/stat").read_text()
            f = stat[stat.rindex(")") + 2:].split()
            total += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
    return total / tick


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (everything but idle and iowait)."""
    f = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(f[:8]) - f[3] - f[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Backends:
    """The app processes (and nginx) this run started, and where the browsers should go."""

    procs: list[subprocess.Popen]
    ports: list[int]
    base_url: str
    workdir: Path
    nginx: subprocess.Popen | None = None
    windows: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of each wave's sessions, monotonic

    def clock_logs(self) -> list[Path]:
        return [self.workdir / f"clock-{p}.log" for p in self.ports]

    @property
    def app_pids(self) -> list[int]:
        kids = children_of()
        return [p for proc in self.procs for p in tree(proc.pid, kids)]

    def stop(self) -> None:
        stop_server(*([self.nginx] if self.nginx else []), *self.procs)


def start_app(port: int, log: Path, clock: Path) -> subprocess.Popen:
    """`streamlit run app.py` on `port` with the server clock logging to `clock`, not waited for: returns the process."""
    # bench/server_clock/sitecustomize.py notes, on the server's own clock, when each rerun request was read and its
    # reply queued and written (SERVER_CLOCK_DIR first on the path: the app processes load that sitecustomize).
    env = {"CONVVIZ_SERVER_CLOCK": str(clock),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(SERVER_CLOCK_DIR), os.environ.get("PYTHONPATH")]))}
    return launch_server(log, port=port, env=env)[0]


def nginx_conf(prefix: Path, listen: str, ports: list[int]) -> str:
    """deploy/nginx.conf.template with its placeholders filled (workers drop to `nobody` when we are root)."""
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    servers = " ".join(f"server 127.0.0.1:{p};" for p in ports)
    text = TEMPLATE.read_text()
    for key, value in {"@@PREFIX@@": str(prefix), "@@LISTEN@@": listen, "@@UPSTREAM_SERVERS@@": servers, "@@USER_LINE@@": user}.items():
        text = text.replace(key, value)
    left = re.findall(r"@@[A-Z_]+@@", text)
    if left:
        raise RuntimeError(f"unfilled placeholders in {TEMPLATE}: {left}")
    return text


def start(backends: int, behind_nginx: bool) -> Backends:
    workdir = Path(tempfile.mkdtemp(prefix="convviz-load-"))
    workdir.chmod(0o755)  # nginx workers (user nobody) must reach their temp directories inside
    ports = [free_port() for _ in range(backends)]
    procs = [start_app(p, workdir / f"app-{p}.log", workdir / f"clock-{p}.log") for p in ports]
    b = Backends(procs, ports, f"http://127.0.0.1:{ports[0]}", workdir)
    try:
        for proc, p in zip(procs, ports):
            wait_healthy(f"http://127.0.0.1:{p}", proc, workdir / f"app-{p}.log")
        if behind_nginx:
            if not Path(NGINX).exists():
                raise RuntimeError(f"{NGINX} is missing: apt-get install -y nginx (Debian's package)")
            listen_port = free_port()
            conf = workdir / "nginx.conf"
            conf.write_text(nginx_conf(workdir, f"127.0.0.1:{listen_port}", ports))
            base = [NGINX, "-p", str(workdir), "-c", str(conf), "-e", str(workdir / "error.log")]
            check = subprocess.run(base + ["-t"], capture_output=True, text=True, timeout=30)
            if check.returncode != 0:
                raise RuntimeError(f"nginx -t rejected the configuration:\n{check.stderr}")
            log = workdir / "nginx.out"
            with open(log, "wb") as out:
                b.nginx = subprocess.Popen(base + ["-g", "daemon off;"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            b.base_url = f"http://127.0.0.1:{listen_port}"
            wait_healthy(b.base_url, b.nginx, workdir / "error.log")
    except BaseException:
        b.stop()
        raise
    return b


# ------------------------------------------------------------------------------------------ nginx's access log

LOG_RE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) .*upstream=(?P<up>\S+(?:, \S+)*) urt=.*? '
                    r'node="(?P<node>[^"]*)" key="(?P<key>[^"]*)"(?: cache=(?P<cache>\S+))?')


def read_access_log(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        m = LOG_RE.search(line)
        if m:
            out.append(m.groupdict())
    return out


def spread_probe(base_url: str, n: int) -> None:
    """n requests without a cookie, as n new browsers would make: nginx hashes each on a fresh random id."""
    for _ in range(n):
        with urllib.request.urlopen(f"{base_url}/_stcore/health?probe=1", timeout=10) as r:
            r.read()


# ------------------------------------------------------------------------------------------ one session


@dataclass
class Session:
    index: int
    exp: Expected
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    checks: int = 0
    failures: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    cookie: str = ""
    interactions: int = 0
    errors_reported: int = 0
    kinds: Counter = field(default_factory=Counter)
    ws_events: list[tuple[float, str]] = field(default_factory=list)  # (CDP network timestamp s, "rerun" | "finished")
    server: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # server response per kind


def ws_event(params: dict, sent: bool) -> str | None:
    """'rerun' for a rerun request the browser sent, 'finished' for a script-finished message it received (Streamlit's
    protobuf BackMsg / ForwardMsg in a binary websocket frame, as Chrome's network layer reports it), else None."""
    r = params.get("response") or {}
    if r.get("opcode") != 2 or (not sent and len(r.get("payloadData", "")) > 400):  # big frames are deltas: skip decoding
        return None
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg() if sent else ForwardMsg()
    try:
        msg.ParseFromString(base64.b64decode(r["payloadData"]))
    except Exception:  # not one of Streamlit's messages
        return None
    kind = msg.WhichOneof("type")
    return "rerun" if sent and kind == "rerun_script" else "finished" if not sent and kind == "script_finished" else None


async def watch_websocket(context, page, s: Session) -> None:
    """Log, with the network layer's own timestamps, when this page sent a rerun request and received a script-finished
    message: their difference is the server's response time, free of the time the (busy) renderer takes to notice."""
    cdp = await context.new_cdp_session(page)

    def on(params: dict, sent: bool) -> None:
        kind = ws_event(params, sent)
        if kind:
            s.ws_events.append((params["timestamp"], kind))

    cdp.on("Network.webSocketFrameSent", lambda p: on(p, True))
    cdp.on("Network.webSocketFrameReceived", lambda p: on(p, False))
    await cdp.send("Network.enable")


def server_response(events: list[tuple[float, str]]) -> float | None:
    """First rerun request -> last script-finished message after it, seconds (None if the window lacks either)."""
    starts = [t for t, k in events if k == "rerun"]
    ends = [t for t, k in events if k == "finished" and starts and t >= starts[0]]
    return ends[-1] - starts[0] if ends else None


async def wait_done(page, exp: Expected, old_title: str | None) -> tuple[str, dict]:
    """Wait until the app is idle in the expected state (and, after a page switch, shows another page title than
    `old_title`: the nav link changes at once, the page only after its run); ('ok'|'exception'|'timeout', snapshot)."""
    try:
        handle = await page.wait_for_function(DONE_JS, arg=[exp.js(), old_title, QUIET_MS], polling=POLL_MS,
                                              timeout=INTERACTION_TIMEOUT * 1000)
        outcome = await handle.json_value()
    except Exception as err:  # a timeout (or the page went away): report what the page shows instead
        outcome = "timeout" if "Timeout" in type(err).__name__ or "Timeout" in str(err) else f"error: {err}"
    try:
        snap = await page.evaluate(SNAPSHOT_JS)
    except Exception as err:
        snap = {"query": {}, "inputs": {}, "captions": "", "nav": "", "exceptions": [f"(page unreadable: {err})"],
                "runs": -1, "idleAge": None}
    return outcome, snap


async def interact(s: Session, page, kind: str, action, t0: float | None = None) -> None:
    """Run one action, wait for the expected state, record its latency and check the state (counting checks)."""
    # A setting change shows in the URL only once the run it caused has synced it; a page switch is over when the
    # new page's title replaced the old one. (The script-run counter is reported but not relied on: React may
    # batch a short run's "running" state away.)
    # idleSince is cleared here: left over from the last interaction's quiet window it would count the think pause as
    # idle time (an interaction done before the first poll then measured 0 s).
    before = {"runs": 0, "title": None} if kind == "open" else await page.evaluate(
        "() => { window.__cv.idleSince = null;"
        " return {runs: window.__cv.runs, title: document.querySelector('[data-testid=\"stMain\"] h1')?.textContent ?? ''}; }")
    start = time.monotonic() if t0 is None else t0
    mark = len(s.ws_events)
    await action()
    outcome, snap = await wait_done(page, s.exp, before["title"] if kind == "navigate" else None)
    end = time.monotonic()
    s.interactions += 1
    problems = mismatches(snap, s.exp)
    s.checks += CHECKS_PER_SNAPSHOT
    new_errors = s.page_errors[s.errors_reported:]
    s.errors_reported = len(s.page_errors)
    if outcome == "ok" and not problems and not new_errors:
        idle_age = (snap.get("idleAge") or 0.0) / 1000
        s.latencies[kind].append(max(0.0, end - start - idle_age))
        served = server_response(s.ws_events[mark:])
        if served is not None:
            s.server[kind].append(served)
        return
    # bleed: the page shows another session's seed (seeds are unique per session, see session_settings);
    # timeout: not done within INTERACTION_TIMEOUT (the snapshot may be a half-drawn page); wrong state: done, but
    # another URL/inputs/caption/page than this session's own; error: an exception box, a page error or a dialog;
    # slow: over INTERACTION_TIMEOUT but right in the end.
    wrong = [p for p in problems if not p.startswith(("Streamlit exception", "a dialog"))]
    owners = seed_owners(snap) - {s.index}
    kind = ("bleed" if owners else "timeout" if wrong and outcome == "timeout" else "wrong state" if wrong
            else "error" if problems or new_errors else "slow")
    s.kinds[kind] += 1
    if owners:
        problems.append(f"shows the seed of session(s) {sorted(owners)}")
    detail = "; ".join(problems + [f"page error: {e}" for e in new_errors]) or "(state looked right at the end)"
    detail += f" (script runs seen {snap.get('runs') - before['runs']}, {end - start:.1f} s)"
    s.failures.append(f"session {s.index} {kind} -> /{url_path(s.exp.page)} [{outcome}]: {detail}")


async def run_session(browser, base_url: str, s: Session, rounds: int, think: float, rng: random.Random,
                      start_gate: asyncio.Event, delay: float = 0.0) -> None:
    context = await browser.new_context(viewport=SESSION_VIEWPORT)
    context.set_default_timeout(INTERACTION_TIMEOUT * 1000)
    try:
        await context.add_init_script(INIT_JS)
        page = await context.new_page()
        page.on("pageerror", lambda err: s.page_errors.append(str(err)))
        await watch_websocket(context, page, s)
        await start_gate.wait()  # every session opens at the same moment, as a class does when told "open the link"
        await asyncio.sleep(delay)  # --ramp: or one after another, evenly spread over that many seconds
        path = url_path(s.exp.page)
        url = f"{base_url}/{path}?" + "&".join(f"{k}={v}" for k, v in s.exp.query().items())
        await interact(s, page, "open", lambda: page.goto(url))
        for r in range(rounds):
            if s.failures:
                break  # the state is unknown after a failure: stop this session (the failure is reported)
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            s.exp.page = (s.exp.page + 1) % len(PAGE_LIST)
            title = PAGE_LIST[s.exp.page][0]
            link = page.locator('[data-testid="stSidebarNav"] a').filter(
                has=page.locator('[data-testid="stMarkdownContainer"]', has_text=re.compile(rf"^{re.escape(title)}$")))
            await interact(s, page, "navigate", lambda link=link: link.click())
            if s.failures:
                break
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
            # One key on the sidebar's slider, one rerun: H by one (an arrow), or the seed by SEED_STEP (a page key;
            # never onto another session's seed).
            if r % 2 == 0:
                up = s.exp.h == session_settings(s.index).h
                s.exp.h += 1 if up else -1
                label, key = H_LABEL, "ArrowRight" if up else "ArrowLeft"
            else:
                up = s.exp.seed == session_settings(s.index).seed
                s.exp.seed += SEED_STEP if up else -SEED_STEP
                label, key = SEED_LABEL, "PageUp" if up else "PageDown"
            box = page.locator(f'[data-testid="stSidebar"] input[type="range"][aria-label="{label}"]')

            async def change(box=box, key=key) -> None:
                await box.press(key)

            await interact(s, page, "setting", change)
        cookies = await context.cookies()
        s.cookie = next((c["value"] for c in cookies if c["name"] == "convviz_node"), "")
    except Exception as err:  # anything unexpected is a failure of this session, reported, not a crash of the run
        s.failures.append(f"session {s.index}: {type(err).__name__}: {str(err)[:1500]}")
    finally:
        with contextlib.suppress(Exception):
            await context.close()


# ------------------------------------------------------------------------------------------ the run


async def warm_up(browser, base_url: str) -> float:
    """One session visits every page once at the default settings (imports the page modules, fills the caches),
    so the measured sessions see a warm server and RSS after the warm-up is a fair baseline for "back near start"."""
    t = time.monotonic()
    context = await browser.new_context(viewport=SESSION_VIEWPORT)
    try:
        page = await context.new_page()
        for i in range(len(PAGE_LIST)):
            await page.goto(f"{base_url}/{url_path(i)}")
            await page.wait_for_function("""() => { const a = document.querySelector('[data-testid="stApp"]');
                return a && a.dataset.testConnectionState === 'CONNECTED' && a.dataset.testScriptState === 'notRunning'
                  && document.querySelector('[data-testid="stCaptionContainer"]'); }""", polling=100, timeout=INTERACTION_TIMEOUT * 1000)
    finally:
        await context.close()
    return time.monotonic() - t


async def poke(base_url: str) -> None:
    """One short visit, then closed: makes Streamlit store (and so expire) sessions again."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport=SESSION_VIEWPORT)
            page = await context.new_page()
            await page.goto(base_url)
            await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=INTERACTION_TIMEOUT * 1000)
            await context.close()
        finally:
            await browser.close()


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank), in seconds."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q * len(v) + 0.5)) - 1))] if v else float("nan")


def renice_renderers(nice: int) -> int:
    """Lower the CPU priority of every thread of chromium's renderer and GPU processes (the work each student's own
    laptop would do: script, layout, painting); the browser process and its network service keep theirs, so the
    network timestamps of the server's replies are not delayed by the renderers. Linux's nice is per thread, hence
    every /proc/<pid>/task. Only this script's own descendants are touched. Returns how many threads were changed."""
    changed = 0
    for pid in tree(os.getpid())[1:]:
        proc = Path(f"/proc/{pid}")
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ")  # chromium rewrites its own into one string
            if not cmd.startswith(b"/usr/lib/chromium/chromium ") or not (b" --type=renderer " in cmd
                                                                          or b" --type=gpu-process " in cmd):
                continue
            for task in (proc / "task").iterdir():
                tid = int(task.name)
                if os.getpriority(os.PRIO_PROCESS, tid) != nice:
                    os.setpriority(os.PRIO_PROCESS, tid, nice)
                    changed += 1
        except (OSError, ValueError):  # the process or thread ended meanwhile
            continue
    return changed


async def keep_reniced(nice: int, stop: asyncio.Event) -> None:
    """Renice chromium's renderers and their threads as they appear (a new session opens a new renderer)."""
    while not stop.is_set():
        renice_renderers(nice)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def drive(args, b: Backends, report: dict) -> list[Session]:
    from playwright.async_api import async_playwright

    rng = random.Random(12345)
    sessions = [Session(i, session_settings(i)) for i in range(args.sessions)]
    samples: list[float] = []
    stop = asyncio.Event()

    async def sample_rss() -> None:
        pids = b.app_pids
        while not stop.is_set():
            samples.append(rss_mb(pids))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        renicer = asyncio.create_task(keep_reniced(args.browser_nice, stop)) if args.browser_nice else None
        try:
            if args.warmup and "warmup_done" not in report:
                report["warmup_s"] = round(await warm_up(browser, b.base_url), 1)
                await asyncio.sleep(2.0)
                report["rss_mb_warm"] = round(rss_mb(b.app_pids), 1)
            me = os.getpid()
            app_pids = set(b.app_pids) | (set(tree(b.nginx.pid)) if b.nginx else set())
            browser_pids = lambda: [p for p in tree(me) if p not in app_pids and p != me]  # noqa: E731 (driver + chromium)
            driver_pids = lambda: [p for p in browser_pids() if comm(p).startswith("node")]  # noqa: E731 (Playwright's driver)
            cpu0 = (cpu_s(b.app_pids), cpu_s(browser_pids()), machine_busy_s(), time.monotonic(), cpu_s(driver_pids()),
                    cpu_s([me]))
            sampler = asyncio.create_task(sample_rss())
            gate = asyncio.Event()
            tasks = [asyncio.create_task(run_session(browser, b.base_url, s, args.rounds, args.think, random.Random(rng.random()),
                                                     gate, args.ramp * s.index / max(1, args.sessions)))
                     for s in sessions]
            await asyncio.sleep(1.0)  # contexts created; now all sessions open their links together
            gate.set()
            t_gate = time.monotonic()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.sessions * args.rounds * INTERACTION_TIMEOUT + args.ramp + 120)
            cpu1 = (cpu_s(b.app_pids), cpu_s(browser_pids()), machine_busy_s(), time.monotonic(), cpu_s(driver_pids()),
                    cpu_s([me]))
            b.windows.append((t_gate, cpu1[3]))
            stop.set()
            await sampler
        finally:
            stop.set()
            if renicer:
                await renicer
            await browser.close()
    wall = cpu1[3] - cpu0[3]
    report["sessions_wall_s"] = round(wall, 1)
    report["cpu_s"] = {"app_servers": round(cpu1[0] - cpu0[0], 1), "browser": round(cpu1[1] - cpu0[1], 1),
                       "playwright_driver": round(cpu1[4] - cpu0[4], 1), "this_script": round(cpu1[5] - cpu0[5], 1),
                       "machine_all": round(cpu1[2] - cpu0[2], 1),
                       "machine_capacity": round(wall * (os.cpu_count() or 1), 1)}
    report["rss_mb_peak"] = round(max(samples), 1) if samples else None
    report["cpu_interactions"] = sum(s.interactions for s in sessions)  # the interactions these CPU seconds served
    return sessions


def nginx_summary(b: Backends, sessions: list[Session], probes: int) -> tuple[dict, list[str]]:
    """Per backend: sessions and probe requests served; every session on one backend; every backend used."""
    lines = read_access_log(b.workdir / "access.log")
    ports = {f"127.0.0.1:{p}": p for p in b.ports}
    by_key: dict[str, set[str]] = defaultdict(set)
    stream_keys = set()
    for ln in lines:
        if ln["cache"] == "HIT":  # served from nginx's copy of the front-end files: no backend involved
            continue
        by_key[ln["key"]].add(ln["up"])
        if ln["path"].startswith("/_stcore/stream"):
            stream_keys.add(ln["key"])
    failures = []
    per_backend: Counter[str] = Counter()
    for s in sessions:
        if not s.cookie:
            failures.append(f"session {s.index}: no convviz_node cookie from nginx")
            continue
        ups = by_key.get(s.cookie, set())
        if len(ups) != 1 or next(iter(ups)) not in ports:
            failures.append(f"session {s.index} (cookie {s.cookie}): requests went to {sorted(ups) or 'nowhere'}, not one backend")
            continue
        if s.cookie not in stream_keys:
            failures.append(f"session {s.index}: no websocket (/_stcore/stream) in nginx's log")
        per_backend[next(iter(ups))] += 1
    probe_lines = [ln for ln in lines if "probe=1" in ln["path"]]
    probe_per_backend = Counter(ln["up"] for ln in probe_lines)
    for addr in ports:
        if probe_per_backend[addr] == 0:
            failures.append(f"backend {addr} got none of the {len(probe_lines)} new-browser probes: nginx does not spread")
        if per_backend[addr] == 0 and len(sessions) >= 4 * len(ports):
            # with random cookies all of k sessions land on one of 2 backends with probability 2^(1-k): an
            # assertion only where that is negligible (20 sessions: 2e-6); the probes above cover small runs.
            failures.append(f"backend {addr} served none of the {len(sessions)} browser sessions")
    static = [ln for ln in lines if ln["path"].startswith("/static/")]
    summary = {"sessions_per_backend": {a: per_backend[a] for a in ports},
               "static_cache": dict(Counter(ln["cache"] for ln in static)), "static_files": len({ln["path"] for ln in static}),
               "probes_per_backend": {a: probe_per_backend[a] for a in ports},
               "sticky_sessions": sum(per_backend.values()), "access_log_lines": len(lines), "probes": probes}
    return summary, failures


def main(argv: list[str] | None = None) -> int:
    global PAGE_LIST
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="concurrent browser sessions (default 20)")
    ap.add_argument("--rounds", type=int, default=4, help="rounds per session: a page switch and a setting change each")
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between interactions, seconds (0.5x..1.5x)")
    ap.add_argument("--behind-nginx", action="store_true", help="run --backends app processes behind nginx")
    ap.add_argument("--backends", type=int, default=2, help="app processes behind nginx (default 2)")
    ap.add_argument("--no-warmup", dest="warmup", action="store_false",
                    help="skip the warm-up visit of every page: the sessions then hit a cold server (first imports, races)")
    ap.add_argument("--waves", type=int, default=1, help="run the sessions this many times, one class after another")
    ap.add_argument("--ramp", type=float, default=0.0, metavar="SECONDS",
                    help="open the sessions one after another, evenly spread over this many seconds (default 0: all at "
                         "once, the worst case; a class told to open a link takes some seconds)")
    ap.add_argument("--settle", type=float, default=20.0, help="seconds to wait after the sessions closed before the last RSS")
    ap.add_argument("--browser-nice", type=int, default=0, metavar="N",
                    help="run chromium's renderer and GPU processes at nice N (1..19): they stand in for the students' "
                         "own laptops, so the server (and the browser's network service) get the CPU first")
    ap.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = ap.parse_args(argv)
    if not 1 <= args.sessions <= 200 or not 0 <= args.rounds <= 100 or not 1 <= args.backends <= 8 or not 1 <= args.waves <= 10 \
            or not 0 <= args.browser_nice <= 19 or not 0 <= args.ramp <= 600:
        ap.error("--sessions 1..200, --rounds 0..100, --backends 1..8, --waves 1..10, --browser-nice 0..19, --ramp 0..600")
    if not Path(CHROMIUM).exists():
        ap.error(f"{CHROMIUM} is missing (apt-get install chromium)")
    PAGE_LIST = app_pages()
    n_backends = args.backends if args.behind_nginx else 1
    report: dict = {"sessions": args.sessions, "rounds": args.rounds, "think_s": args.think, "behind_nginx": args.behind_nginx,
                    "backends": n_backends, "cores": os.cpu_count(),
                    "browser_nice": args.browser_nice, "ramp_s": args.ramp, "loadavg_before": Path("/proc/loadavg").read_text().split()[:3]}
    t_start = time.monotonic()
    b = start(n_backends, args.behind_nginx)
    failures: list[str] = []
    sessions: list[Session] = []
    try:
        if args.behind_nginx:
            spread_probe(b.base_url, SPREAD_PROBES)
        time.sleep(2.0)
        report["rss_mb_start"] = round(rss_mb(b.app_pids), 1)
        sessions = asyncio.run(drive(args, b, report))
        for wave in range(2, args.waves + 1):  # the same class again: RSS must not climb wave after wave (bounded caches)
            time.sleep(5.0)
            report.setdefault("rss_mb_before_wave", {})[wave] = round(rss_mb(b.app_pids), 1)
            wave_report: dict = {"warmup_done": True}
            sessions += asyncio.run(drive(args, b, wave_report))
            report.setdefault("rss_mb_peak_wave", {})[wave] = wave_report["rss_mb_peak"]
        report["settle_s"] = args.settle
        # A closed session is kept 2 minutes for a reconnect (Streamlit's MemorySessionStorage, a TTL cache that
        # only expires entries when it is written to): after a settle beyond that, one short visit (a write) evicts them.
        report["rss_mb_after_close_20s"] = None
        time.sleep(min(args.settle, 20.0))
        report["rss_mb_after_close_20s"] = round(rss_mb(b.app_pids), 1)
        time.sleep(max(0.0, args.settle - 20.0))
        if args.settle > RECONNECT_TTL_S:
            asyncio.run(poke(b.base_url))
            time.sleep(3.0)
        report["rss_mb_after_close"] = round(rss_mb(b.app_pids), 1)
        report["rss_after_over_start"] = round(report["rss_mb_after_close"] / report["rss_mb_start"], 2)
        if "rss_mb_warm" in report:
            report["rss_after_over_warm"] = round(report["rss_mb_after_close"] / report["rss_mb_warm"], 2)
        for s in sessions:
            failures.extend(s.failures)
        if args.behind_nginx:
            summary, nginx_failures = nginx_summary(b, sessions, SPREAD_PROBES)
            report["nginx"] = summary
            failures.extend(nginx_failures)
        for p in b.ports:  # the app's own logs: a traceback there is a failure even if no page showed it
            log = log_tail(b.workdir / f"app-{p}.log", 400)
            if "Traceback" in log:
                failures.append(f"app on port {p} logged a traceback:\n{log[-1500:]}")
    finally:
        b.stop()
        report["server_clock"] = server_clock(b.clock_logs(), b.windows)
        if not failures:
            shutil.rmtree(b.workdir, ignore_errors=True)
    report["latency_s"] = latency_table(sessions, "latencies")
    report["server_s"] = latency_table(sessions, "server")
    report["interactions"] = sum(s.interactions for s in sessions)
    report["checks"] = sum(s.checks for s in sessions)
    report["failures"] = failures
    report["failed_interactions"] = dict(sum((s.kinds for s in sessions), Counter()))
    report["total_wall_s"] = round(time.monotonic() - t_start, 1)
    if failures:
        report["logs_kept_in"] = str(b.workdir)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if failures else 0


def server_clock(logs: list[Path], windows: list[tuple[float, float]]) -> dict:
    """From the app servers' own clock (bench/server_clock): for every rerun request read while the sessions ran, the
    seconds until its script_finished reply was queued for the browser and until it was written to the socket (the
    write waits while a browser does not read: on these 2 cores, a starved renderer), split into each session's first
    run (an open) and later runs; and how late the servers' event loops woke from 50 ms sleeps."""
    def inside(t: float) -> bool:
        return any(a <= t <= b for a, b in windows)

    runs: dict[str, list[tuple[float, float | None]]] = {"first": [], "later": []}
    late: list[float] = []
    unavailable: list[str] = []
    for log in logs:
        if not log.exists():
            unavailable.append(f"{log.name}: no events")
            continue
        by_session: dict[str, list[tuple]] = defaultdict(list)
        queued: dict[str, str] = {}
        written: dict[str, float] = {}
        for line in log.read_text().splitlines():
            f = line.split()
            if len(f) < 3:
                continue
            t = float(f[0])
            if f[1] == "unavailable":
                unavailable.append(" ".join(f[2:]))
            elif f[1] == "loop" and inside(t):
                late.append(float(f[3]))
            elif f[2] in ("rerun", "finished"):
                by_session[f[1]].append((t, *f[2:]))
            elif f[2] == "queued":
                queued[f[1]] = f[3]
            elif f[2] == "written":
                written[f[1]] = t
        for events in by_session.values():
            asked, n = None, 0
            for t, kind, *rest in events:
                if kind == "rerun" and asked is None:
                    asked = t
                elif kind == "finished" and rest[0] == "0" and asked is not None:  # FINISHED_SUCCESSFULLY
                    if inside(asked):
                        done = written.get(queued.get(rest[1], ""))
                        runs["first" if n == 0 else "later"].append((t - asked, None if done is None else done - asked))
                    asked, n = None, n + 1

    def stats(values: list[float]) -> dict:
        return {"n": len(values), "p50": pct(values, 0.5), "p95": pct(values, 0.95), "max": max(values)} if values else {"n": 0}

    out = {k: {"queued": stats([q for q, _ in v]), "written": stats([w for _, w in v if w is not None])}
           for k, v in (("first", runs["first"]), ("later", runs["later"]), ("all", runs["first"] + runs["later"]))}
    out["loop_late_s"] = stats(late)
    if unavailable:
        out["unavailable"] = unavailable
    return out


def latency_table(sessions: list[Session], attr: str) -> dict[str, dict]:
    """n, p50, p95, max (seconds) per interaction kind and over all, of Session.latencies or Session.server."""
    kinds: dict[str, list[float]] = defaultdict(list)
    for s in sessions:
        for k, v in getattr(s, attr).items():
            kinds[k].extend(v)
    kinds["all"] = [x for v in list(kinds.values()) for x in v]
    return {k: {"n": len(v), "p50": round(statistics.median(v), 3), "p95": round(pct(v, 0.95), 3), "max": round(max(v), 3)}
            for k, v in kinds.items() if v}


def print_report(r: dict) -> None:
    where = f"{r['backends']} app processes behind nginx" if r["behind_nginx"] else "one app process"
    opened = f"opened over {r['ramp_s']:g} s" if r.get("ramp_s") else "opened at once"
    print(f"convviz load test: {r['sessions']} concurrent browser sessions ({opened}) x {r['rounds']} rounds on {where}, "
          f"{r['cores']} cores (load average before: {' '.join(r['loadavg_before'])})")
    nice = f", chromium at nice {r['browser_nice']}" if r.get("browser_nice") else ""
    print(f"latency per interaction, seconds: in the browser (action -> app idle in the expected state) | on the wire "
          f"(rerun request sent -> script finished received, Chrome's network timestamps){nice}")
    print(f"{'interaction':<12}{'n':>6}{'p50':>8}{'p95':>8}{'max':>8}  |{'n':>6}{'p50':>8}{'p95':>8}{'max':>8}")
    for kind, v in r["latency_s"].items():
        w = r.get("server_s", {}).get(kind, {"n": 0, "p50": float("nan"), "p95": float("nan"), "max": float("nan")})
        print(f"{kind:<12}{v['n']:>6}{v['p50']:>8.2f}{v['p95']:>8.2f}{v['max']:>8.2f}  |{w['n']:>6}{w['p50']:>8.2f}"
              f"{w['p95']:>8.2f}{w['max']:>8.2f}")
    sc = r.get("server_clock") or {}
    if sc.get("all", {}).get("queued", {}).get("n"):
        print("the server's own clock, seconds from reading a rerun request to its reply queued | written to the socket "
              "(the write waits while the browser does not read):")
        for kind, label in (("first", "first run"), ("later", "later runs"), ("all", "all")):
            q, w = sc[kind]["queued"], sc[kind]["written"]
            fmt = lambda d: f"{d['n']:>6}" + ("".join(f"{d[k]:>8.2f}" for k in ("p50", "p95", "max")) if d["n"] else "")  # noqa: E731
            print(f"{label:<12}{fmt(q)}  |{fmt(w)}")
        lt = sc["loop_late_s"]
        if lt.get("n"):
            print(f"the servers' event loops woke from 50 ms sleeps late by p50 {lt['p50'] * 1000:.0f} ms, p95 "
                  f"{lt['p95'] * 1000:.0f} ms, max {lt['max'] * 1000:.0f} ms ({lt['n']} sleeps)")
    else:
        print(f"the server's own clock: no events ({'; '.join(sc.get('unavailable', [])) or 'none logged'})")
    print(f"checks: {r['checks']} over {r['interactions']} interactions; failures: {len(r['failures'])} "
          f"(failed interactions by kind: {r['failed_interactions'] or 'none'}); "
          f"bleed (a page showing another session's seed): {r['failed_interactions'].get('bleed', 0)}")
    warm = f", after a warm-up visit of every page {r['rss_mb_warm']}" if "rss_mb_warm" in r else ""
    print(f"app RSS (MB): fresh process {r.get('rss_mb_start')}{warm}, peak during the sessions {r.get('rss_mb_peak')}, "
          f"20 s after they closed {r.get('rss_mb_after_close_20s')}, {r.get('settle_s')} s after "
          f"{r.get('rss_mb_after_close')} (x{r.get('rss_after_over_start')} of fresh"
          + (f", x{r['rss_after_over_warm']} of warm)" if "rss_after_over_warm" in r else ")"))
    if "rss_mb_before_wave" in r:
        print(f"app RSS (MB) before each further wave {r['rss_mb_before_wave']}, peak in it {r['rss_mb_peak_wave']}")
    c = r.get("cpu_s", {})
    print(f"CPU seconds during the sessions ({r.get('sessions_wall_s')} s wall, capacity {c.get('machine_capacity')}): "
          f"app servers {c.get('app_servers')}, chromium + Playwright driver {c.get('browser')} (driver alone "
          f"{c.get('playwright_driver')}), this script {c.get('this_script')}, whole machine {c.get('machine_all')}")
    n_int = r.get("cpu_interactions") or 0  # the first wave's: the CPU figures are the first wave's
    if n_int and c.get("app_servers") is not None:
        print(f"per interaction: app server CPU {c['app_servers'] / n_int:.2f} s, browser CPU {c['browser'] / n_int:.2f} s")
    if "nginx" in r:
        n = r["nginx"]
        print(f"nginx: sessions per backend {n['sessions_per_backend']}, {n['sticky_sessions']}/{r['sessions']} sessions stayed on "
              f"one backend; new-browser probes per backend {n['probes_per_backend']}; front-end files by cache status "
              f"{n.get('static_cache')}")
    for f in r["failures"][:30]:
        print("FAIL:", f)
    if "logs_kept_in" in r:
        print("logs kept in", r["logs_kept_in"])


if __name__ == "__main__":
    sys.exit(main())
