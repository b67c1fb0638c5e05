"""The graph as one self-contained HTML page: data, style and script inline, no network.

The page embeds the graph as JSON, lays it out with a small force-directed
layout (repulsion on a grid, so it stays fast for the whole graph), draws it as
SVG with labels coloured by type, and shows a node's type, citations, location
and links on hover. A search box finds nodes by label, IRI or type; the wheel
zooms, dragging pans, a click pins the panel.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx

SHOWN_FIRST = ("label", "type", "iri", "citations", "location")


def page_data(g: "networkx.MultiDiGraph") -> dict:
    """The graph as the page's JSON: nodes with their attributes, edges as index pairs."""
    index = {n: i for i, n in enumerate(g.nodes)}
    nodes = []
    for n, data in g.nodes(data=True):
        node = {key: data.get(key, "") for key in SHOWN_FIRST}
        node["id"] = n
        node["attrs"] = [[k, v] for k, v in sorted(data.items()) if k not in SHOWN_FIRST]
        nodes.append(node)
    edges = [[index[s], index[o], data.get("label", ""), 1 if data.get("entailed") == "true" else 0]
             for s, o, data in g.edges(data=True)]
    types = Counter(node["type"] or "(untyped)" for node in nodes)
    return {"nodes": nodes, "edges": edges, "types": [t for t, _ in types.most_common()]}


