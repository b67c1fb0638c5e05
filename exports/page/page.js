// The hemkg page: cytoscape.js draws, dagre lays out in layers, this script decides what shows.
// Data: <script id="graph-data"> (exports/html.py, Page.as_json). No network.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var NODES = data.nodes, EDGES = data.edges, MODE = data.mode;
  var FAMILY = "Helvetica, Arial, sans-serif", FONT_SIZE = 12, LINE = 15;
  var MAX_WIDTH = { statement: 300, rule: 300, reference: 210 }, DEFAULT_WIDTH = 180, MAX_LINES = 2;
  var RANKSEP = 60, NODESEP = 8, HEADER_GAP = 16;

  // ---- index: which links touch which node
  var index = {}, incident = NODES.map(function () { return []; });
  NODES.forEach(function (n, i) { index[n.id] = i; });
  EDGES.forEach(function (e, k) { incident[e[1]].push(k); if (e[2] !== e[1]) incident[e[2]].push(k); });

  // ---- labels: wrapped to a width per kind, measured with the font cytoscape draws them in
  var ctx = document.createElement("canvas").getContext("2d");
  function measure(text, size, weight) { ctx.font = (weight || "normal") + " " + size + "px " + FAMILY; return ctx.measureText(text).width; }
  function wrap(text, maxWidth, size, weight, maxLines) {
    var words = text.split(" "), lines = [], line = "";
    words.forEach(function (w) {
      var next = line ? line + " " + w : w;
      if (line && measure(next, size, weight) > maxWidth) { lines.push(line); line = w; } else { line = next; }
    });
    if (line) lines.push(line);
    lines = lines.map(function (l) {  // a single word wider than the box is cut
      while (l.length > 1 && measure(l, size, weight) > maxWidth) l = l.slice(0, -2) + "\u2026";
      return l;
    });
    if (maxLines && lines.length > maxLines) {
      lines = lines.slice(0, maxLines);
      var last = lines[maxLines - 1];
      while (last.length > 1 && measure(last + "\u2026", size, weight) > maxWidth) last = last.slice(0, -1);
      lines[maxLines - 1] = last.replace(/[\s,;:]+$/, "") + "\u2026";
    }
    return lines;
  }
  function box(lines, size, weight) {
    var w = Math.max.apply(null, lines.map(function (l) { return measure(l, size, weight); }).concat([8]));
    return { w: Math.ceil(w) + 18, h: lines.length * Math.round(size * LINE / FONT_SIZE) + 10 };
  }
  function tint(hex, amount) {
    var v = parseInt(hex.slice(1), 16), r = v >> 16, g = (v >> 8) & 255, b = v & 255;
    function mix(c) { return Math.round(c + (255 - c) * amount); }
    return "rgb(" + mix(r) + "," + mix(g) + "," + mix(b) + ")";
  }

  var elements = [];
  NODES.forEach(function (n) {
    var lines = wrap(n.text, MAX_WIDTH[n.kind] || DEFAULT_WIDTH, FONT_SIZE, "normal", MAX_LINES), size = box(lines, FONT_SIZE);
    var kind = data.kinds[n.kind] || data.kinds.other;
    elements.push({ group: "nodes", data: { id: n.id, text: lines.join("\n"), w: size.w, h: size.h, colour: kind.colour, fill: tint(kind.colour, 0.86) },
                    classes: ["kind-" + n.kind, n.classes || ""].join(" ") });
  });
  EDGES.forEach(function (e) {
    elements.push({ group: "edges", data: { id: e[0], source: NODES[e[1]].id, target: NODES[e[2]].id, label: e[3] },
                    classes: [e[4] ? "schema" : "", e[5] ? "entailed" : "", e[6] || ""].join(" ") });
  });

  var cy = cytoscape({
    container: document.getElementById("graph"), elements: elements, layout: { name: "preset" },
    minZoom: 0.03, maxZoom: 4, boxSelectionEnabled: false, selectionType: "single",
    style: [
      { selector: "node", style: {
        shape: "round-rectangle", width: "data(w)", height: "data(h)", label: "data(text)", "text-wrap": "wrap", "text-max-width": 2000,
        "text-valign": "center", "text-halign": "center", "font-family": FAMILY, "font-size": FONT_SIZE, "line-height": LINE / FONT_SIZE,
        color: "#1d2433", "background-color": "data(fill)", "border-width": 1.5, "border-color": "data(colour)" } },
      { selector: "node.status-not-accessible, node.status-undetermined", style: { "border-style": "dashed", color: "#5b6478" } },
      { selector: "node.header", style: { "background-opacity": 0, "border-width": 0, "font-weight": "bold", "font-size": 13, color: "#3b4357", events: "no" } },
      { selector: "edge", style: {
        width: 1.2, "line-color": "#a9b4c6", "target-arrow-color": "#a9b4c6", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
        "curve-style": "bezier", opacity: 0.85, "font-family": FAMILY, "font-size": 10, "text-rotation": "autorotate",
        "text-background-color": "#ffffff", "text-background-opacity": 0.9, "text-background-padding": 2 } },
      { selector: "edge.entailed", style: { "line-style": "dashed" } },
      { selector: "edge.schema", style: { "line-style": "dotted", "line-color": "#ced4da", "target-arrow-color": "#ced4da" } },
      { selector: "edge.inactive", style: { "line-style": "dashed" } },
      { selector: ".gone", style: { display: "none" } },
      { selector: ".faded", style: { opacity: 0.16 } },
      { selector: "edge.near", style: { label: "data(label)", "line-color": "#3b5bdb", "target-arrow-color": "#3b5bdb", width: 2, opacity: 1 } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#e8590c" } },
      { selector: "node.match", style: { "border-width": 3, "border-color": "#e8590c" } }
    ]
  });

  // ---- what shows: revealed nodes, less the hidden kinds unless asked
  var showSchema = false, revealed = {}, layer = {}, expanded = {};
  function reset() {
    revealed = {}; layer = {}; expanded = {};
    NODES.forEach(function (n) { if (n.start !== 0) revealed[n.id] = true; if (n.layer !== undefined && n.layer !== null) layer[n.id] = n.layer; });
  }
  function nodeShown(i) { var n = NODES[i]; return !!revealed[n.id] && (showSchema || !n.hide); }
  function edgeShown(k) { var e = EDGES[k]; return nodeShown(e[1]) && nodeShown(e[2]) && (showSchema || !e[4]); }
  function applyVisibility() {
    cy.batch(function () {
      NODES.forEach(function (n, i) { cy.getElementById(n.id).toggleClass("gone", !nodeShown(i)); });
      EDGES.forEach(function (e, k) { cy.getElementById(e[0]).toggleClass("gone", !edgeShown(k)); });
    });
  }

  // ---- layout: dagre, left to right, each node in its layer (links between layers set the ranks)
  var ANCHOR = "\u0000anchor";
  function layout() {
    var g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: "LR", ranksep: RANKSEP, nodesep: NODESEP, edgesep: 6, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(function () { return {}; });
    var shown = cy.nodes().not(".gone").not(".header");
    shown.forEach(function (n) { g.setNode(n.id(), { width: n.data("w"), height: n.data("h") }); });
    var entered = {};
    cy.edges().not(".gone").forEach(function (e) {
      var s = e.source().id(), t = e.target().id();
      if (s === t) return;
      var ls = layer[s], lt = layer[t];
      if (ls === undefined || lt === undefined) { if (!g.hasEdge(s, t) && !g.hasEdge(t, s)) g.setEdge(s, t, { minlen: 1, weight: 1 }); entered[t] = true; return; }
      if (ls === lt) return;
      var a = ls < lt ? s : t, b = ls < lt ? t : s;
      if (!g.hasEdge(a, b)) g.setEdge(a, b, { minlen: Math.abs(lt - ls), weight: 1 });
      entered[b] = true;
    });
    g.setNode(ANCHOR, { width: 0, height: 0 });
    shown.forEach(function (n) { var l = layer[n.id()]; if (l !== undefined && !entered[n.id()]) g.setEdge(ANCHOR, n.id(), { minlen: l + 1, weight: 1 }); });
    dagre.layout(g);
    cy.batch(function () {
      shown.forEach(function (n) { var p = g.node(n.id()); n.position({ x: p.x, y: p.y }); });
      wrapLastLayer(shown);
      packColumns(shown);
    });
    headers(shown);
  }
  function byLayer(shown) {
    var columns = {};
    shown.forEach(function (n) { var l = layer[n.id()]; if (l !== undefined) (columns[l] = columns[l] || []).push(n); });
    return columns;
  }
  function columnHeight(nodes) { return nodes.reduce(function (h, n) { return h + n.data("h") + NODESEP; }, 0); }
  // The last layer (references, mostly) can be far taller than the rest: nothing lies to its right, so it may
  // be laid in rows of a few, in dagre's order (which keeps each row beside the nodes that link to it), as many
  // to a row as makes the whole picture fit the window largest.
  function wrapLastLayer(shown) {
    var columns = byLayer(shown), layers = Object.keys(columns).map(Number).sort(function (a, b) { return a - b; });
    if (layers.length < 2) return;
    var last = columns[layers[layers.length - 1]], tallest = 0, width = 0, left = Infinity, start = Infinity, rowH = 0;
    layers.slice(0, -1).forEach(function (l) { tallest = Math.max(tallest, columnHeight(columns[l])); });
    shown.forEach(function (n) { start = Math.min(start, n.position("x") - n.data("w") / 2); });
    last.forEach(function (n) {
      width = Math.max(width, n.data("w")); rowH = Math.max(rowH, n.data("h") + NODESEP);
      left = Math.min(left, n.position("x") - n.data("w") / 2);
    });
    var room = { w: Math.max(cy.width() - 48, 200), h: Math.max(cy.height() - 90, 200) }, k = 1, best = 0;
    for (var tried = 1; tried <= 4; tried++) {
      var w = left - start + tried * width + (tried - 1) * 2 * NODESEP, h = Math.max(tallest, Math.ceil(last.length / tried) * rowH);
      var zoom = Math.min(room.w / w, room.h / h);
      if (zoom > best * 1.02) { best = zoom; k = tried; }
    }
    if (k === 1) return;
    var centre = 0;
    last.sort(function (a, b) { return a.position("y") - b.position("y"); });
    last.forEach(function (n) { centre += n.position("y") / last.length; });
    var y = centre - Math.ceil(last.length / k) * rowH / 2;
    last.forEach(function (n, j) {
      n.position({ x: left + width / 2 + (j % k) * (width + 2 * NODESEP), y: y + Math.floor(j / k) * rowH + rowH / 2 });
    });
  }
  // dagre spreads a column (a rank: nodes at one x) to align it with its neighbours; stacking each column
  // closely around the middle keeps dagre's order (so its crossings) and the picture no taller than its
  // tallest column.
  function packColumns(shown) {
    var columns = {}, middle = 0, count = 0;
    shown.forEach(function (n) {
      var x = Math.round(n.position("x"));
      (columns[x] = columns[x] || []).push(n);
      middle += n.position("y"); count++;
    });
    middle /= Math.max(count, 1);
    Object.keys(columns).forEach(function (l) {
      var rows = {};
      columns[l].forEach(function (n) { var key = Math.round(n.position("y")); (rows[key] = rows[key] || []).push(n); });
      var keys = Object.keys(rows).map(Number).sort(function (a, b) { return a - b; });
      var heights = keys.map(function (k) { return Math.max.apply(null, rows[k].map(function (n) { return n.data("h"); })) + NODESEP; });
      var y = middle - heights.reduce(function (a, b) { return a + b; }, 0) / 2;
      keys.forEach(function (k, i) { rows[k].forEach(function (n) { n.position("y", y + heights[i] / 2); }); y += heights[i]; });
    });
  }
  function headers(shown) {
    cy.remove(cy.nodes(".header"));
    if (!data.layers || !data.layers.length || !shown.length) return;
    var columns = byLayer(shown), top = Infinity;
    shown.forEach(function (n) { top = Math.min(top, n.boundingBox().y1); });
    var added = [];
    Object.keys(columns).forEach(function (l) {
      if (!data.layers[l]) return;
      var x1 = Infinity, x2 = -Infinity;
      columns[l].forEach(function (n) { var bb = n.boundingBox(); x1 = Math.min(x1, bb.x1); x2 = Math.max(x2, bb.x2); });
      var lines = wrap(data.layers[l], Math.max(x2 - x1, 90) + RANKSEP - 20, 13, "bold"), size = box(lines, 13, "bold");
      added.push({ group: "nodes", data: { id: "\u0000header-" + l, text: lines.join("\n"), w: size.w, h: size.h }, classes: "header",
                   position: { x: (x1 + x2) / 2, y: 0 } });
    });
    var made = cy.add(added), tallest = 0;
    made.forEach(function (h) { tallest = Math.max(tallest, h.data("h")); });
    made.forEach(function (h) { h.position("y", top - HEADER_GAP - tallest / 2); h.ungrabify(); h.unselectify(); });
  }
  var moved = false;
  cy.on("viewport", function () { if (!fitting) moved = true; });
  window.addEventListener("resize", function () { cy.resize(); if (!moved) fit(); cy.forceRender(); writeState(); });
  var fitting = false;
  function fit(eles) {
    fitting = true;
    cy.fit(eles || cy.elements().not(".gone"), 24);
    if (cy.zoom() > 1.6) { cy.zoom(1.6); cy.center(eles || cy.elements().not(".gone")); }
    fitting = false;
  }

  // ---- what the page shows, written down for tests and for checking a layout
  function writeState() {
    var shown = cy.nodes().not(".gone");
    var boxes = shown.map(function (n) {
      var b = n.renderedBoundingBox({ includeLabels: true, includeOverlays: false });
      return { id: n.id(), text: n.data("text"), header: n.hasClass("header"), x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 };
    });
    var state = {
      cytoscape: cytoscape.version, dagre: dagre.version, mode: MODE, width: cy.width(), height: cy.height(), zoom: cy.zoom(),
      window: [window.innerWidth, window.innerHeight],
      fontPx: FONT_SIZE * cy.zoom(), nodes: NODES.length, edges: EDGES.length, schema: showSchema,
      shownNodes: shown.not(".header").length, shownEdges: cy.edges().not(".gone").length,
      edgeLabels: cy.edges(".near").not(".gone").length, selected: cy.nodes(":selected").map(function (n) { return n.id(); }),
      boxes: boxes
    };
    document.getElementById("hem-state").textContent = JSON.stringify(state);
    document.body.setAttribute("data-rendered", String(NODES.length));
    document.body.setAttribute("data-shown", String(state.shownNodes));
  }
  function refresh(fitTo) {
    clearFocus();
    applyVisibility();
    layout();
    fit(fitTo ? fitTo.filter(function (e) { return !e.hasClass("gone"); }) : undefined);
    var more = hiddenCount();
    document.getElementById("hidden-count").textContent = more ? "(+" + more + ")" : "";
    document.getElementById("summary").textContent = cy.nodes().not(".gone").not(".header").length + " of " + NODES.length + " nodes shown";
    writeState();
  }
  function hiddenCount() { var k = 0; NODES.forEach(function (n, i) { if (!nodeShown(i) && (n.hide ? !showSchema : true) && revealed[n.id]) k++; }); return k; }

  // ---- an overview grows: a click brings in a node's neighbours, one layer on
  function expand(i) {
    var id = NODES[i].id, base = layer[id] !== undefined ? layer[id] : 0, grown = false;
    expanded[id] = true;
    if (layer[id] === undefined) layer[id] = base;
    incident[i].forEach(function (k) {
      var e = EDGES[k]; if (e[4] && !showSchema) return;
      var other = e[1] === i ? e[2] : e[1], oid = NODES[other].id;
      if (NODES[other].hide && !showSchema) return;
      if (!revealed[oid]) { revealed[oid] = true; grown = true; if (layer[oid] === undefined) layer[oid] = base + 1; }
    });
    return grown;
  }

  // ---- the side panel and the hover tip
  var info = document.getElementById("info"), tip = document.getElementById("tip");
  function add(parent, tag, text, cls) { var el = document.createElement(tag); if (text !== undefined) el.textContent = text; if (cls) el.className = cls; parent.appendChild(el); return el; }
  var panel = document.getElementById("panel");
  document.getElementById("close").addEventListener("click", function () { panel.hidden = true; });
  function show(i) {
    var n = NODES[i];
    panel.hidden = false;
    info.replaceChildren();
    add(info, "h2", n.label);
    var dl = add(info, "dl");
    (n.info || []).forEach(function (kv) { add(dl, "dt", kv[0]); add(dl, "dd", kv[1]); });
    var links = incident[i];
    if (links.length) {
      add(info, "h3", "Links (" + links.length + ")");
      var ul = add(info, "ul");
      links.slice(0, 80).forEach(function (k) {
        var e = EDGES[k], out = e[1] === i, other = out ? e[2] : e[1];
        var li = add(ul, "li", (out ? "\u2192 " : "\u2190 ") + e[3] + ": " + NODES[other].text, "link" + (edgeShown(k) ? "" : " hidden-link"));
        li.addEventListener("click", function () { goTo(other); });
      });
      if (links.length > 80) add(info, "p", "\u2026 and " + (links.length - 80) + " more", "hint");
    }
  }
  function focusOn(node) {
    clearFocus();
    var near = node.closedNeighborhood().not(".gone");
    cy.elements().not(".gone").not(".header").not(near).addClass("faded");
    node.connectedEdges().not(".gone").addClass("near");
  }
  function clearFocus() { cy.elements(".faded").removeClass("faded"); cy.edges(".near").removeClass("near"); }
  function select(i) {
    var node = cy.getElementById(NODES[i].id);
    cy.nodes(":selected").unselect(); node.select(); show(i); focusOn(node);
  }
  function goTo(i) {
    var id = NODES[i].id;
    if (NODES[i].hide && !showSchema) { showSchema = true; document.getElementById("schema").checked = true; }
    if (!revealed[id]) {
      revealed[id] = true;
      if (layer[id] === undefined) {
        var best; incident[i].forEach(function (k) { var e = EDGES[k], o = NODES[e[1] === i ? e[2] : e[1]].id; if (revealed[o] && layer[o] !== undefined) best = best === undefined ? layer[o] + 1 : Math.min(best, layer[o] + 1); });
        layer[id] = best === undefined ? 0 : best;
      }
    }
    if (MODE === "overview") expand(i);
    refresh();
    var node = cy.getElementById(id);
    select(i);
    cy.animate({ center: { eles: node }, zoom: Math.max(cy.zoom(), 1) }, { duration: 250, complete: writeState });
    writeState();
  }
  cy.on("tap", "node", function (ev) {
    var node = ev.target; if (node.hasClass("header")) return;
    var i = index[node.id()];
    if (MODE === "overview" && !expanded[node.id()] && expand(i)) refresh(node.closedNeighborhood());
    select(i);
    writeState();
  });
  cy.on("tap", function (ev) { if (ev.target === cy) { cy.nodes(":selected").unselect(); clearFocus(); panel.hidden = true; writeState(); } });
  cy.on("mouseover", "node", function (ev) {
    var node = ev.target; if (node.hasClass("header")) return;
    var n = NODES[index[node.id()]];
    tip.textContent = n.label + (n.type ? "\n" + n.type : "");
    tip.hidden = false;
  });
  cy.on("mousemove", function (ev) { if (!tip.hidden && ev.originalEvent) { tip.style.left = (ev.originalEvent.clientX + 14) + "px"; tip.style.top = (ev.originalEvent.clientY + 14) + "px"; } });
  cy.on("mouseout", "node", function () { tip.hidden = true; });
  document.getElementById("hint").textContent = (MODE === "overview" ? "Click a node to bring in its neighbours and read about it. " : "Click a node to read about it and see its links. ")
    + "Hover for the full label. Scroll to zoom, drag to pan. \u201cschema and provenance\u201d shows the classes, rdf:type links, rank entries and PROV record the page hides.";

  // ---- search
  var search = document.getElementById("search"), matches = [];
  search.addEventListener("input", function () {
    var q = search.value.trim().toLowerCase();
    cy.nodes(".match").removeClass("match");
    matches = [];
    if (q) NODES.forEach(function (n, i) { if ((n.label + " " + n.text + " " + n.id + " " + (n.type || "")).toLowerCase().indexOf(q) >= 0) matches.push(i); });
    matches.forEach(function (i) { cy.getElementById(NODES[i].id).addClass("match"); });
    info.replaceChildren();
    if (!q) { panel.hidden = true; return; }
    panel.hidden = false;
    add(info, "h3", matches.length + (matches.length === 1 ? " match" : " matches"));
    var ul = add(info, "ul");
    matches.slice(0, 40).forEach(function (i) { var li = add(ul, "li", NODES[i].text + (nodeShown(i) ? "" : " (not shown)"), "link"); li.addEventListener("click", function () { goTo(i); }); });
  });
  search.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && matches.length) goTo(matches[0]); });

  // ---- controls and legend
  document.getElementById("schema").addEventListener("change", function (ev) { showSchema = ev.target.checked; refresh(); });
  document.getElementById("fit").addEventListener("click", function () { fit(); moved = false; writeState(); });
  document.getElementById("reset").addEventListener("click", function () { reset(); refresh(); moved = false; });
  var legend = document.getElementById("legend"), counts = {};
  NODES.forEach(function (n) { counts[n.kind] = (counts[n.kind] || 0) + 1; });
  Object.keys(data.kinds).forEach(function (k) {
    if (!counts[k]) return;
    var kind = data.kinds[k], li = add(legend, "li"), sw = add(li, "span", undefined, "swatch");
    sw.style.background = tint(kind.colour, 0.86); sw.style.borderColor = kind.colour;
    add(li, "span", kind.words + " (" + counts[k] + ")" + (kind.hidden ? ", hidden until asked" : ""));
  });

  // ---- start: the fragment may ask for the toggle, a node expanded or selected
  reset();
  var wanted = { select: [], expand: [] };
  location.hash.replace(/^#/, "").split("&").forEach(function (part) {
    if (!part) return;
    var kv = part.split("="), key = decodeURIComponent(kv[0]), value = kv.length > 1 ? decodeURIComponent(kv.slice(1).join("=")) : "";
    if (key === "schema") showSchema = true;
    else if ((key === "expand" || key === "select") && index[value] !== undefined) wanted[key].push(index[value]);
  });
  document.getElementById("schema").checked = showSchema;
  wanted.expand.forEach(function (i) { revealed[NODES[i].id] = true; expand(i); });
  refresh();
  wanted.expand.concat(wanted.select).forEach(function (i) { if (nodeShown(i)) select(i); });
  writeState();
})();
