/* SPDX-License-Identifier: MIT */
/*
 * The flame tree (a trie of frame names with values) and its two renderings: folded stacks as
 * flamegraph.pl reads them, and a self-contained SVG flame graph (static layout that renders
 * without scripts; a small inline script adds click-to-zoom, reset and search). Used by
 * report-flame.c; analyzer/export.h declares it.
 */
#define PR_FMT "svg"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/export.h"
#include "analyzer/hmap.h"
#include "analyzer/util.h"

#define NONE UINT32_MAX

/* FNV-1a of a name: its colour (colour()), the same for a function in every graph */
static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h ? h : 1;
}

/* a new node below @parent; ids grow, so a child's id is always above its parent's */
static uint32_t node_new(struct flame *fl, uint32_t parent, uint32_t name)
{
	struct flame_node *n;

	ARRAY_ROOM(fl->nodes, fl->cap, fl->nnodes);
	n = &fl->nodes[fl->nnodes];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->name = name;
	n->first_child = n->next = NONE;
	n->depth = fl->nnodes ? fl->nodes[parent].depth + 1 : 0;
	return fl->nnodes++;
}

/* flame_init - an empty tree: only the root frame "all". */
void flame_init(struct flame *fl)
{
	memset(fl, 0, sizeof(*fl));
	node_new(fl, 0, flame_name(fl, "all"));
}

/* flame_free - release the nodes and the interned names. */
void flame_free(struct flame *fl)
{
	uint32_t i;

	for (i = 0; i < fl->nnames; i++)
		free(fl->names[i]);
	free(fl->names);
	free(fl->nodes);
	xmap_free(&fl->index);
	strmap_free(&fl->name_index);
	memset(fl, 0, sizeof(*fl));
}

/* flame_name - the id of name @s, interned (copied) on first use. */
uint32_t flame_name(struct flame *fl, const char *s)
{
	struct strmap_ent *e;
	bool created;

	s = s ? s : "[unknown]";
	e = strmap_intern(&fl->name_index, s, &created);
	if (!created)
		return (uint32_t)e->v;
	ARRAY_ROOM(fl->names, fl->names_cap, fl->nnames);
	fl->names[fl->nnames] = xstrdup(s);
	e->str = fl->names[fl->nnames];	/* the map keeps the copy, not the caller's */
	e->v = fl->nnames;
	return fl->nnames++;
}

/* flame_child - the child of node @parent named @name, created if new. */
uint32_t flame_child(struct flame *fl, uint32_t parent, uint32_t name)
{
	uint64_t key = (uint64_t)parent << 32 | ((uint64_t)name + 1);
	struct xmap_val *v;
	bool created;

	v = xmap_put(&fl->index, key, &created);
	if (created)
		v->w = node_new(fl, parent, name);
	return v->w;
}

/*
 * flame_step - the node a frame named @name gets below @parent: its child of that name
 * (created if new), except on a path already FLAME_FOLD_DEPTH frames deep, where a function
 * that is on the path folds back into its nearest activation (export.h). The walk up ends
 * at the first match, so direct recursion costs one step.
 */
uint32_t flame_step(struct flame *fl, uint32_t parent, uint32_t name)
{
	uint32_t a;

	if (fl->nodes[parent].depth >= FLAME_FOLD_DEPTH) {
		for (a = parent; a; a = fl->nodes[a].parent)
			if (fl->nodes[a].name == name) {
				fl->folded++;
				return a;
			}
	}
	return flame_child(fl, parent, name);
}

/* flame_add - add @value to the self value of path @names[0..n) (outermost first) below @node. */
void flame_add(struct flame *fl, uint32_t node, const uint32_t *names, unsigned n,
	       uint64_t value)
{
	unsigned i;

	for (i = 0; i < n; i++)
		node = flame_step(fl, node, names[i]);
	fl->nodes[node].self += value;
}

