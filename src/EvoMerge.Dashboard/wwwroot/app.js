// EvoMerge dashboard: the runs list, a run's live page and the compare view, drawn as hand-written SVG.
// Plain browser JavaScript (no build step, no libraries): nothing is loaded from anywhere but this server.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#2f5cc0", "#e07b28", "#2a9d5c", "#c8423b", "#8057b5", "#8c6239", "#d45fa8", "#6b7280", "#9aa527", "#1fa5b8"];
const main = document.getElementById("main");

// ---- small helpers ----------------------------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function sv(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) node.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

// Shrinks with the screen, never grows past its drawn size (text stays at its drawn size on wide screens).
function sized(svg, width) { svg.style.maxWidth = width + "px"; return svg; }

function num(v) { return typeof v === "number" ? v : Number(v); }   // the API writes NaN and ±Infinity as strings
function fmt(v, digits = 4) {
  v = num(v);
  if (!Number.isFinite(v)) return "–";
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(digits)).toString();
}
function seconds(s) {
  s = num(s);
  if (!Number.isFinite(s)) return "–";
  if (s < 90) return s.toFixed(1) + " s";
  if (s < 5400) return (s / 60).toFixed(1) + " min";
  return (s / 3600).toFixed(1) + " h";
}
function runUrl(id) { return "/runs/" + id.split("/").map(encodeURIComponent).join("/"); }
function apiId(id) { return id.split("/").map(encodeURIComponent).join("/"); }
function letter(i) { return String.fromCharCode(65 + i); }

async function getJson(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({ error: `${url}: HTTP ${response.status}` }));
  if (!response.ok) throw new Error(body.error || `${url}: HTTP ${response.status}`);
  return body;
}

function showError(message) {
  main.replaceChildren(el("h1", { text: "Not available" }), el("ul", { class: "errors" }, el("li", { text: message })));
}

// replaceChildren without the absent parts (replaceChildren would write "null").
function setChildren(node, ...children) { node.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined)); }

function statusBadge(status) { return el("span", { class: `status status-${status}`, text: status }); }

// ---- charts -----------------------------------------------------------------------------------------------------

// Round tick values covering [lo, hi]: 1, 2 or 5 times a power of ten apart.
function ticks(lo, hi, count) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function extent(values, pad) {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (lo === hi) { lo -= Math.abs(lo) * 0.05 || 0.5; hi += Math.abs(hi) * 0.05 || 0.5; }
  const margin = (hi - lo) * pad;
  return [lo - margin, hi + margin];
}

