// SPDX-License-Identifier: MIT
// node tests/browser/check.js SHOTS SCENARIO=DIR... - drive perfshim's html report (or SVG
// flame graph) in headless chromium and compare what it shows with the analyzer's own JSON,
// which tests/run/73-html-browser.sh wrote into each DIR beside the page. Scenarios: interp,
// server, threads, large, svg. Prints "ok: ..." per check; exits 1 at the first mismatch, a
// console error, a page error or a request leaving the file. Screenshots go to SHOTS.
"use strict";
const fs = require("fs");
const path = require("path");
const { launch } = require("./browser.js");

const shots = process.argv[2];
let dir;
const J = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
let browser;

function fail(msg) { throw new Error(msg); }
function eq(want, got, what) {
	const a = JSON.stringify(want), b = JSON.stringify(got);
	if (a !== b) fail(what + ":\n  expected " + a.slice(0, 2000) + "\n  got      " + b.slice(0, 2000));
	console.log("ok: " + what + " = " + (b.length > 120 ? b.slice(0, 117) + "..." : b));
}
function truthy(v, what) { if (!v) fail(what); console.log("ok: " + what); }

// the page's units (analyzer/output.c's fmt_ns and fmt_count)
function fmtNs(v) {
	if (v < 1e3) return v + " ns";
	if (v < 1e6) return (v / 1e3).toFixed(2) + " us";
	if (v < 1e9) return (v / 1e6).toFixed(2) + " ms";
	return (v / 1e9).toFixed(2) + " s";
}
const fmtCount = (v) => String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

async function shot(page, name) {
	fs.mkdirSync(shots, { recursive: true });
	await page.screenshot({ path: path.join(shots, name + ".png") });
	console.log("ok: screenshot " + name + ".png");
}

async function load(file) {
	const page = await browser.open("file://" + path.resolve(dir, file));
	await page.waitForSelector("body[data-ready='1']", { state: "attached", timeout: 30000 });
	return page;
}
async function tab(page, view) {
	await page.click("#tab-" + view);
	await page.waitForSelector("#view-" + view, { state: "attached" });
}
const texts = (page, sel) => page.$$eval(sel, (es) => es.map((e) => e.textContent));

// function table rows: [name, calls, total_ns, self]: the page's self column is CPU self
// (cpu_self_ns) when the trace has context switches and the page was made without --wall
async function fnRows(page) {
	return page.$$eval("#functions tbody tr", (trs) => trs.map((tr) => {
		const v = (k) => +tr.children[k].dataset.v;
		const head = Array.from(tr.closest("table").querySelectorAll("th")).map((th) => th.dataset.key);
		const self = head.includes("cpu_self_ns") ? "cpu_self_ns" : "self_ns";
		return [tr.querySelector("a.fn").textContent, v(head.indexOf("calls")), v(head.indexOf("total_ns")),
			v(head.indexOf(self))];
	}));
}
// a function's self time as the page shows it by default: CPU self where the trace has it
const selfOf = (f) => f.cpu_self_ns !== undefined ? f.cpu_self_ns : f.self_ns;
const jsonRows = (js, wall) => js.functions.map((f) => [f.name, f.calls, f.total_ns, wall ? f.self_ns : selfOf(f)]);
const selfKey = (js) => js.functions.some((f) => f.cpu_self_ns !== undefined) ? "cpu_self_ns" : "self_ns";

// the flame graph: search, then zoom into the first drawn frame named @zoomTo and reset
async function flameChecks(page, query, want, zoomTo, shotPrefix) {
	await tab(page, "flame");
	const drawn0 = +(await page.getAttribute("#flame", "data-drawn"));
	await page.fill("#flame-search", query);
	const count = +(await page.getAttribute("#flame-matches", "data-count"));
	const drawn = +(await page.getAttribute("#flame-matches", "data-drawn"));
	if (want !== null) eq(want, count, "flame: frames matching '" + query + "'");
	truthy(count > 0, "flame: '" + query + "' has matches");
	eq(drawn, (await page.$$(".fr.match")).length, "flame: highlighted frames = the drawn matches");
	if (shotPrefix) await shot(page, shotPrefix + "-search");
	const n = await page.$$eval(".fr", (es, name) => {
		const e = es.find((x) => x.dataset.d.split(" - ")[0] === name && !x.classList.contains("anc"));
		return e ? e.dataset.n : null;
	}, zoomTo);
	truthy(n !== null, "flame: a frame named " + zoomTo + " is drawn");
	await page.click(".fr[data-n='" + n + "']");
	eq(n, await page.getAttribute("#flame", "data-zoom"), "flame: zoomed to the clicked frame");
	const geo = await page.$eval("#flame", (fl, n) => {
		const W = fl.clientWidth, z = fl.querySelector(".fr[data-n='" + n + "']");
		const out = Array.from(fl.querySelectorAll(".fr")).filter((e) =>
			e.offsetLeft < -0.5 || e.offsetLeft + e.offsetWidth > W + 1).length;
		return { W, left: z.offsetLeft, width: Math.round(parseFloat(z.style.width) + 0.5), out,
			anc: fl.querySelectorAll(".fr.anc").length };
	}, n);
	eq([0, geo.W], [geo.left, geo.width], "flame: the zoomed frame spans the graph");
	eq(0, geo.out, "flame: frames outside the graph after the zoom");
	truthy(geo.anc > 0, "flame: its callers are drawn above it (" + geo.anc + ")");
	if (shotPrefix) await shot(page, shotPrefix + "-zoom");
	await page.click("#flame-reset");
	eq("0", await page.getAttribute("#flame", "data-zoom"), "flame: reset zoom");
	eq(drawn0, +(await page.getAttribute("#flame", "data-drawn")), "flame: frames drawn after the reset");
	await page.fill("#flame-search", "");
}

