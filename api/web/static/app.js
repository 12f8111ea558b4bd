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

function badge(status) {
  const span = document.createElement("span");
  span.className = `badge status-${status}`;
  span.textContent = status;
  return span;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = String(Math.floor(seconds % 60)).padStart(2, "0");
  return minutes < 60 ? `${minutes} min ${rest} s` : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
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

function setupRunsTable() {
  const table = document.getElementById("runs-table");
  if (!table) return;
  const refresh = async () => {
    try {
      const response = await fetch("/runs?" + table.dataset.apiQuery, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const page = await response.json();
      for (const item of page.items) {
        const row = table.querySelector(`tr[data-run-id="${CSS.escape(item.run_id)}"]`);
        if (!row) continue;
        const status = row.querySelector('[data-field="status"] .badge');
        if (status && status.textContent !== item.status) status.replaceWith(badge(item.status));
        row.querySelector('[data-field="duration"]').textContent = duration(item.duration_seconds);
        row.querySelector('[data-field="accepted"]').textContent = item.accepted;
        row.querySelector('[data-field="rejected"]').textContent = item.rejected;
      }
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
    const item = document.createElement("li");
    item.className = `event-${event.kind}`;
    const time = document.createElement("time");
    time.dateTime = event.created;
    time.textContent = String(event.created).slice(11, 19);
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = event.kind;
    item.append(time, " ", kind, " ", event.message);
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
  source.addEventListener("end", () => {
    source.close();
    // The run ended: render its experiments, verdicts and report.
    window.location.reload();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupTokenField();
  setupSubmit();
  setupRunsTable();
  setupRunPage();
});