// A scatter/line chart. series: [{ name, color, points: [[x, y, title?]], line, marker: "dot"|"diamond"|null, cls }].
function chart({ id, title, xLabel, yLabel, series, integerX, width = 760, height = 340 }) {
  const m = { left: 62, right: 16, top: 28, bottom: 64 };
  // Legend entries flow into rows under the plot; each extra row makes the chart taller.
  const legend = [];
  let lx = m.left, row = 0;
  series.forEach((s, i) => {
    const w = 26 + 6.2 * s.name.length;
    if (lx + w > width - m.right && lx > m.left) { lx = m.left; row++; }
    legend.push({ x: lx, row, color: s.color || PALETTE[i % PALETTE.length], name: s.name });
    lx += w + 10;
  });
  height += 15 * row;
  const all = series.flatMap(s => s.points);
  const [x0, x1] = integerX ? extent(all.map(p => p[0]).concat([0]), 0.04) : extent(all.map(p => p[0]), 0.05);
  const [y0, y1] = extent(all.map(p => p[1]), 0.08);
  const X = x => m.left + (x - x0) / (x1 - x0) * (width - m.left - m.right);
  const Y = y => height - m.bottom - (y - y0) / (y1 - y0) * (height - m.top - m.bottom);
  const svg = sized(sv("svg", { class: "chart", id, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title }), width);
  svg.append(sv("text", { x: m.left, y: 17, class: "title" }, title));
  const grid = sv("g", { class: "grid" }), axis = sv("g", { class: "axis" });
  for (const t of ticks(y0, y1, 5)) {
    grid.append(sv("line", { x1: m.left, x2: width - m.right, y1: Y(t), y2: Y(t) }));
    axis.append(sv("text", { x: m.left - 6, y: Y(t) + 4, "text-anchor": "end" }, fmt(t, 3)));
  }
  const xt = ticks(x0, x1, 8).filter(t => !integerX || Number.isInteger(t));
  for (const t of xt) {
    grid.append(sv("line", { x1: X(t), x2: X(t), y1: m.top, y2: height - m.bottom }));
    axis.append(sv("text", { x: X(t), y: height - m.bottom + 15, "text-anchor": "middle" }, fmt(t, 3)));
  }
  axis.append(sv("path", { d: `M${m.left},${m.top}V${height - m.bottom}H${width - m.right}`, fill: "none" }));
  axis.append(sv("text", { x: (m.left + width - m.right) / 2, y: height - m.bottom + 32, "text-anchor": "middle" }, xLabel));
  axis.append(sv("text", { transform: `translate(14,${(m.top + height - m.bottom) / 2}) rotate(-90)`, "text-anchor": "middle" }, yLabel));
  svg.append(grid, axis);
  let points = 0;
  series.forEach((s, i) => {
    const color = s.color || PALETTE[i % PALETTE.length];
    const g = sv("g", { class: "series " + (s.cls || ""), "data-name": s.name });
    const finite = s.points.filter(p => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (s.line && finite.length > 0)
      g.append(sv("polyline", { points: finite.map(p => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" "), fill: "none",
        stroke: color, "stroke-width": s.width || 2, "stroke-dasharray": s.dash || null }));
    for (const p of s.marker ? finite : []) {
      const shape = s.marker === "diamond"
        ? sv("path", { d: `M${X(p[0])},${Y(p[1]) - 5}l5,5l-5,5l-5,-5z`, fill: color, class: "pt" })
        : sv("circle", { cx: X(p[0]), cy: Y(p[1]), r: s.radius || 3, fill: color, "fill-opacity": s.opacity || 0.55, class: "pt" });
      if (p[2]) shape.append(sv("title", {}, p[2]));
      g.append(shape);
      if (s.countPoints) points++;
    }
    svg.append(g);
  });
  for (const l of legend) {
    const y = height - 14 - 15 * (row - l.row);
    svg.append(sv("rect", { x: l.x, y: y - 8, width: 12, height: 8, fill: l.color }), sv("text", { x: l.x + 16, y }, l.name));
  }
  svg.dataset.points = points;
  return svg;
}

// Stage fitness: each candidate as a point (minibatch scores pale, full-dev re-scores as diamonds), per-generation
// best and mean, and the best so far on the full dev set.
function fitnessChart(stage, rows) {
  const own = rows.filter(r => r.stage === stage.stage && r.kind !== "test");
  const search = own.filter(r => r.kind === "search"), rescore = own.filter(r => r.kind === "rescore");
  const label = r => `gen ${r.generation} #${r.index} (row ${r.row}): ${fmt(r.fitness)}${r.minibatch_seed != null ? " on a minibatch" : ""}${r.cached ? ", cached" : ""}`;
  const gens = arr => arr.map((v, g) => [g, num(v)]);
  const minibatch = search.some(r => r.minibatch_seed != null);
  return chart({
    id: `chart-${stage.stage}`, title: `${stage.stage.toUpperCase()} fitness by generation`, xLabel: "generation",
    yLabel: "fitness (higher is better)", integerX: true,
    series: [
      { name: minibatch ? "candidate (minibatch)" : "candidate", color: "#8f9bb3", points: search.map(r => [r.generation, num(r.fitness), label(r)]), marker: "dot", cls: "candidates", countPoints: true },
      { name: "re-score (full dev)", color: "#c8423b", points: rescore.map(r => [r.generation, num(r.fitness), label(r)]), marker: "diamond", cls: "rescores", countPoints: true },
      { name: "generation mean", color: "#e07b28", points: gens(stage.mean), line: true, width: 1.5, dash: "4 3" },
      { name: "generation best", color: "#2f5cc0", points: gens(stage.best), line: true, width: 1.5 },
      { name: "best so far (full dev)", color: "#2a9d5c", points: gens(stage.best_so_far), line: true, width: 2.5 },
    ].filter(s => s.points.length > 0 || s.cls === "candidates"),
  });
}

// One heatmap per evolved parameter: source models down, tensor groups across, the value written in each cell.
function heatmaps(stage) {
  const h = stage.heatmap;
  return h.parameters.map((parameter, p) => {
    const values = h.values[p].map(row => row.map(num));
    const [lo, hi] = extent(values.flat(), 0);
    const cw = Math.max(46, Math.min(90, 640 / h.groups.length)), ch = 30, left = 110, top = 34;
    const width = left + cw * h.groups.length + 20, height = top + ch * h.models.length + 58;
    const svg = sv("svg", { class: "chart heatmap", id: `heatmap-${stage.stage}-${parameter}`, viewBox: `0 0 ${width} ${height}`,
      "data-models": h.models.length, "data-groups": h.groups.length, role: "img", "aria-label": `${parameter} per model and group` });
    sized(svg, width);
    svg.append(sv("text", { x: 4, y: 17, class: "title" }, `best ${parameter} per model × group (${h.method})`));
    h.models.forEach((model, mi) => {
      svg.append(sv("text", { x: left - 6, y: top + mi * ch + ch / 2 + 4, "text-anchor": "end" }, `${letter(mi)}: ${model}`.slice(0, 18)));
      h.groups.forEach((group, g) => {
        const v = values[mi][g], t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        const cell = sv("rect", { x: left + g * cw, y: top + mi * ch, width: cw - 2, height: ch - 2, fill: viridis(t), class: "cell",
          "data-model": mi, "data-group": g, "data-value": v });
        cell.append(sv("title", {}, `${model}, ${group}: ${parameter} ${fmt(v)}`));
        svg.append(cell, sv("text", { x: left + g * cw + cw / 2 - 1, y: top + mi * ch + ch / 2 + 4, "text-anchor": "middle",
          class: t > 0.6 ? "on-light" : "on-dark" }, fmt(v, 2)));
      });
    });
    h.groups.forEach((group, g) => svg.append(sv("text", { x: left + g * cw + cw / 2, y: top + h.models.length * ch + 14,
      "text-anchor": "middle" }, group.length > 10 ? group.slice(0, 9) + "…" : group)));
    svg.append(sv("text", { x: left, y: height - 10 }, `colour: ${fmt(lo, 3)} (dark) … ${fmt(hi, 3)} (light)`));
    return svg;
  });
}

// Viridis, piecewise linear through five of its stops.
function viridis(t) {
  const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
  t = Math.min(1, Math.max(0, num(t) || 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t)), f = t - i;
  return "rgb(" + stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f)).join(",") + ")";
}

