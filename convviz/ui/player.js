// The step player of one animated figure: Previous / Play / Pause / Next / speed / scrubber, the step's caption,
// keyboard and clicker keys, and clicks on cells. It drives the Plotly chart Streamlit draws beside it (through the
// plotly.js that Streamlit puts on window.Plotly), so a step never waits for the server; the server is told the step
// shown once the player rests, for the exports and anything else that names "the current step".
//
// data: {chart: the chart's element key, frames: [frame name], steps: [trace step index], titles: [..], captions: [..],
//        start: index into frames shown first, clicks: {trace: curve number, cells: {"r,c": step}} or null,
//        total: steps in the trace, token: changes whenever the chart is a new figure,
//        figure: {revision, width, height} of the chart's layout, to tell its div from the previous figure's,
//        side: the player sits in a column beside the chart, heading: the page's title, for the start of the bar}
// state sent back: step (trace step index shown, when the player rests), screen ({vw, vh, cw, top, bar, line, char,
//        title}: see reportScreen)

const SPEEDS = { slow: 1600, normal: 700, fast: 60 };
const REPORT_MS = 350; // the server hears of a step once the player has rested this long
const players = (window.__cvPlayers = window.__cvPlayers || new Set());

function chartDiv(key) {
  const host = document.querySelector(`.st-key-${CSS.escape(key)}`);
  return host ? host.querySelector(".js-plotly-plot") : null;
}

const TYPING = 'textarea, select, [contenteditable=""], [contenteditable="true"], input:not([type="range"]):not([type="checkbox"]):not([type="radio"]):not([type="button"])';
const OWN_KEYS = '[role="slider"], input[type="range"]'; // Home, End, PageUp, PageDown and arrows move them
const ARROW_KEYS = '[role="radio"], [role="radiogroup"], [role="tab"], [role="tablist"], [role="option"], [role="listbox"], [role="combobox"], [role="menuitem"]';
const SPACE_KEYS = 'button, a[href], [role="button"], [role="checkbox"], [role="switch"], [role="radio"], [role="tab"]';

// Whether a key pressed on `target` belongs to it (typing, a slider, a choice's arrows, a button's Space) rather than
// to the player. Clickers send PageDown / PageUp, which no button or choice uses: those step unless one types.
function keyBelongsTo(target, key) {
  if (!(target instanceof Element)) return false;
  if (target.closest(TYPING) || target.closest(OWN_KEYS)) return true;
  if (key.startsWith("Arrow")) return !!target.closest(ARROW_KEYS);
  if (key === " ") return !!target.closest(SPACE_KEYS);
  return false;
}

// The player the keys drive: the one whose figure has the most of itself on screen.
function activePlayer() {
  let best = null, bestArea = 0;
  for (const p of players) {
    if (!p.root.isConnected) { players.delete(p); continue; }
    const el = p.liveChart() || p.root;
    const r = el.getBoundingClientRect();
    const h = Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0));
    const w = Math.max(0, Math.min(r.right, window.innerWidth) - Math.max(r.left, 0));
    if (r.width > 0 && h * w >= bestArea) { best = p; bestArea = h * w; }
  }
  return best;
}

function onKey(e) {
  if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
  const target = e.composedPath()[0]; // inside a shadow root too (the player's own scrubber and buttons)
  const own = players.size && [...players].some((pl) => pl.root.contains(target));
  if (own ? target.matches('input[type="range"], select') : keyBelongsTo(target, e.key)) return;
  const p = activePlayer();
  if (!p) return;
  const act = {
    ArrowRight: () => p.step(+1), PageDown: () => p.step(+1),
    ArrowLeft: () => p.step(-1), PageUp: () => p.step(-1),
    " ": () => p.toggle(), Home: () => p.goto(0), End: () => p.goto(p.data.frames.length - 1),
  }[e.key];
  if (!act) return;
  e.preventDefault(); // no page scroll, and a focused player button is not clicked as well
  act();
}

if (!window.__cvKeys) {
  window.__cvKeys = true;
  document.addEventListener("keydown", onKey, true);
}

