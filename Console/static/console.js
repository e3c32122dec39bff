// The backup console: three views over the app's own HTTP API, routed by the URL's hash.
//   #/runs?status=..&root=..&from=..&to=..   every backup, newest first, paged
//   #/run/<instance id>                       one run: summary, failed files, timeline
//   #/start                                   the start form
// Everything shown comes from the console API (ConsoleApi) and the starter (HttpStart);
// every text is set with textContent, never parsed as HTML.
"use strict";

const API = document.body.dataset.api;
// In Azure the page is opened with the function key (?code=...): every call passes it on.
const KEY = new URLSearchParams(location.search).get("code");
const REFRESH_MS = 2000;
const main = document.getElementById("main");
const messageBox = document.getElementById("message");
let timer = null;
let config = null;
let generation = 0; // a view started later wins: late answers of an old view are dropped

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = value;
    else if (name === "style") el.style.cssText = value; // CSSOM: allowed by the page's CSP
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function withKey(url) {
  if (!KEY) return url;
  return url + (url.includes("?") ? "&" : "?") + "code=" + encodeURIComponent(KEY);
}

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

// One call to the app; any failure becomes an ApiError with a message a person can act on.
async function call(method, url, body) {
  let answer;
  try {
    answer = await fetch(withKey(url), {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(`The app did not answer (${error.message}). Is the host running?`, 0);
  }
  const text = await answer.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!answer.ok) {
    const reason = data && typeof data.error === "string" ? data.error
      : `HTTP ${answer.status} ${answer.statusText}`.trim();
    throw new ApiError(reason, answer.status, data);
  }
  if (data === null && text) throw new ApiError(`The app answered something that is not JSON (HTTP ${answer.status}).`, answer.status);
  return data;
}

function showMessage(text, kind) {
  messageBox.textContent = text;
  messageBox.className = kind || "";
  messageBox.hidden = !text;
}

function clearMessage() { showMessage(""); }

function formatBytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return (unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)) + " " + units[unit];
}

function formatCount(n) { return n === null || n === undefined ? "–" : n.toLocaleString("en"); }

function plural(n, one, many) { return `${formatCount(n)} ${n === 1 ? one : many}`; }

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return seconds.toFixed(seconds < 10 ? 1 : 0) + " s";
  const m = Math.floor(seconds / 60), s = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function formatTime(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return isNaN(date) ? iso : date.toLocaleString("en-GB", { dateStyle: "short", timeStyle: "medium" });
}

function statusBadge(status) {
  return h("span", { class: `badge s-${status}`, text: status || "?" });
}

function percent(done, total) {
  if (!total) return done ? 100 : 0;
  return Math.min(100, Math.round((100 * done) / total));
}

function progressBar(run, label) {
  const total = run.bytesTotal || run.filesTotal;
  const done = run.bytesTotal ? run.bytesDone : run.filesDone;
  if (run.phase === "listing" || !total) {
    return h("progress", { "aria-label": `${label}: listing files` });
  }
  const pct = percent(done || 0, total);
  return h("progress", { max: "100", value: String(pct), "aria-label": `${label}: ${pct}% done` });
}

function field(labelText, control, hint) {
  const id = control.id;
  return h("div", { class: "field" }, h("label", { for: id, text: labelText }), control,
    hint ? h("p", { class: "hint", id: id + "-hint", text: hint }) : null);
}

function schedule(fn, ms) {
  clearTimeout(timer);
  timer = setTimeout(fn, ms);
}

async function loadConfig() {
  if (!config) config = await call("GET", API + "config");
  return config;
}

const KIND_NAMES = { backup: "Backup", dryrun: "Dry run", restore: "Restore" };

function kindName(kind) { return KIND_NAMES[kind] || kind; }

function runLink(run) {
  const where = run.container ? `${run.container}/${run.prefix || ""}` : "";
  return h("a", { href: "#/run/" + encodeURIComponent(run.id) }, run.root || where || run.id);
}

// ---------------------------------------------------------------- runs list

function parseHashQuery(query) {
  const params = new URLSearchParams(query || "");
  return {
    status: params.get("status") || "",
    kind: params.get("kind") || "",
    root: params.get("root") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
  };
}

function toIso(local) {
  if (!local) return "";
  const date = new Date(local);
  return isNaN(date) ? "" : date.toISOString();
}

function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (isNaN(date)) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

