/*
 * gkdi_epm.c — the endpoint mapper's ept_map (C706 appendix O/P, MS-RPCE
 * 2.2.1.2): where the ISDKey interface listens over TCP (gkdi_rpc.h).
 *
 *   request:  obj (unique GUID*), map_tower (unique twr_t*), entry_handle
 *             (20-byte context handle), max_towers u32
 *   twr_t:    max_count u32, tower_length u32, tower bytes, pad to 4
 *   tower:    floor_count u16, per floor lhs_len u16, lhs, rhs_len u16, rhs
 *             (interface, NDR, 0x0b RPC CO, 0x07 TCP port (big-endian),
 *             0x09 IPv4 address)
 *   response: entry_handle (20), num_towers u32, max_count u32, offset u32,
 *             actual_count u32, referent ids, the towers, status u32
 */
#include "config.h"

#include <string.h>

#include "backends/gkdi_rpc.h"
#include "escrow/err.h"

/* ISDKey b9785960-524f-11df-8b6d-83dcded72085 v1.0: the interface the
 * endpoint mapper is asked for, and gkdi_rpc.c binds to (defined here so
 * that this file needs nothing from gkdi_rpc.c). */
const struct dcerpc_syntax gkdi_isdkey = {{0x60, 0x59, 0x78, 0xb9, 0x4f, 0x52, 0xdf, 0x11, 0x8b,
					   0x6d, 0x83, 0xdc, 0xde, 0xd7, 0x20, 0x85},
					  1,
					  0};

#define EPM_TOWER_MAX 1024
#define EPM_TOWERS_MAX 16

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A floor: lhs, rhs; returns the bytes written. */
static size_t
floor_put(uint8_t *p, const uint8_t *lhs, size_t ll, const uint8_t *rhs, size_t rl)
{
	put16(p, (uint16_t)ll);
	memcpy(p + 2, lhs, ll);
	put16(p + 2 + ll, (uint16_t)rl);
	memcpy(p + 4 + ll, rhs, rl);
	return 4 + ll + rl;
}

static size_t
syntax_floor(uint8_t *p, const struct dcerpc_syntax *s)
{
	uint8_t lhs[19], rhs[2];

	lhs[0] = 0x0d;
	memcpy(lhs + 1, s->uuid, 16);
	put16(lhs + 17, s->major);
	put16(rhs, s->minor);
	return floor_put(p, lhs, sizeof lhs, rhs, sizeof rhs);
}

int
gkdi_epm_map_req(uint8_t *out, size_t cap, size_t *len)
{
	static const uint8_t co = 0x0b, tcp = 0x07, ip = 0x09, zero[4] = {0};
	uint8_t tower[80];
	size_t t = 2, n;

	put16(tower, 5);
	t += syntax_floor(tower + t, &gkdi_isdkey);
	t += syntax_floor(tower + t, &dcerpc_ndr20);
	t += floor_put(tower + t, &co, 1, zero, 2);
	t += floor_put(tower + t, &tcp, 1, zero, 2);
	t += floor_put(tower + t, &ip, 1, zero, 4);
	n = 4 + 16 + 4 + 8 + ((t + 3) & ~(size_t)3) + 20 + 4;
	if (n > cap)
		return laps_seterr(LAPS_ERR_TOOBIG, "ept_map: request");
	memset(out, 0, n);
	put32(out, 1); /* obj: a nil UUID */
	put32(out + 20, 2);
	put32(out + 24, (uint32_t)t);
	put32(out + 28, (uint32_t)t);
	memcpy(out + 32, tower, t);
	put32(out + n - 4, 1); /* max_towers; entry_handle zero before it */
	*len = n;
	return 0;
}

/* The TCP port floor of tower b (len bytes). */
static int
tower_port(const uint8_t *b, size_t len, unsigned *port)
{
	size_t nf, i, o = 2;

	if (len < 2)
		return laps_seterr(LAPS_ERR_FORMAT, "ept_map: short tower");
	nf = get16(b);
	for (i = 0; i < nf; i++) {
		size_t ll, rl;

		if (o + 2 > len || (ll = get16(b + o)) == 0 || o + 2 + ll + 2 > len)
			return laps_seterr(LAPS_ERR_FORMAT, "ept_map: tower floor %zu", i);
		rl = get16(b + o + 2 + ll);
		if (o + 4 + ll + rl > len)
			return laps_seterr(LAPS_ERR_FORMAT, "ept_map: tower floor %zu", i);
		if (ll == 1 && b[o + 2] == 0x07 && rl == 2) {
			*port = (unsigned)b[o + 4 + ll] << 8 | b[o + 5 + ll];
			return *port != 0 ? 0 : laps_seterr(LAPS_ERR_FORMAT, "ept_map: port 0");
		}
		o += 4 + ll + rl;
	}
	return laps_seterr(LAPS_ERR_NOTFOUND, "ept_map: a tower without a TCP port");
}

int
gkdi_epm_map_parse(const uint8_t *b, size_t len, unsigned *port)
{
	size_t n, o, tl;

	if (len < 20 + 4 + 12 + 4)
		return laps_seterr(LAPS_ERR_FORMAT, "ept_map: short response");
	if (get32(b + len - 4) != 0)
		return laps_seterr(LAPS_ERR_NOTFOUND,
				   "the endpoint mapper does not know the key service (status "
				   "0x%08x)",
				   get32(b + len - 4));
	n = get32(b + 20);
	if (n == 0 || n > EPM_TOWERS_MAX || get32(b + 32) != n || get32(b + 28) != 0)
		return laps_seterr(n == 0 ? LAPS_ERR_NOTFOUND : LAPS_ERR_FORMAT,
				   "ept_map: %zu towers", n);
	o = 36 + 4 * n;
	if (get32(b + 36) == 0 || o + 8 > len)
		return laps_seterr(LAPS_ERR_FORMAT, "ept_map: short tower list");
	tl = get32(b + o + 4);
	if (tl > EPM_TOWER_MAX || get32(b + o) != tl || o + 8 + tl > len - 4)
		return laps_seterr(LAPS_ERR_FORMAT, "ept_map: tower length %zu", tl);
	return tower_port(b + o + 8, tl, port);
}