class Player {
  constructor(root, api) {
    this.root = root;
    this.api = api;
    this.k = 0; // index into data.frames of the frame on screen
    this.playing = false;
    this.busy = false;
    this.gd = null;
    this.reportTimer = null;
    this.q = (sel) => root.querySelector(sel);
    this.q(".cv-first").onclick = () => this.goto(0);
    this.q(".cv-prev").onclick = () => this.step(-1);
    this.q(".cv-play").onclick = () => this.toggle();
    this.q(".cv-next").onclick = () => this.step(+1);
    this.q(".cv-last").onclick = () => this.goto(this.data.frames.length - 1);
    this.q(".cv-scrub").oninput = (e) => this.goto(Number(e.target.value));
    players.add(this);
  }

  load(data) {
    const old = this.data;
    const fresh = !old || old.token !== data.token;
    // A new figure (laid out for the screen, round another step, or for new settings) comes with the step the server
    // last heard of, which may lag behind the keys pressed since: the step shown, or asked for by a click, stays.
    const wanted = this.wanted ?? (old ? old.steps[this.k] : undefined);
    const kept = fresh && old ? data.steps.indexOf(wanted) : -1;
    this.wanted = undefined;
    this.data = data;
    const n = data.frames.length;
    const scrub = this.q(".cv-scrub");
    scrub.max = String(Math.max(0, n - 1));
    this.q(".cv-bar").classList.toggle("cv-single", n <= 1);
    this.root.style.setProperty("--cv-font", data.font || "1rem");
    const heading = this.q(".cv-heading");
    heading.textContent = data.heading || "";
    heading.title = data.heading || "";
    this.q(".cv-bar").classList.toggle("cv-inline", Boolean(data.heading));
    this.fitHeading();
    this.reserveCaption();
    if (fresh) {
      this.stop(false);
      this.k = kept >= 0 ? kept : Math.min(Math.max(data.start, 0), Math.max(n - 1, 0));
      this.gd = null;
      this.show();
      this.attach();
    } else if (this.gd) {
      this.reportScreen(); // the server may have laid the figure out for the screen this player reported
    }
  }

  // The title in the bar: in one line where it fits, else in two smaller lines.
  fitHeading() {
    const heading = this.q(".cv-heading");
    heading.classList.remove("cv-two");
    if (this.data.heading && heading.scrollWidth > heading.clientWidth + 1) heading.classList.add("cv-two");
  }

  // The caption box keeps the height of the longest caption, so the figure under it never moves between steps.
  reserveCaption() {
    const box = this.q(".cv-caption");
    if (this.data.caption_px) { // what the server laid the figure out for (Screen.line per line)
      box.style.minHeight = `${this.data.caption_px}px`;
      return;
    }
    const probe = box.cloneNode(true);
    probe.style.cssText = `position:absolute;visibility:hidden;min-height:0;width:${box.clientWidth || 600}px`;
    box.parentNode.appendChild(probe);
    let tallest = 0;
    this.data.captions.forEach((c, i) => {
      probe.querySelector(".cv-title").textContent = this.data.titles[i];
      probe.querySelector(".cv-text").textContent = c;
      tallest = Math.max(tallest, probe.offsetHeight);
    });
    probe.remove();
    box.style.minHeight = `${tallest}px`;
  }

  // Whether the chart div holds this player's figure (not the one before it, which Streamlit may not have replaced yet).
  // Streamlit narrows a chart wider than its column (a page laid out for the screen before the sidebar opened): that
  // is still this figure, and the screen it reports then lays it out for the column.
  holdsFigure(gd) {
    const lay = gd.layout || {}, fig = this.data.figure || {};
    const same = (k) => fig[k] == null || lay[k === "revision" ? "datarevision" : k] === fig[k];
    return same("revision") && same("height") && (same("width") || (lay.width != null && lay.width < fig.width));
  }

  attach(tries = 0) {
    const gd = chartDiv(this.data.chart);
    if (!gd || !gd._fullLayout || !window.Plotly || (!this.holdsFigure(gd) && tries < 400)) {
      if (tries < 400) setTimeout(() => this.attach(tries + 1), 25);
      return;
    }
    this.bind(gd);
    this.redrawIfMoved();
    this.reportScreen();
  }

  bind(gd) {
    this.gd = gd;
    if (gd.__cvPlayer !== this) {
      gd.__cvPlayer = this;
      gd.on("plotly_click", (ev) => gd.__cvPlayer && gd.__cvPlayer.clicked(ev));
      // Streamlit hands the chart to Plotly.react again after every script run: it puts the first step's outlines
      // back, so the step on screen is drawn again.
      gd.on("plotly_react", () => gd.__cvPlayer && gd.__cvPlayer.redrawIfMoved());
    }
  }