async function viewRuns(query, token) {
  const filters = parseHashQuery(query);
  const cfg = await loadConfig();
  if (token !== generation) return;
  const cursors = [""]; // cursors[i] opens page i
  let pageIndex = 0;

  const status = h("select", { id: "f-status", name: "status" },
    h("option", { value: "", text: "any status" }),
    cfg.statuses.map((s) => h("option", { value: s, text: s, selected: s === filters.status })));
  const kind = h("select", { id: "f-kind", name: "kind" },
    h("option", { value: "", text: "every kind" }),
    cfg.kinds.map((k) => h("option", { value: k, text: kindName(k), selected: k === filters.kind })));
  const root = h("input", { id: "f-root", name: "root", type: "text", list: "f-roots", value: filters.root,
    placeholder: "any root", autocomplete: "off", spellcheck: "false" });
  const roots = h("datalist", { id: "f-roots" }, cfg.allowedRoots.map((r) => h("option", { value: r })));
  const from = h("input", { id: "f-from", name: "from", type: "datetime-local", value: toLocalInput(filters.from) });
  const to = h("input", { id: "f-to", name: "to", type: "datetime-local", value: toLocalInput(filters.to) });
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter the backups" },
    field("Status", status), field("Kind", kind), field("Folder (or one above it)", root), roots,
    field("Started after", from), field("Started before", to),
    h("button", { type: "submit", class: "primary", text: "Filter" }),
    h("button", { type: "button", id: "f-clear", text: "Clear filters", onclick: () => { location.hash = "#/runs"; } }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (status.value) params.set("status", status.value);
    if (kind.value) params.set("kind", kind.value);
    if (root.value.trim()) params.set("root", root.value.trim());
    if (toIso(from.value)) params.set("from", toIso(from.value));
    if (toIso(to.value)) params.set("to", toIso(to.value));
    const next = "#/runs" + (params.toString() ? "?" + params : "");
    if (location.hash === next) route(); else location.hash = next;
  });

  const tbody = h("tbody");
  const table = h("table", { class: "cards", id: "runs" },
    h("caption", { class: "muted", style: null, text: "" }),
    h("thead", {}, h("tr", {}, ["Run", "Status", "Started", "Duration", "Files", "Bytes", "Failures", "Progress"]
      .map((name) => h("th", { scope: "col", text: name })))),
    tbody);
  const state = h("p", { class: "muted", id: "runs-state", "aria-live": "polite" });
  const newer = h("button", { type: "button", id: "page-newer", text: "← Newer", disabled: true });
  const older = h("button", { type: "button", id: "page-older", text: "Older →", disabled: true });
  const pageLabel = h("span", { class: "muted", id: "page-label" });
  main.replaceChildren(h("h2", { text: "Backups" }), form, state, table,
    h("div", { class: "pager" }, newer, pageLabel, older));

  let latest = 0; // only the newest request's answer is shown (clicks can overlap)
  async function load() {
    const mine = ++latest;
    const params = new URLSearchParams({ limit: "25" });
    for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
    if (cursors[pageIndex]) params.set("cursor", cursors[pageIndex]);
    let data;
    try {
      data = await call("GET", API + "runs?" + params);
    } catch (error) {
      if (token !== generation || mine !== latest) return;
      showMessage("Could not list the backups: " + error.message);
      state.textContent = "The list could not be loaded.";
      schedule(() => token === generation && load(), REFRESH_MS * 3);
      return;
    }
    if (token !== generation || mine !== latest) return;
    clearMessage();
    tbody.replaceChildren(...data.runs.map(runRow));
    if (!data.runs.length) {
      tbody.append(h("tr", {}, h("td", { colspan: "8", text: pageIndex ? "No older backups." : "No backups match. Start one from “Start a backup”." })));
    }
    cursors.length = pageIndex + 1;
    if (data.next) cursors.push(data.next);
    newer.disabled = pageIndex === 0;
    older.disabled = !data.next;
    pageLabel.textContent = `Page ${pageIndex + 1}`;
    const stamp = new Date().toLocaleTimeString("en-GB");
    state.textContent = data.anyActive
      ? `Updated ${stamp}; refreshing every ${REFRESH_MS / 1000} s while a backup runs.`
      : `Updated ${stamp}.` + (data.truncated ? " More backups started within one second than one page can sort; some may be missing." : "");
    if (data.anyActive) schedule(() => token === generation && load(), REFRESH_MS);
  }
  newer.addEventListener("click", () => { if (pageIndex > 0) { pageIndex -= 1; load(); } });
  older.addEventListener("click", () => { if (cursors[pageIndex + 1]) { pageIndex += 1; load(); } });
  await load();
}

function runRow(run) {
  const active = ["Running", "Pending", "Suspended", "ContinuedAsNew"].includes(run.status);
  const where = [run.container, run.prefix].filter((x) => x !== null && x !== undefined && x !== "").join("/");
  const arrow = run.kind === "restore" ? "← " : "→ ";
  return h("tr", { "data-id": run.id, "data-status": run.status, "data-kind": run.kind },
    h("td", { "data-label": "Run", class: "path" }, h("span", { class: "kind", text: kindName(run.kind) + " " }), runLink(run),
      where ? h("div", { class: "muted", text: arrow + where }) : null),
    h("td", { "data-label": "Status" }, statusBadge(run.status), run.phase && active ? h("div", { class: "muted", text: run.phase }) : null),
    h("td", { "data-label": "Started", class: "num", text: formatTime(run.created) }),
    // The status API gives whole seconds: a run that started and ended within one shows 0.
    h("td", { "data-label": "Duration", class: "num", text: !active && run.durationSeconds === 0 ? "under 1 s" : formatDuration(run.durationSeconds) }),
    h("td", { "data-label": "Files", class: "num", text: `${formatCount(run.filesDone)} of ${formatCount(run.filesTotal)}` }),
    h("td", { "data-label": "Bytes", class: "num", text: `${formatBytes(run.bytesDone)} of ${formatBytes(run.bytesTotal)}` }),
    h("td", { "data-label": "Failures", class: "num failures", text: formatCount(run.filesFailed) }),
    h("td", { "data-label": "Progress" }, active ? progressBar(run, "Progress of " + (run.root || run.id))
      : h("span", { class: "muted", text: run.status === "Completed" ? "done" : "–" })));
}

