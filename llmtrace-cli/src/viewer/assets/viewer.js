// llmtrace's trace viewer. Plain JavaScript, no dependencies. Every piece of trace content is
// put on the page as text (textContent, never innerHTML), so a prompt holding markup shows as
// the characters it is.
"use strict";

const DATA = JSON.parse(document.getElementById("llmtrace-data").textContent);
const TRACES = DATA.traces || [];
const BY_ID = new Map(TRACES.map((t) => [t.trace_id, t]));
const ROW_HEIGHT = 24;
const BADGE_LABELS = {
  loop: "↻ loop",
  low_retrieval_score: "low score",
  usage_missing: "no usage",
  cost_unpriced: "unpriced",
  content_truncated: "truncated",
};

// ---- DOM helpers -------------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function fmtCount(n) {
  return n === null || n === undefined ? "-" : Number(n).toLocaleString("en-US");
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return "-";
  if (ms < 1) return (ms * 1000).toFixed(0) + "µs";
  if (ms < 10) return ms.toFixed(1) + "ms";
  if (ms < 1000) return ms.toFixed(0) + "ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + "s";
  return (ms / 60000).toFixed(1) + "min";
}

function fmtCost(usd, lowerBound) {
  if (usd === null || usd === undefined) return lowerBound ? "?" : "-";
  let text;
  if (usd === 0) text = "$0";
  else if (usd < 0.000001) text = "<$0.000001";
  else text = "$" + usd.toPrecision(3).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  return (lowerBound ? "≥" : "") + text;
}

function fmtTokens(i, o) {
  if ((i === null || i === undefined) && (o === null || o === undefined)) return "-";
  return fmtCount(i) + " / " + fmtCount(o);
}

function fmtTime(ms) {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function badge(b) {
  return h("span", { class: "badge badge-" + b.kind, "data-badge": b.kind, title: b.text },
    BADGE_LABELS[b.kind] || b.kind);
}

/** Pretty JSON when `value` is JSON (or a string holding JSON), else the text. */
function jsonBlock(value) {
  let v = value;
  if (typeof v === "string") {
    try { v = JSON.parse(v); } catch (_) { return h("pre", { class: "json" }, value); }
  }
  return h("pre", { class: "json" }, typeof v === "string" ? v : JSON.stringify(v, null, 2));
}

function attr(span, key) {
  const list = span.attrs || [];
  for (let i = list.length - 1; i >= 0; i--) if (list[i][0] === key) return list[i][1];
  return undefined;
}

function parseJson(text) {
  if (typeof text !== "string") return text;
  try { return JSON.parse(text); } catch (_) { return undefined; }
}

// ---- routing -----------------------------------------------------------------------------

/** Traces the store did not have, asked for once. */
const missing = new Set();

function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const app = document.getElementById("app");
  app.replaceChildren();
  const trace = params.get("trace");
  const session = params.get("session");
  const compare = params.get("compare");
  if (trace && BY_ID.has(trace)) renderTrace(app, BY_ID.get(trace), params.get("span"));
  else if (trace && DATA.live && /^[0-9a-f]{32}$/.test(trace) && !missing.has(trace)) {
    // Served: a trace not loaded yet (a link to an older one) is asked of the store.
    app.append(h("div", { class: "empty" }, "loading trace " + trace + "…"));
    api("api/traces/" + trace)
      .then((t) => { merge([t]); route(); })
      .catch(() => { missing.add(trace); route(); });
  }
  else if (session !== null) renderSession(app, session);
  else if (compare) renderCompare(app, compare.split(",").filter((id) => BY_ID.has(id)));
  else renderList(app);
}

function go(params) {
  const q = new URLSearchParams(params).toString();
  if (location.hash.slice(1) === q) route();
  else location.hash = q;
}

// ---- trace list --------------------------------------------------------------------------

const listState = {
  sort: "start_ms", desc: true,
  name: "", session: "", user: "", model: "", errors: false, minCost: "", maxCost: "", from: "", to: "",
  search: "",
};

/** Called after the list's filters are applied: `serve` asks its store for matches not loaded. */
let onFilter = () => {};
/** The list's count line; `serve` counts the store's matches, not the loaded ones. */
let countText = (shown) => shown + " of " + TRACES.length + " traces";

const COLUMNS = [
  ["trace_id", "trace", false], ["root", "root", false], ["start_ms", "start", false],
  ["duration_ms", "duration", true], ["spans", "spans", true], ["tokens", "tokens in / out", true],
  ["cost_usd", "cost", true], ["errors", "errors", true], ["who", "session / user", false],
  ["badges", "badges", false],
];

function sortValue(t, key) {
  switch (key) {
    case "tokens": return (t.input_tokens || 0) + (t.output_tokens || 0);
    case "who": return (t.session || "") + "/" + (t.user || "");
    case "badges": return (t.badges || []).length;
    default: return t[key] === null || t[key] === undefined ? -Infinity : t[key];
  }
}