  // The chart on the page now: Streamlit may have mounted a new one for a new figure since the player last looked.
  liveChart() {
    if (!this.gd || !this.gd.isConnected) {
      const gd = chartDiv(this.data.chart);
      if (gd && gd._fullLayout && this.holdsFigure(gd)) this.bind(gd);
    }
    return this.gd && this.gd.isConnected ? this.gd : null;
  }

  show() {
    const n = this.data.frames.length;
    this.q(".cv-title").textContent = this.data.titles[this.k] || "";
    this.q(".cv-text").textContent = this.data.captions[this.k] || "";
    this.q(".cv-count").textContent = n > 1 ? `Step ${this.data.steps[this.k] + 1} / ${this.data.total}` : "";
    this.q(".cv-scrub").value = String(this.k);
    this.q(".cv-play").textContent = this.playing ? "❚❚ Pause" : "▶ Play";
    this.q(".cv-play").setAttribute("aria-pressed", String(this.playing));
    this.q(".cv-prev").disabled = this.k <= 0;
    this.q(".cv-first").disabled = this.k <= 0;
    this.q(".cv-next").disabled = this.k >= n - 1;
    this.q(".cv-last").disabled = this.k >= n - 1;
    this.root.dataset.step = String(this.data.steps[this.k]);
    this.root.dataset.playing = String(this.playing);
  }

  async draw() {
    const gd = this.liveChart();
    if (!gd || !window.Plotly) return;
    this.busy = true;
    try {
      await window.Plotly.animate(gd, [this.data.frames[this.k]], {
        frame: { duration: 0, redraw: true }, transition: { duration: 0 }, mode: "immediate",
      });
    } catch (err) {
      // an animation superseded by the next one rejects: nothing to do
    } finally {
      this.busy = false;
    }
  }

  redraw() {
    if (!this.busy) this.draw();
  }

  // After Plotly.react the chart shows the figure's first step: draw the step on screen if that is another.
  redrawIfMoved() {
    if (this.k !== this.data.start) this.redraw();
  }

  goto(k, report = true) {
    const n = this.data.frames.length;
    if (!n) return;
    this.stop(false);
    this.k = Math.min(Math.max(k, 0), n - 1);
    this.show();
    this.draw();
    if (report) this.scheduleReport();
  }

  step(delta) {
    this.goto(this.k + delta);
  }

  toggle() {
    if (this.playing) this.stop(true);
    else this.play();
  }

  async play() {
    const n = this.data.frames.length;
    if (n <= 1) return;
    if (this.k >= n - 1) this.k = -1; // Play at the last step starts again from the first
    this.playing = true;
    this.show();
    const token = (this.playToken = {});
    while (this.playing && this.playToken === token && this.k < n - 1) {
      const t0 = performance.now();
      this.k += 1;
      this.show();
      await this.draw();
      const wait = SPEEDS[this.q(".cv-speed").value] - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    if (this.playToken === token) this.stop(true);
  }

  stop(report) {
    const was = this.playing;
    this.playing = false;
    this.playToken = null;
    this.show();
    if (was && report) this.scheduleReport();
  }

  clicked(ev) {
    const clicks = this.data.clicks;
    const pt = ev && ev.points && ev.points[0];
    if (!clicks || !pt || pt.curveNumber !== clicks.trace) return;
    const cd = pt.customdata;
    if (!cd || cd.length < 2) return;
    const t = clicks.cells[`${cd[0]},${cd[1]}`];
    if (t === undefined) return;
    const k = this.data.steps.indexOf(t);
    if (k >= 0) this.goto(k);
    else { // a step the figure has no frame for (sampled, or outside the part shown): the server redraws round it
      this.stop(false);
      this.wanted = t;
      this.api.setStateValue("step", t);
    }
  }

  scheduleReport() {
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => {
      if (!this.playing && this.data.frames.length) this.api.setStateValue("step", this.data.steps[this.k]);
    }, REPORT_MS);
  }

