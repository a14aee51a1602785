// The console's only ways to the server: GraphQL over HTTP with the signed-in token, and subscriptions over the
// WebSocket (graphql-transport-ws) that reconnect by themselves. Nothing here knows a page.

const KEY = "paydesk.token";

/// The token the person signed in with; kept for this tab only.
export const session = {
  get token() {
    return sessionStorage.getItem(KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

/// A refusal or failure, with the server's `extensions.code` and its message in words.
export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/// Runs one operation; resolves to its data or rejects with the first error.
export async function gql(query, variables = {}, { idempotencyKey } = {}) {
  const headers = { "content-type": "application/json", authorization: `Bearer ${session.token}` };
  if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
  let answer;
  try {
    answer = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError("NETWORK", "paydesk could not be reached: check the connection and try again");
  }
  let body;
  try {
    body = await answer.json();
  } catch {
    throw new ApiError(`HTTP_${answer.status}`, `paydesk answered HTTP ${answer.status}`);
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    throw new ApiError(first.extensions?.code ?? "ERROR", first.message);
  }
  return body.data;
}

/// Subscribes to `query`; `variables()` gives the variables for each (re)connection (a resume cursor, say).
/// Calls `next(data)` per event and `status(state, why)` with "connecting", "live", "reconnecting" or "refused".
/// Returns `{ close() }`.
export function subscribe(query, variables, { next, status }) {
  let socket;
  let closed = false;
  let attempt = 0;
  let timer;
  const open = () => {
    status(attempt ? "reconnecting" : "connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/graphql/ws`, "graphql-transport-ws");
    socket.onopen = () => send({ type: "connection_init", payload: { Authorization: `Bearer ${session.token}` } });
    socket.onmessage = (message) => {
      const msg = JSON.parse(message.data);
      if (msg.type === "connection_ack") {
        attempt = 0;
        status("live");
        send({ id: "1", type: "subscribe", payload: { query, variables: variables() } });
      } else if (msg.type === "next" && msg.payload?.data) {
        next(msg.payload.data);
      } else if (msg.type === "ping") {
        send({ type: "pong" });
      } else if (msg.type === "error") {
        status("refused", msg.payload?.[0]?.message ?? "the subscription was refused");
      }
    };
    socket.onclose = (event) => {
      if (closed) return;
      if (event.code === 4403) {
        status("refused", event.reason || "the token was refused or has expired: sign in again");
        return;
      }
      status("reconnecting");
      timer = setTimeout(open, Math.min(15000, 500 * 2 ** attempt++));
    };
  };
  const send = (msg) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(msg));
  open();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.close(1000);
    },
  };
}
