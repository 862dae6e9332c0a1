/// The page served at `GET /docs`: it fetches `/openapi.json` and shows every route with
/// its parameters, bodies, answers and a curl line.
///
/// Everything it needs is in this one string (no fonts, scripts or styles from other sites),
/// so it works on a machine with no internet access.
enum DocsPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Promptline API</title>
<style>
  :root { --fg: #1d2330; --muted: #5d6678; --line: #e2e5ec; --bg: #f7f8fa; --card: #fff; --accent: #3b5bdb;
          --get: #2b8a3e; --post: #1c64c8; --delete: #c92a2a; --put: #b35c00; --patch: #7048e8; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  code, pre, .path, .type { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
  a { color: var(--accent); text-decoration: none; }
  a:hover { text-decoration: underline; }
  header { padding: 20px 28px; background: var(--card); border-bottom: 1px solid var(--line); }
  header h1 { margin: 0 0 4px; font-size: 22px; }
  header p { margin: 0; color: var(--muted); max-width: 900px; }
  .layout { display: flex; align-items: flex-start; }
  nav { position: sticky; top: 0; width: 270px; flex: none; max-height: 100vh; overflow: auto; padding: 16px; border-right: 1px solid var(--line); }
  nav input { width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 10px; font: inherit; }
  nav h3 { margin: 14px 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
  nav a { display: block; padding: 2px 0; color: var(--fg); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  main { flex: 1; min-width: 0; padding: 16px 28px 60px; }
  section.tag > h2 { margin: 26px 0 4px; font-size: 18px; }
  section.tag > p { margin: 0 0 10px; color: var(--muted); }
  details.op { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; }
  details.op > summary { cursor: pointer; padding: 9px 12px; display: flex; gap: 12px; align-items: center; list-style: none; }
  details.op > summary::-webkit-details-marker { display: none; }
  .method { display: inline-block; min-width: 62px; text-align: center; padding: 2px 0; border-radius: 4px; color: #fff;
            font-weight: 600; font-size: 12px; text-transform: uppercase; }
  .path { font-weight: 600; }
  .summary { color: var(--muted); }
  .lock { margin-left: auto; font-size: 11px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 6px; }
  .body { padding: 4px 16px 14px; border-top: 1px solid var(--line); }
  .body h4 { margin: 14px 0 6px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  table { border-collapse: collapse; width: 100%; }
  td, th { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
  th { font-size: 12px; color: var(--muted); font-weight: 600; }
  td.name { white-space: nowrap; font-family: ui-monospace, monospace; font-size: 13px; }
  .req { color: var(--delete); }
  .type { color: #7048e8; }
  .status { font-weight: 600; font-family: ui-monospace, monospace; }
  .s2 { color: var(--get); } .s4 { color: var(--put); } .s5 { color: var(--delete); }
  pre { background: #1f2430; color: #e6e9ef; padding: 10px 12px; border-radius: 6px; overflow: auto; margin: 6px 0; }
  .schema { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; margin: 8px 0; }
  .schema h3 { margin: 4px 0; font-size: 15px; font-family: ui-monospace, monospace; }
  .muted { color: var(--muted); }
  .error { color: var(--delete); padding: 20px; }
</style>
</head>
<body>
<header>
  <h1 id="title">Promptline API</h1>
  <p id="intro">Loading <a href="/openapi.json">/openapi.json</a>…</p>
</header>
<div class="layout">
  <nav><input id="filter" type="search" placeholder="Filter routes…" aria-label="Filter routes"><div id="toc"></div></nav>
  <main id="main"></main>
</div>
<script>
"use strict";
const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const md = s => esc(s).replace(/`([^`]+)`/g, "<code>$1</code>");
const colors = {get: "var(--get)", post: "var(--post)", delete: "var(--delete)", put: "var(--put)", patch: "var(--patch)"};
let doc;

const refName = ref => ref.split("/").pop();
const resolve = s => { while (s && s.$ref) s = refName(s.$ref) in doc.components.schemas ? doc.components.schemas[refName(s.$ref)] : {}; return s || {}; };
const resolveAny = o => o && o.$ref ? o.$ref.split("/").slice(1).reduce((a, k) => a[k], doc) : o;

// A short type: "string", "array<Foo>", "map<string>", "\"queued\"", "A | B".
function typeOf(s) {
  if (!s || Object.keys(s).length === 0) return "any";
  if (s.$ref) return `<a href="#schema-${esc(refName(s.$ref))}">${esc(refName(s.$ref))}</a>`;
  if (s.const !== undefined) return esc(JSON.stringify(s.const));
  if (s.enum) return s.enum.map(v => esc(JSON.stringify(v))).join(" | ");
  if (s.oneOf || s.anyOf) return (s.oneOf || s.anyOf).map(typeOf).join(" | ");
  if (s.allOf && !s.properties) return s.allOf.map(typeOf).join(" & ");
  const types = [].concat(s.type || (s.properties ? "object" : "any"));
  return types.map(t => {
    if (t === "array") return `array&lt;${typeOf(s.items)}&gt;`;
    if (t === "object" && s.additionalProperties && !s.properties) return `map&lt;${typeOf(s.additionalProperties)}&gt;`;
    if (t === "object" && s.properties) return "object";
    return esc(t + (s.format ? `(${s.format})` : ""));
  }).join(" | ");
}

function limits(s) {
  const out = [];
  const pairs = [["minimum", "≥ "], ["maximum", "≤ "], ["minLength", "length ≥ "], ["maxLength", "length ≤ "],
                 ["minItems", "items ≥ "], ["maxItems", "items ≤ "], ["maxProperties", "entries ≤ "], ["pattern", "matches "], ["default", "default "]];
  for (const [key, label] of pairs) if (s[key] !== undefined) out.push(label + (key === "pattern" ? s[key] : JSON.stringify(s[key])));
  return out.length ? ` <span class="muted">(${esc(out.join(", "))})</span>` : "";
}

// The fields of an object schema, its allOf parts merged in; nested objects indented.
function fields(s, depth = 0) {
  let props = {}, required = new Set(s.required || []);
  for (const part of s.allOf || []) { const r = resolve(part); Object.assign(props, r.properties || {}); (r.required || []).forEach(n => required.add(n)); }
  Object.assign(props, s.properties || {});
  let rows = "";
  for (const [name, p] of Object.entries(props)) {
    const pad = depth ? `style="padding-left:${8 + depth * 18}px"` : "";
    rows += `<tr><td class="name" ${pad}>${esc(name)}${required.has(name) ? ' <span class="req" title="required">*</span>' : ""}</td>`
          + `<td class="type">${typeOf(p)}</td><td>${md(p.description)}${limits(p)}</td></tr>`;
    const inner = p.items && p.items.properties ? p.items : p;
    if (!p.$ref && inner.properties && depth < 3) rows += fields(inner, depth + 1);
  }
  return rows;
}

// A schema's type, and its fields when it is an object; `expand` follows a top-level $ref.
function schemaBlock(s, expand = false) {
  if (!s) return "";
  const r = s.$ref ? (expand ? resolve(s) : null) : s;
  let html = `<div>Type: <span class="type">${typeOf(s)}</span>${r ? limits(r) : ""}</div>`;
  if (r && (r.properties || r.allOf)) html += `<table><tr><th>field</th><th>type</th><th></th></tr>${fields(r)}</table>`;
  return html;
}

// An example value for a schema, for the curl line when the document gives none.
function sample(s, depth = 0) {
  s = s && s.$ref ? resolve(s) : (s || {});
  if (s.example !== undefined) return s.example;
  if (s.const !== undefined) return s.const;
  if (s.enum) return s.enum[0];
  if (s.oneOf || s.anyOf) return sample((s.oneOf || s.anyOf)[0], depth);
  const type = [].concat(s.type || (s.properties || s.allOf ? "object" : "string"))[0];
  if (depth > 4) return null;
  if (type === "object") {
    const out = {};
    let required = new Set(s.required || []);
    for (const part of s.allOf || []) (resolve(part).required || []).forEach(n => required.add(n));
    for (const [name, p] of Object.entries(s.properties || {})) if (required.has(name)) out[name] = sample(p, depth + 1);
    return out;
  }
  if (type === "array") return [sample(s.items, depth + 1)];
  if (type === "integer" || type === "number") return s.minimum ?? 1;
  if (type === "boolean") return true;
  if (type === "null") return null;
  return "string";
}

function curl(path, method, op) {
  const query = (op.parameters || []).map(resolveAny).filter(p => p.in === "query" && p.required)
    .map(p => `${p.name}=${encodeURIComponent(p.example ?? "ID")}`).join("&");
  const url = location.origin + path + (query ? "?" + query : "");
  const lines = [`curl -X ${method.toUpperCase()} '${url}'`];
  if ((op.security || doc.security || []).some(r => Object.keys(r).length)) lines.push(`-H "Authorization: Bearer $PROMPTLINE_API_KEY"`);
  const content = op.requestBody && op.requestBody.content || {};
  if (content["application/json"]) {
    const media = content["application/json"];
    lines.push("-H 'Content-Type: application/json'", `-d '${JSON.stringify(media.example ?? sample(media.schema), null, 2).replace(/'/g, "'\\''")}'`);
  } else if (content["multipart/form-data"]) {
    const props = resolve(content["multipart/form-data"].schema).properties || {};
    for (const [name, p] of Object.entries(props)) lines.push(p.const !== undefined ? `-F ${name}=${p.const}` : `-F ${name}=@input.jsonl`);
  }
  return lines.join(" \\\n  ");
}

function operation(path, method, op) {
  const id = `op-${method}-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  const secured = (op.security || doc.security || []).some(r => Object.keys(r).length);
  let body = op.description ? `<p>${md(op.description)}</p>` : "";
  const params = [...(doc.paths[path].parameters || []), ...(op.parameters || [])].map(resolveAny);
  if (params.length) {
    body += `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th></th></tr>`
      + params.map(p => `<tr><td class="name">${esc(p.name)}${p.required ? ' <span class="req">*</span>' : ""}</td><td>${esc(p.in)}</td>`
        + `<td class="type">${typeOf(p.schema)}</td><td>${md(p.description)}${limits(p.schema || {})}</td></tr>`).join("") + `</table>`;
  }
  if (op.requestBody) {
    for (const [type, media] of Object.entries(op.requestBody.content || {}))
      body += `<h4>Request body <span class="muted">${esc(type)}</span></h4>${schemaBlock(media.schema, true)}`;
  }
  body += `<h4>Responses</h4><table>`;
  for (const [status, raw] of Object.entries(op.responses || {})) {
    const r = resolveAny(raw);
    const types = Object.entries(r.content || {}).map(([t, m]) => `<span class="muted">${esc(t)}</span> <span class="type">${typeOf(m.schema)}</span>`).join("<br>");
    const headers = Object.keys(r.headers || {}).map(h => `<br><span class="muted">header</span> <code>${esc(h)}</code>`).join("");
    body += `<tr><td class="status s${esc(status[0])}">${esc(status)}</td><td>${md(r.description)}${headers}</td><td>${types}</td></tr>`;
  }
  body += `</table><h4>Example</h4><pre>${esc(curl(path, method, op))}</pre>`;
  return `<details class="op" id="${id}" data-search="${esc((method + " " + path + " " + (op.summary || "")).toLowerCase())}">`
    + `<summary><span class="method" style="background:${colors[method] || "#555"}">${esc(method)}</span>`
    + `<span class="path">${esc(path)}</span><span class="summary">${esc(op.summary)}</span>`
    + `${secured ? '<span class="lock" title="needs Authorization: Bearer KEY once API keys are configured">API key</span>' : ""}</summary><div class="body">${body}</div></details>`;
}

function render() {
  document.title = doc.info.title + " API";
  document.getElementById("title").textContent = `${doc.info.title} API ${doc.info.version}`;
  document.getElementById("intro").innerHTML = md(doc.info.description) + ` <a href="/openapi.json">openapi.json</a>`;
  const tags = (doc.tags || []).map(t => t.name);
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!tags.includes(tag)) tags.push(tag);
      (byTag[tag] = byTag[tag] || []).push([path, method, item[method]]);
    }
  }
  let main = "", toc = "";
  for (const tag of tags) {
    if (!byTag[tag]) continue;
    const info = (doc.tags || []).find(t => t.name === tag) || {};
    main += `<section class="tag"><h2>${esc(tag)}</h2><p>${md(info.description)}</p>${byTag[tag].map(o => operation(...o)).join("")}</section>`;
    toc += `<h3>${esc(tag)}</h3>` + byTag[tag].map(([path, method]) =>
      `<a href="#op-${method}-${path.replace(/[^a-zA-Z0-9]+/g, "-")}" data-search="${esc((method + " " + path).toLowerCase())}">`
      + `<span class="type">${esc(method.toUpperCase())}</span> ${esc(path)}</a>`).join("");
  }
  main += `<section class="tag"><h2>Schemas</h2>` + Object.entries(doc.components.schemas).map(([name, s]) =>
    `<div class="schema" id="schema-${esc(name)}"><h3>${esc(name)}</h3>${s.description ? `<p>${md(s.description)}</p>` : ""}${schemaBlock(s)}</div>`).join("") + `</section>`;
  document.getElementById("main").innerHTML = main;
  document.getElementById("toc").innerHTML = toc;
  if (location.hash) { const target = document.getElementById(location.hash.slice(1)); if (target) { target.open = true; target.scrollIntoView(); } }
}

document.getElementById("toc").addEventListener("click", e => {
  const a = e.target.closest("a"); if (!a) return;
  const target = document.getElementById(a.getAttribute("href").slice(1)); if (target) target.open = true;
});
document.getElementById("filter").addEventListener("input", e => {
  const q = e.target.value.trim().toLowerCase();
  document.querySelectorAll("[data-search]").forEach(el => { el.style.display = el.dataset.search.includes(q) ? "" : "none"; });
});
fetch("/openapi.json").then(r => { if (!r.ok) throw new Error(`/openapi.json answered ${r.status}`); return r.json(); })
  .then(d => { doc = d; render(); })
  .catch(e => { document.getElementById("main").innerHTML = `<p class="error">Could not load the API description: ${esc(e.message)}</p>`; });
</script>
</body>
</html>
"""#
}