// ---------------------------------------------------------------- one run

async function startBackup(options) {
  const cfg = await loadConfig();
  const body = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== null && value !== undefined && value !== "") body[key] = value;
  }
  return call("POST", cfg.startUrl, body);
}

async function viewRun(id, token) {
  main.replaceChildren(h("h2", { text: "Backup " + id }), h("p", { text: "Loading…" }));
  let terminating = false;

  let latest = 0;
  async function load() {
    const mine = ++latest;
    let data;
    try {
      data = await call("GET", API + "runs/" + encodeURIComponent(id));
    } catch (error) {
      if (token !== generation || mine !== latest) return;
      if (error.status === 404 || error.status === 400) {
        main.replaceChildren(h("h2", { text: "Backup not found" }), h("p", {}, error.message, " ", h("a", { href: "#/runs", text: "Back to the list" })));
        return;
      }
      showMessage("Could not load this backup: " + error.message);
      schedule(() => token === generation && load(), REFRESH_MS * 3);
      return;
    }
    if (token !== generation || mine !== latest) return;
    clearMessage();
    render(data);
    if (data.active) schedule(() => token === generation && load(), REFRESH_MS);
  }

  function render(data) {
    const run = data.run, p = data.progress || {};
    const focused = document.activeElement && document.activeElement.id;
    const actions = h("div", { class: "actions" });
    if (data.active) {
      actions.append(h("button", { type: "button", class: "danger", id: "terminate", disabled: terminating,
        text: terminating ? "Terminating…" : "Terminate", onclick: async () => {
          if (!confirm("Terminate this backup? Files already stored stay stored; run it again to finish it.")) return;
          terminating = true;
          try {
            const answer = await call("POST", API + "runs/" + encodeURIComponent(id) + "/terminate", {});
            showMessage(answer.message, "info");
          } catch (error) {
            terminating = false;
            showMessage("Could not terminate: " + error.message);
          }
          load();
        } }));
    } else if (data.options && data.options.path) {
      actions.append(h("button", { type: "button", class: "primary", id: "start-again", text: "Start again", onclick: async (event) => {
        event.target.disabled = true;
        try {
          const started = await startBackup(data.options);
          showMessage("Started again.", "info");
          if (started.id === id) load(); else location.hash = "#/run/" + encodeURIComponent(started.id);
        } catch (error) {
          event.target.disabled = false;
          showMessage("Could not start it again: " + error.message);
        }
      } }));
    }
    actions.append(h("a", { href: "#/runs", class: "button", text: "All backups" }));

    const summary = h("dl", { class: "summary", id: "summary" });
    const add = (name, value) => summary.append(h("dt", { text: name }), h("dd", {}, value));
    add("Status", statusBadge(run.status));
    if (p.phase) add("Phase", p.phase);
    const dest = `${run.container || "–"} / ${run.prefix === "" ? "(top of the container)" : run.prefix || "–"}`;
    if (run.kind === "restore") {
      add("Target folder", h("span", { class: "path", text: run.root || "–" }));
      add("From", dest);
      if (run.snapshot) add("Snapshot", h("code", { text: run.snapshot }));
    } else {
      add("Root", h("span", { class: "path", text: run.root || "–" }));
      add("Destination", dest);
    }
    add("Started", formatTime(run.created));
    add("Duration", formatDuration(data.timeline && data.timeline.totalS !== undefined ? data.timeline.totalS : run.durationSeconds));
    const verb = run.kind === "restore" ? "restored" : "copied";
    add("Files", `${formatCount(p.filesDone)} of ${formatCount(p.filesTotal)} done: ${formatCount(p.filesCopied)} ${verb}, ${formatCount(p.filesSkipped)} ${run.kind === "restore" ? "already there" : "unchanged"}, ${formatCount(p.filesFailed)} failed`);
    add("Bytes", `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} done; ${formatBytes(p.bytesCopied)} ${verb}; ${formatBytes(p.bytesBackedUp)} ${run.kind === "restore" ? "in the target" : "in the backup"}`);
    if (p.partitionsTotal !== undefined) add("Partitions", `${formatCount(p.partitionsDone)} of ${formatCount(p.partitionsTotal)}`);
    if (p.skippedEntries) add("Skipped entries", formatCount(p.skippedEntries));
    add("Instance", h("code", { text: run.id }));
    if (typeof data.output === "number") add("Output", `${formatBytes(data.output)} ${run.kind === "restore" ? "restored" : "backed up"} (${data.output} bytes)`);

    const title = { backup: "Backup of ", dryrun: "Dry run of ", restore: "Restore into " }[run.kind] || run.kind + " ";
    const parts = [h("h2", {}, title + (run.root || run.id)), actions];
    if (data.active) parts.push(h("p", {}, progressBar(run, "Progress"), " ", h("span", { class: "muted", id: "progress-text",
      text: `${percent(run.bytesTotal ? run.bytesDone : run.filesDone, run.bytesTotal || run.filesTotal)}% · refreshing every ${REFRESH_MS / 1000} s` })));
    if (data.error) parts.push(h("h3", { text: run.status === "Terminated" ? "Why it stopped" : "Why it failed" }),
      h("p", { class: "error-box", id: "run-error", text: typeof data.error === "string" ? data.error : JSON.stringify(data.error) }));
    parts.push(h("h3", { text: "Summary" }), summary);
    if (run.kind === "dryrun" && data.output && data.output.copy) parts.push(dryRunSection(data.output));
    const report = run.kind === "prune" ? (data.output && typeof data.output === "object" ? data.output : p) : null;
    if (report) parts.push(pruneSection(report));
    if (run.kind !== "prune") parts.push(failedSection(data, p), skippedSection(data, p));
    parts.push(timelineSection(data.timeline));
    main.replaceChildren(...parts.filter(Boolean));
    if (focused) { const again = document.getElementById(focused); if (again) again.focus(); }
  }
  await load();
}

