// The four panels on one shared time axis: candles of both sources, session VWAP against TWAP,
// real against tick volume (their own axes: different units), and order flow.
import { delta, priceUnit, sessionTwap, sessionVwap, timeMs, utcLabel } from "./calc.js";

export const SOURCES = {
  DATABENTO: { label: "DATABENTO · CME futures", color: "#4aa3ff", dark: "#1f6fd1" },
  IG: { label: "IG · spot", color: "#ffb020", dark: "#c77700" },
};
const INK = "#d6dde6";
const GRID = "#253041";
const PANELS = [
  { key: "price", title: "Candles", domain: [0.66, 1] },
  { key: "average", title: "Session VWAP vs TWAP", domain: [0.44, 0.6] },
  { key: "volume", title: "Volume per minute", domain: [0.22, 0.38] },
  { key: "flow", title: "Order flow (CME only)", domain: [0, 0.16] },
];

function candleTrace(source, candles) {
  const { label, color, dark } = SOURCES[source];
  return {
    type: "candlestick",
    name: label,
    legend: "legend",
    x: candles.map((c) => utcLabel(timeMs(c))),
    open: candles.map((c) => c.open),
    high: candles.map((c) => c.high),
    low: candles.map((c) => c.low),
    close: candles.map((c) => c.close),
    // Hue tells the source; hollow candles rose, filled ones fell.
    increasing: { line: { color, width: 1 }, fillcolor: "rgba(0,0,0,0)" },
    decreasing: { line: { color: dark, width: 1 }, fillcolor: dark },
    whiskerwidth: 0.3,
    xaxis: "x",
    yaxis: "y",
  };
}

function line(points, name, color, dash, axes, legend) {
  return {
    type: "scatter",
    mode: "lines",
    name,
    legend,
    x: points.map((p) => utcLabel(p.x)),
    y: points.map((p) => p.y),
    line: { color, width: dash === "solid" ? 2.2 : 1.8, dash },
    connectgaps: false,
    ...axes,
  };
}

function averageTraces(session) {
  const { futures, spot, anchorMs, from } = session;
  const axes = { xaxis: "x2", yaxis: "y2" };
  const cut = (points) => points.filter((p) => p.x >= from);
  const { color: blue } = SOURCES.DATABENTO;
  return [
    line(
      cut(sessionVwap(futures, anchorMs)),
      "VWAP · CME futures (real volume)",
      blue,
      "solid",
      axes,
      "legend2",
    ),
    line(cut(sessionTwap(futures, anchorMs)), "TWAP · CME futures", "#9fd0ff", "dot", axes, "legend2"),
    line(cut(sessionTwap(spot, anchorMs)), "TWAP · IG spot", SOURCES.IG.color, "dash", axes, "legend2"),
  ];
}

// Bars or a line of `value(candle)` over the candles that have one, in panel `axes` ([x, y]).
function perMinute(kind, name, legend, candles, value, axes, style) {
  const known = candles.filter((c) => value(c) != null);
  const shape =
    kind === "bar" ? { type: "bar", marker: style } : { type: "scatter", mode: "lines", line: style };
  return {
    ...shape,
    name,
    legend,
    x: known.map((c) => utcLabel(timeMs(c))),
    y: known.map(value),
    xaxis: axes[0],
    yaxis: axes[1],
  };
}

function volumeTraces(futures, spot) {
  const volume = (c) => c.volume;
  const real = { color: SOURCES.DATABENTO.color, opacity: 0.75 };
  const ticks = { color: SOURCES.IG.color, width: 1.6, shape: "hv" };
  return [
    perMinute("bar", "Real volume · DATABENTO (contracts)", "legend3", futures, volume, ["x3", "y3"], real),
    perMinute("line", "Tick volume · IG (quote updates)", "legend3", spot, volume, ["x3", "y4"], ticks),
  ];
}

function flowTraces(futures) {
  const sided = futures.filter((c) => delta(c) !== null);
  const bars = { color: sided.map((c) => (delta(c) >= 0 ? "#2ecc8f" : "#ff5d6c")) };
  const ofi = (c) => c.ofi;
  const purple = { color: "#c792ff", width: 1.6 };
  return [
    perMinute("bar", "Delta = buy − sell (contracts)", "legend4", sided, delta, ["x4", "y5"], bars),
    perMinute("line", "OFI, best level (contracts)", "legend4", futures, ofi, ["x4", "y6"], purple),
  ];
}