// The DFS path: step → layer of its model, one colour per model, the input scale written where it is not 1.
function pathDiagram(stage) {
  const path = stage.path, steps = path.steps;
  const layers = Math.max(1, ...steps.map(s => s.layer + 1));
  const left = 50, top = 30, dx = Math.max(26, Math.min(60, 700 / Math.max(1, steps.length))), dy = Math.max(16, Math.min(34, 240 / layers));
  const width = left + dx * steps.length + 30, height = top + dy * layers + 70;
  const X = i => left + dx * i + dx / 2, Y = l => top + dy * (layers - 1 - l) + dy / 2;
  const svg = sv("svg", { class: "chart path", id: `path-${stage.stage}`, viewBox: `0 0 ${width} ${height}`, "data-steps": steps.length,
    role: "img", "aria-label": "layer path" });
  sized(svg, width);
  svg.append(sv("text", { x: 4, y: 17, class: "title" }, `best layer path: ${steps.length} steps`));
  for (let l = 0; l < layers; l++) svg.append(sv("text", { x: left - 8, y: Y(l) + 4, "text-anchor": "end" }, `L${l}`));
  svg.append(sv("polyline", { points: steps.map((s, i) => `${X(i)},${Y(s.layer)}`).join(" "), fill: "none", stroke: "#b6bdca", "stroke-width": 2 }));
  steps.forEach((s, i) => {
    const dot = sv("circle", { cx: X(i), cy: Y(s.layer), r: 8, fill: PALETTE[s.model % PALETTE.length], class: "step" });
    dot.append(sv("title", {}, `step ${i}: ${path.models[s.model] ?? "?"} layer ${s.layer}, input × ${fmt(s.scale)}`));
    svg.append(dot, sv("text", { x: X(i), y: Y(s.layer) + 4, "text-anchor": "middle", class: "on-dark" }, letter(s.model)));
    if (num(s.scale) !== 1) svg.append(sv("text", { x: X(i), y: Y(s.layer) - 12, "text-anchor": "middle" }, "×" + fmt(s.scale, 2)));
    svg.append(sv("text", { x: X(i), y: top + dy * layers + 14, "text-anchor": "middle" }, String(i)));
  });
  let lx = left;
  path.models.forEach((model, mi) => {
    svg.append(sv("circle", { cx: lx + 5, cy: height - 22, r: 5, fill: PALETTE[mi % PALETTE.length] }),
      sv("text", { x: lx + 14, y: height - 18 }, `${letter(mi)}: ${model}`));
    lx += 30 + 7 * model.length;
  });
  return svg;
}