function dryRunSection(report) {
  const line = (name, count) => h("li", {}, `${name}: ${plural(count.files, "file", "files")}` + (count.bytes !== undefined ? `, ${formatBytes(count.bytes)}` : ""));
  const deleted = report.deleted;
  const section = h("section", { id: "dry-run", "aria-labelledby": "dry-run-title" },
    h("h3", { id: "dry-run-title", text: "Dry run: what a real run would do" }),
    h("ul", {}, line("copy, new", report.copy.new), line("copy, changed", report.copy.changed),
      line("skip, unchanged", report.skip.unchanged),
      h("li", {}, `left out by the rules: ${plural(report.skip.excluded.files, "file", "files")}, ${plural(report.skip.excluded.dirs, "folder", "folders")}`),
      deleted ? line(`gone since the last snapshot (${deleted.since})`, deleted) : null));
  const omitted = report.pathsOmitted || {};
  const excluded = report.skip.excluded;
  const kinds = [
    ["new", "New files", report.copy.new.files, report.paths.new, omitted.new],
    ["changed", "Changed files", report.copy.changed.files, report.paths.changed, omitted.changed],
    ["deleted", "Gone since the last snapshot", deleted && deleted.files, deleted && deleted.paths, deleted && deleted.pathsOmitted],
    ["excluded", "Left out by the rules", excluded.files + excluded.dirs, report.paths.excluded, omitted.excluded],
  ];
  for (const [kind, name, total, paths, left] of kinds) section.append(...samplePaths(kind, name, total, paths || [], left || 0));
  return section;
}

// The report lists at most a sample of each kind: say how many paths it left out, so a
// partial list is never read as the whole.
function samplePaths(kind, name, total, paths, left) {
  if (!paths.length && !left) return [];
  const parts = [h("h4", { id: `dry-run-${kind}-title`, text: `${name} (${formatCount(total)})` })];
  if (paths.length) parts.push(h("ul", { class: "paths", id: `dry-run-${kind}`, "aria-labelledby": `dry-run-${kind}-title` },
    paths.map((path) => h("li", { class: "path", text: path }))));
  if (left) parts.push(h("p", { class: "omitted", id: `dry-run-${kind}-omitted`, text: paths.length
    ? `… and ${plural(left, "more path", "more paths")} not listed (the report lists the first ${formatCount(paths.length)} in name order).`
    : `${plural(left, "path", "paths")}, none listed.` }));
  return parts;
}

function pruneSection(report) {
  const ids = (list) => (Array.isArray(list) ? list.length : 0);
  const rows = [
    ["Policy", report.policy === undefined ? "–" : typeof report.policy === "string" ? report.policy : JSON.stringify(report.policy)],
    ["Snapshots kept", formatCount(ids(report.kept))],
    [report.dryRun ? "Snapshots it would drop" : "Snapshots dropped", formatCount(ids(report.dropped))],
    ["Blobs deleted", formatCount(report.blobsDeleted)],
    ["Old versions deleted", formatCount(report.snapshotsDeleted)],
    ["Run pages deleted", formatCount(report.pagesDeleted)],
    ["Space freed", formatBytes(report.bytesFreed)],
  ];
  return h("section", { id: "prune", "aria-labelledby": "prune-title" },
    h("h3", { id: "prune-title", text: report.dryRun ? "Prune (dry run): what it would do" : "Prune" }),
    h("dl", { class: "summary" }, rows.flatMap(([name, value]) => [h("dt", { text: name }), h("dd", { text: value })])));
}

