// Pure calculations on candles (Candle.to_dict objects, oldest first): no DOM, no network.
// The definitions follow fxhub.indicators.vwap: typical price TP = (H + L + C) / 3; VWAP weights TP by
// traded volume; TWAP gives every minute one equal weight, a minute without a candle carrying the
// previous close; both are anchored at the FX day's start, 17:00 New York.

const MINUTE_MS = 60000;
const DAY_MS = 86400000;
const FX_DAY_START_MS = 17 * 3600000;

let newYork = null;
try {
  newYork = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/New_York",
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
} catch {
  newYork = null; // no time-zone data: sessions then start at the first candle loaded
}

export const timeMs = (candle) => Date.parse(candle.timestamp);

// "2025-11-04T13:05:00Z" -> "2025-11-04 13:05:00": plotly reads it as is, and the axis says UTC.
export const utcLabel = (ms) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");

const typical = (c) => (c.high + c.low + c.close) / 3;

function newYorkOffsetMs(ms) {
  const parts = Object.fromEntries(newYork.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

// The most recent 17:00 New York at or before `ms` (UTC epoch ms), or null without time-zone data.
export function fxSessionStart(ms) {
  if (newYork === null) return null;
  const wall = ms + newYorkOffsetMs(ms);
  const startWall = Math.floor((wall - FX_DAY_START_MS) / DAY_MS) * DAY_MS + FX_DAY_START_MS;
  // 17:00 is never inside a DST jump, so the offset at the start itself converts it back.
  return startWall - newYorkOffsetMs(startWall - newYorkOffsetMs(ms));
}

// Cumulative session VWAP at each candle at or after `anchorMs`: [{x, y}], y null until volume trades.
export function sessionVwap(candles, anchorMs) {
  const out = [];
  let weighted = 0;
  let volume = 0;
  for (const c of candles) {
    const t = timeMs(c);
    if (t < anchorMs) continue;
    weighted += c.volume * typical(c);
    volume += c.volume;
    out.push({ x: t, y: volume > 0 ? weighted / volume : null });
  }
  return out;
}

// Cumulative session TWAP at each candle at or after `anchorMs`: [{x, y}].
export function sessionTwap(candles, anchorMs) {
  const out = [];
  let sum = 0;
  let minutes = 0;
  let previous = null;
  for (const c of candles) {
    const t = timeMs(c);
    if (t < anchorMs) continue;
    if (previous !== null) {
      const empty = Math.max(Math.round((t - timeMs(previous)) / MINUTE_MS) - 1, 0);
      sum += empty * previous.close;
      minutes += empty;
    }
    sum += typical(c);
    minutes += 1;
    previous = c;
    out.push({ x: t, y: sum / minutes });
  }
  return out;
}

// Buy minus sell aggressor volume of a minute, or null when the candle does not carry both.
export function delta(candle) {
  const { buy_volume: buy, sell_volume: sell } = candle;
  return buy == null || sell == null ? null : buy - sell;
}

// "EUR_USD" -> "USD per EUR": what one unit of the price means.
export function priceUnit(pair) {
  const [base, quote] = pair.split("_");
  return quote ? `${quote} per ${base}` : pair;
}

// "42 s", "7 min", "3 h 5 min", "2 d": how old something is.
export function describeAge(ms) {
  const s = Math.max(Math.round(ms / 1000), 0);
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d`;
}
