#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# html-shots.sh - the README's pictures of the html report (docs/html-*.png): the demo
# (the interpreter, as `make demo` records it) and the leaking server with a mark every
# 300 ms, their pages in build/demo/, photographed in headless chromium (tests/browser).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
misc/install-deps.sh
make -s all samples
mkdir -p build/demo
build/perfshim -q -o build/demo/interp.bin build/samples/interp samples/interp/demo.toy >/dev/null
build/perfshim -q -o build/demo/server.bin --mark-every 300ms build/samples/server leak >/dev/null
build/perfshim-analyze html -o build/demo/interp.html build/demo/interp.bin
build/perfshim-analyze html -o build/demo/server.html build/demo/server.bin
(cd tests/browser && node shots.js "$top/docs" interp="$top/build/demo/interp.html" \
	server="$top/build/demo/server.html")