function failedSection(data, p) {
  const count = p.filesFailed || 0;
  const section = h("section", { id: "failed", "aria-labelledby": "failed-title" },
    h("h3", { id: "failed-title", text: `Failed files (${formatCount(count)})` }));
  if (!data.failed.length) {
    section.append(h("p", { class: "muted", text: count ? "The failures are counted, but none is listed." : "No file failed." }));
    return section;
  }
  section.append(h("table", { class: "cards" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "File" }), h("th", { scope: "col", text: "Why" }))),
    h("tbody", {}, data.failed.map((f) => h("tr", {},
      h("td", { "data-label": "File", class: "path", text: f.path }), h("td", { "data-label": "Why", text: f.error }))))));
  if (count > data.failed.length) {
    section.append(h("p", { class: "muted", text: `${formatCount(data.failed.length)} of ${formatCount(count)} listed (the backup keeps the first ones of each partition).` }));
  }
  return section;
}

function skippedSection(data, p) {
  if (!data.skipped.length) return null;
  return h("section", { id: "skipped" }, h("h3", { text: `Skipped entries (${formatCount(p.skippedEntries)})` }),
    h("table", { class: "cards" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Entry" }), h("th", { scope: "col", text: "Why" }))),
      h("tbody", {}, data.skipped.map((s) => h("tr", {},
        h("td", { "data-label": "Entry", class: "path", text: s.path }), h("td", { "data-label": "Why", text: s.reason }))))));
}

function timelineSection(tl) {
  const section = h("section", { id: "timeline", "aria-labelledby": "timeline-title" },
    h("h3", { id: "timeline-title", text: "Timeline" }));
  if (!tl || !tl.bars.length) {
    section.append(h("p", { class: "muted", text: "Nothing has run yet." }));
    return section;
  }
  const total = Math.max(tl.totalS, ...tl.bars.map((b) => b.endS), 0.001);
  section.append(h("p", { class: "muted", text: `${tl.bars.length} steps over ${formatDuration(tl.totalS)}${tl.ended ? "" : " so far"}.` }));
  section.append(h("ol", { class: "gantt" }, tl.bars.map((bar) => {
    const left = (100 * bar.startS) / total, width = Math.max(0.3, (100 * (bar.endS - bar.startS)) / total);
    const text = `${bar.startS.toFixed(2)} s → ${bar.endS.toFixed(2)} s, ${bar.state}`;
    return h("li", { "data-state": bar.state, "data-function": bar.function },
      h("span", { class: "label", text: bar.label }),
      h("span", { class: "track", "aria-hidden": "true" },
        h("span", { class: `bar ${bar.state}${bar.function ? "" : " final"}`, title: `${bar.label}: ${text}`,
          style: `left:${left.toFixed(3)}%;width:${Math.min(width, 100 - left).toFixed(3)}%` })),
      h("span", { class: "when", text }));
  })));
  if (tl.truncated) section.append(h("p", { class: "muted", text: "Only the first steps are shown." }));
  return section;
}

// ---------------------------------------------------------------- start form

async function viewStart(token) {
  const cfg = await loadConfig();
  if (token !== generation) return;
  main.replaceChildren(h("h2", { text: "Start a backup" }));
  if (!cfg.allowedRoots.length) {
    main.append(h("p", { class: "error-box", id: "no-roots", text: "No directory may be backed up yet: set the app setting BACKUP_ALLOWED_ROOTS to the directories you allow (absolute paths), then reload." }));
    return;
  }
  const root = h("select", { id: "s-root", name: "root", required: true },
    cfg.allowedRoots.map((r) => h("option", { value: r, text: r })));
  const sub = h("input", { id: "s-sub", name: "folder", type: "text", placeholder: "the whole root", autocomplete: "off",
    spellcheck: "false", "aria-describedby": "s-sub-hint" });
  const container = h("input", { id: "s-container", name: "container", type: "text", value: cfg.defaultContainer,
    required: true, spellcheck: "false", "aria-describedby": "s-container-hint" });
  const prefix = h("input", { id: "s-prefix", name: "prefix", type: "text", placeholder: "the folder's name",
    spellcheck: "false", "aria-describedby": "s-prefix-hint" });
  const compare = h("select", { id: "s-compare", name: "compare", "aria-describedby": "s-compare-hint" },
    cfg.compareModes.map((m) => h("option", { value: m, text: m, selected: m === cfg.defaultCompare })));
  const dryRunOption = cfg.startOptions.find((o) => o === "dryRun" || o === "dry_run");
  const patterns = (name, id) => cfg.startOptions.includes(name)
    ? h("textarea", { id, name, rows: "2", spellcheck: "false", "aria-describedby": id + "-hint" }) : null;
  const exclude = patterns("exclude", "s-exclude");
  const include = patterns("include", "s-include");
  const dryRun = dryRunOption ? h("input", { id: "s-dry-run", name: "dryRun", type: "checkbox" }) : null;
  const submit = h("button", { type: "submit", class: "primary", id: "s-submit", text: "Start the backup" });
  const form = h("form", { class: "form-grid", id: "start-form", novalidate: true },
    field("Allowed root", root),
    field("Folder inside it (optional)", sub, "A sub-folder of the root, e.g. site/uploads; empty backs up the whole root."),
    field("Container", container, "Blob container for the files (created when missing)."),
    field("Prefix (optional)", prefix, "Blob name prefix; empty uses the folder's name."),
    field("Re-run comparison", compare, "checksum re-reads unchanged files to compare their MD5; mtime trusts size and modification time."),
    exclude ? field("Exclude (optional)", exclude, "Patterns with .gitignore rules, one per line, e.g. *.log or cache/.") : null,
    include ? field("Only include (optional)", include, "Patterns; when given, only matching files are backed up.") : null,
    dryRun ? h("div", { class: "field check" }, dryRun, h("label", { for: "s-dry-run", text: "Dry run: list what would be copied, copy nothing" })) : null,
    h("div", {}, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const folder = sub.value.trim().replace(/^\/+|\/+$/g, "");
    const options = { path: folder ? root.value.replace(/\/+$/, "") + "/" + folder : root.value, container: container.value.trim(), compare: compare.value };
    if (prefix.value.trim()) options.prefix = prefix.value.trim();
    if (dryRun && dryRun.checked) options[dryRunOption] = true;
    for (const [name, box] of [["exclude", exclude], ["include", include]]) {
      const lines = box ? box.value.split("\n").map((x) => x.trim()).filter(Boolean) : [];
      if (lines.length) options[name] = lines;
    }
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      const started = await startBackup(options);
      clearMessage();
      location.hash = "#/run/" + encodeURIComponent(started.id);
    } catch (error) {
      showMessage("The backup was not started: " + error.message);
      submit.disabled = false;
      submit.textContent = "Start the backup";
      messageBox.focus && messageBox.setAttribute("tabindex", "-1");
    }
  });
  main.append(form);
}


