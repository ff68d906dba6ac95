// Talking to the hub: the read token (this tab's sessionStorage only), candle reads and the live stream.

const TOKEN_KEY = "fxhub.token";
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 30000;

export class Unauthorized extends Error {}

// A token handed over in the address (#token=...) moves to sessionStorage and leaves the address bar,
// so it is neither bookmarked nor kept in the browser's history. The fragment never reaches a server.
export function adoptTokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function getJson(path) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { headers, cache: "no-store" });
  if (response.status === 401) throw new Unauthorized("the hub needs its token for reads");
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${path} answered HTTP ${response.status}`);
  return body;
}

// The newest `limit` candles of one pair and source, oldest first.
export async function latestCandles(pair, source, limit) {
  const query = new URLSearchParams({ limit: String(limit), source });
  const body = await getJson(`/v1/candles/${encodeURIComponent(pair)}/latest?${query}`);
  return body.candles;
}

// Live candles of `pair` from WS /v1/stream, reconnecting with backoff until close() is called.
// handlers: onOpen() (read a snapshot then: candles pushed while disconnected are not replayed),
// onCandle(candle), onLagged(dropped), onState("open" | "closed" | "connecting").
export function openStream(pair, handlers) {
  let socket = null;
  let closed = false;
  let delay = RECONNECT_FIRST_MS;
  let timer = null;

  const connect = () => {
    handlers.onState("connecting");
    const query = new URLSearchParams({ symbols: pair });
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) query.set("token", token); // browsers cannot set headers on a WebSocket
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/v1/stream?${query}`);
    socket.onopen = () => {
      delay = RECONNECT_FIRST_MS;
      handlers.onState("open");
      handlers.onOpen();
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "candle") handlers.onCandle(message.candle);
      else if (message.type === "lagged") handlers.onLagged(message.dropped);
    };
    socket.onclose = () => {
      if (closed) return;
      handlers.onState("closed");
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    };
  };

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (socket) socket.close(1000, "pair changed");
    },
  };
}