// Multi-objective stages: every search candidate by its first two task scores, the non-dominated ones joined.
function paretoChart(stage, rows, tasks) {
  const own = rows.filter(r => r.stage === stage.stage && r.kind === "search" && r.scores.length >= 2);
  const front = new Set(stage.pareto);
  const pt = r => [num(r.scores[0]), num(r.scores[1]), `row ${r.row}: ${tasks[0]} ${fmt(r.scores[0])}, ${tasks[1]} ${fmt(r.scores[1])}`];
  const frontRows = own.filter(r => front.has(r.row)).sort((a, b) => num(a.scores[0]) - num(b.scores[0]));
  const svg = chart({
    id: `pareto-${stage.stage}`, title: `${stage.stage.toUpperCase()} Pareto front (${frontRows.length} non-dominated)`,
    xLabel: tasks[0], yLabel: tasks[1],
    series: [
      { name: "candidate", color: "#8f9bb3", points: own.filter(r => !front.has(r.row)).map(pt), marker: "dot" },
      { name: "Pareto front", color: "#c8423b", points: frontRows.map(pt), marker: "dot", line: true, radius: 5, opacity: 0.9, cls: "front" },
    ],
  });
  svg.dataset.front = frontRows.length;
  return svg;
}

// ---- runs list --------------------------------------------------------------------------------------------------

async function runsPage() {
  document.title = "EvoMerge runs";
  const selected = new Set();
  const compare = el("button", { id: "compare", disabled: true, onclick: () => { location.href = "/compare?runs=" + [...selected].map(encodeURIComponent).join(","); } }, "compare selected");
  const body = el("tbody");
  const note = el("p", { class: "muted" });
  main.replaceChildren(el("h1", { text: "Runs" }), note,
    el("div", { class: "table-wrap" }, el("table", { id: "runs" },
      el("thead", {}, el("tr", {}, ["", "name", "run folder", "space", "status", "best fitness", "evaluations", "wall time", "last write"]
        .map((h, i) => el("th", { class: i < 5 ? "text" : null, text: h })))), body)),
    el("div", { class: "controls" }, compare));
  async function refresh() {
    let runs;
    try { runs = await getJson("/api/runs"); } catch (e) { note.textContent = e.message; return; }
    note.textContent = runs.length === 0 ? "No run folders here yet (a run folder holds config.json and journal.jsonl)." : `${runs.length} run(s); refreshed every 3 s.`;
    body.replaceChildren(...runs.map(r => el("tr", { "data-id": r.id, "data-status": r.status },
      el("td", { class: "text" }, el("input", { type: "checkbox", "aria-label": "select " + r.id, checked: selected.has(r.id), onchange: e => {
        e.target.checked ? selected.add(r.id) : selected.delete(r.id);
        compare.disabled = selected.size < 2;
      } })),
      el("td", { class: "text" }, el("a", { href: runUrl(r.id), text: r.name })),
      el("td", { class: "text" }, el("code", { text: r.id })),
      el("td", { class: "text", text: r.space || "–" }),
      el("td", { class: "text" }, statusBadge(r.status), r.errors.length ? el("span", { class: "muted", title: r.errors.join("\n"), text: " ⚠" }) : null),
      el("td", { text: r.best_fitness == null ? "–" : fmt(r.best_fitness) }),
      el("td", { text: String(r.evaluations) }),
      el("td", { text: seconds(r.wall_seconds) }),
      el("td", { text: r.last_update ? new Date(r.last_update).toLocaleString() : "–" }))));
  }
  await refresh();
  setInterval(refresh, 3000);
}

