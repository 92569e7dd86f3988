// SPDX-License-Identifier: MIT
// Starts Debian's chromium headless through playwright-core (no browser of its own is
// downloaded) with the flags this closed network needs, and collects every console error
// and page error of the pages it opens.
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio"];

// launch() - {browser, open(url, viewport) -> page, errors[], close()}
async function launch() {
	const exe = process.env.CHROMIUM || "/usr/bin/chromium";
	if (!fs.existsSync(exe)) throw new Error(exe + " is missing (misc/install-deps.sh installs chromium)");
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "perfshim-chromium-"));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: exe, headless: true, args: FLAGS, ignoreDefaultArgs: ["--headless"],
		viewport: { width: 1400, height: 900 }, offline: true,
	});
	const errors = [];
	async function open(url) {
		const page = await ctx.newPage();
		page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
		page.on("pageerror", (e) => errors.push("page error: " + e.message));
		page.on("request", (r) => { if (!/^(file|data|about):/.test(r.url())) errors.push("request: " + r.url()); });
		await page.goto(url, { waitUntil: "load" });
		return page;
	}
	async function close() {
		await ctx.close();
		fs.rmSync(dir, { recursive: true, force: true });
	}
	return { ctx, open, errors, close };
}

module.exports = { launch };
