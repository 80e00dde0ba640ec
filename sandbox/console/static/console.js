// The sandbox console's page: long-polls /api/state, swaps changed messages in place, and turns clicks,
// selections and submissions into /api/* calls (the server signs them as Slack and sends them to the bot).
"use strict";

const S = {
  user: "U0REQUEST", channel: "C0FINANCE", client: "Atomar's Best Tackle", version: null, token: 0,
  meta: null, modalHtml: null, modalId: null, booksHtml: null, expanded: new Set(), collapsed: new Set(),
  replies: new Map(), seen: new Map(), loaded: false, last: null, polling: null,
};
const $ = (sel, root = document) => root.querySelector(sel);

// Which threads are open or closed survives a reload (the buttons in a thread stay in reach).
function loadThreads() {
  try {
    const saved = JSON.parse(sessionStorage.getItem("console-threads") || "{}");
    S.expanded = new Set(saved.open || []);
    S.collapsed = new Set(saved.closed || []);
  } catch (e) { /* a broken entry: start with every thread closed */ }
}
function saveThreads() {
  sessionStorage.setItem("console-threads", JSON.stringify({ open: [...S.expanded], closed: [...S.collapsed] }));
}
loadThreads();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function api(verb, body = {}) {
  const r = await fetch(`/api/${verb}`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: S.user, ...body }),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok || data.ok === false) throw new Error(data.error || `HTTP ${r.status}`);
  return data;
}

function status(text, isError = false, fromPoll = false) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", isError);
  el.dataset.poll = fromPoll ? "1" : "";  // only the poller's own words are cleared when the state arrives
}

function announce(text) {
  const el = $("#announcer");
  el.textContent = "";
  setTimeout(() => { el.textContent = text; }, 30);
}

// Slack text → something a screen reader can say (the HTML version is on screen).
const speak = (t) => (t || "").replace(/<@([^>|]+)(\|[^>]*)?>/g, "@$1").replace(/<([^>|]+)\|([^>]+)>/g, "$2")
  .replace(/[*_`~]/g, "").replace(/:([a-z0-9_+-]+):/g, "").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
  .replace(/&amp;/g, "&").trim();

// ---- live state ---------------------------------------------------------------------------------------

async function poll() {
  const token = ++S.token;
  // A refresh ends the poll it replaces: the browser queues a GET behind an identical one still in flight (its
  // cache lock), so the new loop's long poll would wait for the old one and the books would lag seconds behind.
  if (S.polling) S.polling.abort();
  const ctl = new AbortController();
  S.polling = ctl;
  while (token === S.token) {
    try {
      const q = new URLSearchParams({ user: S.user, client: S.client });
      if (S.version !== null) q.set("since", String(S.version));
      const r = await fetch(`/api/state?${q}`, { cache: "no-store", signal: ctl.signal });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const st = await r.json();
      if (token !== S.token) return;
      render(st);
    } catch (e) {
      if (token !== S.token) return;
      status("Lost contact with the sandbox; retrying…", true, true);
      await sleep(1000);
    }
  }
}

function refresh() { S.version = null; poll(); }

function render(st) {
  S.version = st.version;
  S.last = st;
  const channel = st.channels.find((c) => c.id === S.channel) || st.channels[0];
  if (channel) S.channel = channel.id;
  renderChannels(st.channels);
  if (channel) renderTimeline(channel);
  renderModal(st.modal);
  renderBooks(st.books);
  $("#armed").innerHTML = "";
  for (const line of st.armed || []) {
    const li = document.createElement("li");
    li.textContent = line;
    $("#armed").append(li);
  }
  // Clear "Connecting…" / "Lost contact…", never what a click said meanwhile: the heading is in the static page,
  // so someone can pick an actor before the first state arrives, and "Now acting as …" must stay.
  S.loaded = true;
  if ($("#status").dataset.poll) status("");
}

function renderChannels(channels) {
  const list = $("#channel-list");
  list.innerHTML = "";
  for (const c of channels) {
    const seen = S.seen.get(c.id) || new Set();
    const unread = c.id === S.channel ? 0 : c.items.filter((i) => !seen.has(i.key)).length;
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "channel-link";
    b.dataset.channel = c.id;
    if (c.id === S.channel) b.setAttribute("aria-current", "page");
    b.textContent = `# ${c.name}`;
    if (unread) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(unread);
      badge.setAttribute("aria-label", `${unread} new`);
      b.append(" ", badge);
    }
    li.append(b);
    list.append(li);
  }
  const current = channels.find((c) => c.id === S.channel);
  if (current) {
    $("#channel-title").textContent = `#${current.name}`;
    $("#channel-topic").textContent = current.id === S.meta?.notify
      ? "Completion notices and alerts from the bot" : "Credit requests and approvals: type the command below";
  }
}

