// SPDX-License-Identifier: MIT
// perfshim's html report: the memory views (heap figures, the live heap over time, sizes,
// sites, leaks) and the findings and waits of the data, with the stack cells they share.
// app.js is the rest of the application; it is embedded first and exports the helpers used
// here as window.perfshimApp.
"use strict";
(function (PS) {
	var h = PS.h, svg = PS.svg, fig = PS.fig, note = PS.note, fmtNs = PS.fmtNs, fmtBytes = PS.fmtBytes;
	var fmtCount = PS.fmtCount, fmtUnit = PS.fmtUnit, unitOf = PS.unitOf, base = PS.base;
	var sortTable = PS.sortTable, st = PS.st;
	function render() { PS.render(); }

	// ---- stacks ----
	function frameItem(f) {
		return h("li", {}, [h("span", { class: "fname", text: f.name }),
			f.file ? h("span", { class: "src", text: base(f.file) + (f.line ? ":" + f.line : ""), title: f.file }) : null,
			f.inlined ? h("span", { class: "inl", text: "inlined" }) : null,
			f.module ? h("span", { class: "src", text: f.module }) : null]);
	}
	function shortStack(st0) {
		var fr = st0.frames;
		if (!fr.length) return "[no stack]";
		return fr.slice(0, 4).map(function (f) { return f.name; }).join(" \u2190 ") +
			(fr.length > 4 ? " \u2190 \u2026 (" + (fr.length - 4) + " more)" : "");
	}
	// a stack cell that opens into every frame with its source line
	function stackCell(s, ncols) {
		var tog = h("span", { class: "tog", text: s.frames.length ? "\u25B8" : "" });
		var td = h("td", { class: "name" }, [tog, h("span", { class: "short", text: shortStack(s) })]);
		tog.onclick = function () {
			var tr = td.parentNode, nx = tr.nextSibling;
			if (nx && nx.classList.contains("stackrow")) { nx.remove(); tog.textContent = "\u25B8"; return; }
			tog.textContent = "\u25BE";
			tr.parentNode.insertBefore(h("tr", { class: "stackrow" }, [h("td", { class: "name", colspan: ncols }, [
				h("ol", { class: "stack" }, s.frames.map(frameItem))])]), nx);
		};
		return td;
	}
	function stackTable(m, id, rows, cols) {
		return h("table", { class: "t", id: id }, [h("thead", {}, [h("tr", {}, [
			h("th", { class: "l", text: "stack (innermost first)" })].concat(cols.map(function (c) {
			return h("th", { text: c.label }); })))]), h("tbody", {}, rows.map(function (r) {
			return h("tr", {}, [stackCell(r.st, cols.length + 1)].concat(cols.map(function (c) {
				return h("td", { "data-v": r[c.key], text: fmtUnit(r[c.key], c.unit) });
			})));
		}))]);
	}

	// ---- memory ----
	function viewMemory(m, box) {
		var M0 = m.T.memory, sites = m.sites(st.thread);
		box.appendChild(h("h2", { text: "Heap" }));
		box.appendChild(h("div", { class: "figs", id: "mem-figs" }, [
			fig("allocations", fmtCount(M0.allocations), fmtBytes(M0.bytes_allocated)),
			fig("frees", fmtCount(M0.frees), fmtBytes(M0.bytes_freed)),
			fig("peak live heap", fmtBytes(M0.peak_bytes), fmtCount(M0.peak_blocks) + " blocks at " + fmtNs(M0.peak_time_ns)),
			fig("temporary allocations", fmtCount(M0.temporary_allocations), "freed before their thread allocated again"),
			fig("leaked", fmtBytes(M0.leaked_bytes), fmtCount(M0.leaked_blocks) + " blocks, after suppressions"),
			fig("live at exit", fmtBytes(M0.live_at_end_bytes), fmtCount(M0.live_at_end_blocks) + " blocks"),
			M0.unknown_frees ? fig("unknown frees", fmtCount(M0.unknown_frees), "blocks allocated before recording") : null,
			fig("reallocs", fmtCount(M0.reallocs))]));
		if (M0.timeline) timeline(m, box, M0.timeline);
		if (M0.histogram.length) histogram(box, M0.histogram);
		box.appendChild(h("h2", { text: "Allocation sites" + (st.thread !== "all" ? " of thread " + m.threadLabel(+st.thread) : "") }));
		if (!sites) {
			box.appendChild(note("No memory view of its own for this thread: it allocated nothing, or the budget " +
				"keeps memory views for the threads that allocated most; 'all threads' has everything."));
			return;
		}
		var filt = h("input", { class: "search", id: "site-filter", placeholder: "filter by function in the stack",
			value: st.siteFilter, type: "search" });
		var count = h("span", { class: "note", id: "site-count" }), wrap = h("div");
		box.appendChild(h("div", { class: "tools" }, [filt, count]));
		box.appendChild(wrap);
		var cols = [{ key: "allocations", label: "allocations" }, { key: "bytes", label: "bytes", unit: "bytes" },
			{ key: "avg", label: "avg", unit: "bytes", get: function (r) { return Math.floor(r.bytes / (r.allocations || 1)); } },
			{ key: "peak_bytes", label: "peak", unit: "bytes" }, { key: "leaked_bytes", label: "leaked", unit: "bytes" },
			{ key: "temporary", label: "temporary" }, { key: "bytes_at_peak", label: "at the peak", unit: "bytes" }];
		function fill() {
			var q = st.siteFilter.toLowerCase(), rows = sites.filter(function (s) {
				return !q || s.st.frames.some(function (f) { return f.name.toLowerCase().indexOf(q) >= 0; });
			});
			var all = [{ key: "stack", label: "stack (innermost first)", left: true,
				get: function (r) { return shortStack(r.st); } }].concat(cols);
			var shown = st.siteAll ? rows : rows.slice(0, 500);
			var tb = sortTable("sites", all, rows, st.siteSort, function (a, b) {
				return b.bytes - a.bytes || a.st.id - b.st.id;
			}, fill, function (r) {
				return h("tr", {}, [stackCell(r.st, all.length)].concat(cols.map(function (c) {
					var v = c.get ? c.get(r) : r[c.key];
					return h("td", { "data-v": v, text: fmtUnit(v, c.unit) });
				})));
			});
			while (!st.siteAll && tb.body.rows.length > 500) tb.body.lastChild.remove();
			wrap.textContent = "";
			wrap.appendChild(tb.table);
			if (shown.length < rows.length)
				wrap.appendChild(h("button", { class: "act more", text: "Show all " + fmtCount(rows.length) + " sites",
					onclick: function () { st.siteAll = true; fill(); } }));
			count.textContent = fmtCount(rows.length) + " of " + fmtCount(sites.length) + " sites" +
				(m.msc[st.thread + ":total"] > sites.length ? " (" + fmtCount(m.msc[st.thread + ":total"]) +
					" in the trace; see the note above)" : "");
			count.dataset.rows = rows.length;
		}
		filt.oninput = function () { st.siteFilter = filt.value; fill(); };
		fill();
		box.appendChild(note("A site is an allocation stack (stacks with the same functions are one site). " +
			"peak: the most it held at once; at the peak: what it held when the whole heap peaked; temporary: " +
			"freed before its thread allocated again. Click \u25B8 for the whole stack with source lines."));
	}

	function histogram(box, H) {
		var max = Math.max.apply(null, H.map(function (b) { return b.allocations; }));
		box.appendChild(h("h3", { text: "Allocation sizes" }));
		box.appendChild(h("table", { class: "t hist", id: "histogram" }, [h("thead", {}, [h("tr", {}, [
			h("th", { class: "l", text: "size" }), h("th", { text: "allocations" }), h("th", { text: "bytes" }),
			h("th", { class: "l", text: "" })])]), h("tbody", {}, H.map(function (b) {
			return h("tr", {}, [h("td", { class: "l", text: b.min === b.max ? fmtBytes(b.min) :
				fmtBytes(b.min) + " - " + fmtBytes(b.max) }), h("td", { text: fmtCount(b.allocations) }),
				h("td", { text: fmtBytes(b.bytes) }), h("td", { class: "l" }, [h("span", { class: "bar",
					style: "width:" + Math.max(1, Math.round(200 * b.allocations / max)) + "px" })])]);
		}))]));
	}

	// a round axis maximum at or above @v: 1, 2, 2.5 or 5 times a power of ten of a binary unit
	function niceMax(v) {
		var u = 1, steps = [1, 2, 2.5, 5], p = 1, i;
		if (v <= 0) return 1024;
		while (v / u >= 1024) u *= 1024;
		while (p * 10 <= v / u / 4) p *= 10;
		for (i = 0; i < steps.length; i++)
			if (steps[i] * p * 4 >= v / u) return steps[i] * p * 4 * u;
		return 40 * p * u;
	}

	// the live heap (and RSS, on its own axis at the right) over time with the marks and the growth verdict
	function timeline(m, box, TL) {
		var S = TL.samples, W = Math.min(1100, Math.max(600, (box.clientWidth || 1100) - 20)), H = 260;
		var L = 70, R = 70, TOP = 24, B = 30, M0 = m.T.memory, end = TL.duration_ns || 1;
		var rss = S.some(function (s) { return s.rss_bytes > 0; }), ymax = M0.peak_bytes, rmax = 0;
		S.forEach(function (s) { ymax = Math.max(ymax, s.live_bytes); rmax = Math.max(rmax, s.rss_bytes); });
		ymax = niceMax(ymax);
		rmax = niceMax(rmax);
		function X(ns) { return L + (W - L - R) * ns / end; }
		function Y(v, max) { return TOP + (H - TOP - B) * (1 - v / (max || ymax)); }
		var g = svg("svg", { id: "heap-chart", width: W, height: H, viewBox: "0 0 " + W + " " + H });
		box.appendChild(h("h2", { text: "Live heap over time" }));
		var v = h("p", { id: "verdict", class: "verdict " + TL.verdict, "data-verdict": TL.verdict,
			text: "Verdict: " + TL.summary });
		box.appendChild(v);
		if (TL.growth)
			box.appendChild(note("Least squares over the second half (" + fmtNs(TL.growth.window_from_ns) + " to " +
				fmtNs(TL.growth.window_to_ns) + "): " + (TL.growth.bytes_per_s >= 0 ? "+" : "") +
				Math.round(TL.growth.bytes_per_s) + " B/s, residual " + Math.round(TL.growth.residual_bytes) +
				" B, mean live heap " + fmtBytes(Math.round(TL.growth.mean_live_bytes)) +
				". \"grows\" when the fitted growth is over 3x the residual, 1% of the mean and 1 KiB."));
		if (TL.growth && TL.verdict === "grows")
			g.appendChild(svg("rect", { class: "window", x: X(TL.growth.window_from_ns), y: TOP,
				width: Math.max(0, X(TL.growth.window_to_ns) - X(TL.growth.window_from_ns)), height: H - TOP - B }));
		for (var k = 0; k <= 4; k++) {
			var y = Y(ymax * k / 4);
			g.appendChild(svg("line", { class: "grid", x1: L, x2: W - R, y1: y, y2: y }));
			g.appendChild(svg("text", { x: L - 6, y: y + 3, "text-anchor": "end", text: fmtBytes(Math.round(ymax * k / 4)) }));
			if (rss)
				g.appendChild(svg("text", { x: W - R + 6, y: y + 3, fill: "#d9822b", text: fmtBytes(Math.round(rmax * k / 4)) }));
			g.appendChild(svg("text", { x: X(end * k / 4), y: H - B + 14, "text-anchor": "middle", text: fmtNs(Math.round(end * k / 4)) }));
		}
		g.appendChild(svg("text", { x: L - 6, y: TOP - 12, "text-anchor": "end", text: "live heap" }));
		if (rss) g.appendChild(svg("text", { x: W - R + 6, y: TOP - 12, text: "RSS" }));
		g.appendChild(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
		g.appendChild(svg("line", { class: "axis", x1: L, x2: L, y1: TOP, y2: H - B }));
		m.T.marks.forEach(function (mk, i) {
			var x = X(mk.time_ns);
			g.appendChild(svg("line", { class: "mark", x1: x, x2: x, y1: TOP - 4, y2: H - B, "data-label": mk.label }));
			g.appendChild(svg("text", { x: x + 2, y: TOP - 2 + (i % 3) * 9, text: mk.label }));
		});
		function line(cls, get, max) {
			g.appendChild(svg("polyline", { class: cls, "data-points": S.length, points: S.map(function (s) {
				return X(s.time_ns).toFixed(1) + "," + Y(get(s), max).toFixed(1); }).join(" ") }));
		}
		if (rss) line("rss", function (s) { return s.rss_bytes; }, rmax);
		line("live", function (s) { return s.live_bytes; }, ymax);
		if (M0.peak_bytes)
			g.appendChild(svg("circle", { cx: X(M0.peak_time_ns), cy: Y(M0.peak_bytes), r: 3.5, fill: "#b3261e",
				id: "peak-dot" }));
		var cursor = svg("line", { class: "axis", x1: 0, x2: 0, y1: TOP, y2: H - B, visibility: "hidden" });
		g.appendChild(cursor);
		var det = h("div", { class: "details", id: "chart-details", text: " " });
		g.onmousemove = function (e) {
			var r = g.getBoundingClientRect(), ns = (e.clientX - r.left - L) / (W - L - R) * end, best = 0;
			S.forEach(function (s, i) { if (Math.abs(s.time_ns - ns) < Math.abs(S[best].time_ns - ns)) best = i; });
			var s = S[best];
			if (!s) return;
			cursor.setAttribute("x1", X(s.time_ns)); cursor.setAttribute("x2", X(s.time_ns));
			cursor.setAttribute("visibility", "visible");
			det.textContent = "at " + fmtNs(s.time_ns) + ": live " + fmtBytes(s.live_bytes) + " in " +
				fmtCount(s.live_blocks) + " blocks" + (rss ? ", RSS " + fmtBytes(s.rss_bytes) : "");
		};
		box.appendChild(h("div", { class: "chart" }, [g]));
		box.appendChild(h("div", { class: "legend" }, [h("span", {}, [h("i", { style: "background:#1f6feb" }), "live heap"]),
			rss ? h("span", {}, [h("i", { style: "background:#d9822b" }), "RSS"]) : null,
			M0.peak_bytes ? h("span", {}, [h("i", { style: "background:#b3261e;height:7px;width:7px;border-radius:4px" }),
				"peak " + fmtBytes(M0.peak_bytes)]) : null,
			m.T.marks.length ? h("span", {}, [h("i", { style: "background:#8250df" }), "marks"]) : null]));
		box.appendChild(det);
		if (TL.suspects && TL.suspects.length) {
			box.appendChild(h("h3", { text: "Stacks whose live bytes grew fastest" }));
			box.appendChild(h("table", { class: "t", id: "suspects" }, [h("thead", {}, [h("tr", {}, [
				h("th", { class: "l", text: "stack (innermost first)" }), h("th", { text: "rate" }),
				h("th", { text: "growth" })])]), h("tbody", {}, TL.suspects.map(function (s) {
				return h("tr", {}, [h("td", { class: "name", text: s.stack.join(" \u2190 ") }),
					h("td", { text: fmtBytes(Math.round(s.bytes_per_s)) + "/s" }), h("td", { text: fmtBytes(s.growth_bytes) })]);
			}))]));
		}
		var tbl = h("table", { class: "t", id: "samples" }, [h("thead", {}, [h("tr", {}, [h("th", { text: "time" }),
			h("th", { text: "live bytes" }), h("th", { text: "live blocks" }), h("th", { text: "RSS" })])]),
			h("tbody", {}, S.map(function (s) {
				return h("tr", { "data-ns": s.time_ns }, [h("td", { text: fmtNs(s.time_ns) }),
					h("td", { "data-v": s.live_bytes, text: fmtBytes(s.live_bytes) }),
					h("td", { "data-v": s.live_blocks, text: fmtCount(s.live_blocks) }),
					h("td", { "data-v": s.rss_bytes, text: s.rss_bytes ? fmtBytes(s.rss_bytes) : "-" })]);
			}))]);
		box.appendChild(h("details", {}, [h("summary", { text: "The " + S.length + " samples (every " +
			fmtNs(TL.interval_ns) + ")" }), tbl]));
	}

	// ---- leaks ----
	// leaks as `leaks` sorts them: bytes, blocks, bytes allocated, stack id
	function leakRows(m, k) {
		return (m.sites(k) || []).filter(function (s) { return s.leaked_blocks && !s.st.suppressed_by; })
			.sort(function (a, b) {
				return b.leaked_bytes - a.leaked_bytes || b.leaked_blocks - a.leaked_blocks ||
					b.bytes - a.bytes || a.st.id - b.st.id;
			});
	}

	function viewLeaks(m, box) {
		var M0 = m.T.memory, sites = m.sites(st.thread);
		box.appendChild(h("h2", { text: "Leaks" + (st.thread !== "all" ? " of thread " + m.threadLabel(+st.thread) : "") }));
		if (!sites) {
			box.appendChild(note("No memory view of its own for this thread; 'all threads' has every leak."));
			return;
		}
		if (m.T.process_finished === false)
			box.appendChild(h("p", { class: "banner bad", id: "unfinished", text: "The process did not finish: " +
				"these blocks were live when recording stopped, not necessarily leaked." }));
		var L = leakRows(m, st.thread), bytes = 0, blocks = 0;
		L.forEach(function (s) { bytes += s.leaked_bytes; blocks += s.leaked_blocks; });
		box.appendChild(h("p", { id: "leak-total", text: fmtCount(bytes) + " bytes in " + fmtCount(blocks) +
			" blocks from " + fmtCount(L.length) + " stacks were never freed" +
			(M0.suppressions ? " (after suppressions)." : " (suppressions off).") }));
		if (L.length) {
			var shown = st.leakAll ? L : L.slice(0, 500);
			box.appendChild(stackTable(m, "leaks", shown, [{ key: "leaked_bytes", label: "bytes", unit: "bytes" },
				{ key: "leaked_blocks", label: "blocks" }, { key: "bytes", label: "allocated", unit: "bytes" },
				{ key: "allocations", label: "allocations" }]));
			if (shown.length < L.length)
				box.appendChild(h("button", { class: "act more", text: "Show all " + fmtCount(L.length),
					onclick: function () { st.leakAll = true; render(); } }));
		} else {
			box.appendChild(note("No leaks: every block was freed (or suppressed)."));
		}
		if (st.thread === "all" && M0.suppressed.length) {
			box.appendChild(h("h3", { text: "Suppressed" }));
			box.appendChild(note("C library and loader allocations that live until exit by design, or --suppressions " +
				"rules: " + fmtCount(M0.suppressed_bytes) + " bytes in " + fmtCount(M0.suppressed_blocks) + " blocks."));
			box.appendChild(h("table", { class: "t", id: "suppressed" }, [h("thead", {}, [h("tr", {}, [
				h("th", { class: "l", text: "rule" }), h("th", { text: "bytes" }), h("th", { text: "blocks" }),
				h("th", { text: "stacks" })])]), h("tbody", {}, M0.suppressed.map(function (s) {
				return h("tr", {}, [h("td", { class: "l", text: s.rule }), h("td", { text: fmtCount(s.bytes) }),
					h("td", { text: fmtCount(s.blocks) }), h("td", { text: fmtCount(s.stacks) })]);
			}))]));
		}
	}

	// ---- findings and waits (when the data has them) ----
	function framesOf(x) {
		if (x.frames) return x.frames;
		return (x.stack || []).map(function (n) { return { name: n }; });
	}
	function viewFindings(m, box) {
		box.appendChild(h("h2", { text: "Findings" }));
		m.T.findings.forEach(function (f) {
			var ev = f.evidence || {};
			box.appendChild(h("div", { class: "card" }, [h("p", {}, [h("span", { class: "rule", text: f.rule }),
				f.message]), f.name ? h("p", { class: "mono", text: f.name }) : null,
				Object.keys(ev).length ? h("p", { class: "note", text: Object.keys(ev).map(function (k) {
					return k + ": " + (typeof ev[k] === "number" ? fmtUnit(ev[k], unitOf(k)) : JSON.stringify(ev[k]));
				}).join("; ") }) : null,
				f.advice ? h("p", { class: "advice", text: "advice: " + f.advice }) : null,
				framesOf(f).length ? h("ol", { class: "stack" }, framesOf(f).map(frameItem)) : null]));
		});
	}
	function viewWaits(m, box) {
		box.appendChild(h("h2", { text: "Waits (off-CPU)" }));
		var rows = m.T.waits.map(function (w) { return { w: w, st: { frames: framesOf(w) }, wait_ns: w.wait_ns,
			voluntary_ns: w.voluntary_ns, involuntary_ns: w.involuntary_ns, count: w.count }; });
		box.appendChild(stackTable(m, "waits", rows, [{ key: "wait_ns", label: "waited", unit: "ns" },
			{ key: "voluntary_ns", label: "voluntary", unit: "ns" }, { key: "involuntary_ns", label: "involuntary", unit: "ns" },
			{ key: "count", label: "count" }]));
	}

	PS.leakRows = leakRows;
	PS.stackTable = stackTable;
	PS.viewMemory = viewMemory;
	PS.viewLeaks = viewLeaks;
	PS.viewFindings = viewFindings;
	PS.viewWaits = viewWaits;
})(window.perfshimApp);