static int by_parent_name(const void *a, const void *b, void *arg)
{
	const struct flame *fl = arg;
	const struct flame_node *x = &fl->nodes[*(const uint32_t *)a];
	const struct flame_node *y = &fl->nodes[*(const uint32_t *)b];
	int c;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	c = strcmp(fl->names[x->name], fl->names[y->name]);
	return c ? c : (*(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1);
}

/*
 * flame_finish - compute every node's total (self plus its subtree) and link each node's
 * children in name order (byte order, as flamegraph.pl sorts), so both renderings are the
 * same for the same trace. May be called again after more flame_add calls.
 */
void flame_finish(struct flame *fl)
{
	uint32_t *order, i;

	for (i = 0; i < fl->nnodes; i++) {
		fl->nodes[i].total = fl->nodes[i].self;
		fl->nodes[i].first_child = fl->nodes[i].next = NONE;
	}
	/* a child is always created after its parent: one backward pass sums the subtrees */
	for (i = fl->nnodes - 1; i > 0; i--)
		fl->nodes[fl->nodes[i].parent].total += fl->nodes[i].total;
	if (fl->nnodes < 2)
		return;
	order = xmalloc((fl->nnodes - 1) * sizeof(*order));
	for (i = 1; i < fl->nnodes; i++)
		order[i - 1] = i;
	qsort_r(order, fl->nnodes - 1, sizeof(*order), by_parent_name, fl);
	/* link backwards so each child list ends up in name order */
	for (i = fl->nnodes - 1; i > 0; i--) {
		struct flame_node *n = &fl->nodes[order[i - 1]];

		n->next = fl->nodes[n->parent].first_child;
		fl->nodes[n->parent].first_child = order[i - 1];
	}
	free(order);
}

/* folded frames: ';' separates frames and the last space the value, so keep them out */
static void fput_frame(const char *s, FILE *f)
{
	for (; *s; s++)
		fputc(*s == ';' ? ':' : *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

/*
 * flame_folded - one line per node with a non-zero self value, depth first in name order:
 * "outer;...;inner VALUE". Iterative: recursion as deep as the traced program's could
 * overflow the analyzer's stack.
 */
void flame_folded(const struct flame *fl, FILE *f)
{
	uint32_t *path = xmalloc(fl->nnodes * sizeof(*path));
	uint32_t depth = 0, n, i;

	n = fl->nnodes > 1 ? fl->nodes[0].first_child : NONE;
	while (n != NONE) {
		const struct flame_node *nd = &fl->nodes[n];

		path[depth++] = n;
		if (nd->self) {
			for (i = 0; i < depth; i++) {
				if (i)
					fputc(';', f);
				fput_frame(fl->names[fl->nodes[path[i]].name], f);
			}
			fprintf(f, " %" PRIu64 "\n", nd->self);
		}
		if (nd->first_child != NONE) {
			n = nd->first_child;
			continue;
		}
		/* climb until a node has a next sibling */
		while (depth && fl->nodes[path[depth - 1]].next == NONE)
			depth--;
		if (!depth)
			break;
		n = fl->nodes[path[--depth]].next;
	}
	free(path);
}

/* ---- SVG ---- */

#define FRAME_H 16
#define FONT_SIZE 12
#define FONT_W 0.59		/* average glyph width / font size (Verdana-like) */
#define XPAD 10
#define TOP0 54			/* title, subtitle, hint */
#define NOTE_H 14		/* a warning line under them (svg_opts.notes) */
#define BOTTOM 28		/* details line */
#define MIN_PX 0.1		/* narrower frames are not drawn (flamegraph.pl does the same) */

/* a fill colour from the name's hash: the same function has the same colour everywhere */
static void colour(const char *name, bool mem, char *buf, size_t len)
{
	uint64_t h = str_hash(name);
	unsigned a = h & 0xff, b = (h >> 8) & 0xff, c = (h >> 16) & 0xff;

	if (mem)	/* greens and blues for memory, as flamegraph.pl's "mem" palette */
		snprintf(buf, len, "rgb(%u,%u,%u)", c * 30 / 255, 160 + a * 80 / 255,
			 b * 60 / 255 + 40);
	else		/* warm reds, oranges and yellows for time */
		snprintf(buf, len, "rgb(%u,%u,%u)", 205 + a * 50 / 255, b * 230 / 255,
			 c * 55 / 255);
}

/* the frame's label: the name if it fits @width px, else its start and "..", or nothing */
static void fput_fit(const char *name, double width, FILE *f)
{
	size_t fit = (size_t)((width - 6) / (FONT_SIZE * FONT_W));
	size_t len = strlen(name);
	char *cut;

	if (fit < 3)
		return;
	if (len <= fit) {
		fput_xml(name, f);
		return;
	}
	cut = xstrdup(name);
	len = fit - 2;
	while (len && ((unsigned char)cut[len] & 0xc0) == 0x80)	/* whole UTF-8 characters */
		len--;
	cut[len] = 0;
	fput_xml(cut, f);
	fputs("..", f);
	free(cut);
}

/*
 * The script: reads the static layout, so the picture is complete without it. Click a frame
 * to zoom, "Reset zoom" (or the bottom frame) to go back; "Search" (or Ctrl-F) highlights
 * the frames whose name holds a text and says what share of the whole they cover, each
 * matched frame counted once with the matched frames above it (data-v: a frame's value).
 */
static const char zoom_js[] =
	"(function(){\n"
	"function fit(g,w){\n"
	" var t=g.querySelector('text'),n=g.getAttribute('data-n');\n"
	" var k=Math.floor((w-6)/(12*0.59));\n"	/* FONT_SIZE * FONT_W */
	" t.textContent=k<3?'':n.length<=k?n:n.slice(0,k-2)+'..';}\n"
	"function setup(svg){\n"
	" var W=+svg.getAttribute('data-w'),P=10,gs=svg.querySelectorAll('g.f'),\n" /* XPAD */
	"  det=svg.querySelector('.details'),root=gs[0];\n"
	" gs.forEach(function(g){var r=g.querySelector('rect');\n"
	"  g.ox=+r.getAttribute('x');g.ow=+r.getAttribute('width');g.oy=+r.getAttribute('y');\n"
	"  g.of=r.getAttribute('fill');\n"
	"  g.onmouseover=function(){if(det)\n"
	"   det.textContent=g.querySelector('title').textContent.replace('\\n',' ');};\n"
	"  g.onmouseout=function(){if(det)det.textContent=' ';};\n"
	"  g.onclick=function(){zoom(g);};});\n"
	/* frames below the clicked one (its callers) span the width, dimmed; frames above it
	 * inside its range scale up; everything else hides. The bottom frame resets. */
	" function zoom(z){if(!z)return;var x0=z.ox,w0=z.ow,s=(W-2*P)/w0;\n"
	"  gs.forEach(function(g){var r=g.querySelector('rect'),x,w;\n"
	"   if(g.oy>z.oy){\n"
	"    if(g.ox<=x0+0.01&&g.ox+g.ow>=x0+w0-0.01){x=P;w=W-2*P;g.style.opacity=0.6;}\n"
	"    else{g.style.display='none';return;}}\n"
	"   else if(g.ox>=x0-0.01&&g.ox+g.ow<=x0+w0+0.01)\n"
	"    {x=P+(g.ox-x0)*s;w=g.ow*s;g.style.opacity='';}\n"
	"   else{g.style.display='none';return;}\n"
	"   g.style.display='';r.setAttribute('x',x.toFixed(1));\n"
	"   r.setAttribute('width',w.toFixed(1));\n"
	"   g.querySelector('text').setAttribute('x',(x+3).toFixed(1));fit(g,w);});}\n"
	/* outer frames first (larger y), so a frame inside an accepted one is not counted again */
	" function search(q){var hit=[],got=[],sum=0,m=svg.querySelector('.matched');\n"
	"  gs.forEach(function(g){var on=!!q&&g!==root&&g.getAttribute('data-n').indexOf(q)>=0;\n"
	"   g.classList.toggle('match',on);\n"
	"   g.querySelector('rect').setAttribute('fill',on?'#b04ce0':g.of);if(on)hit.push(g);});\n"
	"  hit.sort(function(a,b){return b.oy-a.oy;});\n"
	"  hit.forEach(function(g){if(got.some(function(a){return g.ox>=a.ox-0.01&&\n"
	"   g.ox+g.ow<=a.ox+a.ow+0.01;}))return;got.push(g);sum+=+g.getAttribute('data-v');});\n"
	"  if(m)m.textContent=q?'Matched: '+\n"
	"   (100*sum/(+root.getAttribute('data-v')||1)).toFixed(2)+'%':'';}\n"
	" function ask(){\n"
	"  var q=prompt('Highlight frames whose name contains (case-sensitive):','');\n"
	"  if(q!==null)search(q);}\n"
	" var b=svg.querySelector('.search'),c=svg.querySelector('.reset');\n"
	" if(b)b.onclick=ask;if(c)c.onclick=function(){zoom(root);};\n"
	" if(svg.parentNode===document)window.addEventListener('keydown',function(e){\n"
	"  if((e.ctrlKey||e.metaKey)&&e.key==='f'){e.preventDefault();ask();}});\n"
	"}\n"
	"document.querySelectorAll('svg.flame').forEach(setup);\n"
	"})();\n";

/* flame_svg_script - the zoom script text (report-html.c embeds it once per page). */
const char *flame_svg_script(void)
{
	return zoom_js;
}

/* the picture's geometry, computed once by flame_svg */
struct svg_layout {
	unsigned W, H, top;		/* px */
	uint32_t maxdepth;		/* depth of the deepest frame drawn */
	double scale;			/* px per unit of value */
	uint64_t root_total;
	bool mem;			/* a memory metric (colours) */
	const char *id;
};

/* the frame of the picture: title, subtitle, help line, buttons and notes */
static void svg_head(const struct svg_layout *L, const struct svg_opts *so, FILE *f)
{
	char val[64];
	unsigned k;

	if (so->standalone)
		fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" class=\"flame\" "
		   "id=\"%s\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" data-w=\"%u\" "
		   "font-family=\"Verdana, DejaVu Sans, sans-serif\" font-size=\"%d\">\n",
		L->id, L->W, L->H, L->W, L->H, L->W, FONT_SIZE);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"#f8f8f0\"/>\n", L->W,
		L->H);
	fprintf(f, "<text x=\"%u\" y=\"20\" text-anchor=\"middle\" font-size=\"16\">", L->W / 2);
	fput_xml(so->title ? so->title : "Flame graph", f);
	fputs("</text>\n", f);
	fprintf(f, "<text x=\"%u\" y=\"36\" text-anchor=\"middle\" fill=\"#555\">", L->W / 2);
	fmt_value(val, sizeof(val), L->root_total, so->unit);
	if (so->subtitle) {
		fput_xml(so->subtitle, f);
		fputs(" - ", f);
	}
	fprintf(f, "total %s", val);
	fputs("</text>\n", f);
	fprintf(f, "<text x=\"%d\" y=\"50\" fill=\"#777\" font-size=\"10\">"
		   "click a frame to zoom; Reset zoom or the bottom frame to go back; Search (or "
		   "Ctrl-F) to highlight</text>\n", XPAD);
	/* buttons the script serves; without it they do nothing and the picture stays whole */
	fprintf(f, "<text class=\"reset\" id=\"%s-reset\" x=\"%d\" y=\"20\" fill=\"#1f6feb\" "
		   "style=\"cursor:pointer\">Reset zoom</text>\n", L->id, XPAD);
	fprintf(f, "<text class=\"search\" id=\"%s-search\" x=\"%u\" y=\"20\" "
		   "text-anchor=\"end\" fill=\"#1f6feb\" style=\"cursor:pointer\">Search</text>\n",
		L->id, L->W - XPAD);
	fprintf(f, "<text class=\"matched\" id=\"%s-matched\" x=\"%u\" y=\"36\" "
		   "text-anchor=\"end\" fill=\"#b04ce0\"></text>\n", L->id, L->W - XPAD);
	/* what the picture lacks or leaves out (incomplete trace, folded recursion): visible */
	for (k = 0; k < so->nnotes; k++) {
		fprintf(f, "<text class=\"warning\" x=\"%d\" y=\"%u\" fill=\"#b00000\" "
			   "font-size=\"11\">", XPAD, TOP0 + (k + 1) * NOTE_H - 3);
		fput_xml(so->notes[k], f);
		fputs("</text>\n", f);
	}
	if (!L->root_total)
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">no data</text>\n",
			L->W / 2, L->top + FRAME_H);
}