async function interp() {
	const fns = J("functions.json"), cg = J("callgraph.json"), leaks = J("leaks.json");
	let page = await load("page.html");
	await shot(page, "interp-summary");
	const q = "env_lookup";
	await flameChecks(page, q, cg.nodes.filter((x) => x.name.toLowerCase().includes(q)).length, "exec_for",
		"interp-flame");
	eq(cg.nodes.reduce((s, x) => s + selfOf(x), 0), +(await page.getAttribute("#flame", "data-total")),
		"flame: the whole graph's time (CPU time where the trace has it)");

	await tab(page, "topdown");
	const top = await page.$eval("#topdown tbody tr[data-depth='0']", (tr) =>
		[tr.querySelector(".nm").textContent, tr.children[5].textContent]);
	eq(["main", "1"], top, "top-down: the first call path");
	await shot(page, "interp-topdown");

	await tab(page, "bottomup");
	const most = fns.functions.slice().sort((a, b) => selfOf(b) - selfOf(a))[0];
	const bu = await page.$eval("#bottomup tbody tr", (tr) => [tr.querySelector(".nm").textContent,
		tr.children[1].textContent, tr.children[3].textContent]);
	eq([most.name, fmtNs(selfOf(most)), fmtCount(most.calls)], bu, "bottom-up: the function with the most self time");
	await page.click("#bottomup tbody tr .tog");
	truthy((await page.$$("#bottomup tbody tr[data-depth='1']")).length > 0, "bottom-up: its callers open");

	await tab(page, "callers");
	await page.selectOption("#cc-func", { label: q });
	const cc = J("cc.json").functions[0];
	for (const w of ["callers", "callees"]) {
		const got = (await page.$$eval("#cc-" + w + " tbody tr", (trs) => trs.map((tr) =>
			tr.children[0].textContent + " " + tr.children[1].textContent))).sort();
		eq(cc[w].map((e) => e.name + " " + fmtCount(e.calls)).sort(), got, "callers/callees of " + q + ": " + w);
	}
	await shot(page, "interp-callers");

	await tab(page, "functions");
	eq(jsonRows(fns), await fnRows(page), "functions: every row, by total (as `functions`)");
	await page.click("#functions th[data-key='" + selfKey(fns) + "']");
	eq(jsonRows(J("functions-self.json")), await fnRows(page), "functions: sorted by self (as --sort=self)");
	await page.fill("#fn-filter", "^eval|lookup$");
	eq(jsonRows(J("functions-filter.json")), await fnRows(page),
		"functions: filtered by ^eval|lookup$ (as --filter)");
	await shot(page, "interp-functions");
	await page.fill("#fn-filter", "");

	await tab(page, "memory");
	truthy(await page.$("#heap-chart"), "memory: the heap chart");
	await tab(page, "leaks");
	eq(leaks.leaks.length, (await page.$$("#leaks tbody tr")).length, "leaks: rows");
	eq(fmtCount(leaks.leaked_bytes) + " bytes in " + fmtCount(leaks.leaked_blocks) + " blocks",
		(await page.textContent("#leak-total")).replace(/ from .*/, ""), "leaks: the total");
	await page.click("#leaks tbody tr .tog");
	eq(leaks.leaks[0].stack, await texts(page, "#leaks ol.stack li .fname"), "leaks: the first stack opened");
	await shot(page, "interp-leaks");

	// the findings tab: one card per finding of `findings`, with its rule and stack
	const fnd = J("findings.json").findings;
	truthy(fnd.length > 0, "findings: the interpreter demo has findings");
	await tab(page, "findings");
	eq(fnd.length, (await page.$$("#view-findings .card")).length, "findings: one card each");
	eq(fnd.map((f) => f.rule), await texts(page, "#view-findings .card .rule"), "findings: the rules");
	eq(fnd[0].stack, await page.$$eval("#view-findings .card:first-of-type ol.stack li .fname",
		(es) => es.map((e) => e.textContent)), "findings: the first finding's stack");
	await shot(page, "interp-findings");
	await page.close();

	// --limit=2: a budget of two rows per table, and the page says what it left out
	page = await load("page-limit.html");
	const notes = await texts(page, "#left-out li");
	const fnote = notes.find((t) => t.includes(" functions left out"));
	truthy(fnote && fnote.startsWith(fmtCount(fns.functions.length - 2) + " of " + fmtCount(fns.functions.length) +
		" functions left out: kept the 2 "), "--limit=2: the functions note: " + fnote);
	await tab(page, "functions");
	eq(jsonRows(fns).slice(0, 2), await fnRows(page), "--limit=2: the two functions with the most time");
	await page.close();
}

