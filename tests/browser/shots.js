// SPDX-License-Identifier: MIT
// node tests/browser/shots.js OUTDIR interp=PAGE server=PAGE - the README's pictures of the
// html report (misc/html-shots.sh makes the pages from the demo and runs this): the flame
// graph with a search, the function table, the heap chart, a leak's stack.
"use strict";
const path = require("path");
const { launch } = require("./browser.js");

const out = process.argv[2];
const pages = Object.fromEntries(process.argv.slice(3).map((a) => a.split("=")));

(async () => {
	const b = await launch();
	const shot = async (p, name) => {
		await p.screenshot({ path: path.join(out, "html-" + name + ".png") });
		console.log(path.join(out, "html-" + name + ".png"));
	};
	const open = async (f) => {
		const p = await b.open("file://" + path.resolve(f));
		await p.setViewportSize({ width: 1280, height: 720 });
		await p.waitForSelector("body[data-ready='1']", { state: "attached" });
		return p;
	};
	let p = await open(pages.interp);
	await p.click("#tab-flame");
	await p.fill("#flame-search", "env_lookup");
	await shot(p, "flame");
	await p.click("#tab-functions");
	await p.click("#functions th[data-key='self_ns']");
	await shot(p, "functions");
	await p.click("#tab-leaks");
	await p.click("#leaks tbody tr .tog");
	await shot(p, "leaks");
	p = await open(pages.server);
	await p.click("#tab-memory");
	await shot(p, "memory");
	await b.close();
	if (b.errors.length) {
		console.error(b.errors.join("\n"));
		process.exit(1);
	}
})().catch((e) => { console.error(e); process.exit(1); });