// ---------------------------------------------------------------- snapshots

function snapshotsHash(view, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null) query.set(key, value);
  return `#/snapshots${view ? "/" + view : ""}?${query}`;
}

function destinationName(d) { return `${d.container} / ${d.prefix === "" ? "(top of the container)" : d.prefix}`; }

function formatMs(ms) { return ms === null || ms === undefined ? "–" : formatTime(new Date(ms).toISOString()); }

function changeCount(n) { return n === null || n === undefined ? "–" : formatCount(n); }

async function viewDestinations(token) {
  main.replaceChildren(h("h2", { text: "Snapshots" }), h("p", { text: "Loading…" }));
  const list = await call("GET", API + "destinations");
  if (token !== generation) return;
  const parts = [h("h2", { text: "Snapshots" }),
    h("p", { class: "muted", text: "Every backup that ended leaves a snapshot of the tree as it saw it. Choose a backup to see its snapshots." })];
  if (!list.length) {
    parts.push(h("p", { id: "no-snapshots", text: "No snapshots yet: they appear once a backup has ended." }));
  } else {
    parts.push(h("table", { class: "cards", id: "destinations" },
      h("thead", {}, h("tr", {}, ["Root", "Backup", "Snapshots", "Newest", "Files", "Size"].map((n) => h("th", { scope: "col", text: n })))),
      h("tbody", {}, list.map((d) => h("tr", { "data-container": d.container, "data-prefix": d.prefix },
        h("td", { "data-label": "Root", class: "path" }, h("a", { href: snapshotsHash("list", { container: d.container, prefix: d.prefix }) }, d.root || destinationName(d))),
        h("td", { "data-label": "Backup", text: destinationName(d) }),
        h("td", { "data-label": "Snapshots", class: "num", text: formatCount(d.snapshots) }),
        h("td", { "data-label": "Newest", class: "num", text: formatMs(d.latest.endedMs) }),
        h("td", { "data-label": "Files", class: "num", text: formatCount(d.latest.files) }),
        h("td", { "data-label": "Size", class: "num", text: formatBytes(d.latest.bytes) }))))));
  }
  main.replaceChildren(...parts);
}