// samples/waiter block (context switches): by default the page's times are CPU time, the
// sleeps left out; made with --wall, wall-clock. Both as `functions` says, to the ns.
async function waiter() {
	const fns = J("functions.json");
	const pause = fns.functions.find((f) => f.name === "pause_ms");
	for (const wall of [false, true]) {
		const page = await load(wall ? "page-wall.html" : "page.html"), w = wall ? " (--wall)" : "";
		eq(wall ? "wall" : "cpu", await page.getAttribute("#clock", "data-clock"), "waiter" + w + ": the clock");
		truthy((await page.textContent("#clock")).startsWith(wall ? "Times are wall-clock" : "Times are CPU time"),
			"waiter" + w + ": the summary says which clock");
		await tab(page, "functions");
		eq(jsonRows(fns, wall), await fnRows(page), "waiter" + w + ": functions, self as `functions`");
		truthy((await texts(page, "#functions tbody tr a.fn")).includes("pause_ms"), "waiter" + w + ": pause_ms in the table");
		await tab(page, "flame");
		eq(fns.functions.reduce((s, f) => s + (wall ? f.self_ns : f.cpu_self_ns), 0),
			+(await page.getAttribute("#flame", "data-total")), "waiter" + w + ": the flame graph's time");
		const d = await page.$$eval(".fr", (es) => es.map((e) => e.dataset.d).filter((x) => x.startsWith("pause_ms - ")));
		truthy(d.length > 0, "waiter" + w + ": pause_ms frames drawn");
		await tab(page, "topdown");
		if (!wall) await shot(page, "waiter-topdown");
		await page.close();
	}
	truthy(pause.self_ns > 200e6 && pause.cpu_self_ns < pause.self_ns / 20,
		"waiter: pause_ms slept (" + pause.self_ns + " ns wall, " + pause.cpu_self_ns + " ns CPU)");
}

async function server() {
	const tl = J("timeline.json"), leaks = J("leaks.json");
	const page = await load("page.html");
	await tab(page, "memory");
	eq(tl.verdict, await page.getAttribute("#verdict", "data-verdict"), "memory: growth verdict");
	eq("Verdict: " + tl.summary, await page.textContent("#verdict"), "memory: the verdict's text");
	eq(tl.samples.length, +(await page.getAttribute("#heap-chart polyline.live", "data-points")),
		"memory: points of the live heap line");
	eq(tl.samples.length, (await page.getAttribute("#heap-chart polyline.live", "points")).split(" ").length,
		"memory: vertices of the live heap line");
	const rows = await page.$$eval("#samples tbody tr", (trs) => trs.map((tr) =>
		[+tr.dataset.ns, +tr.children[1].dataset.v, +tr.children[2].dataset.v, +tr.children[3].dataset.v]));
	eq(tl.samples.map((s) => [s.time_ns, s.live_bytes, s.live_blocks, s.rss_bytes]), rows,
		"memory: every sample (time, live bytes, blocks, RSS)");
	eq(tl.marks.map((k) => k.label), await page.$$eval("#heap-chart line.mark", (es) =>
		es.map((e) => e.dataset.label)), "memory: marks on the chart");
	truthy(tl.marks.length > 0, "memory: the run has marks");
	eq(tl.suspects[0].stack.join(" \u2190 "), await page.textContent("#suspects tbody td"),
		"memory: the fastest-growing stack");
	await shot(page, "server-memory");
	await tab(page, "leaks");
	await page.click("#leaks tbody tr .tog");
	eq(leaks.leaks[0].stack, await texts(page, "#leaks ol.stack li .fname"), "leaks: the first stack opened");
	truthy((await texts(page, "#leaks ol.stack li .src")).some((s) => /server\.c:\d+/.test(s)),
		"leaks: source lines in the stack");
	await page.close();
}