  // The room the figure has, in measures that do not depend on the figure or its captions (so a change of settings
  // needs no second layout): the viewport, the page column's width, where the player starts, the height of its bar,
  // the caption's line height and mean character width (the server sizes the caption box from them), and the height
  // of the presenter's page title (which may move beside the figure).
  reportScreen() {
    clearTimeout(this.screenTimer);
    const app = document.querySelector('[data-testid="stApp"]');
    if (app && app.dataset.testScriptState === "running") { // measure the page the run ends with, not one half built
      this.root.dataset.settled = "false";
      if (this.root.isConnected) this.screenTimer = setTimeout(() => this.reportScreen(), 100);
      return;
    }
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    const cs = main ? getComputedStyle(main) : null;
    const cw = main ? main.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) : window.innerWidth;
    const probe = this.q(".cv-probe");
    probe.textContent = "Output cell (0, 1): y[0,0,0,1] = b[0] + sum(window * w) = 1 + (1*0 + 2*1) = 3. ";
    const bar = this.q(".cv-bar");
    // Beside the chart the bar wraps: keep its height measured over the chart. The page's title may be hidden (moved
    // into the player's column): keep its last height, and count it back into where the player would start.
    const known = this.data.screen || {};
    const title = document.querySelector(".st-key-cv_title");
    const block = title && (title.closest('[data-testid="stLayoutWrapper"]') || title);
    const shown = block ? block.getBoundingClientRect().height : 0;
    const hidden = Boolean(block) && !shown;
    const titleH = hidden ? known.title ?? 0 : shown && shown + (parseFloat(getComputedStyle(block.parentElement).rowGap) || 0);
    const host = this.root.getRootNode().host || this.root; // the component's element in the page (outside its shadow root)
    const start = (this.data.side && host.closest('[data-testid="stHorizontalBlock"]')) || this.root;
    const scroller = document.querySelector('[data-testid="stMain"]'); // Streamlit scrolls this, not the window
    const scrolled = window.scrollY + (scroller ? scroller.scrollTop : 0);
    const screen = { vw: window.innerWidth, vh: window.innerHeight, cw: Math.round(cw),
                     top: Math.round(start.getBoundingClientRect().top + scrolled + (hidden ? titleH : 0)),
                     bar: (this.data.side && known.bar) || Math.round(bar.getBoundingClientRect().height + parseFloat(getComputedStyle(bar).marginBottom || 0)),
                     title: Math.round(titleH),
                     line: Math.round(probe.getBoundingClientRect().height * 10) / 10,
                     char: Math.round(probe.getBoundingClientRect().width / probe.textContent.length * 100) / 100 };
    const keys = ["vw", "vh", "cw", "top", "bar", "line", "char", "title"];
    document.cookie = `cv_screen=${keys.map((k) => screen[k]).join("x")}; path=/; max-age=31536000; samesite=lax`;
    const old = this.data.screen;
    const moved = !old || keys.some((k) => Math.abs((old[k] ?? -1e9) - screen[k]) > (k === "char" ? 0.3 : 6));
    this.root.dataset.settled = String(!moved); // the figure is laid out for this screen (tests wait for it)
    if (moved) this.api.setStateValue("screen", screen);
  }
}

export default function (component) {
  const { parentElement, data } = component;
  const root = parentElement.querySelector(".cv-player");
  if (!root.__cv) root.__cv = new Player(root, component);
  players.add(root.__cv); // again: a cleanup that found the root detached dropped it, and React may attach it again
  if (!root.__cvCleanup) {
    let timer = null;
    const onResize = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { root.__cv.fitHeading(); if (root.__cv.gd) root.__cv.reportScreen(); }, 250);
    };
    window.addEventListener("resize", onResize);
    // The page's column also narrows and widens without a window resize: the sidebar opened or closed.
    const main = document.querySelector('[data-testid="stMainBlockContainer"]');
    let width = main ? main.clientWidth : 0;
    const columnResized = new ResizeObserver(() => { if (main.clientWidth !== width) { width = main.clientWidth; onResize(); } });
    if (main) columnResized.observe(main);
    root.__cvCleanup = () => {
      window.removeEventListener("resize", onResize);
      columnResized.disconnect();
      root.__cvCleanup = null;
    };
  }
  root.__cv.api = component;
  root.__cv.load(data);
  return () => {
    if (!root.isConnected) {
      players.delete(root.__cv);
      if (root.__cvCleanup) root.__cvCleanup();
    }
  };
}
