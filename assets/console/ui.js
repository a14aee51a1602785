// Small helpers every page uses: elements built without HTML strings (nothing the server says is ever parsed as
// markup), amounts and times as people read them, the status line, and the confirmation dialog.

/// An element: `h("button", { class: "primary", onclick }, "Approve")`. Attributes starting with `on` are listeners;
/// `false`, `null` and `undefined` attributes are left out; children may be strings, elements or arrays.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/// `amount` (a decimal string, as the API sends it) in `currency`, e.g. "₹1,250.00".
export function money(amount, currency = "INR") {
  const [whole, fraction = ""] = String(amount).replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = String(amount).startsWith("-") ? "−" : "";
  const symbol = { INR: "₹", USD: "$", EUR: "€", GBP: "£" }[currency];
  const text = `${grouped}${fraction ? "." + fraction : ""}`;
  return symbol ? `${sign}${symbol}${text}` : `${sign}${text} ${currency}`;
}

/// `a - b` for two decimal strings with at most two decimals, exactly (no floating point).
export function minus(a, b) {
  const cents = (x) => {
    const [w, f = ""] = String(x).replace("-", "").split(".");
    const n = BigInt(w) * 100n + BigInt((f + "00").slice(0, 2));
    return String(x).startsWith("-") ? -n : n;
  };
  const d = cents(a) - cents(b);
  const abs = d < 0n ? -d : d;
  return `${d < 0n ? "-" : ""}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

/// A time as the reader's locale writes it.
export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

/// An id cut short for reading; the whole id stays in the title.
export function short(id) {
  return h("span", { class: "id", title: id }, id ? id.slice(0, 8) : "—");
}

/// Says something in the status line: "ok", "error" (read out at once) or "info".
export function announce(message, kind = "info") {
  const line = document.getElementById("status");
  line.replaceChildren(h("p", { class: `note ${kind}`, role: kind === "error" ? "alert" : null }, message));
}

/// Asks before acting: a dialog with what will happen (`lines`) and, if `reason` names a field, a text the person
/// must give. Resolves to the text (or "" without a field) on confirm, `null` on cancel.
export function confirmAction({ title, lines, action, reason, optional }) {
  return new Promise((resolve) => {
    const field = reason
      ? h("textarea", { id: "confirm-text", rows: 3, required: !optional, maxlength: 500 })
      : null;
    const error = h("p", { class: "note error", hidden: true });
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title" }, title),
      lines.map((line) => h("p", {}, line)),
      field ? [h("label", { for: "confirm-text" }, reason), field] : null,
      error,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => finish(null) }, "Cancel"),
        h("button", { type: "button", class: "primary", onclick: () => submit() }, action),
      ),
    );
    const submit = () => {
      const text = field ? field.value.trim() : "";
      if (field && !optional && !text) {
        error.hidden = false;
        error.textContent = `${reason} is required.`;
        field.focus();
        return;
      }
      finish(text);
    };
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      finish(null);
    });
    document.getElementById("status").replaceChildren();
    document.body.append(dialog);
    dialog.showModal();
    (field ?? dialog.querySelector(".primary")).focus();
  });
}

/// A list read a page at a time: `read(after)` returns one page of the connection; `load()` reads the first page
/// again, `load(true)` appends the next. It keeps the `rows` read, the connection's `total`, and whether there is
/// `more`.
export function pages(read) {
  let after = null;
  const list = { rows: [], total: 0, more: false };
  list.load = async (next = false) => {
    const page = await read(next ? after : null);
    list.rows = next ? list.rows.concat(page.nodes) : page.nodes;
    list.total = page.totalCount;
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    list.more = after !== null;
  };
  return list;
}

/// The button that reads a list's next page (`load(true)`).
export function showMore(load) {
  return h("button", { type: "button", onclick: (e) => once(e.target, () => load(true)) }, "Show more");
}

/// Carries out a confirmed action: `work()`, then what `said(result)` says in the status line (or the refusal in
/// words), then `reload()` so the page shows where things stand either way.
export async function settle(work, said, reload) {
  try {
    announce(said(await work()), "ok");
  } catch (e) {
    announce(`Refused: ${e.message}`, "error");
  }
  await reload();
}

/// Runs `work` once at a time for `button`: disabled while it runs, so a double click does nothing twice.
export async function once(button, work) {
  if (button.disabled) return;
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}
