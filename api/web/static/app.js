// labgate dashboard: live status, the submit form and run actions. No build step, no dependencies.
"use strict";

const TERMINAL = new Set(["finished", "failed", "cancelled"]);

function token() {
  const field = document.getElementById("api-token");
  const value = field ? field.value.trim() : "";
  if (value) sessionStorage.setItem("labgate-token", value);
  return value || sessionStorage.getItem("labgate-token") || "";
}

async function post(url, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const secret = token();
  if (secret) headers["Authorization"] = "Bearer " + secret;
  const response = await fetch(url, { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let payload = {};
  try { payload = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const message = payload.message || (typeof payload.detail === "string" ? payload.detail : JSON.stringify(payload.detail));
    throw new Error(`${response.status}: ${message}`);
  }
  return payload;
}

// Characters no reader can see (format characters such as bidirectional overrides and zero-width spaces, controls
// other than tab and line ends, blank letters) shown as ⟨U+202E⟩, as the server-rendered pages show them
// (agents/_markdown.py `invisible`): streamed text must not display differently from what was recorded.
const INVISIBLE = /(?![\t\n\r])[\p{Cf}\p{Cc}\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0]/gu;
function visible(text) {
  return String(text).replace(INVISIBLE, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`);
}

function badge(status) {
  const span = document.createElement("span");
  span.className = `badge status-${status}`;
  span.textContent = status;
  return span;
}

function parseParams(text) {
  const params = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const at = line.indexOf("=");
    if (at < 1) throw new Error(`parameter "${line}" must look like name=value`);
    const name = line.slice(0, at).trim();
    const values = line.slice(at + 1).split(",").map((v) => v.trim()).filter(Boolean).map((v) => {
      if (v === "true" || v === "false") return v === "true";
      const number = Number(v);
      return Number.isNaN(number) ? v : number;
    });
    params[name] = values.length === 1 ? values[0] : values;
  }
  return params;
}

function setupTokenField() {
  const field = document.getElementById("api-token");
  if (field) field.value = sessionStorage.getItem("labgate-token") || "";
  const form = document.getElementById("token-form");
  if (form) form.addEventListener("submit", (event) => { event.preventDefault(); token(); });
}

function setupSubmit() {
  const form = document.getElementById("submit-form");
  if (!form) return;
  const result = document.getElementById("submit-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    result.textContent = "Submitting…";
    try {
      const body = { task: form.task.value, params: parseParams(form.params.value) };
      if (form.budget.value) body.budget = Number(form.budget.value);
      if (form.approve_plan.checked) body.approve_plan = true;
      const accepted = await post("/runs", body);
      result.textContent = `Run ${accepted.run_id} queued.`;
      window.location.href = accepted.links.dashboard;
    } catch (error) {
      result.textContent = `Not submitted: ${error.message}`;
      result.className = "error";
    } finally {
      button.disabled = false;
    }
  });
}

function setupAnnotations() {
  const form = document.getElementById("annotate-form");
  if (!form) return;
  const result = document.getElementById("annotate-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const tags = form.tags.value.split(/[\s,]+/).filter(Boolean);
    try {
      const saved = await post(`/runs/${form.dataset.runId}/annotations`, { tags, notes: form.notes.value });
      result.textContent = `Saved: ${saved.tags.length} tag${saved.tags.length === 1 ? "" : "s"}${saved.notes ? " and notes" : ""}.`;
    } catch (error) {
      result.textContent = `Not saved: ${error.message}`;
    }
  });
}

function setupRunsTable() {
  // Rows are re-rendered by the server (the same template as the page) and merged in place:
  // unchanged rows keep their elements (and focus), ticked compare boxes stay ticked, new runs appear.
  const wrap = document.getElementById("runs-table-wrap");
  if (!wrap) return;
  const refresh = async () => {
    if (document.hidden) return;
    try {
      const response = await fetch("/?" + wrap.dataset.rowsQuery, { headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("runs-table");
      const table = document.getElementById("runs-table");
      if (!fresh || !table) return;
      for (const part of ["caption", "thead"]) {
        const now = table.querySelector(part), next = fresh.querySelector(part);
        if (now && next && now.innerHTML !== next.innerHTML) now.replaceWith(document.importNode(next, true));
      }
      const body = table.querySelector("tbody");
      const rows = [];
      for (const next of fresh.querySelectorAll("tbody > tr")) {
        const id = next.dataset.runId;
        const current = id ? body.querySelector(`tr[data-run-id="${CSS.escape(id)}"]`) : null;
        if (current && current.innerHTML === next.innerHTML) { rows.push(current); continue; }
        const row = document.importNode(next, true);
        const box = current && current.querySelector("input[type=checkbox]");
        if (box && box.checked) row.querySelector("input[type=checkbox]").checked = true;
        rows.push(row);
      }
      const same = rows.length === body.children.length && rows.every((row, i) => row === body.children[i]);
      if (!same) body.replaceChildren(...rows);
      table.dataset.total = fresh.dataset.total;
    } catch (_) { /* the next tick tries again */ }
  };
  setInterval(refresh, 2000);
}

function setupRunPage() {
  const run = document.getElementById("run");
  if (!run) return;
  const runId = run.dataset.runId;
  const initial = run.dataset.status;
  for (const button of document.querySelectorAll("[data-action]")) {
    button.addEventListener("click", async () => {
      const action = button.dataset.action;
      if (action === "cancel" && !window.confirm(`Cancel run ${runId}?`)) return;
      const out = document.getElementById("action-result");
      button.disabled = true;
      try {
        const result = await post(`/runs/${runId}/${action}`);
        out.textContent = result.message;
        if (action === "approve") document.getElementById("approval")?.setAttribute("hidden", "");
        // A stopped run's page no longer follows its stream: shown again, it follows the resumed run.
        if (action === "resume" && run.dataset.status === "stopped") window.location.reload();
      } catch (error) {
        out.textContent = `${action} refused: ${error.message}`;
      } finally {
        button.disabled = false;
      }
    });
  }
  if (TERMINAL.has(initial)) return;
  const list = document.getElementById("events");
  const source = new EventSource(`/runs/${runId}/events?after=${run.dataset.lastEventId || 0}`);
  const onEvent = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === "progress") { showProgress(event); return; }
    const item = document.createElement("li");
    item.className = `event-${event.kind}`;
    const time = document.createElement("time");
    time.dateTime = event.created;
    time.textContent = String(event.created).slice(11, 19);
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = event.kind;
    item.append(time, " ", kind, " ", visible(event.message));
    list.append(item);
    list.scrollTop = list.scrollHeight;
    if (event.kind === "status" && event.data && event.data.status) {
      document.getElementById("run-status").replaceWith(Object.assign(badge(event.data.status), { id: "run-status" }));
      run.dataset.status = event.data.status;
    }
  };
  // Experiments, verdicts and steps are re-rendered by the server as they are recorded.
  let refreshTimer = null;
  const refreshResults = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      try {
        const response = await fetch(window.location.pathname, { headers: { Accept: "text/html" } });
        if (!response.ok) return;
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        for (const id of ["experiments", "steps"]) {
          const replacement = fresh.getElementById(id);
          const current = document.getElementById(id);
          if (replacement && current) current.replaceWith(document.importNode(replacement, true));
        }
      } catch (_) { /* the next event tries again */ }
    }, 1000);
  };
  const RESULT_KINDS = new Set(["step", "experiment", "verdict", "decision"]);
  source.onmessage = (message) => {
    onEvent(message);
    if (RESULT_KINDS.has(JSON.parse(message.data).kind)) refreshResults();
  };
  source.addEventListener("end", (message) => {
    source.close();
    if (JSON.parse(message.data).status === "stopped") {
      // Its process is gone and nothing else will happen until it is resumed: a reload would only end here again.
      document.getElementById("run-status").replaceWith(Object.assign(badge("stopped"), { id: "run-status" }));
      run.dataset.status = "stopped";
      return;
    }
    // The run ended: render its experiments, verdicts and report.
    window.location.reload();
  });
}

// A running experiment's newest solver progress (time, time step, residuals), updated in place:
// progress events are many and short-lived, so they replace one line instead of filling the event list.
function showProgress(event) {
  const key = event.data && event.data.key;
  if (typeof key !== "string") return;
  const article = document.querySelector(`article.experiment[data-key="${CSS.escape(key)}"]`);
  if (!article || article.dataset.status !== "running") return;
  let line = article.querySelector(".solver-progress");
  if (!line) {
    line = document.createElement("p");
    line.className = "solver-progress";
    line.setAttribute("role", "status");
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = "solver";
    const text = document.createElement("span");
    text.className = "progress-text";
    const time = document.createElement("time");
    time.className = "muted small";
    line.append(kind, " ", text, " ", time);
    article.querySelector("h3").after(line);
  }
  line.querySelector(".progress-text").textContent = visible(event.data.summary || event.message);
  const time = line.querySelector("time");
  time.dateTime = event.created;
  time.textContent = String(event.created).slice(11, 19);
}

async function loadFragment(holder) {
  if (holder.dataset.state) return;
  holder.dataset.state = "loading";
  try {
    const response = await fetch(holder.dataset.fragment, { headers: { Accept: "text/html" } });
    if (!response.ok) throw new Error(String(response.status));
    holder.innerHTML = await response.text();  // server-rendered, every value escaped there
    holder.dataset.state = "loaded";
  } catch (error) {
    holder.dataset.state = "";
    holder.prepend(Object.assign(document.createElement("p"), { className: "error", textContent: `Not loaded (${error.message}); open it again to retry.` }));
  }
}

function setupLazySections() {
  // Long logs, sources, tables and candidates are fetched when their <details> is opened.
  const loadOpen = (root) => {
    for (const holder of root.querySelectorAll("details[open] > [data-fragment]")) loadFragment(holder);
  };
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (details instanceof HTMLDetailsElement && details.open) loadOpen(details.parentElement || document);
  }, true);
  const openTarget = () => {
    let id = "";
    try { id = decodeURIComponent(window.location.hash.slice(1)); } catch (_) { return; }  // a link's malformed %-escape
    const target = id && document.getElementById(id);
    if (!target) return;
    for (let node = target; node; node = node.parentElement) if (node instanceof HTMLDetailsElement) node.open = true;
    target.scrollIntoView();
  };
  window.addEventListener("hashchange", openTarget);
  openTarget();
  loadOpen(document);
}

document.addEventListener("DOMContentLoaded", () => {
  setupLazySections();
  setupTokenField();
  setupSubmit();
  setupAnnotations();
  setupRunsTable();
  setupRunPage();
});