function fragment(html) {
  const t = document.createElement("template");
  t.innerHTML = html;
  return t.content;
}

function renderTimeline(channel) {
  const box = $("#timeline");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const existing = new Map([...box.children].map((el) => [el.dataset.key, el]));
  const seen = S.seen.get(channel.id) || new Set();
  const firstView = !S.seen.has(channel.id);
  let prev = null;
  let changed = false;
  for (const item of channel.items) {
    let el = existing.get(item.key);
    existing.delete(item.key);
    const before = S.replies.get(item.key) || 0;
    const replies = item.replies || [];
    if (!firstView && S.loaded) {
      if (!seen.has(item.key)) announce(`New message: ${speak(item.text)}`);
      else if (replies.length > before) announce(`New reply: ${speak(replies[replies.length - 1])}`);
    }
    // a thread that grows while you watch opens by itself (unless you closed it): the steps are the show
    if (replies.length > before && before > 0 && !S.collapsed.has(item.key)) S.expanded.add(item.key);
    if (replies.length > 0 && before === 0 && S.loaded && !firstView) S.expanded.add(item.key);
    S.replies.set(item.key, replies.length);
    saveThreads();
    seen.add(item.key);
    if (!el || el._html !== item.html) {
      const active = document.activeElement;
      const focusId = active && el && el.contains(active) ? active.id || null : null;
      const fresh = document.createElement("div");
      fresh.className = "item";
      fresh.dataset.key = item.key;
      fresh._html = item.html;
      fresh.append(fragment(item.html));
      if (el) el.replaceWith(fresh); else box.insertBefore(fresh, prev ? prev.nextSibling : box.firstChild);
      el = fresh;
      changed = true;
      if (focusId && document.getElementById(focusId)) document.getElementById(focusId).focus();
    } else if ((prev ? prev.nextSibling : box.firstChild) !== el) {
      box.insertBefore(el, prev ? prev.nextSibling : box.firstChild);
    }
    applyThread(el, item.key);
    prev = el;
  }
  for (const gone of existing.values()) { gone.remove(); changed = true; }
  S.seen.set(channel.id, seen);
  if (!box.children.length) {
    box.innerHTML = '<p class="empty">No messages yet. Type <code>/applycredit Atomar\'s Best Tackle</code> below.</p>';
  } else { box.querySelector(".empty")?.remove(); }
  if (changed && (atBottom || firstView)) box.scrollTop = box.scrollHeight;
}

function applyThread(el, key) {
  const toggle = el.querySelector(":scope > article > .msg-main > .thread-toggle");
  if (!toggle) return;
  const open = S.expanded.has(key);
  toggle.setAttribute("aria-expanded", String(open));
  const region = document.getElementById(toggle.getAttribute("aria-controls"));
  if (region) region.hidden = !open;
}

function renderModal(modal) {
  const root = $("#modal-root");
  const layout = $("#layout");
  if (!modal) {
    if (!root.hidden) {
      root.hidden = true;
      root.innerHTML = "";
      layout.inert = false;
      S.modalHtml = S.modalId = null;
      $("#composer-input").focus();
    }
    return;
  }
  if (modal.html === S.modalHtml) return;
  const active = document.activeElement;
  const focusId = root.contains(active) ? active.id : null;
  const isNew = modal.id !== S.modalId;
  root.innerHTML = "";
  root.append(fragment(modal.html));
  root.hidden = false;
  layout.inert = true;
  S.modalHtml = modal.html;
  S.modalId = modal.id;
  const again = focusId && document.getElementById(focusId);
  if (again && !isNew) { again.focus(); return; }
  const error = root.querySelector('[aria-invalid="true"]');
  const first = error || root.querySelector(".sk-field, .sk-search, .sk-dispatch, .modal-submit") || root.querySelector(".modal-close");
  if (first) first.focus();
  announce(`Dialog: ${root.querySelector("h2")?.textContent || ""}`);
}

function renderBooks(books) {
  if (books.html !== S.booksHtml) {
    // A date the person typed survives the refresh, until a checklist asks for another one.
    const typed = $("#sync-from");
    const keep = typed && typed.dataset.edited ? { asked: typed.dataset.asked, value: typed.value } : null;
    $("#books").innerHTML = books.html;
    S.booksHtml = books.html;
    const field = $("#sync-from");
    if (keep && field && field.dataset.asked === keep.asked) { field.value = keep.value; field.dataset.edited = "1"; }
  }
  const pick = $("#client");
  if (pick.options.length !== books.clients.length) {
    pick.innerHTML = "";
    for (const name of books.clients) {
      const o = document.createElement("option");
      o.value = o.textContent = name;
      pick.append(o);
    }
  }
  pick.value = S.client;
}

// ---- what the user does -------------------------------------------------------------------------------