def script_json(data: dict) -> str:
    """JSON that is safe inside a <script> element: no '<', '>', '&' or line separators as such."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def render(g: "networkx.MultiDiGraph", scope: str) -> str:
    title = f"hemkg: {scope}"
    return (TEMPLATE.replace("__TITLE__", html.escape(title))
            .replace("__SUMMARY__", html.escape(f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges"))
            .replace("__DATA__", script_json(page_data(g))))


TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  * { box-sizing: border-box; }
  html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2433; }
  body { display: grid; grid-template-rows: auto 1fr; grid-template-columns: 1fr 340px; height: 100vh; }
  header { grid-column: 1 / 3; display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 8px 14px; border-bottom: 1px solid #d8dee9; background: #f7f9fc; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  header .summary { color: #5b6478; }
  header input { font: inherit; padding: 4px 8px; width: 260px; border: 1px solid #b8c2d3; border-radius: 4px; }
  header button { font: inherit; padding: 3px 10px; border: 1px solid #b8c2d3; border-radius: 4px; background: white; cursor: pointer; }
  #status { color: #5b6478; }
  #canvas { position: relative; overflow: hidden; background: white; }
  svg#graph { width: 100%; height: 100%; display: block; cursor: grab; user-select: none; }
  svg#graph.panning { cursor: grabbing; }
  .edge { stroke: #9aa5b8; stroke-width: 1; fill: none; }
  .edge.entailed { stroke-dasharray: 4 3; }
  .node circle { stroke: #ffffff; stroke-width: 1.5; }
  .node text { font-size: var(--label-size, 11px); fill: #1d2433; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; pointer-events: none; white-space: pre; }
  .node { cursor: pointer; }
  .node.minor text { display: none; }
  svg.focus .node, svg.focus .edge, svg.searching .node, svg.searching .edge { opacity: 0.15; }
  svg.focus .node.near, svg.focus .edge.near, svg.searching .node.match { opacity: 1; }
  svg.focus .node.near text, svg.searching .node.match text { display: inline; }
  svg.focus .edge.near { stroke: #3b5bdb; stroke-width: 1.6; }
  .node.match circle { stroke: #e8590c; stroke-width: 3; }
  aside { border-left: 1px solid #d8dee9; overflow: auto; padding: 12px 14px; background: #fbfcfe; }
  aside h2 { font-size: 15px; margin: 0 0 6px; word-break: break-word; white-space: pre-wrap; }
  aside dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; }
  aside dt { color: #5b6478; }
  aside dd { margin: 0; word-break: break-word; white-space: pre-wrap; }
  aside ul { padding-left: 18px; margin: 6px 0; }
  aside .hint { color: #5b6478; }
  .legend { list-style: none; padding: 0; margin: 6px 0 0; }
  .legend li { display: flex; align-items: center; gap: 6px; }
  .swatch { width: 11px; height: 11px; border-radius: 50%; flex: none; }
  h3 { font-size: 13px; margin: 14px 0 4px; color: #3b4357; }
</style>
</head>
<body>
<header>
  <h1>__TITLE__</h1>
  <span class="summary">__SUMMARY__</span>
  <input id="search" type="search" placeholder="Search labels, IRIs, types (Enter: go to)" aria-label="Search nodes">
  <span id="status"></span>
  <button id="fit" type="button">Fit</button>
</header>
<div id="canvas">
  <svg id="graph" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="knowledge graph">
    <defs>
      <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" fill="#9aa5b8"></path>
      </marker>
    </defs>
    <g id="viewport"><g id="edges"></g><g id="nodes"></g></g>
  </svg>
</div>
<aside id="panel">
  <div id="info"><p class="hint">Hover over a node for its type, citations and links; click to pin it. Scroll to zoom, drag to pan.</p></div>
  <h3>Types</h3>
  <ul class="legend" id="legend"></ul>
</aside>
<script type="application/json" id="graph-data">__DATA__</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var nodes = data.nodes, edges = data.edges, N = nodes.length;
  var SVG = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("graph");
  var PALETTE = ["#4263eb", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#1098ad", "#f08c00", "#5c940d",
                 "#d6336c", "#0b7285", "#862e9c", "#a61e4d", "#364fc7", "#495057"];
  var colourOf = {};
  data.types.forEach(function (t, i) { colourOf[t] = PALETTE[Math.min(i, PALETTE.length - 1)]; });
  function colour(n) { return colourOf[n.type || "(untyped)"]; }

  var degree = new Array(N).fill(0), incident = [];
  for (var i = 0; i < N; i++) incident.push([]);
  edges.forEach(function (e, k) { degree[e[0]]++; degree[e[1]]++; incident[e[0]].push(k); if (e[1] !== e[0]) incident[e[1]].push(k); });
  function radius(i) { return Math.min(16, 4 + 1.6 * Math.sqrt(degree[i])); }

  // ---- layout: Fruchterman-Reingold with grid-limited repulsion, seeded, within a time budget
  var K = 70, x = new Float64Array(N), y = new Float64Array(N);
  (function layout() {
    var seed = 20251125;
    function rand() { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; return seed / 4294967296; }
    var side = Math.sqrt(N + 1) * K;
    for (var i = 0; i < N; i++) { x[i] = (rand() - 0.5) * side; y[i] = (rand() - 0.5) * side; }
    var dx = new Float64Array(N), dy = new Float64Array(N);
    var cell = 2.5 * K, cut2 = cell * cell, temp = side / 8, start = performance.now();
    var iterations = N > 1500 ? 220 : 350, budget = 4000;
    for (var it = 0; it < iterations; it++) {
      dx.fill(0); dy.fill(0);
      var grid = new Map();
      for (var i = 0; i < N; i++) {
        var key = Math.floor(x[i] / cell) + "," + Math.floor(y[i] / cell);
        var bucket = grid.get(key); if (!bucket) { bucket = []; grid.set(key, bucket); } bucket.push(i);
      }
      for (var i = 0; i < N; i++) {
        var cx = Math.floor(x[i] / cell), cy = Math.floor(y[i] / cell);
        for (var gx = cx - 1; gx <= cx + 1; gx++) for (var gy = cy - 1; gy <= cy + 1; gy++) {
          var b = grid.get(gx + "," + gy); if (!b) continue;
          for (var m = 0; m < b.length; m++) {
            var j = b[m]; if (j === i) continue;
            var ddx = x[i] - x[j], ddy = y[i] - y[j], d2 = ddx * ddx + ddy * ddy;
            if (d2 > cut2) continue;
            if (d2 < 0.01) { ddx = rand() - 0.5; ddy = rand() - 0.5; d2 = ddx * ddx + ddy * ddy; }
            var f = K * K / d2; dx[i] += ddx * f; dy[i] += ddy * f;
          }
        }
      }
      for (var k = 0; k < edges.length; k++) {
        var s = edges[k][0], t = edges[k][1]; if (s === t) continue;
        var ex = x[s] - x[t], ey = y[s] - y[t], d = Math.sqrt(ex * ex + ey * ey) || 0.01;
        var fa = d / K / Math.sqrt(Math.max(1, Math.min(degree[s], degree[t])));
        dx[s] -= ex * fa; dy[s] -= ey * fa; dx[t] += ex * fa; dy[t] += ey * fa;
      }
      for (var i = 0; i < N; i++) {
        dx[i] -= x[i] * 0.02; dy[i] -= y[i] * 0.02;
        var len = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]);
        if (len > 0) { var step = Math.min(len, temp); x[i] += dx[i] / len * step; y[i] += dy[i] / len * step; }
      }
      temp = Math.max(1, temp * 0.975);
      if (performance.now() - start > budget) break;
    }
  })();

  // ---- drawing
  var edgeLayer = document.getElementById("edges"), nodeLayer = document.getElementById("nodes");
  var edgeEls = [], nodeEls = [];
  // labels keep their size on screen; zoomed out, only the best-connected nodes show theirs
  var rank = new Array(N);
  Array.from({ length: N }, function (_, i) { return i; })
    .sort(function (a, b) { return degree[b] - degree[a] || a - b; })
    .forEach(function (node, r) { rank[node] = r; });
  var fitScale = 1, labelsShown = -1;
  function showLabels(scale) {
    var count = N <= 150 ? N : Math.round(40 * Math.pow(scale / fitScale, 2));
    if (count === labelsShown) return;
    labelsShown = count;
    nodeEls.forEach(function (g, i) { g.classList.toggle("minor", rank[i] >= count); });
  }
  function shortText(s) { return s.length > 48 ? s.slice(0, 47) + "\u2026" : s; }
  edges.forEach(function (e) {
    var line = document.createElementNS(SVG, "line");
    line.setAttribute("class", e[3] ? "edge entailed" : "edge");
    var s = e[0], t = e[1], ex = x[t] - x[s], ey = y[t] - y[s], d = Math.sqrt(ex * ex + ey * ey) || 1, r = radius(t) + 1;
    line.setAttribute("x1", x[s].toFixed(1)); line.setAttribute("y1", y[s].toFixed(1));
    line.setAttribute("x2", (x[t] - ex / d * r).toFixed(1)); line.setAttribute("y2", (y[t] - ey / d * r).toFixed(1));
    if (s !== t) line.setAttribute("marker-end", "url(#arrow)");
    var title = document.createElementNS(SVG, "title");
    title.textContent = nodes[s].label + "  " + e[2] + "  " + nodes[t].label;
    line.appendChild(title);
    edgeLayer.appendChild(line); edgeEls.push(line);
  });
  nodes.forEach(function (n, i) {
    var g = document.createElementNS(SVG, "g");
    g.setAttribute("class", "node");
    g.setAttribute("transform", "translate(" + x[i].toFixed(1) + "," + y[i].toFixed(1) + ")");
    g.setAttribute("data-index", String(i));
    var c = document.createElementNS(SVG, "circle");
    c.setAttribute("r", radius(i).toFixed(1)); c.setAttribute("fill", colour(n));
    var text = document.createElementNS(SVG, "text");
    text.setAttribute("x", (radius(i) + 3).toFixed(1)); text.setAttribute("dy", "0.35em");
    text.textContent = shortText(n.label.replace(/\s*\n\s*/g, " \u21b5 "));
    var title = document.createElementNS(SVG, "title");
    title.textContent = n.label + "\n" + (n.type || "(untyped)") + (n.citations ? "\nrefs " + n.citations : "") + (n.location ? "\n" + n.location : "");
    g.appendChild(c); g.appendChild(text); g.appendChild(title);
    nodeLayer.appendChild(g); nodeEls.push(g);
  });

  // ---- view: fit, zoom, pan
  var view = { x: 0, y: 0, w: 100, h: 100 };
  function applyView() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].map(function (v) { return v.toFixed(1); }).join(" "));
    var scale = (svg.clientWidth || 1000) / view.w;
    svg.style.setProperty("--label-size", (11 / scale).toFixed(2) + "px");
    showLabels(scale);
  }
  function fit() {
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (var i = 0; i < N; i++) { minX = Math.min(minX, x[i]); maxX = Math.max(maxX, x[i]); minY = Math.min(minY, y[i]); maxY = Math.max(maxY, y[i]); }
    if (!N) { minX = minY = -50; maxX = maxY = 50; }
    var pad = 60, w = maxX - minX + 2 * pad + 120, h = maxY - minY + 2 * pad;
    var aspect = (svg.clientWidth || 1000) / (svg.clientHeight || 700);
    if (w / h < aspect) { w = h * aspect; } else { h = w / aspect; }
    view = { x: (minX + maxX) / 2 - w / 2 + 60, y: (minY + maxY) / 2 - h / 2, w: w, h: h };
    fitScale = (svg.clientWidth || 1000) / view.w;
    applyView();
  }
  function centreOn(i) {
    var w = Math.min(view.w, 900), h = w * view.h / view.w;
    view = { x: x[i] - w / 2, y: y[i] - h / 2, w: w, h: h }; applyView();
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var rect = svg.getBoundingClientRect(), f = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
    var px = view.x + (ev.clientX - rect.left) / rect.width * view.w, py = view.y + (ev.clientY - rect.top) / rect.height * view.h;
    view = { x: px - (px - view.x) * f, y: py - (py - view.y) * f, w: view.w * f, h: view.h * f }; applyView();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y }; svg.classList.add("panning"); });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var rect = svg.getBoundingClientRect();
    view.x = drag.vx - (ev.clientX - drag.x) / rect.width * view.w; view.y = drag.vy - (ev.clientY - drag.y) / rect.height * view.h; applyView();
  });
  window.addEventListener("mouseup", function () { drag = null; svg.classList.remove("panning"); });
  window.addEventListener("resize", applyView);
  document.getElementById("fit").addEventListener("click", fit);

  // ---- hover panel
  var info = document.getElementById("info"), pinned = null;
  function add(parent, tag, text, cls) { var el = document.createElement(tag); if (text !== undefined) el.textContent = text; if (cls) el.className = cls; parent.appendChild(el); return el; }
  function show(i) {
    var n = nodes[i];
    info.replaceChildren();
    add(info, "h2", n.label);
    var dl = add(info, "dl");
    [["type", n.type || "(untyped)"], ["citations", n.citations], ["location", n.location], ["IRI", n.id]].concat(n.attrs).forEach(function (kv) {
      if (!kv[1]) return; add(dl, "dt", kv[0]); add(dl, "dd", kv[1]);
    });
    var links = incident[i];
    if (links.length) {
      add(info, "h3", "Links (" + links.length + ")");
      var ul = add(info, "ul");
      links.slice(0, 60).forEach(function (k) {
        var e = edges[k];
        add(ul, "li", e[0] === i ? "\u2192 " + e[2] + " " + nodes[e[1]].label : "\u2190 " + e[2] + " " + nodes[e[0]].label);
      });
      if (links.length > 60) add(info, "p", "\u2026 and " + (links.length - 60) + " more", "hint");
    }
    svg.classList.add("focus");
    nodeEls[i].classList.add("near");
    links.forEach(function (k) { edgeEls[k].classList.add("near"); nodeEls[edges[k][0]].classList.add("near"); nodeEls[edges[k][1]].classList.add("near"); });
  }
  function clear() {
    svg.classList.remove("focus");
    svg.querySelectorAll(".near").forEach(function (el) { el.classList.remove("near"); });
  }
  nodeEls.forEach(function (g, i) {
    g.addEventListener("mouseenter", function () { if (pinned === null) { clear(); show(i); } });
    g.addEventListener("mouseleave", function () { if (pinned === null) clear(); });
    g.addEventListener("mousedown", function (ev) { ev.stopPropagation(); });
    g.addEventListener("click", function () { clear(); if (pinned === i) { pinned = null; } else { pinned = i; show(i); } });
  });

  // ---- search
  var search = document.getElementById("search"), status = document.getElementById("status"), matches = [];
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    matches = [];
    nodeEls.forEach(function (g, i) {
      var n = nodes[i], hit = q !== "" && (n.label.toLowerCase().indexOf(q) >= 0 || n.id.toLowerCase().indexOf(q) >= 0 || (n.type || "").toLowerCase().indexOf(q) >= 0);
      g.classList.toggle("match", hit); if (hit) matches.push(i);
    });
    svg.classList.toggle("searching", q !== "");
    status.textContent = q === "" ? "" : matches.length + (matches.length === 1 ? " match" : " matches");
  });
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && matches.length) { pinned = null; clear(); centreOn(matches[0]); show(matches[0]); pinned = matches[0]; }
  });

  // ---- legend
  var legend = document.getElementById("legend"), counts = {};
  nodes.forEach(function (n) { var t = n.type || "(untyped)"; counts[t] = (counts[t] || 0) + 1; });
  data.types.slice(0, 14).forEach(function (t) {
    var li = add(legend, "li"), sw = add(li, "span", undefined, "swatch");
    sw.style.background = colourOf[t]; add(li, "span", t + " (" + counts[t] + ")");
  });
  if (data.types.length > 14) add(legend, "li", "\u2026 " + (data.types.length - 14) + " more types share the last colour");

  fit();
  document.body.setAttribute("data-rendered", String(N));
})();
</script>
</body>
</html>
"""