async function viewSnapshotList(params, token) {
  const container = params.get("container") || "", prefix = params.get("prefix") || "";
  let offset = Number(params.get("offset") || 0);
  const data = await call("GET", API + "snapshots?" + new URLSearchParams({ container, prefix, offset: String(offset), limit: "25" }));
  if (token !== generation) return;
  const root = data.snapshots.length ? data.snapshots[0].root : "";
  const rows = data.snapshots.map((snap) => h("tr", { "data-run": snap.runId },
    h("td", { "data-label": "Ended", class: "num" }, h("a", { href: snapshotsHash("browse", { container, prefix, snapshot: snap.runId, path: "" }) }, formatMs(snap.endedMs))),
    h("td", { "data-label": "Files", class: "num", text: formatCount(snap.files) }),
    h("td", { "data-label": "Size", class: "num", text: formatBytes(snap.bytes) }),
    h("td", { "data-label": "Added", class: "num added", text: changeCount(snap.added) }),
    h("td", { "data-label": "Changed", class: "num changed", text: changeCount(snap.changed) }),
    h("td", { "data-label": "Deleted", class: "num deleted", text: changeCount(snap.deleted) }),
    h("td", { "data-label": "Failed", class: "num", text: changeCount(snap.failed) }),
    h("td", { "data-label": "Run", class: "muted" }, h("code", { text: snap.runId }), snap.error ? h("div", { class: "error-box", text: snap.error }) : null)));
  const pager = h("div", { class: "pager" },
    offset > 0 ? h("a", { class: "button", href: snapshotsHash("list", { container, prefix, offset: String(Math.max(0, offset - 25)) }), text: "← Newer" }) : null,
    h("span", { class: "muted", text: `${formatCount(offset + 1)}–${formatCount(offset + data.snapshots.length)} of ${formatCount(data.total)}` }),
    data.next !== null ? h("a", { class: "button", href: snapshotsHash("list", { container, prefix, offset: String(data.next) }), text: "Older →" }) : null);
  main.replaceChildren(
    h("h2", { text: "Snapshots of " + (root || destinationName(data)) }),
    h("p", { class: "muted", text: `Backup ${destinationName(data)}. Added, changed and deleted count the files against the snapshot before.` }),
    h("div", { class: "actions" }, h("a", { class: "button", href: "#/snapshots", text: "All backups with snapshots" })),
    h("table", { class: "cards", id: "snapshots" },
      h("thead", {}, h("tr", {}, ["Ended", "Files", "Size", "Added", "Changed", "Deleted", "Failed", "Run"].map((n) => h("th", { scope: "col", text: n })))),
      h("tbody", {}, rows)),
    pager);
}

// gitignore-style pattern for exactly one path of the snapshot (anchored, specials escaped).
function exactPattern(path, folder) {
  const escaped = path.replace(/[\\*?[\]]/g, "\\$&").replace(/ $/, "\\ ");
  return "/" + escaped + (folder ? "/" : "");
}

function restorePanel(cfg, what, onCancel) {
  const section = h("section", { id: "restore-panel", class: "panel", "aria-labelledby": "restore-title" },
    h("h3", { id: "restore-title", tabindex: "-1", text: `Restore ${what.label}` }));
  if (!cfg.restoreRoots.length) {
    section.append(h("p", { class: "error-box", text: "Nothing can be restored here yet: set the app setting BACKUP_RESTORE_ROOTS to the folders restores may write into, then reload." }),
      h("button", { type: "button", text: "Close", onclick: onCancel }));
    return section;
  }
  const root = h("select", { id: "r-root", name: "target" }, cfg.restoreRoots.map((r) => h("option", { value: r, text: r })));
  const sub = h("input", { id: "r-sub", name: "folder", type: "text", spellcheck: "false", autocomplete: "off", "aria-describedby": "r-sub-hint" });
  const existing = h("select", { id: "r-existing", name: "existing", "aria-describedby": "r-existing-hint" },
    cfg.existingModes.map((m) => h("option", { value: m, text: m, selected: m === cfg.defaultExisting })));
  const submit = h("button", { type: "submit", class: "primary", id: "r-submit", text: "Start the restore" });
  const form = h("form", { class: "form-grid", id: "restore-form" },
    field("Restore into", root),
    field("Folder inside it (optional)", sub, "Created when missing. The files keep their paths from the backup's root."),
    field("Files already there that differ", existing, "refuse: report them and leave them; skip: leave them; overwrite: replace them."),
    h("div", { class: "actions" }, submit, h("button", { type: "button", text: "Cancel", onclick: onCancel })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const folder = sub.value.trim().replace(/^\/+|\/+$/g, "");
    const body = { container: what.container, prefix: what.prefix, snapshot: what.snapshot,
      target: folder ? root.value.replace(/\/+$/, "") + "/" + folder : root.value, existing: existing.value };
    if (what.include) body.include = [what.include];
    submit.disabled = true;
    try {
      const started = await call("POST", cfg.restoreUrl, body);
      location.hash = "#/run/" + encodeURIComponent(started.id);
    } catch (error) {
      submit.disabled = false;
      showMessage("The restore was not started: " + error.message);
    }
  });
  section.append(form);
  return section;
}

