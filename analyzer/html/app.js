// SPDX-License-Identifier: MIT
// perfshim's html report: the application. It reads the JSON object in
// <script id="perfshim-data"> (docs/html-data.md) and builds every view from it: summary,
// flame graph, top-down, bottom-up, callers/callees, functions; app-memory.js adds memory,
// leaks, findings and waits. No framework, no network; sections whose data is absent are not
// shown. perfshim-analyze embeds both files at build time (analyzer/html/embed.sh).
"use strict";
(function () {
	var D = JSON.parse(document.getElementById("perfshim-data").textContent);
	var $ = function (id) { return document.getElementById(id); };

	// ---- formatting: the same units as the text reports (analyzer/output.c) ----
	function fmtNs(v) {
		if (v < 1e3) return v + " ns";
		if (v < 1e6) return (v / 1e3).toFixed(2) + " us";
		if (v < 1e9) return (v / 1e6).toFixed(2) + " ms";
		return (v / 1e9).toFixed(2) + " s";
	}
	function fmtBytes(v) {
		var u = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"], i = -1;
		if (v < 1024) return v + " B";
		while (v >= 1024 && i < 5) { v /= 1024; i++; }
		return v.toFixed(1) + " " + u[i];
	}
	function fmtCount(v) { return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
	function fmtUnit(v, unit) {
		return unit === "ns" ? fmtNs(v) : unit === "bytes" ? fmtBytes(v) : fmtCount(v);
	}
	function fmtPct(part, whole) { return whole ? (100 * part / whole).toFixed(1) + "%" : "-"; }
	function unitOf(col) { return /_ns$/.test(col) ? "ns" : /bytes/.test(col) ? "bytes" : null; }
	function base(path) { return path ? path.replace(/.*\//, "") : ""; }

	// ---- DOM ----
	// h("td", {class: "l", text: "x", onclick: f, "data-n": 3}, [children])
	function h(tag, attrs, kids) {
		var e = document.createElement(tag), k;
		for (k in attrs || {}) {
			var v = attrs[k];
			if (v === undefined || v === null || v === false) continue;
			if (k === "text") e.textContent = v;
			else if (k === "class") e.className = v;
			else if (k.slice(0, 2) === "on") e[k] = v;
			else e.setAttribute(k, v === true ? "" : v);
		}
		(kids || []).forEach(function (c) {
			if (c !== null && c !== undefined)
				e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
		});
		return e;
	}
	function svg(tag, attrs) {
		var e = document.createElementNS("http://www.w3.org/2000/svg", tag), k;
		for (k in attrs || {}) {
			if (k === "text") e.textContent = attrs[k];
			else e.setAttribute(k, attrs[k]);
		}
		return e;
	}
	function fig(label, value, note) {
		return h("div", { class: "fig" }, [h("span", { text: label }), h("b", { text: value }),
			note ? h("span", { text: note }) : null]);
	}
	function note(text) { return h("p", { class: "note", text: text }); }

	// a table's {columns, rows} as objects (null rows stay null)
	function objs(t) {
		if (!t) return [];
		var c = t.columns;
		return t.rows.map(function (r) {
			if (r === null) return null;
			var o = {};
			for (var i = 0; i < c.length; i++) o[c[i]] = r[i];
			return o;
		});
	}

	// A sortable table: cols [{key, label, unit, left, get(row), fmt(row)}], rows, state
	// {key, desc}; a header click sorts by its column (numbers largest first), again flips.
	function sortTable(id, cols, rows, sort, tie, onsort, cell) {
		var head = h("tr", {}, cols.map(function (c) {
			var cls = "sort" + (c.left ? " l" : "") +
				(sort.key === c.key ? (sort.desc ? " desc" : " asc") : "");
			return h("th", { class: cls, "data-key": c.key, text: c.label,
				onclick: function () {
					if (sort.key === c.key) sort.desc = !sort.desc;
					else { sort.key = c.key; sort.desc = !c.left; }
					onsort();
				} });
		}));
		var col = cols.filter(function (c) { return c.key === sort.key; })[0] || cols[0];
		var get = col.get || function (r) { return r[col.key]; };
		rows = rows.slice().sort(function (a, b) {
			var x = get(a), y = get(b), c = 0;
			if (x !== y) c = x < y ? -1 : 1;
			if (sort.desc) c = -c;
			return c || tie(a, b);
		});
		var body = h("tbody");
		rows.forEach(function (r) { body.appendChild(cell(r)); });
		return { table: h("table", { class: "t", id: id }, [h("thead", {}, [head]), body]),
			rows: rows, body: body };
	}

	// ---- the model of one trace: tables turned into objects, trees built on demand ----
	function Model(T) {
		var S = T.strings, m = this;
		this.T = T;
		this.S = S;
		this.frames = objs(T.frames).map(function (f) {
			return { name: S[f.name], module: S[f.module], file: f.file === null ? null : S[f.file],
				line: f.line, inlined: !!f.inlined };
		});
		this.trees = {};
		if (T.time) {
			this.funcs = objs(T.time.functions).map(function (f) {
				return f && { name: S[f.name], module: S[f.module],
					file: f.file === null || f.file === undefined ? null : S[f.file], line: f.line };
			});
			this.raw = T.time.tree;
			// the page's clock (time.clock): CPU time when the trace has context switches
			// and --wall was not given, the off-CPU time in calls left out; else wall-clock
			this.cpu = T.time.clock === "cpu";
			this.K = this.cpu ? { self: "cpu_self_ns", total: "cpu_total_ns" } :
				{ self: "self_ns", total: "total_ns" };
			this.scopes = {};
			T.time.scopes.forEach(function (s) {
				m.scopes[s.thread === null ? "all" : String(s.thread)] = s;
			});
		}
		if (T.memory) {
			var M = T.memory;
			this.stacks = objs(M.stacks).map(function (s) {
				return { id: s.id, frames: s.frames.map(function (i) { return m.frames[i]; }),
					suppressed_by: s.suppressed_by === null ? null : S[s.suppressed_by] };
			});
			this.msc = {};
			M.scopes.forEach(function (s) {
				m.msc[s.thread === null ? "all" : String(s.thread)] = objs(s.sites)
					.map(function (x) { x.st = m.stacks[x.stack]; return x; });
				m.msc[(s.thread === null ? "all" : String(s.thread)) + ":total"] = s.sites.total_rows;
			});
		}
	}
	// what the page's times are, in one sentence (every time view shows it)
	Model.prototype.clockText = function () {
		var sw = this.scopes && this.scopes.all && this.scopes.all.functions.columns.indexOf("cpu_self_ns") >= 0;
		if (this.cpu)
			return "Times are CPU time: the off-CPU time within calls (sleeping, waiting for locks or I/O, " +
				"preempted) is left out; html --wall shows wall-clock time.";
		return "Times are wall-clock, waits included" + (sw ? " (made with --wall)." :
			": the trace holds no context switches.");
	};
	Model.prototype.clockNote = function () {
		return h("p", { class: "note", id: "clock", "data-clock": this.cpu ? "cpu" : "wall", text: this.clockText() });
	};
	Model.prototype.fname = function (f) {
		var x = f === null || f === undefined ? null : this.funcs[f];
		return x ? x.name : "[unknown]";
	};
	Model.prototype.threadLabel = function (i) {
		var th = this.T.threads[i];
		return th ? th.tid + (th.name ? " " + th.name : "") : String(i);
	};
	// the scope of the function tables for thread key @k ("all" or an index)
	Model.prototype.scope = function (k) {
		if (!this.scopes) return null;
		if (this.scopes[k]) return this.scopes[k];
		var roots = this.raw.roots;
		if (k !== "all" && roots.length === 1 && String(roots[0][0]) === k) return this.scopes.all;
		return null;
	};
	Model.prototype.sites = function (k) {
		if (!this.msc) return null;
		if (this.msc[k]) return this.msc[k];
		return null;
	};

	// A tree: arrays by node id; node 0 is the root "all". Children sorted by total (heaviest
	// first), then name.
	function Tree(unit) {
		this.unit = unit;
		this.name = ["all"]; this.func = [null]; this.parent = [0]; this.kids = [[]];
		this.total = [0]; this.self = [0]; this.calls = [0]; this.cutN = [0]; this.cutT = [0];
		this.index = [new Map()];
	}
	Tree.prototype.child = function (p, key, name, func) {
		var id = this.index[p].get(key);
		if (id !== undefined) return id;
		id = this.name.length;
		this.name.push(name); this.func.push(func); this.parent.push(p); this.kids.push([]);
		this.total.push(0); this.self.push(0); this.calls.push(0); this.cutN.push(0);
		this.cutT.push(0); this.index.push(new Map());
		this.kids[p].push(id);
		this.index[p].set(key, id);
		return id;
	};
	Tree.prototype.finish = function () {
		var t = this;
		this.kids.forEach(function (k) {
			k.sort(function (a, b) {
				return t.total[b] - t.total[a] || (t.name[a] < t.name[b] ? -1 : t.name[a] > t.name[b] ? 1 : a - b);
			});
		});
		this.index = null;
		return this;
	};
	Tree.prototype.depthOf = function (n) {
		var d = 0;
		while (n) { n = this.parent[n]; d++; }
		return d;
	};

	// The time tree of thread key @k: one thread's subtree, or every thread merged by path.
	Model.prototype.timeTree = function (k) {
		var key = "time:" + k;
		if (this.trees[key]) return this.trees[key];
		var R = objs(this.raw), kids = R.map(function () { return []; }), m = this, K = this.K;
		var cut = {}, t = new Tree("ns");
		R.forEach(function (r, i) { if (i) kids[r.parent].push(i); });
		objs(this.raw.cut).forEach(function (c) { cut[c.node] = c; });
		var roots = this.raw.roots.filter(function (r) { return k === "all" || String(r[0]) === k; });
		roots.forEach(function (r) {
			var todo = [[r[1], 0]];
			t.total[0] += R[r[1]][K.total];
			if (cut[r[1]]) { t.cutN[0] += cut[r[1]].nodes; t.cutT[0] += cut[r[1]][K.total]; }
			while (todo.length) {
				var x = todo.pop(), raw = x[0], to = x[1];
				kids[raw].forEach(function (c) {
					var n = t.child(to, R[c].func, m.fname(R[c].func), R[c].func);
					t.total[n] += R[c][K.total]; t.self[n] += R[c][K.self]; t.calls[n] += R[c].calls;
					if (cut[c]) { t.cutN[n] += cut[c].nodes; t.cutT[n] += cut[c][K.total]; }
					todo.push([c, n]);
				});
			}
		});
		t.clock = this.cpu ? "CPU " : "";	// what its times are, for the headers
		return (this.trees[key] = t.finish());
	};

	// Memory metrics: a trie of the sites' stacks (outermost frame first) by frame name.
	var METRICS = {
		time: { label: "time (self per call path)", unit: "ns" },
		bytes: { label: "bytes allocated", unit: "bytes", get: function (s) { return s.bytes; } },
		allocations: { label: "allocations", unit: null, get: function (s) { return s.allocations; } },
		leaked: { label: "bytes leaked", unit: "bytes",
			get: function (s) { return s.st.suppressed_by ? 0 : s.leaked_bytes; } },
		peak: { label: "bytes held at the peak", unit: "bytes", get: function (s) { return s.bytes_at_peak; } }
	};
	Model.prototype.memTree = function (k, metric) {
		var key = metric + ":" + k, sites = this.sites(k);
		if (this.trees[key]) return this.trees[key];
		var t = new Tree(METRICS[metric].unit), get = METRICS[metric].get;
		(sites || []).forEach(function (s) {
			var v = get(s), fr = s.st.frames, n = 0, i;
			if (!v) return;
			if (!fr.length) fr = [{ name: "[no stack]" }];
			t.total[0] += v;
			t.calls[0] += s.allocations;
			for (i = fr.length - 1; i >= 0; i--) {
				n = t.child(n, fr[i].name, fr[i].name, null);
				t.total[n] += v;
				t.calls[n] += s.allocations;
			}
			t.self[n] += v;
		});
		return (this.trees[key] = t.finish());
	};
	Model.prototype.tree = function (k, metric) {
		return metric === "time" ? this.timeTree(k) : this.memTree(k, metric);
	};

	var models = D.traces.map(function (T) { return new Model(T); });
	var PS = window.perfshimApp = { h: h, svg: svg, fig: fig, note: note, fmtNs: fmtNs, fmtBytes: fmtBytes,
		fmtCount: fmtCount, fmtUnit: fmtUnit, fmtPct: fmtPct, unitOf: unitOf, base: base, sortTable: sortTable };

	// ---- state and the frame of the page ----
	var st = {
		trace: 0, thread: "all", view: "summary", metric: null,
		zoom: 0, search: "", open: null, ccFunc: null,
		fnSort: { key: "total_ns", desc: true }, fnFilter: "",
		siteSort: { key: "bytes", desc: true }, siteFilter: "", siteAll: false,
		leakAll: false
	};
	window.perfshimReport = { data: D, state: st };
	PS.st = st;

	function M() { return models[st.trace]; }

	var VIEWS = [
		["summary", "Summary", function (m) { return true; }],
		["flame", "Flame graph", function (m) { return m.T.time || m.T.memory; }],
		["topdown", "Top-down", function (m) { return m.T.time || m.T.memory; }],
		["bottomup", "Bottom-up", function (m) { return m.T.time || m.T.memory; }],
		["callers", "Callers/callees", function (m) { return m.T.time; }],
		["functions", "Functions", function (m) { return m.T.time; }],
		["memory", "Memory", function (m) { return m.T.memory; }],
		["leaks", "Leaks", function (m) { return m.T.memory; }],
		["findings", "Findings", function (m) { return m.T.findings; }],
		["waits", "Waits", function (m) { return m.T.waits; }]
	];

	function setup() {
		var tr = $("trace");
		if (models.length > 1) {
			$("trace-pick").hidden = false;
			models.forEach(function (m, i) {
				tr.appendChild(h("option", { value: i, text: base(m.T.program) + " (pid " + m.T.pid + ")" }));
			});
			tr.onchange = function () {
				st.trace = +tr.value; st.thread = "all"; st.zoom = 0; st.metric = null;
				st.ccFunc = null; st.open = null;
				frame();
			};
		}
		$("thread").onchange = function () {
			st.thread = $("thread").value; st.zoom = 0; st.open = null;
			render();
		};
		frame();
	}

	// the header (program, banners, thread list, tabs) of the current trace
	function frame() {
		var m = M(), T = m.T, sel = $("thread");
		$("program").textContent = base(T.program);
		$("program").title = T.program;
		$("command").textContent = T.command || T.program;
		banners(m);
		sel.textContent = "";
		sel.appendChild(h("option", { value: "all",
			text: T.thread_filter !== undefined ? "thread " + m.threadLabel(T.thread_filter) :
				"all threads" + (T.threads.length > 1 ? " (merged)" : "") }));
		if (T.thread_filter === undefined && T.threads.length > 1)
			T.threads.forEach(function (th, i) {
				sel.appendChild(h("option", { value: String(i), text: "thread " + m.threadLabel(i) }));
			});
		sel.value = st.thread;
		$("thread-pick").hidden = T.thread_filter === undefined && T.threads.length < 2;
		if (!st.metric) st.metric = T.time ? "time" : "bytes";
		render();
	}

	function banners(m) {
		var T = m.T, b = $("banners"), L = T.left_out || [];
		b.textContent = "";
		if (T.incomplete && T.incomplete.length)
			b.appendChild(h("div", { class: "banner bad", id: "incomplete" }, [
				"This trace is incomplete; the figures cover what was recorded:",
				h("ul", {}, T.incomplete.map(function (x) {
					return h("li", { text: typeof x === "string" ? x : x.message || JSON.stringify(x) });
				}))]));
		if (T.warnings && T.warnings.length)
			b.appendChild(h("div", { class: "banner bad", id: "warnings" }, [
				"Found wrong in this trace, and left out of the figures:",
				h("ul", {}, T.warnings.map(function (x) { return h("li", { text: x }); }))]));
		if (T.damaged)
			b.appendChild(h("div", { class: "banner bad", text: "Damaged trace: " + fmtCount(T.damaged.chunks) +
				" chunks (" + fmtBytes(T.damaged.bytes) + ") could not be read" +
				(T.damaged.truncated ? "; the file is truncated" : "") + ". The rest is shown." }));
		if (T.events && T.events.lost)
			b.appendChild(h("div", { class: "banner", text: "The recorder lost " + fmtCount(T.events.lost) +
				" events (its buffers were full or it could not write)." }));
		if (T.memory && T.memory.sampled)
			b.appendChild(h("div", { class: "banner", id: "sampled", text: "Allocations were sampled (one per " +
				fmtBytes(T.memory.sampled.mean_bytes) + " on average, " + fmtCount(T.memory.sampled.samples) +
				" samples): memory figures are estimates." }));
		if (T.thread_filter !== undefined)
			b.appendChild(h("div", { class: "banner", text: "Made with --thread: only thread " +
				m.threadLabel(T.thread_filter) + " is shown (the heap timeline is the process's)." }));
		if (L.length)
			b.appendChild(h("div", { class: "banner", id: "left-out" }, [
				"This page keeps a bounded part of a large trace (its budget: docs/html-data.md):",
				h("ul", {}, L.map(function (n) { return h("li", { text: leftOutText(m, n) }); }))]));
	}

	function leftOutText(m, n) {
		var who = n.thread === undefined ? "" : " (thread " + m.threadLabel(n.thread) + ")";
		var v = n.unit ? fmtUnit(n.value, n.unit) : "";
		var what = {
			call_tree_nodes: ["call paths", "with the most time; the rest (" + v + ") are hatched in the flame graph"],
			functions: ["functions" + who, "with the most total time; the rest had " + v + " of self time"],
			edges: ["caller/callee edges" + who, "with the most time; the rest carried " + v],
			sites: ["allocation sites" + who, "largest by bytes, leaks and peak; the rest allocated " + v],
			thread_views: ["threads with views of their own", "busiest; the others are in 'all threads'"],
			memory_thread_views: ["threads with memory views of their own",
				"that allocated most; the others are in 'all threads'"]
		}[n.what] || [n.what, v];
		return fmtCount(n.total - n.kept) + " of " + fmtCount(n.total) + " " + what[0] + " left out: kept the " +
			fmtCount(n.kept) + " " + what[1] + ".";
	}

	function render() {
		var m = M(), tabs = $("tabs"), main = $("main"), ok = VIEWS.filter(function (v) { return v[2](m); });
		if (!ok.some(function (v) { return v[0] === st.view; })) st.view = "summary";
		tabs.textContent = "";
		ok.forEach(function (v) {
			tabs.appendChild(h("button", { id: "tab-" + v[0], class: st.view === v[0] ? "on" : "", text: v[1],
				onclick: function () { st.view = v[0]; render(); } }));
		});
		main.textContent = "";
		var box = h("section", { id: "view-" + st.view });
		main.appendChild(box);
		({ summary: viewSummary, flame: viewFlame, topdown: viewTopDown, bottomup: viewBottomUp,
			callers: viewCallers, functions: viewFunctions, memory: PS.viewMemory, leaks: PS.viewLeaks,
			findings: PS.viewFindings, waits: PS.viewWaits })[st.view](m, box);
	}

	// link to a function's callers and callees
	function fnLink(m, f, text) {
		return h("a", { class: "fn", text: text || m.fname(f), title: srcOf(m.funcs[f]) || null,
			onclick: function () { st.ccFunc = f; st.view = "callers"; render(); } });
	}
	function srcOf(x) { return x && x.file ? x.file + (x.line ? ":" + x.line : "") : ""; }

	// ---- summary ----
	function viewSummary(m, box) {
		var T = m.T, figs = h("div", { class: "figs" }), sc = m.scope(st.thread), M0 = T.memory;
		box.appendChild(h("h2", { text: "Summary" }));
		box.appendChild(note("trace " + T.path + ", pid " + T.pid + (T.ppid ? ", parent " + T.ppid : "") +
			"; recorded: " + (T.recorded.join(", ") || "nothing")));
		figs.appendChild(fig("duration", fmtNs(T.duration_ns)));
		figs.appendChild(fig("threads", fmtCount(T.threads.length)));
		if (T.time) {
			figs.appendChild(fig("calls", fmtCount(T.time.calls)));
			if (sc) figs.appendChild(fig("functions called", fmtCount(sc.functions.total_rows)));
		}
		if (T.time) figs.appendChild(fig("clock", m.cpu ? "CPU time" : "wall-clock"));
		if (T.compensation)
			figs.appendChild(fig("time compensation", fmtNs(T.compensation.call_ns) + " per call",
				T.compensation.alloc_ns !== undefined ? fmtNs(T.compensation.alloc_ns) + " per allocation" : null));
		if (M0) {
			figs.appendChild(fig("allocations", fmtCount(M0.allocations), fmtBytes(M0.bytes_allocated)));
			figs.appendChild(fig("frees", fmtCount(M0.frees)));
			figs.appendChild(fig("peak live heap", fmtBytes(M0.peak_bytes), "at " + fmtNs(M0.peak_time_ns)));
			figs.appendChild(fig("leaked", fmtBytes(M0.leaked_bytes), fmtCount(M0.leaked_blocks) + " blocks"));
			if (M0.timeline)
				figs.appendChild(fig("live heap over time", M0.timeline.summary));
		}
		if (T.events.lost) figs.appendChild(fig("events lost by the recorder", fmtCount(T.events.lost)));
		if (T.min_duration_ns)
			figs.appendChild(fig("calls shorter than this were not recorded", fmtNs(T.min_duration_ns)));
		box.appendChild(figs);
		if (!T.time)
			box.appendChild(note("No function calls were recorded (the program was not built with " +
				"-finstrument-functions, or calls were not recorded)."));
		if (T.time) box.appendChild(m.clockNote());
		if (sc) {
			var K = m.K, cpu = m.cpu ? "CPU " : "";
			var top = objs(sc.functions).sort(function (a, b) { return b[K.self] - a[K.self] || a.func - b.func; })
				.slice(0, 10);
			box.appendChild(h("h3", { text: "Top functions by " + cpu + "self time" }));
			box.appendChild(h("table", { class: "t", id: "top-functions" }, [
				h("thead", {}, [h("tr", {}, [h("th", { class: "l", text: "function" }), h("th", { text: cpu + "self" }),
					h("th", { text: cpu + "total" }), h("th", { text: "calls" })])]),
				h("tbody", {}, top.map(function (r) {
					return h("tr", {}, [h("td", { class: "name" }, [fnLink(m, r.func)]),
						h("td", { text: fmtNs(r[K.self]) }), h("td", { text: fmtNs(r[K.total]) }),
						h("td", { text: fmtCount(r.calls) })]);
				}))]));
		}
		if (M0) {
			var lk = PS.leakRows(m, "all").slice(0, 5);
			if (lk.length) {
				box.appendChild(h("h3", { text: "Top leaks" }));
				box.appendChild(PS.stackTable(m, "top-leaks", lk, [
					{ key: "leaked_bytes", label: "bytes", unit: "bytes" },
					{ key: "leaked_blocks", label: "blocks" }]));
			}
		}
		threadsTable(m, box);
		if (T.marks.length) {
			box.appendChild(h("h3", { text: "Marks" }));
			box.appendChild(h("table", { class: "t", id: "marks" }, [
				h("thead", {}, [h("tr", {}, [h("th", { class: "l", text: "label" }), h("th", { text: "time" }),
					h("th", { text: "set by" })])]),
				h("tbody", {}, T.marks.map(function (k) {
					return h("tr", {}, [h("td", { class: "l", text: k.label }), h("td", { text: fmtNs(k.time_ns) }),
						h("td", { text: k.tid ? "thread " + k.tid : "signal" })]);
				}))]));
		}
	}

	function threadsTable(m, box) {
		var T = m.T, tot = {};
		if (T.time) {
			var tc = T.time.tree.columns.indexOf(m.K.total);
			T.time.tree.roots.forEach(function (r) { tot[r[0]] = T.time.tree.rows[r[1]][tc]; });
		}
		box.appendChild(h("h3", { text: "Threads" }));
		box.appendChild(h("table", { class: "t", id: "threads" }, [
			h("thead", {}, [h("tr", {}, ["tid", "name", "first event", "last event", "span", "time in calls", "end"]
				.map(function (x, i) { return h("th", { class: i === 1 || i === 6 ? "l" : "", text: x }); }))]),
			h("tbody", {}, T.threads.map(function (th, i) {
				return h("tr", { "data-thread": i }, [h("td", { text: th.tid }),
					h("td", { class: "l" }, [h("a", { class: "fn", text: th.name || "(unnamed)",
						onclick: function () { st.thread = T.threads.length > 1 ? String(i) : "all"; frame(); } })]),
					h("td", { text: fmtNs(th.first_ns) }), h("td", { text: fmtNs(th.last_ns) }),
					h("td", { text: fmtNs(Math.max(0, th.last_ns - th.first_ns)) }),
					h("td", { text: tot[i] !== undefined ? fmtNs(tot[i]) : "-" }),
					h("td", { class: "l", text: th.end })]);
			}))]));
	}

	// ---- the metric picker of the tree views ----
	function metricPicker(m) {
		var sel = h("select", { id: "metric", onchange: function () {
			st.metric = sel.value; st.zoom = 0; st.open = null; render(); } });
		Object.keys(METRICS).forEach(function (k) {
			if (k === "time" ? m.T.time : m.T.memory)
				sel.appendChild(h("option", { value: k, text: METRICS[k].label }));
		});
		sel.value = st.metric;
		return h("label", { class: "note" }, ["metric ", sel]);
	}

	function treeOrNote(m, box) {
		var t = m.tree(st.thread, st.metric);
		if (!t.total[0]) {
			box.appendChild(note(st.metric === "time" ? "No function calls on this thread." :
				m.sites(st.thread) ? "Nothing to show for this metric." :
					"No memory view of its own for this thread (see the budget note above); " +
					"'all threads' has its allocations."));
			return null;
		}
		return t;
	}

	// ---- flame graph ----
	var ROW_H = 18, MIN_W = 0.5;

	function hue(name, mem) {
		var x = 0;
		for (var i = 0; i < name.length; i++) x = (x * 31 + name.charCodeAt(i)) >>> 0;
		var a = x & 255, b = (x >> 8) & 255;
		return mem ? "hsl(" + (120 + a % 80) + ",45%," + (55 + b % 20) + "%)" :
			"hsl(" + (a % 50) + ",80%," + (58 + b % 17) + "%)";
	}

	function viewFlame(m, box) {
		var tools = h("div", { class: "tools" }), t;
		var search = h("input", { class: "search", id: "flame-search", placeholder: "search functions",
			value: st.search, type: "search" });
		var info = h("span", { class: "note", id: "flame-matches" });
		var reset = h("button", { class: "act", id: "flame-reset", text: "Reset zoom",
			onclick: function () { st.zoom = 0; draw(); } });
		tools.appendChild(metricPicker(m));
		tools.appendChild(search);
		tools.appendChild(reset);
		tools.appendChild(info);
		box.appendChild(tools);
		t = treeOrNote(m, box);
		if (!t) return;
		var crumb = h("div", { class: "note", id: "flame-zoom" });
		var fl = h("div", { class: "flame", id: "flame" });
		var det = h("div", { class: "details", id: "flame-details", text: " " });
		box.appendChild(crumb);
		box.appendChild(fl);
		box.appendChild(det);
		box.appendChild(note("Root at the top, callees below their caller; width is the " +
			(st.metric === "time" ? "inclusive " + (m.cpu ? "CPU " : "wall-clock ") + "time of the call path " +
				"(a frame's own part is the space its callees leave free)" : METRICS[st.metric].label +
				" of the stacks below") +
			". Click a frame to zoom in, a dimmed frame above to zoom out, Reset (or Esc) for the whole graph."));
		if (st.metric === "time") box.appendChild(m.clockNote());
		search.oninput = function () { st.search = search.value; draw(); };
		fl.onclick = function (e) {
			var f = e.target.closest(".fr");
			if (f && f.dataset.n !== undefined) { st.zoom = +f.dataset.n; draw(); }
		};
		fl.onmousemove = function (e) {
			var f = e.target.closest(".fr");
			det.textContent = f ? f.dataset.d || f.title : " ";
		};
		window.onkeydown = function (e) {
			if (e.key === "Escape" && st.view === "flame") { st.zoom = 0; draw(); }
		};
		function draw() { drawFlame(m, t, fl, crumb, info, det); }
		draw();
	}

	function frameDetail(m, t, n) {
		var s = t.name[n] + " - " + fmtUnit(t.total[n], t.unit) + " (" + fmtPct(t.total[n], t.total[0]) + ")";
		if (t.unit === "ns") s += ", " + t.clock + "self " + fmtNs(t.self[n]) + ", " + fmtCount(t.calls[n]) + " calls";
		else s += ", " + fmtCount(t.calls[n]) + " allocations";
		var fx = t.func[n] !== null && m.funcs ? m.funcs[t.func[n]] : null;
		if (fx && fx.file) s += " - " + srcOf(fx);
		return s;
	}

	function drawFlame(m, t, fl, crumb, info, det) {
		var W = fl.clientWidth || 1200, z = st.zoom < t.name.length ? st.zoom : 0, q = st.search.toLowerCase();
		var frag = document.createDocumentFragment(), anc = [], n, depth = 0, drawn = 0, dmatch = 0;
		var mem = st.metric !== "time";
		for (n = z; n; n = t.parent[n]) anc.unshift(t.parent[n]);
		function add(id, x, w, d, cls) {
			var name = t.name[id], el = document.createElement("div"), hit = q && id && name.toLowerCase().indexOf(q) >= 0;
			el.className = "fr" + (cls ? " " + cls : "") + (hit ? " match" : "") + (w > 22 ? "" : " thin");
			el.style.left = x.toFixed(1) + "px";
			el.style.width = Math.max(w - 0.5, 0.5).toFixed(1) + "px";
			el.style.top = (d * ROW_H) + "px";
			if (!hit) el.style.background = id ? hue(name, mem) : "#d8d8d8";
			if (w > 22) el.textContent = name;
			el.dataset.n = id;
			el.dataset.d = frameDetail(m, t, id);
			frag.appendChild(el);
			drawn++;
			if (hit) dmatch++;
			if (d > depth) depth = d;
		}
		anc.forEach(function (a, d) { add(a, 0, W, d, "anc"); });
		// the zoomed node's subtree, breadth by breadth; frames under MIN_W px are not drawn
		var scale = W / (t.total[z] || 1), todo = [[z, 0, anc.length]];
		while (todo.length) {
			var it = todo.pop(), id = it[0], x0 = it[1], d = it[2], x = x0;
			add(id, x0, t.total[id] * scale, d, "");
			t.kids[id].forEach(function (c) {
				var w = t.total[c] * scale;
				if (w >= MIN_W) todo.push([c, x, d + 1]);
				x += w;
			});
			if (t.cutN[id] && t.cutT[id] * scale >= MIN_W) {
				var el = document.createElement("div"), w = t.cutT[id] * scale;
				el.className = "fr cut" + (w > 22 ? "" : " thin");
				el.style.left = x.toFixed(1) + "px";
				el.style.width = Math.max(w - 0.5, 0.5).toFixed(1) + "px";
				el.style.top = ((d + 1) * ROW_H) + "px";
				el.textContent = w > 40 ? "[" + fmtCount(t.cutN[id]) + " left out]" : "";
				el.title = fmtCount(t.cutN[id]) + " call paths below " + t.name[id] +
					" left out by the budget (" + fmtUnit(t.cutT[id], t.unit) + ")";
				frag.appendChild(el);
				if (d + 1 > depth) depth = d + 1;
			}
		}
		fl.textContent = "";
		fl.style.height = ((depth + 1) * ROW_H + 2) + "px";
		fl.appendChild(frag);
		fl.dataset.zoom = z;
		fl.dataset.total = t.total[0];
		fl.dataset.drawn = drawn;
		var cuts = 0, cs = [z];
		while (cs.length) { var c0 = cs.pop(); cuts += t.cutN[c0]; cs.push.apply(cs, t.kids[c0]); }
		crumb.textContent = (z ? "Zoomed to " + t.name[z] + " (" + fmtUnit(t.total[z], t.unit) + ", " +
			fmtPct(t.total[z], t.total[0]) + " of all)" : "Whole graph: " + fmtUnit(t.total[0], t.unit)) +
			(cuts ? "; " + fmtCount(cuts) + " call paths below are left out by the budget (hatched where wide enough)" : "");
		crumb.dataset.cut = cuts;
		// matches over the whole tree: count, and their share without counting nested ones twice
		var count = 0, share = 0;
		if (q) {
			var stack = [[0, false]];
			while (stack.length) {
				var e = stack.pop(), hit = e[0] && t.name[e[0]].toLowerCase().indexOf(q) >= 0;
				if (hit) count++;
				if (hit && !e[1]) share += t.total[e[0]];
				t.kids[e[0]].forEach(function (c) { stack.push([c, e[1] || hit]); });
			}
			info.textContent = fmtCount(count) + " matching frames (" + fmtCount(dmatch) + " drawn), " +
				fmtUnit(share, t.unit) + " = " + fmtPct(share, t.total[0]) + " of all";
		} else {
			info.textContent = "";
		}
		info.dataset.count = count;
		info.dataset.drawn = dmatch;
		det.textContent = " ";
	}

	// ---- top-down and bottom-up ----
	function numCells(t, total, self, calls, whole) {
		return [h("td", { text: fmtUnit(total, t.unit) }), h("td", { text: fmtPct(total, whole) }),
			h("td", { text: fmtUnit(self, t.unit) }), h("td", { text: fmtPct(self, whole) }),
			h("td", { text: fmtCount(calls) })];
	}
	function treeHead(t, first) {
		return h("thead", {}, [h("tr", {}, [h("th", { class: "l", text: first }),
			h("th", { text: (t.clock || "") + "total" }), h("th", { text: "%" }),
			h("th", { text: (t.clock || "") + "self" }), h("th", { text: "%" }),
			h("th", { text: t.unit === "ns" ? "calls" : "allocations" })])]);
	}

	function viewTopDown(m, box) {
		var tools = h("div", { class: "tools" }, [metricPicker(m)]);
		box.appendChild(tools);
		var t = treeOrNote(m, box);
		if (!t) return;
		if (!st.open) {	// open the heavy paths: nodes over 10% of the whole, 40 levels deep at most
			st.open = new Set([0]);
			var todo = [[0, 0]];
			while (todo.length) {
				var x = todo.pop();
				if (x[1] >= 40) continue;
				t.kids[x[0]].forEach(function (c) {
					if (t.total[c] * 10 >= t.total[0]) { st.open.add(c); todo.push([c, x[1] + 1]); }
				});
			}
		}
		var body = h("tbody");
		box.appendChild(h("table", { class: "t", id: "topdown" }, [treeHead(t, "call path"), body]));
		box.appendChild(note("Inclusive (total) and own (self) " + (t.unit === "ns" ? "time" : METRICS[st.metric].label) +
			" per call path; click \u25B8 to open a path."));
		if (t.unit === "ns") box.appendChild(m.clockNote());
		function fill() {
			body.textContent = "";
			var todo = t.kids[0].slice().reverse().map(function (c) { return [c, 0]; });
			while (todo.length) {
				var x = todo.pop(), n = x[0], d = x[1], open = st.open.has(n), has = t.kids[n].length > 0;
				var tog = h("span", { class: "tog", text: has ? (open ? "\u25BE" : "\u25B8") : "" });
				var fx = t.func[n] !== null && m.funcs ? m.funcs[t.func[n]] : null;
				body.appendChild(h("tr", { "data-n": n, "data-depth": d }, [h("td", { class: "name",
					style: "padding-left:" + (6 + d * 14) + "px" }, [tog, h("span", { class: "nm", text: t.name[n] }),
						fx && fx.file ? h("span", { class: "src", text: base(fx.file) + ":" + fx.line, title: fx.file }) : null,
						t.cutN[n] ? h("span", { class: "src", text: "(" + fmtCount(t.cutN[n]) + " paths below left out)" }) : null])]
					.concat(numCells(t, t.total[n], t.self[n], t.calls[n], t.total[0]))));
				if (has) tog.onclick = (function (n) {
					return function () { if (st.open.has(n)) st.open.delete(n); else st.open.add(n); fill(); };
				})(n);
				if (open)
					for (var i = t.kids[n].length - 1; i >= 0; i--) todo.push([t.kids[n][i], d + 1]);
			}
		}
		fill();
	}

	// Bottom-up: a function's own value, split by who called it (then by their callers, ...).
	// A node holds its [call-tree node, ancestor reached] pairs; children group them by the
	// ancestor's caller.
	function buGroup(t, items, up) {
		var g = new Map();
		items.forEach(function (it) {
			var a = up ? t.parent[it[1]] : it[1];
			if (up && !a) return;
			var k = t.name[a], e = g.get(k);
			if (!e) g.set(k, e = { name: k, items: [], self: 0, calls: 0, kids: null });
			e.items.push([it[0], a]);
			e.self += t.self[it[0]];
			e.calls += t.calls[it[0]];
		});
		return Array.from(g.values()).sort(function (a, b) {
			return b.self - a.self || b.calls - a.calls || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
		});
	}

	function viewBottomUp(m, box) {
		box.appendChild(h("div", { class: "tools" }, [metricPicker(m)]));
		var t = treeOrNote(m, box);
		if (!t) return;
		var all = [];
		for (var i = 1; i < t.name.length; i++) all.push([i, i]);
		var roots = buGroup(t, all, false), body = h("tbody");
		box.appendChild(h("table", { class: "t", id: "bottomup" }, [h("thead", {}, [h("tr", {}, [
			h("th", { class: "l", text: "function \u2190 called by" }), h("th", { text: (t.clock || "") + "self" }),
			h("th", { text: "%" }), h("th", { text: t.unit === "ns" ? "calls" : "allocations" })])]), body]));
		box.appendChild(note("Each function's own " + (t.unit === "ns" ? "time" : METRICS[st.metric].label) +
			", opened (\u25B8) into the callers it came through."));
		if (t.unit === "ns") box.appendChild(m.clockNote());
		function fill() {
			body.textContent = "";
			var todo = roots.slice().reverse().map(function (r) { return [r, 0]; });
			while (todo.length) {
				var x = todo.pop(), r = x[0], d = x[1];
				var tog = h("span", { class: "tog", text: r.open ? "\u25BE" : "\u25B8" });
				body.appendChild(h("tr", { "data-depth": d }, [h("td", { class: "name",
					style: "padding-left:" + (6 + d * 14) + "px" }, [tog, h("span", { class: "nm", text: r.name })]),
					h("td", { text: fmtUnit(r.self, t.unit) }), h("td", { text: fmtPct(r.self, t.total[0]) }),
					h("td", { text: fmtCount(r.calls) })]));
				tog.onclick = (function (r) {
					return function () {
						if (!r.kids) r.kids = buGroup(t, r.items, true);
						r.open = !r.open;
						fill();
					};
				})(r);
				if (r.open && r.kids)
					for (var k = r.kids.length - 1; k >= 0; k--) todo.push([r.kids[k], d + 1]);
			}
		}
		fill();
	}

	// ---- callers and callees ----
	function viewCallers(m, box) {
		var sc = m.scope(st.thread);
		if (!sc) { box.appendChild(note(noScope(m))); return; }
		var F = objs(sc.functions), E = objs(sc.edges), byF = {};
		F.forEach(function (r) { byF[r.func] = r; });
		if (st.ccFunc === null || !byF[st.ccFunc]) st.ccFunc = F.length ? F.slice().sort(function (a, b) {
			return b.total_ns - a.total_ns || a.func - b.func; })[0].func : null;
		var sel = h("select", { id: "cc-func", onchange: function () { st.ccFunc = +sel.value; render(); } });
		F.slice().sort(function (a, b) { return m.fname(a.func) < m.fname(b.func) ? -1 : 1; }).forEach(function (r) {
			sel.appendChild(h("option", { value: r.func, text: m.fname(r.func) }));
		});
		sel.value = st.ccFunc;
		box.appendChild(h("div", { class: "tools" }, [h("label", { class: "note" }, ["function ", sel])]));
		var f = byF[st.ccFunc];
		if (!f) return;
		var fx = m.funcs[f.func];
		box.appendChild(h("h2", { id: "cc-title", text: m.fname(f.func) }));
		box.appendChild(note((fx && fx.module ? fx.module : "") + (fx && fx.file ? ", " + srcOf(fx) : "")));
		var cpu = m.cpu ? "CPU " : "", es = m.cpu ? "cpu_self_ns" : "self_ns";
		box.appendChild(h("div", { class: "figs" }, [fig("calls", fmtCount(f.calls)),
			fig(cpu + "total", fmtNs(f[m.K.total])), fig(cpu + "self", fmtNs(f[m.K.self])),
			fig("avg", fmtNs(f.avg_ns))]));
		[["callers", "Called by", "caller"], ["callees", "Calls", "callee"]].forEach(function (w) {
			var rows = E.filter(function (e) { return w[0] === "callers" ? e.callee === f.func : e.caller === f.func; })
				.sort(function (a, b) { return b.total_ns - a.total_ns || a[w[2]] - b[w[2]]; });
			box.appendChild(h("h3", { text: w[1] }));
			if (!rows.length) { box.appendChild(note("(none)")); return; }
			box.appendChild(h("table", { class: "t", id: "cc-" + w[0] }, [h("thead", {}, [h("tr", {}, [
				h("th", { class: "l", text: "function" }), h("th", { text: "calls" }),
				h("th", { text: m.cpu ? "wall total" : "total" }), h("th", { text: cpu + "self" })])]),
				h("tbody", {}, rows.map(function (e) {
				var g = e[w[2]];
				return h("tr", {}, [h("td", { class: "name" }, [g === null ?
					h("span", { class: "note", text: "<root>", title: "called from no recorded function" }) :
					fnLink(m, g)]), h("td", { text: fmtCount(e.calls) }), h("td", { text: fmtNs(e.total_ns) }),
					h("td", { text: fmtNs(e[es]) })]);
			}))]));
		});
		box.appendChild(note("Per edge: calls, inclusive " + (m.cpu ? "wall-clock " : "") + "time of those calls, " +
			"and the callee's " + cpu + "self time in them."));
		box.appendChild(m.clockNote());
	}

	function noScope(m) {
		return "No function table of its own for thread " + m.threadLabel(+st.thread) +
			(m.raw.roots.some(function (r) { return String(r[0]) === st.thread; }) ?
				" (the budget keeps tables for the busiest threads; see the note above)." : ": it made no calls.");
	}

	// ---- functions ----
	var FN_LABELS = { calls: "calls", total_ns: "total", self_ns: "self", avg_ns: "avg", min_ns: "min",
		max_ns: "max", p50_ns: "p50", p99_ns: "p99", cpu_self_ns: "CPU self", wait_ns: "waits",
		cpu_total_ns: "CPU total" };
	// the columns of a clock: CPU time hides the wall-clock self, wall-clock the CPU columns
	var FN_ORDER = ["calls", "total_ns", "cpu_total_ns", "self_ns", "cpu_self_ns", "wait_ns", "avg_ns", "min_ns",
		"max_ns", "p50_ns", "p99_ns"];
	function fnColumns(m, have) {
		var hide = m.cpu ? ["self_ns"] : ["cpu_self_ns", "wait_ns", "cpu_total_ns"];
		return FN_ORDER.filter(function (c) { return have.indexOf(c) >= 0 && hide.indexOf(c) < 0; })
			.concat(have.filter(function (c) { return c !== "func" && FN_ORDER.indexOf(c) < 0; }));
	}

	function viewFunctions(m, box) {
		var sc = m.scope(st.thread);
		if (!sc) { box.appendChild(note(noScope(m))); return; }
		var F = objs(sc.functions), self = 0, sk = m.K.self;
		F.forEach(function (r) { r.name = m.fname(r.func); self += r[sk]; });
		var filt = h("input", { class: "search", id: "fn-filter", placeholder: "filter (regular expression)",
			value: st.fnFilter, type: "search" });
		var count = h("span", { class: "note", id: "fn-count" }), wrap = h("div");
		box.appendChild(h("div", { class: "tools" }, [filt, count]));
		box.appendChild(wrap);
		box.appendChild(note("total: inclusive time (a recursive function's inner calls are not counted " +
			"twice); self: time not spent in recorded callees; " + (m.cpu ? "CPU total and CPU self leave out " +
			"the off-CPU time in them (waits), total is wall-clock; avg, min, max, p50 and p99 are wall-clock " +
			"call durations; " : "") + "p50/p99 exact for functions of up to 256 " +
			"calls, beyond that within 3.2%. Click a name for its callers and callees."));
		box.appendChild(m.clockNote());
		var cols = [{ key: "name", label: "function", left: true }, { key: "module", label: "module", left: true,
			get: function (r) { var x = m.funcs[r.func]; return x ? x.module : ""; } }]
			.concat(fnColumns(m, sc.functions.columns).map(function (c) {
				return { key: c, label: c === "total_ns" && m.cpu ? "wall total" : FN_LABELS[c] || c, unit: unitOf(c) };
			}));
		cols.splice(cols.map(function (c) { return c.key; }).indexOf(sk) + 1, 0,
			{ key: "self_pct", label: (m.cpu ? "CPU " : "") + "self %", get: function (r) { return r[sk]; } });
		function fill() {
			var re = null, rows;
			filt.className = "search";
			if (st.fnFilter) {
				try { re = new RegExp(st.fnFilter); } catch (e) { filt.className = "search bad"; }
			}
			rows = F.filter(function (r) {
				return !st.fnFilter || (re ? re.test(r.name) : r.name.indexOf(st.fnFilter) >= 0);
			});
			var tb = sortTable("functions", cols, rows, st.fnSort, function (a, b) {
				return b.total_ns - a.total_ns || a.func - b.func;
			}, fill, function (r) {
				var x = m.funcs[r.func];
				return h("tr", { "data-func": r.func }, cols.map(function (c) {
					if (c.key === "name") return h("td", { class: "name" }, [fnLink(m, r.func),
						x && x.file ? h("span", { class: "src", text: base(x.file) + ":" + x.line, title: x.file }) : null]);
					if (c.key === "module") return h("td", { class: "l", text: x ? x.module : "" });
					if (c.key === "self_pct") return h("td", { text: fmtPct(r[sk], self) });
					var v = r[c.key];
					return h("td", { "data-v": v, text: v === undefined || v === null ? "-" : fmtUnit(v, c.unit) });
				}));
			});
			wrap.textContent = "";
			wrap.appendChild(tb.table);
			count.textContent = fmtCount(rows.length) + " of " + fmtCount(F.length) + " functions" +
				(sc.functions.total_rows > F.length ? " (" + fmtCount(sc.functions.total_rows) + " called; see the note above)" : "");
			count.dataset.rows = rows.length;
		}
		filt.oninput = function () { st.fnFilter = filt.value; fill(); };
		fill();
	}

	// app-memory.js (embedded after this file, in the same script) adds its views first
	PS.render = render;
	setTimeout(function () { setup(); document.body.dataset.ready = "1"; }, 0);
})();
