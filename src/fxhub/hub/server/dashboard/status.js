// Collector status: the newest candle per pair and source, and how old it is.
import { describeAge, utcLabel } from "./calc.js";
import { SOURCES } from "./charts.js";

const FRESH_MS = 3 * 60000; // a live collector's newest minute opened at most this long ago
const STALE_MS = 15 * 60000;

function cell(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = text;
  return element;
}

// newest: Map "PAIR SOURCE" -> newest candle open time (ms), null when the hub has none, missing when
// not read (yet); nowMs: the browser's clock.
export function renderCollectors(container, pairs, selected, newest, nowMs) {
  const cards = [];
  for (const pair of pairs) {
    for (const source of Object.keys(SOURCES)) {
      const last = newest.get(`${pair} ${source}`);
      const age = last == null ? null : nowMs - last;
      let level = age == null ? "none" : age <= FRESH_MS ? "fresh" : age <= STALE_MS ? "stale" : "old";
      if (last === undefined) level = "unknown";
      const card = cell("div", `card ${level}${pair === selected ? " selected" : ""}`, "");
      card.style.borderTopColor = SOURCES[source].color;
      card.dataset.pair = pair;
      card.dataset.source = source;
      card.append(cell("div", "card-title", `${pair} · ${source}`));
      if (last === undefined) {
        card.append(cell("div", "card-value", "not read"));
      } else if (last === null) {
        card.append(cell("div", "card-value", "no candles"));
      } else {
        const [day, time] = utcLabel(last).slice(0, 16).split(" ");
        const today = utcLabel(nowMs).slice(0, 10) === day;
        card.append(cell("div", "card-value", `newest ${today ? time : `${day} ${time}`} UTC`));
        card.append(cell("div", "card-age", `${describeAge(age)} ago`));
      }
      cards.push(card);
    }
  }
  container.replaceChildren(cell("h2", "", "Collectors"), ...cards);
}