/* one frame: node @n at left edge @x, depth @depth */
static void svg_frame(const struct flame *fl, const struct svg_layout *L,
		      const struct svg_opts *so, uint32_t n, double x, uint32_t depth, FILE *f)
{
	const struct flame_node *nd = &fl->nodes[n];
	double w = (double)nd->total * L->scale;
	unsigned y = L->top + (L->maxdepth - depth) * FRAME_H;
	char val[64], fill[32];

	colour(fl->names[nd->name], L->mem, fill, sizeof(fill));
	fmt_value(val, sizeof(val), nd->total, so->unit);
	fprintf(f, "<g class=\"f\" data-v=\"%" PRIu64 "\" data-n=\"", nd->total);
	fput_xml(fl->names[nd->name], f);
	fprintf(f, "\"><title>");
	fput_xml(fl->names[nd->name], f);
	fprintf(f, "\n(%s, %.2f%%)</title><rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" "
		   "height=\"%d\" fill=\"%s\" rx=\"2\"/><text x=\"%.1f\" y=\"%u\">",
		val, 100.0 * (double)nd->total / (double)L->root_total, x, y, w, FRAME_H - 1,
		n ? fill : "#e0e0e0", x + 3, y + FRAME_H - 4);
	fput_fit(fl->names[nd->name], w, f);
	fputs("</text></g>\n", f);
}