function collect(form) {
  const values = {};
  for (const el of form.querySelectorAll(".sk-field")) {
    const { blockId, actionId } = el.dataset;
    let entry;
    if (el.tagName === "SELECT" && el.multiple) {
      entry = { selected: [...el.selectedOptions].filter((o) => o.value).map((o) => ({ value: o.value, text: o.textContent })) };
    } else if (el.tagName === "SELECT") {
      const o = el.selectedOptions[0];
      entry = { selected: o && o.value ? { value: o.value, text: o.textContent } : null };
    } else if (el.tagName === "FIELDSET") {
      const r = el.querySelector("input:checked");
      entry = { selected: r ? { value: r.value, text: el.querySelector(`label[for="${r.id}"]`)?.textContent } : null };
    } else {
      entry = { value: el.value };
    }
    (values[blockId] ||= {})[actionId] = entry;
  }
  return values;
}

async function act(el, selected) {
  const modal = el.closest(".modal");
  const body = { action_id: el.dataset.actionId, block_id: el.dataset.blockId, selected };
  if (modal) {
    Object.assign(body, { kind: "view", view_id: modal.dataset.viewId, values: collect($("form", modal)) });
  } else {
    const art = el.closest("article[data-kind]");
    Object.assign(body, { kind: art.dataset.kind, channel: art.dataset.channel, ts: art.dataset.ts });
  }
  try {
    await api("action", body);
    status("");
  } catch (e) { status(e.message, true); }
}

function confirmThen(template, run) {
  const dlg = $("#confirm");
  const c = template.content;
  $("#confirm-title").innerHTML = c.querySelector(".sk-confirm-title").innerHTML;
  $("#confirm-text").innerHTML = c.querySelector(".sk-confirm-text").innerHTML;
  $("#confirm-no").textContent = c.querySelector(".sk-confirm-no").textContent;
  const yes = $("#confirm-yes");
  yes.textContent = c.querySelector(".sk-confirm-yes").textContent;
  yes.className = `sk-btn ${template.dataset.style === "danger" ? "sk-btn-danger" : "sk-btn-primary"}`;
  const opener = document.activeElement;
  dlg.onclose = () => {
    if (dlg.returnValue === "yes") run();
    if (opener && document.contains(opener)) opener.focus();
  };
  dlg.returnValue = "";
  dlg.showModal();
  yes.focus();
}

async function loadOptions(search) {
  const select = document.getElementById(search.dataset.for);
  const modal = search.closest(".modal");
  const query = search.value;
  if (query.length < Number(search.dataset.minQuery || 0)) return;
  try {
    const { options } = await api("options", {
      view_id: modal.dataset.viewId, action_id: select.dataset.actionId, block_id: select.dataset.blockId, query,
    });
    if (search.value !== query) return; // a newer query is on its way
    const current = select.value;
    const kept = [...select.selectedOptions].filter((o) => o.value);
    select.innerHTML = "";
    if (!select.multiple) { // a multi-select has no placeholder row: nothing chosen is its empty state
      const ph = document.createElement("option");
      ph.value = ""; ph.disabled = true; ph.textContent = options.length ? "Choose one" : "No match";
      select.append(ph);
    }
    for (const keep of kept) if (!options.some((o) => o.value === keep.value)) select.append(keep);
    for (const o of options) {
      const opt = document.createElement("option");
      opt.value = o.value; opt.textContent = o.text;
      opt.selected = kept.some((k) => k.value === o.value);
      select.append(opt);
    }
    if (!select.multiple) select.value = current || (options[0]?.value ?? "");
    announce(`${options.length} option${options.length === 1 ? "" : "s"} found`);
  } catch (e) { status(e.message, true); }
}

let searchTimer = null;

document.addEventListener("click", (ev) => {
  const t = ev.target;
  const toggle = t.closest(".thread-toggle");
  if (toggle) {
    const key = toggle.closest(".item").dataset.key;
    if (S.expanded.has(key)) { S.expanded.delete(key); S.collapsed.add(key); } else { S.expanded.add(key); S.collapsed.delete(key); }
    saveThreads();
    applyThread(toggle.closest(".item"), key);
    return;
  }
  const button = t.closest("button.sk-dispatch");
  if (button) {
    const tpl = button.parentElement.querySelector(":scope > template.sk-confirm");
    if (tpl) confirmThen(tpl, () => act(button)); else act(button);
    return;
  }
  if (t.closest(".modal-close")) {
    api("close", { view_id: t.closest(".modal").dataset.viewId }).catch((e) => status(e.message, true));
    return;
  }
  const link = t.closest(".channel-link");
  if (link) { S.channel = link.dataset.channel; $("#timeline").innerHTML = ""; refresh(); return; }
  const person = t.closest("[data-person]");  // guided mode (issue 14): a person's action in the portal
  if (person) {
    api("person", { do: person.dataset.person, invoice: person.dataset.invoice || "", sync_from: $("#sync-from")?.value || "" })
      .then((r) => { status(r.message); refresh(); }).catch((e) => status(e.message, true));
    return;
  }
  const bookkeeper = t.closest("[data-bookkeeper]");  // issue 22: a new credit made in QuickBooks itself
  if (bookkeeper) {
    api("books", { do: bookkeeper.dataset.bookkeeper, client: S.client, amount: $("#bk-amount").value })
      .then((r) => { status(r.message); refresh(); }).catch((e) => status(e.message, true));
    return;
  }
  const fault = t.closest("[data-fault]");
  if (fault) {
    api("fault", { kind: fault.dataset.fault }).then((r) => { status(r.ended ? r.message : `Armed. ${r.message}`); refresh(); })
      .catch((e) => status(e.message, true));
    return;
  }
  if (t.id === "confirm-yes") $("#confirm").close("yes");
  if (t.id === "confirm-no") $("#confirm").close("no");
});

