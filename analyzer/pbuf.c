/* SPDX-License-Identifier: MIT */
/*
 * A protocol-buffer writer small enough for one message type (pprof's profile.proto,
 * report-pprof.c): varints, length-delimited fields and packed repeated varints, into a
 * growing buffer; then gzip through zlib, which is how pprof files are stored. The wire
 * format: each field is a key (field number << 3 | wire type) then its value; wire type 0
 * is a varint (7 bits a byte, low first, high bit = more), 2 a length and that many bytes.
 */
#define PR_FMT "pbuf"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "analyzer/export.h"
#include "analyzer/util.h"

#define WIRE_VARINT 0
#define WIRE_LEN 2

static void reserve(struct pbuf *b, size_t more)
{
	ARRAY_GROW(b->p, b->cap, b->n + more);
}

/* pb_varint - append @v as a base-128 varint (at most 10 bytes). */
void pb_varint(struct pbuf *b, uint64_t v)
{
	reserve(b, 10);
	while (v >= 0x80) {
		b->p[b->n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->n++] = (uint8_t)v;
}

/* pb_uint - varint field @field; zero is the default and is left out (proto3). */
void pb_uint(struct pbuf *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3 | WIRE_VARINT);
	pb_varint(b, v);
}

/* pb_bytes - length-delimited field @field: a string, bytes or an embedded message. */
void pb_bytes(struct pbuf *b, unsigned field, const void *data, size_t len)
{
	pb_varint(b, (uint64_t)field << 3 | WIRE_LEN);
	pb_varint(b, len);
	reserve(b, len);
	if (len)
		memcpy(b->p + b->n, data, len);
	b->n += len;
}

/* pb_packed - repeated varints as one length-delimited field (the proto3 default). */
void pb_packed(struct pbuf *b, unsigned field, const uint64_t *v, size_t n)
{
	struct pbuf tmp = { 0 };
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n; i++)
		pb_varint(&tmp, v[i]);
	pb_bytes(b, field, tmp.p, tmp.n);
	pb_free(&tmp);
}

/* pb_raw - append @len bytes already encoded (fields of the same message). */
void pb_raw(struct pbuf *b, const void *data, size_t len)
{
	reserve(b, len);
	if (len)
		memcpy(b->p + b->n, data, len);
	b->n += len;
}

void pb_free(struct pbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/*
 * pb_gzip - write @b to @f as one gzip member (zlib's deflate with a gzip header: window
 * bits 15 + 16), in pieces of 64 KiB. Return: 0, or -1 when zlib or the write failed.
 */
int pb_gzip(const struct pbuf *b, FILE *f)
{
	unsigned char out[65536];
	z_stream z;
	int zr, rc = 0;

	if (b->n > UINT32_MAX)		/* zlib counts input in uInt */
		return -1;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = b->p;
	z.avail_in = (uInt)b->n;
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			rc = -1;
			break;
		}
		if (fwrite(out, 1, sizeof(out) - z.avail_out, f) != sizeof(out) - z.avail_out) {
			rc = -1;
			break;
		}
	} while (zr != Z_STREAM_END);
	deflateEnd(&z);
	return rc;
}