/** Lower-cased text of a trace's span names and content, built on first search. */
const haystacks = new Map();
function haystack(t) {
  let s = haystacks.get(t.trace_id);
  if (s === undefined) {
    const parts = [t.root, t.trace_id];
    for (const sp of t.spans_list || []) {
      parts.push(sp.name);
      for (const [, v] of sp.attrs || []) if (typeof v === "string") parts.push(v);
      for (const e of sp.events || []) {
        parts.push(e.name);
        for (const [, v] of e.attrs || []) if (typeof v === "string") parts.push(v);
      }
    }
    s = parts.join("\n").toLowerCase();
    haystacks.set(t.trace_id, s);
  }
  return s;
}

function keep(t) {
  const st = listState;
  if (st.name && !t.root.toLowerCase().includes(st.name.toLowerCase())) return false;
  if (st.session && t.session !== st.session) return false;
  if (st.user && t.user !== st.user) return false;
  if (st.model && !(t.models || []).includes(st.model)) return false;
  if (st.errors && !(t.errors > 0)) return false;
  if (st.minCost !== "" && !(t.cost_usd >= Number(st.minCost))) return false;
  if (st.maxCost !== "" && !(t.cost_usd <= Number(st.maxCost))) return false;
  if (st.from && t.start_ms < Date.parse(st.from + "Z")) return false;
  if (st.to && t.start_ms > Date.parse(st.to + "Z")) return false;
  if (st.search && !haystack(t).includes(st.search.toLowerCase())) return false;
  return true;
}

function distinct(key) {
  const set = new Set();
  for (const t of TRACES) {
    const v = t[key];
    if (Array.isArray(v)) v.forEach((x) => set.add(x));
    else if (v) set.add(v);
  }
  // Served: the store's values too, of traces not loaded yet.
  const more = DATA.live && DATA.live.choices && DATA.live.choices[key === "models" ? "models" : key + "s"];
  for (const v of more || []) set.add(v);
  return [...set].sort();
}

function renderList(app) {
  const st = listState;
  const tbody = h("tbody");
  const count = h("span", { class: "muted", id: "trace-count" });
  const refresh = () => {
    const rows = TRACES.filter(keep);
    rows.sort((a, b) => {
      const x = sortValue(a, st.sort), y = sortValue(b, st.sort);
      const c = typeof x === "string" || typeof y === "string"
        ? String(x).localeCompare(String(y)) : x - y;
      return (st.desc ? -c : c) || a.trace_id.localeCompare(b.trace_id);
    });
    const frag = document.createDocumentFragment();
    for (const t of rows) frag.append(traceRow(t));
    tbody.replaceChildren(frag);
    count.textContent = countText(rows.length);
    for (const th of thead.querySelectorAll("th")) {
      th.classList.toggle("sorted-asc", th.dataset.sort === st.sort && !st.desc);
      th.classList.toggle("sorted-desc", th.dataset.sort === st.sort && st.desc);
    }
    onFilter();
  };
  const input = (key, attrs) => {
    const el = h("input", Object.assign({ value: st[key] }, attrs));
    el.addEventListener("input", () => { st[key] = el.value; refresh(); });
    return el;
  };
  const select = (key, label, values) => {
    const el = h("select", { id: "filter-" + key, "aria-label": label },
      h("option", { value: "" }, "any " + label), values.map((v) => h("option", { value: v }, v)));
    el.value = st[key];
    el.addEventListener("change", () => { st[key] = el.value; refresh(); });
    return el;
  };
  const errors = h("input", { type: "checkbox", id: "filter-errors", checked: st.errors });
  errors.addEventListener("change", () => { st.errors = errors.checked; refresh(); });
  const filters = h("div", { class: "filters" },
    input("search", { type: "search", id: "search", placeholder: "search span names and content" }),
    input("name", { id: "filter-name", placeholder: "root name" }),
    select("session", "session", distinct("session")),
    select("user", "user", distinct("user")),
    select("model", "model", distinct("models")),
    h("label", {}, errors, "errors only"),
    h("label", {}, "cost ≥ $", input("minCost", { id: "filter-cost", type: "number", step: "any", min: "0", style: "width:90px" })),
    h("label", {}, "≤ $", input("maxCost", { id: "filter-max-cost", type: "number", step: "any", min: "0", style: "width:90px" })),
    h("label", {}, "from", input("from", { id: "filter-from", type: "datetime-local", step: "1" })),
    h("label", {}, "to", input("to", { id: "filter-to", type: "datetime-local", step: "1" })),
    count);
  const thead = h("thead", {}, h("tr", {}, COLUMNS.map(([key, label, num]) => {
    const th = h("th", { class: "sortable" + (num ? " num" : ""), "data-sort": key }, label);
    th.addEventListener("click", () => {
      if (st.sort === key) st.desc = !st.desc;
      else { st.sort = key; st.desc = num || key === "start_ms"; }
      refresh();
    });
    return th;
  })));
  const compare = h("button", { id: "compare", disabled: picked.length !== 2 }, "compare the 2 picked traces");
  compare.addEventListener("click", () => go({ compare: picked.join(",") }));
  onPick = () => { compare.disabled = picked.length !== 2; };
  filters.append(compare);
  app.append(filters, h("table", { id: "traces" }, thead, tbody));
  refresh();
  if (!TRACES.length) app.append(h("div", { class: "empty" }, "No traces."));
}