/*
 * Every frame of at least MIN_PX, in pre-order (@depth: each node's depth; @stack, @xs:
 * scratch of fl->nnodes + 1). Return: how many frames were too narrow to draw.
 */
static uint64_t svg_frames(const struct flame *fl, const struct svg_layout *L,
			   const struct svg_opts *so, const uint32_t *depth, uint32_t *stack,
			   double *xs, FILE *f)
{
	uint64_t omitted = 0;
	uint32_t sp = 0, n, i;

	/* pre-order walk; xs[n] = left edge of node n */
	xs[0] = XPAD;
	if (L->root_total)
		stack[sp++] = 0;
	while (sp) {
		const struct flame_node *nd;
		double x;
		uint32_t c;

		n = stack[--sp];
		nd = &fl->nodes[n];
		svg_frame(fl, L, so, n, xs[n], depth[n], f);

		/* children: lay out left to right, push in reverse for name order output */
		x = xs[n];
		for (c = nd->first_child; c != NONE; c = fl->nodes[c].next) {
			xs[c] = x;
			x += (double)fl->nodes[c].total * L->scale;
		}
		i = sp;
		for (c = nd->first_child; c != NONE; c = fl->nodes[c].next) {
			if ((double)fl->nodes[c].total * L->scale < MIN_PX) {
				omitted++;
				continue;
			}
			stack[sp++] = c;
		}
		/* reverse the pushed run so the first child is popped first */
		if (sp > i) {
			for (c = sp - 1; i < c; i++, c--) {
				uint32_t tmp = stack[i];

				stack[i] = stack[c];
				stack[c] = tmp;
			}
		}
	}
	return omitted;
}