// ---- a run's page -----------------------------------------------------------------------------------------------

async function runPage(id) {
  let run;
  try { run = await getJson("/api/runs/" + apiId(id)); } catch (e) { showError(e.message); return; }
  const state = { run, rows: run.candidates, sort: { key: "row", dir: 1 }, filter: "", stage: "" };
  const header = el("div"), stagesBox = el("div"), summaryBox = el("div"), tableBox = el("section", { class: "card" });
  const workersBox = el("div");
  main.replaceChildren(header, workersBox, stagesBox, summaryBox, tableBox);
  state.workersBox = workersBox;
  buildTable(state, tableBox);
  render(state, header, stagesBox, summaryBox);

  const events = new EventSource(`/api/events/${apiId(id)}?from=${state.rows.length}`);
  events.addEventListener("update", e => {
    const update = JSON.parse(e.data);
    state.rows.push(...update.candidates.filter(c => c.row >= state.rows.length));
    state.run = update;
    render(state, header, stagesBox, summaryBox);
    fillTable(state);
  });
  events.addEventListener("reset", () => location.reload());
}

function render(state, header, stagesBox, summaryBox) {
  const run = state.run, c = run.config;
  document.title = `${run.name} · EvoMerge`;
  setChildren(header,
    el("h1", {}, run.name, statusBadge(run.status)),
    el("p", { class: "muted", id: "status-detail", text: run.status_detail }),
    el("p", {}, `space ${run.space || "?"}`, c ? ` · ${c.optimizer}${c.population ? ", population " + c.population : ""}${c.generations ? ", " + c.generations + " generations" : ""} · models ${c.models.join(", ")}` : "",
      ` · fitness tasks: ${run.tasks.join(", ") || "–"} · ${run.candidate_count} journal lines`),
    run.errors.length ? el("ul", { class: "errors", id: "errors" }, run.errors.map(m => el("li", { text: m }))) : null,
    el("p", { class: "downloads" }, run.downloads.map(d => el("a", { href: d.url, download: "", text: "⬇ " + d.label })),
      run.model_folder ? el("span", {}, "model folder: ", el("code", { text: run.model_folder })) : null));
  stagesBox.replaceChildren(...run.stages.map(stage => {
    const winner = state.rows[stage.winner];
    return el("section", { class: "card", id: `stage-${stage.stage}` },
      el("h2", { text: `${stage.stage.toUpperCase()} stage` }),
      el("p", { class: "muted", text: winner ? `best on the full dev set: ${fmt(winner.fitness)} (generation ${winner.generation}, row ${winner.row}): ${winner.recipe}` : "" }),
      fitnessChart(stage, state.rows),
      stage.heatmap ? el("div", { class: "charts" }, heatmaps(stage)) : null,
      stage.path ? pathDiagram(stage) : null,
      stage.pareto && run.tasks.length >= 2 ? paretoChart(stage, state.rows, run.tasks) : null);
  }));
  setChildren(state.workersBox, run.workers ? workersCard(run.workers, run.status) : null);
  if (run.stages.length === 0) stagesBox.replaceChildren(el("p", { class: "muted", text: "No candidate has been scored yet." }));
  const s = run.summary;
  if (!s) { summaryBox.replaceChildren(); return; }
  const tasks = [...new Set(s.models.flatMap(m => Object.keys(m.test_scores)))];
  summaryBox.replaceChildren(el("section", { class: "card" }, el("h2", { text: "Comparison on the test split" }),
    el("div", { class: "table-wrap" }, el("table", { id: "summary" },
      el("thead", {}, el("tr", {}, el("th", { class: "text", text: "model" }), tasks.map(t => el("th", { text: t })),
        el("th", { text: "dev fitness" }), el("th", { text: "evaluations" }), el("th", { text: "search time" }))),
      el("tbody", {}, s.models.map(m => el("tr", {}, el("td", { class: "text", text: m.label }),
        tasks.map(t => el("td", { text: t in m.test_scores ? fmt(m.test_scores[t]) : "" })),
        el("td", { text: m.dev_fitness == null ? "" : fmt(m.dev_fitness) }), el("td", { text: String(m.evaluations) }),
        el("td", { text: seconds(m.search_seconds) }))))))));
}