async function viewBrowse(params, token) {
  const cfg = await loadConfig();
  const container = params.get("container") || "", prefix = params.get("prefix") || "";
  const snapshot = params.get("snapshot") || "", path = (params.get("path") || "").replace(/^\/+|\/+$/g, "");
  const query = { container, prefix, path, limit: "200" };
  const first = await call("GET", API + "snapshots/" + encodeURIComponent(snapshot) + "/tree?" + new URLSearchParams(query));
  if (token !== generation) return;
  const panelSlot = h("div", { id: "panel-slot" });
  function openRestore(item) {
    const what = item
      ? { label: (item.type === "folder" ? "the folder " : "the file ") + item.path, include: exactPattern(item.path, item.type === "folder") }
      : { label: path ? "the folder " + path : "everything in this snapshot", include: path ? exactPattern(path, true) : null };
    Object.assign(what, { container, prefix, snapshot });
    panelSlot.replaceChildren(restorePanel(cfg, what, () => panelSlot.replaceChildren()));
    document.getElementById("restore-title").focus();
  }
  const crumbs = h("nav", { "aria-label": "Folder path", class: "crumbs" });
  const steps = path ? path.split("/") : [];
  crumbs.append(h("a", { href: snapshotsHash("browse", { container, prefix, snapshot, path: "" }), text: "(root)" }));
  steps.forEach((step, i) => {
    crumbs.append(" / ");
    const target = steps.slice(0, i + 1).join("/");
    crumbs.append(i === steps.length - 1 ? h("span", { "aria-current": "page", text: step })
      : h("a", { href: snapshotsHash("browse", { container, prefix, snapshot, path: target }), text: step }));
  });
  const tbody = h("tbody");
  const more = h("button", { type: "button", id: "tree-more", text: "Show more" });
  const count = h("p", { class: "muted", id: "tree-count", "aria-live": "polite" });
  function itemRow(item) {
    const name = item.type === "folder"
      ? h("a", { href: snapshotsHash("browse", { container, prefix, snapshot, path: item.path }), text: item.name + "/" })
      : h("span", { text: item.name });
    return h("tr", { "data-type": item.type, "data-path": item.path },
      h("td", { "data-label": "Name", class: "path" }, name),
      h("td", { "data-label": "Size", class: "num", text: formatBytes(item.bytes) }),
      h("td", { "data-label": "Files", class: "num", text: item.type === "folder" ? formatCount(item.files) : "" }),
      h("td", { "data-label": "Modified", class: "num", text: item.type === "file" ? formatMs(Math.floor(item.mtimeNs / 1e6)) : "" }),
      h("td", { "data-label": "" }, h("button", { type: "button", class: "restore-item", "aria-label": `Restore ${item.path}`, text: "Restore…", onclick: () => openRestore(item) })));
  }
  let next = first.next;
  function add(page) {
    tbody.append(...page.items.map(itemRow));
    next = page.next;
    more.hidden = next === null;
    count.textContent = `${formatCount(tbody.children.length)} of ${formatCount(page.total)} entries shown; ${plural(page.files, "file", "files")}, ${formatBytes(page.bytes)} in this folder.`;
  }
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      add(await call("GET", API + "snapshots/" + encodeURIComponent(snapshot) + "/tree?" + new URLSearchParams({ ...query, offset: String(next) })));
    } catch (error) {
      showMessage("Could not load more: " + error.message);
    }
    more.disabled = false;
  });
  main.replaceChildren(
    h("h2", { text: `Snapshot ${snapshot}` }),
    h("p", { class: "muted", text: `Backup ${destinationName({ container, prefix })}.` }),
    h("div", { class: "actions" },
      h("a", { class: "button", href: snapshotsHash("list", { container, prefix }), text: "All snapshots of this backup" }),
      h("button", { type: "button", class: "primary", id: "restore-here", text: path ? "Restore this folder…" : "Restore everything…", onclick: () => openRestore(null) })),
    panelSlot, crumbs, count,
    h("table", { class: "cards", id: "tree" },
      h("thead", {}, h("tr", {}, ["Name", "Size", "Files", "Modified", ""].map((n) => h("th", { scope: "col", text: n })))),
      tbody),
    h("div", { class: "pager" }, more));
  add(first);
}

// ---------------------------------------------------------------- routing

async function route() {
  clearTimeout(timer);
  generation += 1;
  const token = generation;
  const hash = location.hash || "#/runs";
  const [path, query] = hash.slice(1).split("?");
  const parts = path.split("/").filter(Boolean);
  const view = parts[0] || "runs";
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === (view === "run" ? "runs" : view)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clearMessage();
  try {
    if (view === "run" && parts[1]) {
      document.title = "Backup · Backup console";
      await viewRun(decodeURIComponent(parts.slice(1).join("/")), token);
    } else if (view === "snapshots") {
      document.title = "Snapshots · Backup console";
      const params = new URLSearchParams(query || "");
      if (parts[1] === "list") await viewSnapshotList(params, token);
      else if (parts[1] === "browse") await viewBrowse(params, token);
      else await viewDestinations(token);
    } else if (view === "start") {
      document.title = "Start a backup · Backup console";
      await viewStart(token);
    } else {
      document.title = "Backups · Backup console";
      await viewRuns(query, token);
    }
  } catch (error) {
    if (token !== generation) return;
    showMessage("The console could not load this view: " + error.message);
    main.replaceChildren(h("p", {}, "Nothing to show. ", h("a", { href: "#/runs", text: "Back to the list" })));
  }
}

window.addEventListener("hashchange", () => { route(); main.focus({ preventScroll: true }); });
route();