/** The traces picked in the list for comparison, oldest pick first; at most two. */
let picked = [];
let onPick = () => {};
function togglePick(id, on) {
  picked = picked.filter((x) => x !== id);
  if (on) picked.push(id);
  if (picked.length > 2) {
    const dropped = picked.shift();
    const box = document.querySelector("tr[data-trace='" + dropped + "'] input.pick");
    if (box) box.checked = false;
  }
  onPick();
}

function traceRow(t) {
  const sessionLink = t.session ? h("a", {
    class: "session-link", href: "#" + new URLSearchParams({ session: t.session }),
    onclick: (e) => e.stopPropagation(),
  }, t.session) : "-";
  const who = t.session || t.user ? [sessionLink, " / " + (t.user || "-")] : "-";
  const pick = h("input", {
    type: "checkbox", class: "pick", "aria-label": "compare", checked: picked.includes(t.trace_id),
    onclick: (e) => { e.stopPropagation(); togglePick(t.trace_id, e.target.checked); },
  });
  return h("tr", { class: "trace-row", "data-trace": t.trace_id, onclick: () => go({ trace: t.trace_id }) },
    h("td", {}, pick, " ", h("code", {}, t.trace_id.slice(0, 16))),
    h("td", { class: "root" }, t.root + (t.root_found ? "" : " (root not seen)")),
    h("td", {}, fmtTime(t.start_ms)),
    h("td", { class: "num" }, fmtMs(t.duration_ms)),
    h("td", { class: "num" }, fmtCount(t.spans)),
    h("td", { class: "num tokens" }, fmtTokens(t.input_tokens, t.output_tokens)),
    h("td", { class: "num cost" }, fmtCost(t.cost_usd, t.totals_lower_bound)),
    h("td", { class: "num" + (t.errors ? " err" : "") }, t.errors ? "✗ " + t.errors : "-"),
    h("td", {}, who),
    h("td", {}, (t.badges || []).map(badge)));
}

// ---- one trace: waterfall and span detail -------------------------------------------------

/** The spans in tree order (children by start under their parent), each with its depth. */
function treeOrder(spans) {
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent && ids.has(s.parent) && s.parent !== s.id) {
      if (!children.has(s.parent)) children.set(s.parent, []);
      children.get(s.parent).push(s);
    } else roots.push(s);
  }
  const out = [];
  const seen = new Set();
  const stack = roots.slice().reverse().map((s) => [s, 0]);
  while (stack.length) {
    const [s, depth] = stack.pop();
    if (seen.has(s.id)) continue;
    seen.add(s.id);
    out.push({ span: s, depth, hasChildren: children.has(s.id) });
    const kids = children.get(s.id) || [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
  }
  // A cycle of parents leaves spans unreached: show them at the top level.
  for (const s of spans) if (!seen.has(s.id)) out.push({ span: s, depth: 0, hasChildren: false });
  return out;
}