async function threads() {
	const tids = J("threads.json");
	const page = await load("page.html");
	await tab(page, "functions");
	eq(jsonRows(J("functions.json")), await fnRows(page), "all threads: functions");
	for (const t of tids) {
		const want = J("fn-" + t.tid + ".json");
		await page.selectOption("#thread", String(t.index));
		await tab(page, "functions");
		eq(jsonRows(want), await fnRows(page), "thread " + t.tid + ": functions (as --thread " + t.tid + ")");
		await tab(page, "flame");
		eq(want.functions.reduce((s, f) => s + selfOf(f), 0), +(await page.getAttribute("#flame", "data-total")),
			"thread " + t.tid + ": the flame graph's time = its functions' self time");
		if (t === tids[0]) await shot(page, "threads-one-thread");
	}
	await page.selectOption("#thread", "all");
	await tab(page, "flame");
	await shot(page, "threads-merged");
	await page.close();
}

async function large() {
	const cg = J("callgraph.json"), mem = J("memory.json"), fns = J("functions.json");
	const t0 = Date.now();
	const page = await load("page.html");
	console.log("ok: loaded in " + (Date.now() - t0) + " ms");
	const notes = await texts(page, "#left-out li");
	eq(2, notes.length, "left-out notes");
	truthy(notes[0].startsWith(fmtCount(cg.nodes.length - 20000) + " of " + fmtCount(cg.nodes.length) +
		" call paths left out: kept the 20,000 "), "the call-tree note: " + notes[0]);
	truthy(notes[1].includes(" of " + fmtCount(mem.sites.length) + " allocation sites left out: kept the "),
		"the sites note: " + notes[1]);
	await flameChecks(page, "leaf", null, "right", null);
	eq(cg.nodes.length - 20000, +(await page.getAttribute("#flame-zoom", "data-cut")),
		"flame: call paths it says are left out");
	await shot(page, "large-flame");
	await tab(page, "functions");
	eq(jsonRows(fns), await fnRows(page), "functions: every row");
	for (const v of ["topdown", "bottomup", "callers", "memory", "leaks"]) await tab(page, v);
	console.log("ok: every view rendered");
	await page.close();
}

async function svgCheck() {
	// the paths and their values; "# " lines are notes (which clock the times are)
	const folded = fs.readFileSync(path.join(dir, "flame.folded"), "utf8").trim().split("\n")
		.filter((l) => !l.startsWith("#"));
	const page = await browser.open("file://" + path.resolve(dir, "flame.svg"));
	const q = "le";	/* middle and leaf: leaf's time is inside middle's, counted once */
	truthy((await page.textContent("svg > text")).includes("inclusive"), "svg: the title says widths are inclusive");
	page.once("dialog", (d) => d.accept(q));
	await page.click("#flame-search");
	const drawn = await page.$$eval("g.f", (gs, q) => gs.filter((g) => g.dataset.n.includes(q)).length, q);
	eq(drawn, await page.$$eval("g.f.match", (gs) => gs.length), "svg: highlighted frames = frames named *" + q + "*");
	truthy(drawn >= 2, "svg: frames match '" + q + "'");
	let all = 0, hit = 0;
	for (const l of folded) {
		const v = +l.slice(l.lastIndexOf(" ") + 1);
		all += v;
		if (l.slice(0, l.lastIndexOf(" ")).split(";").some((f) => f.includes(q))) hit += v;
	}
	eq("Matched: " + (100 * hit / all).toFixed(2) + "%", await page.textContent("#flame-matched"),
		"svg: matched share (from the folded stacks)");
	await shot(page, "svg-search");
	const W = +(await page.getAttribute("svg", "data-w"));
	await page.click("g.f.match");
	eq(W - 20, Math.round(await page.$eval("g.f.match rect", (r) => +r.getAttribute("width"))),
		"svg: the clicked frame spans the graph");
	truthy((await page.$$eval("g.f", (gs) => gs.filter((g) => g.style.display === "none").length)) > 0,
		"svg: frames outside it are hidden");
	await page.click("#flame-reset");
	const widths = await page.$$eval("g.f", (gs) => gs.filter((g) => g.style.display === "none").length);
	eq(0, widths, "svg: reset shows every frame again");
	eq(W - 20, Math.round(await page.$eval("g.f rect", (r) => +r.getAttribute("width"))), "svg: the root spans the graph");
	page.once("dialog", (d) => d.accept(""));
	await page.click("#flame-search");
	eq(0, (await page.$$("g.f.match")).length, "svg: an empty search clears the highlight");
	await page.close();
}

(async () => {
	browser = await launch();
	try {
		for (const arg of process.argv.slice(3)) {
			const [scenario, d] = arg.split("=");
			dir = d;
			console.log("== " + scenario);
			await ({ interp, server, threads, large, waiter, svg: svgCheck })[scenario]();
			eq([], browser.errors, scenario + ": console errors, page errors and requests");
		}
	} finally {
		await browser.close();
	}
})().catch((e) => { console.error("FAIL: " + e.message); process.exit(1); });