function axis(title, extra = {}) {
  return { title: { text: title, font: { size: 11 } }, gridcolor: GRID, zerolinecolor: "#3a475a", ...extra };
}

// A range centred on zero, so that two overlaid axes put their zero lines on the same height.
function symmetric(values) {
  const largest = Math.max(10, ...values.map((v) => Math.abs(v)));
  return [-1.1 * largest, 1.1 * largest];
}

function layout(view, range, flow) {
  const { pair, session } = view;
  const out = {
    paper_bgcolor: "#0f141b",
    plot_bgcolor: "#131a23",
    font: { color: INK, family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 12 },
    margin: { l: 84, r: 96, t: 64, b: 52 },
    hovermode: "x unified",
    bargap: 0.15,
    barmode: "overlay",
    annotations: [],
  };
  const unit = priceUnit(pair);
  const priceFormat = pair.endsWith("JPY") ? ".3f" : ".5f";
  const anchor = utcLabel(session.anchorMs).slice(11, 16);
  const titles = PANELS.map((panel) => panel.title);
  titles[1] += ` · since ${anchor} UTC (17:00 New York), computed in this page`;
  const yTitles = [`Price (${unit})`, `Price (${unit})`, "Real volume (contracts)", "Delta (contracts)"];
  const yNames = ["yaxis", "yaxis2", "yaxis3", "yaxis5"];
  PANELS.forEach((panel, i) => {
    const n = i === 0 ? "" : String(i + 1);
    const last = i === PANELS.length - 1;
    out[`xaxis${n}`] = axis(last ? "Time (UTC)" : "", {
      type: "date",
      range,
      anchor: yNames[i].replace("axis", ""),
      matches: i === 0 ? undefined : "x",
      showticklabels: last,
      rangeslider: { visible: false },
      tickformat: "%H:%M\n%b %d",
    });
    out[yNames[i]] = axis(yTitles[i], { domain: panel.domain, tickformat: i < 2 ? priceFormat : "~s" });
    out.annotations.push({
      text: `<b>${titles[i]}</b>`,
      xref: "paper",
      yref: "paper",
      x: 0,
      y: panel.domain[1],
      xanchor: "left",
      yanchor: "bottom",
      yshift: 4,
      showarrow: false,
      font: { size: 13, color: INK },
    });
    out[`legend${n}`] = {
      orientation: "h",
      x: 1,
      xanchor: "right",
      y: panel.domain[1],
      yanchor: "bottom",
      bgcolor: "rgba(0,0,0,0)",
      font: { size: 12 },
    };
  });
  const right = { side: "right", showgrid: false, tickmode: "auto", nticks: 5, tickformat: "~s" };
  out.yaxis3.rangemode = "tozero";
  out.yaxis4 = axis("Tick volume (quotes)", {
    ...right,
    overlaying: "y3",
    anchor: "x3",
    rangemode: "tozero",
  });
  out.yaxis5.range = symmetric(flow[0].y);
  out.yaxis6 = axis("OFI (contracts)", {
    ...right,
    overlaying: "y5",
    anchor: "x4",
    range: symmetric(flow[1].y),
  });
  return out;
}

// Draw `view` ({pair, futures, spot, from, to, session}) into `element`; resolves when plotly is done.
export function draw(element, view) {
  const { futures, spot, from, to } = view;
  const inView = (candles) => candles.filter((c) => timeMs(c) >= from);
  const shownFutures = inView(futures);
  const shownSpot = inView(spot);
  const flow = flowTraces(shownFutures);
  const traces = [
    candleTrace("DATABENTO", shownFutures),
    candleTrace("IG", shownSpot),
    ...averageTraces({ ...view.session, from }),
    ...volumeTraces(shownFutures, shownSpot),
    ...flow,
  ];
  const range = [utcLabel(from), utcLabel(to + 60000)];
  const config = { responsive: true, displaylogo: false, scrollZoom: false };
  return Plotly.react(element, traces, layout(view, range, flow), config).then(() => ({
    points: shownFutures.length + shownSpot.length,
    sources: Object.keys(SOURCES).filter((s) => (s === "IG" ? shownSpot : shownFutures).length > 0),
  }));
}