// A cluster run's workers as the driver last wrote them (workers.json, rewritten at most once a second while it runs).
// "last seen" counts back from that update: a reply, a slot confirming its work, or membership listing it alive.
function workersCard(status, runStatus) {
  const at = Date.parse(status.time);
  const ago = w => seconds(Math.max(0, (at - Date.parse(w.last_seen)) / 1000));
  const when = new Date(at).toLocaleTimeString();
  return el("section", { class: "card", id: "workers-card" },
    el("h2", { text: `Cluster workers (${status.workers.length})` }),
    el("p", { class: "muted", id: "workers-note" }, runStatus === "running"
      ? `as of the driver's update at ${when} · queued ${status.pending}, running ${status.running}`
      : `at the driver's last update (${when}); the driver is no longer running`,
      status.message ? el("span", { id: "workers-message" }, " · latest event: " + status.message) : null),
    el("div", { class: "table-wrap" }, el("table", { id: "workers" },
      el("thead", {}, el("tr", {}, [["worker", 1], ["state", 1], ["slots"], ["results"], ["candidates"], ["candidates/s"], ["busy"], ["scoring", 1], ["last seen"]]
        .map(([h, text]) => el("th", { class: text ? "text" : null, text: h })))),
      el("tbody", {}, status.workers.map(w => el("tr", { "data-worker": w.name, "data-state": w.state },
        el("td", { class: "text", "data-key": "name", text: w.name, title: w.silo }),
        el("td", { class: "text" }, el("span", { class: `state state-${w.state}`, "data-key": "state", text: w.state })),
        el("td", { "data-key": "slots", text: String(w.slots) }),
        el("td", { "data-key": "results", text: String(w.results) }),
        el("td", { "data-key": "candidates", text: fmt(w.candidates, 3) }),
        el("td", { "data-key": "per_second", text: fmt(w.per_second, 3) }),
        el("td", { "data-key": "busy", text: Math.round(100 * num(w.busy)) + " %" }),
        el("td", { class: "text work", "data-key": "work", title: w.work.join("\n"), text: w.work.map(k => k.slice(0, 12)).join(" ") || "–" }),
        el("td", { "data-key": "last_seen", text: ago(w) + " ago" })))))));
}

// The candidates table: click a header to sort (again to reverse), type to filter on any text, pick a stage.
const MAX_ROWS = 2000;
function columns(run) {
  return [
    { key: "row", label: "#", get: r => r.row },
    { key: "stage", label: "stage", get: r => r.stage, text: true },
    { key: "kind", label: "kind", get: r => r.kind, text: true },
    { key: "generation", label: "gen", get: r => r.generation },
    { key: "index", label: "idx", get: r => r.index },
    { key: "fitness", label: "fitness", get: r => num(r.fitness), show: fmt },
    // Test rows score the test tasks, not these: their scores are in the comparison table.
    ...run.tasks.map((t, k) => ({ key: "s" + k, label: t, get: r => r.kind === "test" ? NaN : num(r.scores[k]), show: fmt })),
    { key: "build", label: "build s", get: r => num(r.build_seconds), show: v => fmt(v, 3) },
    { key: "score", label: "score s", get: r => num(r.score_seconds), show: v => fmt(v, 3) },
    { key: "cached", label: "cached", get: r => r.cached ? 1 : 0, show: v => v ? "yes" : "" },
    { key: "minibatch", label: "data", get: r => r.minibatch_seed == null ? "full" : "minibatch " + r.minibatch_seed, text: true },
    { key: "recipe", label: "decoded candidate", get: r => r.label ? `${r.label}: ${r.recipe}` : r.recipe, text: true, cls: "recipe" },
  ];
}

function buildTable(state, box) {
  const filter = el("input", { type: "search", id: "filter", placeholder: "filter rows (any text)", oninput: e => { state.filter = e.target.value.toLowerCase(); fillTable(state); } });
  const stages = el("select", { id: "stage-filter", onchange: e => { state.stage = e.target.value; fillTable(state); } });
  state.table = el("table", { id: "candidates" }, el("thead"), el("tbody"));
  state.stageSelect = stages;
  state.count = el("span", { class: "muted" });
  box.append(el("h2", { text: "Candidates" }), el("div", { class: "controls" }, filter, stages, state.count),
    el("div", { class: "table-wrap" }, state.table));
  fillTable(state);
}