function niceStep(total) {
  const raw = total / 6;
  const p = Math.pow(10, Math.floor(Math.log10(raw || 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function renderTrace(app, t, selectedId) {
  const spans = t.spans_list || [];
  const rows = treeOrder(spans);
  // A loop, not Math.max(...list): a spread of a very large trace overflows the call stack.
  let total = 1e-6;
  for (const s of spans) total = Math.max(total, s.start_ms + s.duration_ms);
  // The root's end: children ending after it are late (D4).
  const rootEnds = new Map();
  for (const r of rows) if (r.depth === 0) rootEnds.set(r.span.id, r.span.start_ms + r.span.duration_ms);
  const rootOf = new Map();
  for (const r of rows) {
    rootOf.set(r.span.id, r.depth === 0 ? r.span.id : rootOf.get(r.span.parent));
  }
  let slowest = null;
  for (const r of rows) {
    if (r.hasChildren || r.depth === 0) continue;
    if (!slowest || r.span.duration_ms > slowest.duration_ms) slowest = r.span;
  }
  const head = h("div", { class: "trace-head" },
    h("a", { href: "#", id: "back" }, "← traces"),
    h("h1", {}, t.root),
    h("code", { class: "muted" }, t.trace_id),
    h("span", {}, fmtTime(t.start_ms)),
    h("span", {}, fmtMs(t.duration_ms)),
    h("span", {}, fmtCount(t.spans) + " spans"),
    h("span", { class: "tokens" }, fmtTokens(t.input_tokens, t.output_tokens) + " tokens"),
    h("span", { class: "cost" }, fmtCost(t.cost_usd, t.totals_lower_bound)),
    t.errors ? h("span", { class: "err" }, "✗ " + t.errors + " error" + (t.errors > 1 ? "s" : "")) : null,
    (t.badges || []).map(badge));

  const step = niceStep(total);
  const axis = h("div", { class: "wf-axis" });
  for (let x = 0; x <= total + 1e-9; x += step) {
    axis.append(h("span", { class: "wf-tick", style: "left:" + (x / total * 100) + "%" }, fmtMs(x)));
  }
  const body = h("div", { class: "wf-body", id: "waterfall" });
  const spacer = h("div", { class: "wf-spacer", style: "height:" + rows.length * ROW_HEIGHT + "px" });
  body.append(spacer);
  const detail = h("div", { class: "panel detail", id: "detail" });

  let selected = selectedId && spans.some((s) => s.id === selectedId) ? selectedId : (rows[0] && rows[0].span.id);
  const rowEl = (r, i) => {
    const s = r.span;
    const late = r.depth > 0 && s.start_ms + s.duration_ms > (rootEnds.get(rootOf.get(s.id)) ?? Infinity) + 1e-6;
    const cls = ["wf-bar", "k-" + s.kind, s.error ? "error" : "", s.cancelled ? "cancelled" : "", late ? "late" : ""].join(" ");
    const left = s.start_ms / total * 100;
    const width = s.duration_ms / total * 100;
    const flags = [];
    if (s.error) flags.push(h("span", { class: "wf-flag err" }, "✗"));
    if (s.cancelled) flags.push(h("span", { class: "wf-flag" }, "⊘ cancelled"));
    if (late) flags.push(h("span", { class: "wf-flag" }, "late"));
    if (slowest && s.id === slowest.id) flags.push(h("span", { class: "wf-flag slowest" }, "◀ slowest"));
    // The label sits after the bar, or before it when the bar reaches the right edge.
    const labelStyle = left + width > 80
      ? "right:calc(" + (100 - left) + "% + 4px)" : "left:calc(" + (left + width) + "% + 4px)";
    return h("div", {
      class: "wf-row" + (s.id === selected ? " selected" : ""), "data-span": s.id,
      style: "top:" + i * ROW_HEIGHT + "px",
      onclick: () => select(s.id),
    },
    h("div", { class: "wf-name", style: "padding-left:" + (4 + r.depth * 14) + "px", title: s.name },
      s.name, (s.badges || []).map(badge)),
    h("div", { class: "wf-track" },
      h("div", { class: cls, style: "left:" + left + "%;width:" + width + "%" }),
      h("span", { class: "wf-label", style: labelStyle }, fmtMs(s.duration_ms), flags)));
  };
  // Only the rows in view (and a margin) are in the page: a trace of 10,000 spans stays fast.
  let drawn = "";
  const draw = () => {
    const first = Math.max(0, Math.floor(body.scrollTop / ROW_HEIGHT) - 20);
    const last = Math.min(rows.length, Math.ceil((body.scrollTop + body.clientHeight) / ROW_HEIGHT) + 20);
    const key = first + ":" + last + ":" + selected;
    if (key === drawn) return;
    drawn = key;
    const els = [];
    for (let i = first; i < last; i++) els.push(rowEl(rows[i], i));
    spacer.replaceChildren(...els);
  };
  body.addEventListener("scroll", draw);
  window.addEventListener("resize", draw);
  const select = (id) => {
    selected = id;
    history.replaceState(null, "", "#" + new URLSearchParams({ trace: t.trace_id, span: id }));
    drawn = "";
    draw();
    const s = spans.find((x) => x.id === id);
    detail.replaceChildren(...(s ? spanDetail(s, t) : []));
  };
  head.querySelector("#back").addEventListener("click", (e) => { e.preventDefault(); go({}); });
  app.append(head, h("div", { class: "split" },
    h("div", { class: "panel" }, axis, body), detail));
  draw();
  if (selected) select(selected);
}

// ---- span detail ---------------------------------------------------------------------------

function kvTable(pairs, cls) {
  return h("table", { class: "kv" + (cls ? " " + cls : "") },
    h("tbody", {}, pairs.filter((p) => p[1] !== null && p[1] !== undefined && p[1] !== "").map(([k, v]) =>
      h("tr", {}, h("td", {}, k), h("td", {}, v instanceof Node ? v : String(v))))));
}

function valueText(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function partEl(p) {
  if (!p || typeof p !== "object") return h("div", { class: "part" }, h("pre", {}, valueText(p)));
  switch (p.type) {
    case "text":
      return h("div", { class: "part part-text" }, h("pre", {}, valueText(p.content)));
    case "reasoning":
      return h("div", { class: "part part-reasoning" }, h("div", { class: "part-label" }, "reasoning"), h("pre", {}, valueText(p.content)));
    case "tool_call":
      return h("div", { class: "part part-tool-call" },
        h("div", { class: "part-label" }, "tool call " + (p.name || "?") + (p.id ? " (" + p.id + ")" : "")),
        p.arguments === undefined ? null : jsonBlock(p.arguments));
    case "tool_call_response":
      return h("div", { class: "part part-tool-result" },
        h("div", { class: "part-label" }, "tool result" + (p.id ? " (" + p.id + ")" : "")),
        jsonBlock(p.response));
    default:
      return h("div", { class: "part" }, h("div", { class: "part-label" }, p.type || "part"), jsonBlock(p));
  }
}

function messageEl(m) {
  if (!m || typeof m !== "object") return h("div", { class: "msg" }, h("pre", {}, valueText(m)));
  const role = String(m.role || "?");
  const parts = Array.isArray(m.parts) ? m.parts
    : m.content !== undefined ? [{ type: "text", content: m.content }] : [];
  return h("div", { class: "msg role-" + role.replace(/[^a-z_]/gi, ""), "data-role": role },
    h("div", { class: "msg-role" }, role + (m.name ? " · " + m.name : "")),
    parts.map(partEl),
    m.finish_reason ? h("div", { class: "finish" }, "finish: " + m.finish_reason) : null);
}

function messagesEl(value) {
  const msgs = parseJson(value);
  if (Array.isArray(msgs)) return msgs.map(messageEl);
  return [h("pre", { class: "json" }, valueText(value))];
}

function documentsOf(s) {
  const flat = new Map();
  for (const [k, v] of s.attrs || []) {
    const m = /^retrieval\.documents\.(\d+)\.document\.(id|score|content)$/.exec(k);
    if (!m) continue;
    if (!flat.has(m[1])) flat.set(m[1], {});
    flat.get(m[1])[m[2]] = v;
  }
  if (flat.size) return [...flat.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  const docs = parseJson(attr(s, "gen_ai.retrieval.documents"));
  return Array.isArray(docs) ? docs : [];
}

function spanDetail(s, t) {
  const out = [];
  const u = s.usage || {};
  out.push(h("h2", { id: "detail-name" }, s.name));
  out.push(h("div", {}, (s.badges || []).map(badge)));
  if (s.error) out.push(h("div", { class: "err", id: "detail-error" }, "✗ " + s.error));
  if (s.cancelled) out.push(h("div", { class: "muted" }, "⊘ cancelled before it finished"));
  const ttft = s.ttft_s === null || s.ttft_s === undefined ? null : fmtMs(s.ttft_s * 1000);
  out.push(kvTable([
    ["span", s.id], ["parent", s.parent || "(root)"], ["operation", s.op],
    ["starts at", "+" + fmtMs(s.start_ms)], ["duration", fmtMs(s.duration_ms)],
    ["model", s.model], ["response model", s.response_model], ["provider", s.provider],
    ["time to first chunk", ttft], ["service", s.service], ["session", s.session], ["user", s.user],
  ], "overview"));

  const hasUsage = ["input", "output", "cache_read", "cache_write", "reasoning"].some((k) => u[k] !== null && u[k] !== undefined);
  if (hasUsage || s.cost !== null || s.unpriced || u.missing) {
    out.push(h("h3", {}, "Usage and cost"));
    out.push(kvTable([
      ["input tokens", u.input === null || u.input === undefined ? null : fmtCount(u.input)],
      ["output tokens", u.output === null || u.output === undefined ? null : fmtCount(u.output)],
      ["cache read tokens", u.cache_read === null || u.cache_read === undefined ? null : fmtCount(u.cache_read)],
      ["cache write tokens", u.cache_write === null || u.cache_write === undefined ? null : fmtCount(u.cache_write)],
      ["reasoning tokens", u.reasoning === null || u.reasoning === undefined ? null : fmtCount(u.reasoning)],
      ["cost", s.cost !== null && s.cost !== undefined ? fmtCost(s.cost, false) : s.unpriced ? "unknown (no price for the model)" : null],
      ["usage", u.missing ? "the call reported no token usage" : null],
    ], "usage"));
  }

  const params = (s.attrs || []).filter(([k]) =>
    (k.startsWith("gen_ai.request.") && k !== "gen_ai.request.model") || k === "gen_ai.output.type");
  if (params.length) {
    out.push(h("h3", {}, "Request parameters"));
    out.push(kvTable(params.map(([k, v]) => [k.replace("gen_ai.request.", ""), valueText(v)]), "params"));
  }

  const system = attr(s, "gen_ai.system_instructions");
  if (system !== undefined) {
    out.push(h("h3", {}, "System instructions"));
    const parts = parseJson(system);
    out.push(h("div", { class: "msg role-system", "data-role": "system" },
      Array.isArray(parts) ? parts.map(partEl) : h("pre", {}, valueText(system))));
  }
  const input = attr(s, "gen_ai.input.messages");
  const output = attr(s, "gen_ai.output.messages");
  if (input !== undefined || output !== undefined) {
    out.push(h("h3", {}, "Conversation"));
    out.push(h("div", { class: "conversation" },
      input === undefined ? [] : messagesEl(input), output === undefined ? [] : messagesEl(output)));
  }

  const query = attr(s, "gen_ai.retrieval.query.text");
  if (query !== undefined) out.push(h("h3", {}, "Query"), h("pre", { class: "json" }, valueText(query)));
  const docs = documentsOf(s);
  if (docs.length) {
    out.push(h("h3", {}, "Documents"));
    out.push(h("table", { class: "documents" },
      h("thead", {}, h("tr", {}, h("th", {}, "id"), h("th", { class: "num" }, "score"), h("th", {}, "content"))),
      h("tbody", {}, docs.map((d) => h("tr", { class: "doc" },
        h("td", { class: "doc-id" }, d.id === undefined ? "-" : valueText(d.id)),
        h("td", { class: "num doc-score" }, typeof d.score === "number" ? d.score.toFixed(3) : "-"),
        h("td", {}, h("pre", {}, d.content === undefined ? "" : valueText(d.content))))))));
  }

  const args = attr(s, "gen_ai.tool.call.arguments");
  const result = attr(s, "gen_ai.tool.call.result");
  if (s.kind === "tool" || args !== undefined || result !== undefined) {
    out.push(h("h3", {}, "Tool call"));
    out.push(kvTable([["tool", attr(s, "gen_ai.tool.name")], ["call id", attr(s, "gen_ai.tool.call.id")],
      ["description", attr(s, "gen_ai.tool.description")]]));
    const a = args !== undefined ? args : attr(s, "input.value");
    if (a !== undefined) out.push(h("div", { class: "part-label" }, "arguments"), h("div", { class: "tool-args" }, jsonBlock(a)));
    const r = result !== undefined ? result : attr(s, "output.value");
    if (r !== undefined) out.push(h("div", { class: "part-label" }, "result"), h("div", { class: "tool-result" }, jsonBlock(r)));
    if (s.error) out.push(h("div", { class: "err tool-error" }, "✗ " + s.error));
  } else if (input === undefined && output === undefined && !docs.length) {
    const iv = attr(s, "input.value"), ov = attr(s, "output.value");
    if (iv !== undefined) out.push(h("h3", {}, "Input"), jsonBlock(iv));
    if (ov !== undefined) out.push(h("h3", {}, "Output"), jsonBlock(ov));
  }

  if ((s.events || []).length) {
    out.push(h("h3", {}, "Events"));
    for (const e of s.events) {
      const at = e.time_unix_nano / 1e6 - t.origin_ms;
      out.push(h("div", { class: "event" + (e.name === "exception" ? " err" : "") },
        h("strong", {}, e.name), " at +" + fmtMs(at)));
      out.push(kvTable((e.attrs || []).map(([k, v]) => [k, k === "exception.stacktrace" ? h("pre", {}, valueText(v)) : valueText(v)])));
    }
  }
  if ((s.links || []).length) {
    out.push(h("h3", {}, "Links"));
    out.push(h("ul", {}, s.links.map((l) => {
      const target = BY_ID.get(l.trace);
      const text = "trace " + l.trace.slice(0, 16) + " span " + l.span;
      return h("li", {}, target ? h("a", { href: "#" + new URLSearchParams({ trace: l.trace, span: l.span }) }, text) : text);
    })));
  }
  out.push(h("h3", {}, "Attributes"));
  out.push(kvTable((s.attrs || []).map(([k, v]) => [k, valueText(v)]), "raw-attributes"));
  if ((s.resource || []).length) {
    out.push(h("h3", {}, "Resource"));
    out.push(kvTable(s.resource.map(([k, v]) => [k, valueText(v)])));
  }
  return out;
}

// ---- one session: its traces as a conversation over time ------------------------------------

/** The text parts of a messages attribute, by role. */
function messageTexts(value, role) {
  const msgs = parseJson(value);
  if (!Array.isArray(msgs)) return [];
  return msgs.filter((m) => m && m.role === role).map((m) =>
    (Array.isArray(m.parts) ? m.parts : []).filter((p) => p && p.type === "text")
      .map((p) => valueText(p.content)).join("\n")).filter((x) => x);
}

/** What the user asked in a trace and what it answered, as far as its spans say. */
function turnOf(t) {
  const spans = t.spans_list || [];
  const models = spans.filter((s) => s.kind === "model");
  const root = spans.find((s) => !s.parent) || spans[0];
  let question = null, answer = null;
  for (const m of models) {
    const asked = messageTexts(attr(m, "gen_ai.input.messages"), "user");
    if (asked.length) { question = asked[asked.length - 1]; break; }
  }
  if (question === null && root && attr(root, "input.value") !== undefined) question = valueText(attr(root, "input.value"));
  const returned = root && attr(root, "output.value");
  if (returned !== undefined) {
    // A JSON value as the function returned it: a string is shown as its text.
    const v = parseJson(returned);
    answer = typeof v === "string" ? v : valueText(returned);
  }
  for (let i = models.length - 1; answer === null && i >= 0; i--) {
    const said = messageTexts(attr(models[i], "gen_ai.output.messages"), "assistant");
    if (said.length) answer = said[said.length - 1];
  }
  return { question, answer };
}

function sum(list, f) {
  let any = false, total = 0;
  for (const x of list) { const v = f(x); if (v !== null && v !== undefined) { any = true; total += v; } }
  return any ? total : null;
}

function renderSession(app, id) {
  const traces = TRACES.filter((t) => t.session === id).sort((a, b) => a.start_ms - b.start_ms);
  const users = [...new Set(traces.map((t) => t.user).filter((u) => u))];
  const lower = traces.some((t) => t.totals_lower_bound);
  app.append(h("div", { class: "trace-head", id: "session-head" },
    h("a", { href: "#", onclick: (e) => { e.preventDefault(); go({}); } }, "← traces"),
    h("h1", {}, "session " + id),
    h("span", { id: "session-traces" }, traces.length + " traces"),
    users.length ? h("span", {}, "user " + users.join(", ")) : null,
    h("span", {}, fmtMs(sum(traces, (t) => t.duration_ms))),
    h("span", { class: "tokens", id: "session-tokens" },
      fmtTokens(sum(traces, (t) => t.input_tokens), sum(traces, (t) => t.output_tokens)) + " tokens"),
    h("span", { class: "cost", id: "session-cost" }, fmtCost(sum(traces, (t) => t.cost_usd), lower)),
    sum(traces, (t) => t.errors) ? h("span", { class: "err" }, "✗ " + sum(traces, (t) => t.errors)) : null));
  if (!traces.length) { app.append(h("div", { class: "empty" }, "No trace of this session.")); return; }
  for (const t of traces) {
    const { question, answer } = turnOf(t);
    app.append(h("div", { class: "panel turn", "data-trace": t.trace_id },
      h("div", { class: "turn-head" },
        h("a", { href: "#" + new URLSearchParams({ trace: t.trace_id }) }, t.root),
        h("span", { class: "muted" }, fmtTime(t.start_ms)),
        h("span", {}, fmtMs(t.duration_ms)),
        h("span", { class: "tokens" }, fmtTokens(t.input_tokens, t.output_tokens)),
        h("span", { class: "cost" }, fmtCost(t.cost_usd, t.totals_lower_bound)),
        t.errors ? h("span", { class: "err" }, "✗ " + t.errors) : null,
        (t.badges || []).map(badge)),
      question !== null ? h("div", { class: "msg role-user", "data-role": "user" }, h("div", { class: "msg-role" }, "user"), h("pre", {}, question)) : null,
      answer !== null ? h("div", { class: "msg role-assistant", "data-role": "assistant" }, h("div", { class: "msg-role" }, "assistant"), h("pre", {}, answer)) : null));
  }
}

// ---- two traces side by side (the explorer's `diff`) -----------------------------------------

/** Each span by its path of names from the root (`a > b > c`, `#2` for a repeat). */
function paths(t) {
  const byId = new Map((t.spans_list || []).map((s) => [s.id, s]));
  const out = new Map();
  for (const r of treeOrder(t.spans_list || [])) {
    const names = [];
    for (let s = r.span, n = 0; s && n < 100; s = byId.get(s.parent), n++) names.unshift(s.name);
    let key = names.join(" > ");
    for (let i = 2; out.has(key); i++) key = names.join(" > ") + " #" + i;
    out.set(key, { span: r.span, depth: r.depth });
  }
  return out;
}

function delta(a, b, fmt) {
  if (a === null || a === undefined || b === null || b === undefined) return "";
  const d = b - a;
  if (d === 0) return "=";
  return (d > 0 ? "+" : "−") + fmt(Math.abs(d));
}

function renderCompare(app, ids) {
  const back = h("a", { href: "#", onclick: (e) => { e.preventDefault(); go({}); } }, "← traces");
  if (ids.length !== 2) { app.append(back, h("div", { class: "empty" }, "Pick two traces in the list to compare them.")); return; }
  const [a, b] = ids.map((id) => BY_ID.get(id));
  const pa = paths(a), pb = paths(b);
  const keys = [...pa.keys()];
  for (const k of pb.keys()) if (!pa.has(k)) keys.push(k);
  const cell = (x, f) => h("td", { class: "num" }, x === null || x === undefined ? "-" : f(x));
  const tokens = (s) => s ? sum([s.usage.input, s.usage.output], (v) => v) : null;
  const rows = keys.map((k) => {
    const x = pa.get(k), y = pb.get(k);
    const sx = x && x.span, sy = y && y.span;
    const name = (x || y).span.name;
    const depth = (x || y).depth;
    const outX = sx && attr(sx, "output.value"), outY = sy && attr(sy, "output.value");
    const notes = [];
    if (!sx) notes.push("only in B"); else if (!sy) notes.push("only in A");
    else {
      if ((sx.model || null) !== (sy.model || null)) notes.push("model " + (sx.model || "-") + " → " + (sy.model || "-"));
      if (!!sx.error !== !!sy.error) notes.push(sy.error ? "fails in B" : "fails in A");
      if (outX !== undefined && outY !== undefined && valueText(outX) !== valueText(outY)) notes.push("output changed");
    }
    return h("tr", { class: "cmp-row" + (sx && sy ? "" : " cmp-one"), "data-path": k },
      h("td", { style: "padding-left:" + (8 + depth * 14) + "px" }, name),
      cell(sx && sx.duration_ms, fmtMs), cell(sy && sy.duration_ms, fmtMs),
      h("td", { class: "num" }, sx && sy ? delta(sx.duration_ms, sy.duration_ms, fmtMs) : ""),
      cell(tokens(sx), fmtCount), cell(tokens(sy), fmtCount),
      cell(sx && sx.cost, (v) => fmtCost(v, false)), cell(sy && sy.cost, (v) => fmtCost(v, false)),
      h("td", { class: "cmp-notes" }, notes.join("; ")));
  });
  const head = (t, label) => h("div", { class: "cmp-trace" }, h("strong", {}, label + " "),
    h("a", { href: "#" + new URLSearchParams({ trace: t.trace_id }) }, t.root + " " + t.trace_id.slice(0, 16)),
    " · " + fmtTime(t.start_ms) + " · " + fmtMs(t.duration_ms) + " · " + fmtTokens(t.input_tokens, t.output_tokens) +
    " tokens · " + fmtCost(t.cost_usd, t.totals_lower_bound));
  app.append(h("div", { class: "trace-head" }, back, h("h1", {}, "compare")), head(a, "A"), head(b, "B"),
    h("table", { id: "compare-table" },
      h("thead", {}, h("tr", {}, ["span", "A", "B", "Δ", "tokens A", "tokens B", "cost A", "cost B", ""].map((c, i) =>
        h("th", { class: i > 0 && i < 8 ? "num" : "" }, c)))),
      h("tbody", {}, rows)));
}

// ---- start ---------------------------------------------------------------------------------

(function start() {
  const notices = document.getElementById("notices");
  if (DATA.cap) notices.append(h("div", { class: "notice", id: "cap-notice" }, DATA.cap));
  if (DATA.problem_count) {
    notices.append(h("div", { class: "notice" },
      DATA.problem_count + " line(s) of the input could not be used: " + (DATA.problems || []).join("; ")));
  }
  const src = document.getElementById("source");
  src.textContent = (DATA.sources || []).join(", ") + (DATA.generated ? " · generated " + DATA.generated : "");
  window.addEventListener("hashchange", route);
  route();
  if (DATA.live) live(DATA.live);
})();

// ---- served by `llmtrace serve`: older pages on demand, new traces as they arrive ---------

/** Puts traces fetched from the server into the page's list, replacing older copies. */
function merge(list) {
  for (const t of list) {
    const old = BY_ID.get(t.trace_id);
    if (old) TRACES[TRACES.indexOf(old)] = t;
    else TRACES.push(t);
    BY_ID.set(t.trace_id, t);
    haystacks.delete(t.trace_id);
  }
}

/** The JSON at `path` of the page's server; the page's own `?token=` goes along. */
async function api(path) {
  const token = new URLSearchParams(location.search).get("token");
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch(path, { headers, cache: "no-store" });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

/** The list's filters as the server's query parameters (`GET /api/traces`). */
function filterQuery() {
  const st = listState, p = new URLSearchParams();
  for (const [key, param] of [["name", "name"], ["session", "session"], ["user", "user"], ["model", "model"],
    ["minCost", "min_cost"], ["maxCost", "max_cost"], ["search", "q"]]) {
    if (st[key] !== "") p.set(param, st[key]);
  }
  if (st.errors) p.set("errors", "true");
  for (const key of ["from", "to"]) {
    const ms = st[key] ? Date.parse(st[key] + "Z") : NaN;
    if (!Number.isNaN(ms)) p.set(key, String(ms));
  }
  return p.toString();
}

function live(state) {
  const src = document.getElementById("source");
  const more = h("button", { id: "load-more" }, "load older traces");
  const status = h("span", { class: "muted", id: "live-status" });
  // The filters the store was last asked with: `state.total` and `state.next` are theirs.
  let query = "";
  const show = () => { more.hidden = !state.next; };
  countText = (shown) => shown + " shown · " + state.total + (state.capped ? "+" : "") +
    (query ? " matching" : "") + " in the store";
  // Re-drawn only on the list: a trace or span open stays as it is.
  const redraw = () => {
    show();
    const p = new URLSearchParams(location.hash.slice(1));
    if (!p.get("trace") && p.get("session") === null && !p.get("compare")) route();
  };
  const fetchPage = async (q, after) => {
    const page = await api("api/traces?limit=" + state.page + (after ? "&after=" + encodeURIComponent(after) : "") +
      (q ? "&" + q : ""));
    query = q;
    state.total = page.total;
    state.capped = page.capped;
    state.next = page.next;
    merge(page.traces);
    redraw();
  };
  // What is loaded is filtered at once in the page; the store is asked for the rest once the
  // typing pauses.
  let timer;
  onFilter = () => {
    const q = filterQuery();
    if (q === query) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (filterQuery() === q) {
        fetchPage(q, null).catch((e) => { status.textContent = " · the store did not answer (" + e.message + ")"; });
      }
    }, 250);
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try { await fetchPage(query, state.next); } finally { more.disabled = false; }
  });
  src.after(status, more);
  show();
  const poll = async () => {
    try {
      const page = await api("api/traces?since=" + state.changed + "&limit=" + state.page);
      if (!query) state.total = page.total;
      state.changed = page.changed;
      status.textContent = " · live";
      if (page.traces.length) { merge(page.traces); redraw(); }
    } catch (e) {
      status.textContent = " · live updates paused (" + e.message + ")";
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 1000);
}