/*
 * flame_svg - render @fl (after flame_finish) as a flame graph: root at the bottom, children
 * left to right in name order, widths proportional to values. Every frame is a <g> with a
 * <title> (full name, value, share) so tooltips work without the script.
 */
void flame_svg(const struct flame *fl, const struct svg_opts *so, FILE *f)
{
	struct svg_layout L = { .W = so->width ? so->width : 1200 };
	uint32_t *depth, *stack, i;
	uint64_t omitted;
	double *xs;

	L.root_total = fl->nodes[0].total;
	L.scale = L.root_total ? (L.W - 2.0 * XPAD) / (double)L.root_total : 0;
	L.id = so->id ? so->id : "flame";
	L.mem = so->unit && strcmp(so->unit, "ns");
	/* depth of the visible tree (frames of at least MIN_PX) */
	stack = xmalloc((fl->nnodes + 1) * sizeof(*stack));
	depth = xmalloc((fl->nnodes + 1) * sizeof(*depth));
	xs = xmalloc((fl->nnodes + 1) * sizeof(*xs));
	for (i = 0; i < fl->nnodes; i++)
		depth[i] = 0;
	for (i = 1; i < fl->nnodes; i++) {
		depth[i] = depth[fl->nodes[i].parent] + 1;
		if ((double)fl->nodes[i].total * L.scale >= MIN_PX && depth[i] > L.maxdepth)
			L.maxdepth = depth[i];
	}
	L.top = TOP0 + so->nnotes * NOTE_H;
	L.H = L.top + (L.maxdepth + 1) * FRAME_H + BOTTOM;

	svg_head(&L, so, f);
	omitted = svg_frames(fl, &L, so, depth, stack, xs, f);
	fprintf(f, "<text class=\"details\" x=\"%d\" y=\"%u\" fill=\"#333\"> </text>\n", XPAD,
		L.H - 10);
	if (omitted)
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#777\" "
			   "font-size=\"10\">%" PRIu64
			   " frames narrower than %.1f px not drawn</text>\n",
			L.W - XPAD, L.H - 10, omitted, MIN_PX);
	if (so->standalone)
		fprintf(f, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n", zoom_js);
	fputs("</svg>\n", f);
	free(stack);
	free(depth);
	free(xs);
}