function fillTable(state) {
  const cols = columns(state.run);
  const head = el("tr", {}, cols.map(c => el("th", {
    "data-key": c.key, class: c.text ? "text" : null, text: c.label,
    "aria-sort": state.sort.key === c.key ? (state.sort.dir > 0 ? "ascending" : "descending") : null,
    onclick: () => {
      // A score is interesting from its best: the first click on a numeric column sorts high to low.
      state.sort = state.sort.key === c.key ? { key: c.key, dir: -state.sort.dir } : { key: c.key, dir: c.text || c.key === "row" ? 1 : -1 };
      fillTable(state);
    },
  })));
  state.table.tHead.replaceChildren(head);
  const stageNames = [...new Set(state.rows.map(r => r.stage))];
  if (state.stageSelect.options.length !== stageNames.length + 1)
    state.stageSelect.replaceChildren(el("option", { value: "", text: "all stages" }), ...stageNames.map(s => el("option", { value: s, text: s })));
  state.stageSelect.value = state.stage;
  const sortCol = cols.find(c => c.key === state.sort.key) || cols[0];
  const winners = new Set(state.run.stages.map(s => s.winner));
  const rows = state.rows
    .filter(r => !state.stage || r.stage === state.stage)
    .filter(r => !state.filter || cols.some(c => c.text && String(c.get(r)).toLowerCase().includes(state.filter)))
    .map(r => ({ r, v: sortCol.get(r) }))
    .sort((a, b) => missing(a.v) - missing(b.v) || (missing(a.v) ? 0 : compare(a.v, b.v) * state.sort.dir) || a.r.row - b.r.row)
    .map(x => x.r);
  state.count.textContent = `${rows.length} of ${state.rows.length} rows` + (rows.length > MAX_ROWS ? ` (first ${MAX_ROWS} shown)` : "");
  state.table.tBodies[0].replaceChildren(...rows.slice(0, MAX_ROWS).map(r => el("tr", { "data-row": r.row, class: winners.has(r.row) ? "winner" : null },
    cols.map(c => {
      const v = c.get(r), text = c.show ? c.show(v) : String(v);
      return el("td", { class: c.cls || (c.text ? "text" : null), "data-key": c.key, text, title: c.cls === "recipe" ? text : null });
    }))));
}

// Rows without a value (a test row has no fitness-task scores) go last in either direction.
function missing(v) { return typeof v === "number" && Number.isNaN(v) ? 1 : 0; }
function compare(a, b) { return typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b)); }

// ---- compare view -----------------------------------------------------------------------------------------------

async function comparePage() {
  document.title = "Compare runs · EvoMerge";
  const ids = (new URLSearchParams(location.search).get("runs") || "").split(",").filter(Boolean);
  if (ids.length < 2) {
    main.replaceChildren(el("h1", { text: "Compare runs" }), el("p", { class: "muted" }, "Pick two or more runs on the ", el("a", { href: "/", text: "runs list" }), " and press “compare selected”."));
    return;
  }
  let runs;
  try { runs = await Promise.all(ids.map(id => getJson("/api/runs/" + apiId(id)))); } catch (e) { showError(e.message); return; }
  const series = runs.flatMap(run => run.stages.map(stage => ({
    name: `${run.name} · ${stage.stage}`, points: stage.best_so_far.map((v, g) => [g, num(v)]), line: true, marker: "dot", radius: 2.5, opacity: 0.9, countPoints: true,
  })));
  main.replaceChildren(el("h1", { text: "Compare runs" }),
    el("p", {}, runs.map((r, i) => [i ? " · " : "", el("a", { href: runUrl(r.id), text: r.name }), " ", statusBadge(r.status)])),
    el("section", { class: "card" }, chart({ id: "compare-chart", title: "best fitness so far (full dev set) by generation", xLabel: "generation",
      yLabel: "fitness (higher is better)", integerX: true, series })));
}

// ---- routing ----------------------------------------------------------------------------------------------------

const path = location.pathname;
if (path.startsWith("/runs/")) runPage(path.slice(6).split("/").map(decodeURIComponent).join("/"));
else if (path === "/compare") comparePage();
else runsPage();
