// The dashboard: loads a pair's candles from both sources, draws them, and keeps them live.
import {
  Unauthorized,
  adoptTokenFromFragment,
  forgetToken,
  latestCandles,
  openStream,
  storeToken,
} from "./api.js";
import { fxSessionStart, timeMs } from "./calc.js";
import { draw } from "./charts.js";
import { renderCollectors } from "./status.js";

const PAIRS = ["EUR_USD", "GBP_USD", "USD_JPY"];
const SOURCES = ["DATABENTO", "IG"];
const CANDLES_PER_SOURCE = 1500; // more minutes than an FX day has: a whole session for VWAP and TWAP
const COLLECTORS_EVERY_MS = 30000;
const AGES_EVERY_MS = 5000;
const REDRAW_DELAY_MS = 200;

const $ = (id) => document.getElementById(id);
const state = {
  pair: PAIRS[0],
  windowMinutes: 120,
  bySource: { DATABENTO: new Map(), IG: new Map() }, // timestamp -> candle, so a revision replaces
  newest: new Map(), // "PAIR SOURCE" -> newest candle open time (ms); null: the hub has none
  live: 0,
  stream: null,
  loading: null,
  loadAgain: false,
  redrawTimer: null,
};

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", isError);
}

function setStatus(values) {
  Object.assign($("render-status").dataset, values);
}

function failed(error) {
  if (error instanceof Unauthorized) {
    if (state.stream) state.stream.close(); // it would be refused too; a token given restarts it
    state.stream = null;
    onStreamState("closed");
    $("live").textContent = "live: needs the token";
    $("token-form").hidden = false;
    $("token-input").focus();
    say("This hub needs its token for reads: paste it above.", true);
    setStatus({ error: "unauthorized" });
  } else {
    say(`Could not read from the hub: ${error.message}`, true);
    setStatus({ error: error.message });
  }
}

function noteNewest(pair, source, ms) {
  const key = `${pair} ${source}`;
  if (!(state.newest.get(key) >= ms)) state.newest.set(key, ms);
}

function showCollectors() {
  renderCollectors($("collectors"), PAIRS, state.pair, state.newest, Date.now());
}

async function refreshCollectors() {
  const reads = PAIRS.flatMap((pair) => SOURCES.map((source) => [pair, source]));
  await Promise.all(
    reads.map(async ([pair, source]) => {
      try {
        const [newest] = await latestCandles(pair, source, 1);
        if (newest) noteNewest(pair, source, timeMs(newest));
        else if (!state.newest.has(`${pair} ${source}`)) state.newest.set(`${pair} ${source}`, null);
      } catch {
        // unknown stays unknown: the card says so rather than "no candles"
      }
    }),
  );
  showCollectors();
}

async function loadOnce() {
  const pair = state.pair;
  const [futures, spot] = await Promise.all(SOURCES.map((s) => latestCandles(pair, s, CANDLES_PER_SOURCE)));
  if (pair !== state.pair) return;
  state.bySource = {
    DATABENTO: new Map(futures.map((c) => [c.timestamp, c])),
    IG: new Map(spot.map((c) => [c.timestamp, c])),
  };
  for (const [source, candles] of [
    ["DATABENTO", futures],
    ["IG", spot],
  ]) {
    if (candles.length) noteNewest(pair, source, timeMs(candles[candles.length - 1]));
  }
  $("token-form").hidden = true;
  say("");
  showCollectors();
  scheduleRedraw(0);
}

// One read at a time; a request made during a read runs once more after it (e.g. a stream reconnect).
async function load() {
  if (state.loading) {
    state.loadAgain = true;
    return;
  }
  do {
    state.loadAgain = false;
    state.loading = loadOnce().catch(failed);
    await state.loading;
  } while (state.loadAgain);
  state.loading = null;
}

function sorted(map) {
  return [...map.values()].sort((a, b) => timeMs(a) - timeMs(b));
}

async function redraw() {
  const futures = sorted(state.bySource.DATABENTO);
  const spot = sorted(state.bySource.IG);
  const ends = [futures, spot].filter((c) => c.length).map((c) => timeMs(c[c.length - 1]));
  const to = ends.length ? Math.max(...ends) : Math.floor(Date.now() / 60000) * 60000;
  const from = to - (state.windowMinutes - 1) * 60000;
  const firstLoaded = Math.min(...[futures, spot].filter((c) => c.length).map((c) => timeMs(c[0])), to);
  const anchorMs = fxSessionStart(to) ?? firstLoaded;
  if (!ends.length)
    say(`No candles for ${state.pair} yet: start a collector (fxhub collect databento | ig).`);
  const view = { pair: state.pair, futures, spot, from, to, session: { futures, spot, anchorMs } };
  const drawn = await draw($("chart"), view);
  setStatus({
    rendered: "1",
    pair: state.pair,
    points: String(drawn.points),
    sources: drawn.sources.join(","),
    live: String(state.live),
  });
}

function scheduleRedraw(delayMs = REDRAW_DELAY_MS) {
  if (state.redrawTimer !== null) return;
  state.redrawTimer = setTimeout(() => {
    state.redrawTimer = null;
    redraw().catch((error) => say(`Could not draw the charts: ${error.message}`, true));
  }, delayMs);
}

function onCandle(candle) {
  if (candle.symbol !== state.pair || !state.bySource[candle.source]) return;
  state.bySource[candle.source].set(candle.timestamp, candle);
  state.live += 1;
  noteNewest(candle.symbol, candle.source, timeMs(candle));
  scheduleRedraw();
}

function onStreamState(value) {
  const text = { open: "live: connected", closed: "live: reconnecting…", connecting: "live: connecting…" };
  $("live").textContent = text[value];
  $("live").className = `pill ${value}`;
  setStatus({ ws: value });
}

function startStream() {
  if (state.stream) state.stream.close();
  // Each (re)connection reads a fresh snapshot: candles pushed while it was down are not replayed.
  state.stream = openStream(state.pair, { onOpen: load, onCandle, onLagged: load, onState: onStreamState });
}

function selectPair(pair) {
  state.pair = pair;
  state.bySource = { DATABENTO: new Map(), IG: new Map() };
  setStatus({ rendered: "0" });
  showCollectors();
  startStream();
  load();
}

function start() {
  adoptTokenFromFragment();
  if (typeof Plotly === "undefined") {
    say("plotly.js did not load from /static/plotly.min.js; check the hub's log.", true);
    return;
  }
  const linked = new URLSearchParams(location.hash.slice(1)).get("pair"); // a link may name the pair
  if (PAIRS.includes(linked)) $("pair").value = linked;
  $("pair").addEventListener("change", (event) => {
    history.replaceState(null, "", `#pair=${event.target.value}`);
    selectPair(event.target.value);
  });
  $("window").addEventListener("change", (event) => {
    state.windowMinutes = Number(event.target.value);
    scheduleRedraw(0);
  });
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    storeToken($("token-input").value);
    $("token-input").value = "";
    selectPair(state.pair);
    refreshCollectors();
  });
  $("forget").addEventListener("click", () => {
    forgetToken();
    location.reload();
  });
  state.windowMinutes = Number($("window").value);
  selectPair($("pair").value);
  refreshCollectors();
  setInterval(refreshCollectors, COLLECTORS_EVERY_MS);
  setInterval(showCollectors, AGES_EVERY_MS);
}

start();