document.addEventListener("change", (ev) => {
  const t = ev.target;
  if (t.matches("select.sk-dispatch")) {
    const o = t.selectedOptions[0];
    act(t, { value: o.value, text: o.textContent });
  } else if (t.matches(".sk-radios.sk-dispatch input")) {
    act(t.closest("fieldset"), { value: t.value, text: t.labels[0]?.textContent });
  } else if (t.id === "client") {
    S.client = t.value; S.booksHtml = null; refresh();
  } else if (t.name === "actor") {
    S.user = t.value;
    S.modalHtml = null;
    const who = S.meta.users.find((u) => u.id === S.user);
    status(`Now acting as ${who.name} (${who.role}).`);
    refresh();
  }
});

document.addEventListener("input", (ev) => {
  if (ev.target.id === "sync-from") ev.target.dataset.edited = "1"; // the person's date, kept across refreshes
  if (!ev.target.matches(".sk-search")) return;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadOptions(ev.target), 200);
});

document.addEventListener("focusin", (ev) => {
  const t = ev.target;
  if (t.matches(".sk-search") && !t.dataset.loaded && Number(t.dataset.minQuery || 0) === 0) {
    t.dataset.loaded = "1";
    loadOptions(t);
  }
});

document.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.target;
  if (form.id === "composer") {
    const input = $("#composer-input");
    const text = input.value;
    try {
      await api("command", { text, channel: S.channel });
      input.value = "";
      status(text.startsWith("/") ? `Sent ${text.split(" ")[0]} to the bot.` : "");
    } catch (e) { status(e.message, true); }
  } else if (form.matches(".modal-body")) {
    const submit = document.querySelector(`button[form="${form.id}"]`);
    if (submit) submit.disabled = true;
    try {
      const r = await api("submit", { view_id: form.dataset.viewId, values: collect(form) });
      status(r.errors ? "Please fix the highlighted fields." : "", Boolean(r.errors));
    } catch (e) { status(e.message, true); } finally { if (submit) submit.disabled = false; }
  }
});

document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && !$("#modal-root").hidden && !$("#confirm").open) {
    const modal = $("#modal-root .modal");
    if (modal) api("close", { view_id: modal.dataset.viewId }).catch((e) => status(e.message, true));
  }
});

async function start() {
  status("Connecting to the sandbox…", false, true);
  S.meta = await (await fetch("/api/meta")).json();
  S.channel = S.meta.channel;
  const box = $("#actor-options");
  for (const u of S.meta.users) {
    const id = `actor-${u.id}`;
    const wrap = document.createElement("div");
    wrap.className = "actor-option";
    wrap.innerHTML = `<input type="radio" name="actor" id="${id}"><label for="${id}"></label>`;
    wrap.querySelector("input").value = u.id;
    wrap.querySelector("input").checked = u.id === S.user;
    wrap.querySelector("label").innerHTML = `<span class="who"></span><span class="role"></span>`;
    wrap.querySelector(".who").textContent = u.name;
    wrap.querySelector(".role").textContent = u.role;
    box.append(wrap);
  }
  const faults = $("#faults");
  for (const [kind, f] of Object.entries(S.meta.faults)) {
    const div = document.createElement("div");
    div.className = "fault";
    div.innerHTML = `<button type="button" class="sk-btn sk-btn-outline"></button><p class="what"></p><p class="bot"></p>`;
    div.querySelector("button").dataset.fault = kind;
    div.querySelector("button").textContent = f.label;
    div.querySelector(".what").textContent = f.what;
    div.querySelector(".bot").textContent = `The bot: ${f.bot}`;
    faults.append(div);
  }
  poll();
}

start().catch((e) => status(`Could not reach the sandbox: ${e.message}`, true));
