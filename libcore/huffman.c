/*
 * DEFLATE streams (RFC 1951, in zlib's wrapper, RFC 1950) that code every byte with one
 * static Huffman code and every run of zero bytes as a zero and a copy of the byte before
 * it (distance 1), and look for no other matches.
 *
 * Why our own coder: a bathtub level's depths in millimetres carry the ground's noise, so an
 * LZ77 match finder finds almost nothing in them, and the compressors' time goes into looking
 * for matches and coding the literals. No library offers its entropy coder alone. A code per
 * resolution counted on a sample, with each pair of bytes coded by one table look-up, writes
 * b500's depth tiles twice as fast as zstd level 1 (and several times faster than libdeflate
 * level 1), at the same size.
 */
#include "huffman_int.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BITS 15 /* DEFLATE's longest code */
#define NDIST 2     /* distance codes sent: 0 (distance 1) and 1, one bit each (a complete code) */
#define NLEN (CT_HUFF_NSYM + NDIST)
#define HEAD_MAX 272 /* the block header: 3 + 14 + 19 x 3 + 288 x 7 bits at most */

struct ct_huff {
    uint32_t pair[65536];          /* the code of the bytes (lo, hi) of each 16-bit word: lo's first */
    uint8_t pair_len[65536];
    uint32_t run[259];             /* a copy of length 3-258 at distance 1: its length symbol,
                                      extra bits and distance code, in their order */
    uint8_t run_len[259];
    uint32_t code[CT_HUFF_NSYM];   /* bit-reversed: DEFLATE sends codes most significant bit first */
    uint8_t len[CT_HUFF_NSYM];
    uint8_t head[HEAD_MAX];        /* the block header (BFINAL, BTYPE, the code lengths), as bits */
    unsigned head_bits;
};

/* DEFLATE's length symbols 257-285: the shortest length each codes and its extra bits */
static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};

static int len_index(int L)
{
    int i = 28;
    while (len_base[i] > L)
        i--;
    return i;
}

/* A run of n >= 4 zero bytes: a literal zero, then copies of at most 258, none shorter than 3. */
#define RUN_COPIES(n, L, body)                                                                   \
    do {                                                                                         \
        size_t r_ = (n) - 1;                                                                     \
        while (r_ > 0) {                                                                         \
            int L = r_ > 258 ? 258 : (int)r_;                                                    \
            if (r_ - (size_t)L != 0 && r_ - (size_t)L < 3)                                       \
                L = (int)r_ - 3;                                                                 \
            body;                                                                                \
            r_ -= (size_t)L;                                                                     \
        }                                                                                        \
    } while (0)

static inline uint16_t load16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* The first 16-bit word at or after p (p's parity) that is not zero, or end. */
static const uint8_t *zeros_end(const uint8_t *p, const uint8_t *end)
{
    uint64_t w;
    while (end - p >= 8 && (memcpy(&w, p, 8), w == 0))
        p += 8;
    while (p < end && !load16(p))
        p += 2;
    return p;
}


/* Code lengths of at most limit bits for the n symbols (at least two with a count): Huffman's,
 * with the counts halved until the longest fits. */
static void code_lengths(const uint64_t *count, int n, int limit, uint8_t *len)
{
    uint64_t w[2 * NLEN];
    int sym[NLEN], parent[2 * NLEN], m = 0;
    for (int i = 0; i < n; i++)
        if (count[i])
            sym[m++] = i;
    uint64_t scale = 0; /* the counts, shifted right this much (and at least 1) */
    for (;;) {
        for (int a = 1; a < m; a++) { /* the leaves by weight (insertion sort: m <= 288) */
            int s = sym[a], b = a;
            uint64_t ws = count[s] >> scale | 1;
            while (b > 0 && (count[sym[b - 1]] >> scale | 1) > ws) {
                sym[b] = sym[b - 1];
                b--;
            }
            sym[b] = s;
        }
        for (int a = 0; a < m; a++)
            w[a] = count[sym[a]] >> scale | 1;
        /* two queues: the leaves in order, the inner nodes as made (in order too) */
        int li = 0, ni = m, nn = m;
        for (int k = 0; k < m - 1; k++) {
            int pick[2];
            for (int j = 0; j < 2; j++)
                pick[j] = li < m && (ni >= nn || w[li] <= w[ni]) ? li++ : ni++;
            w[nn] = w[pick[0]] + w[pick[1]];
            parent[pick[0]] = parent[pick[1]] = nn++;
        }
        int depth[2 * NLEN], longest = 0;
        depth[nn - 1] = 0;
        for (int k = nn - 2; k >= 0; k--) {
            depth[k] = depth[parent[k]] + 1;
            if (k < m && depth[k] > longest)
                longest = depth[k];
        }
        if (longest <= limit) {
            memset(len, 0, (size_t)n);
            for (int a = 0; a < m; a++)
                len[sym[a]] = (uint8_t)depth[a];
            return;
        }
        scale++;
    }
}

/* Canonical codes of the lengths (RFC 1951 3.2.2), bit-reversed. */
static void canonical(const uint8_t *len, int n, uint32_t *code)
{
    int count[MAX_BITS + 1] = {0}, next[MAX_BITS + 2];
    for (int i = 0; i < n; i++)
        count[len[i]]++;
    count[0] = 0;
    next[1] = 0;
    for (int b = 1; b <= MAX_BITS; b++)
        next[b + 1] = (next[b] + count[b]) << 1;
    for (int i = 0; i < n; i++) {
        if (!len[i])
            continue;
        uint32_t c = (uint32_t)next[len[i]]++, r = 0;
        for (int b = 0; b < len[i]; b++)
            r |= (c >> b & 1u) << (len[i] - 1 - b);
        code[i] = r;
    }
}

/* LSB-first bits into bytes: codes of up to 32 bits, whole 32-bit words stored as they fill */
typedef struct bits {
    uint8_t *p;
    uint64_t buf;
    unsigned n;
} bits;

static inline void put(bits *b, uint32_t code, unsigned len)
{
    b->buf |= (uint64_t)code << b->n;
    b->n += len;
    if (b->n >= 32) {
        b->p[0] = (uint8_t)b->buf;
        b->p[1] = (uint8_t)(b->buf >> 8);
        b->p[2] = (uint8_t)(b->buf >> 16);
        b->p[3] = (uint8_t)(b->buf >> 24);
        b->p += 4;
        b->buf >>= 32;
        b->n -= 32;
    }
}

static void put_flush(bits *b)
{
    for (; b->n > 0; b->n = b->n > 8 ? b->n - 8 : 0, b->buf >>= 8)
        *b->p++ = (uint8_t)b->buf;
}

ct_huff *ct_huff_new(const uint64_t freq[CT_HUFF_NSYM])
{
    ct_huff *h = malloc(sizeof *h);
    if (!h)
        return NULL;
    /* every symbol at least once, so that whatever the sample missed can still be coded */
    uint64_t c[CT_HUFF_NSYM];
    for (int i = 0; i < CT_HUFF_NSYM; i++)
        c[i] = freq[i] + 1;
    code_lengths(c, CT_HUFF_NSYM, MAX_BITS, h->len);
    canonical(h->len, CT_HUFF_NSYM, h->code);
    for (uint32_t v = 0; v < 65536; v++) {
        const unsigned lo = v & 255, hi = v >> 8;
        h->pair[v] = h->code[lo] | h->code[hi] << h->len[lo];
        h->pair_len[v] = (uint8_t)(h->len[lo] + h->len[hi]);
    }
    for (int L = 3; L <= 258; L++) { /* distance symbol 0: the one-bit code 0 */
        const int i = len_index(L), s = 257 + i;
        h->run[L] = h->code[s] | (uint32_t)(L - len_base[i]) << h->len[s];
        h->run_len[L] = (uint8_t)(h->len[s] + len_extra[i] + 1);
    }

    /* the header of a final block with dynamic codes: the 288 code lengths, themselves coded
     * by a code of at most 7 bits over the values 0-15 (no repeat symbols) */
    uint8_t lens[NLEN];
    memcpy(lens, h->len, CT_HUFF_NSYM);
    lens[CT_HUFF_NSYM] = lens[CT_HUFF_NSYM + 1] = 1;
    uint64_t cl_count[19] = {0};
    for (int i = 0; i < NLEN; i++)
        cl_count[lens[i]]++;
    uint8_t cl_len[19];
    uint32_t cl_code[19] = {0};
    code_lengths(cl_count, 19, 7, cl_len); /* two values at least: the distances' 1 and others */
    canonical(cl_len, 19, cl_code);
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    int hclen = 19;
    while (hclen > 4 && !cl_len[order[hclen - 1]])
        hclen--;
    bits b = {h->head, 0, 0};
    put(&b, 1, 1); /* BFINAL */
    put(&b, 2, 2); /* BTYPE: dynamic codes */
    put(&b, CT_HUFF_NSYM - 257, 5);
    put(&b, NDIST - 1, 5);
    put(&b, (uint32_t)(hclen - 4), 4);
    for (int i = 0; i < hclen; i++)
        put(&b, cl_len[order[i]], 3);
    for (int i = 0; i < NLEN; i++)
        put(&b, cl_code[lens[i]], cl_len[lens[i]]);
    h->head_bits = (unsigned)(b.p - h->head) * 8 + b.n;
    put_flush(&b);
    return h;
}

void ct_huff_free(ct_huff *h)
{
    free(h);
}

size_t ct_huff_bound(size_t n)
{
    return 2 + HEAD_MAX + (n * MAX_BITS + 7) / 8 + 2 + 4 + 8;
}

/*
 * The symbols of n bytes, in order: each word that is not zero as its two bytes, a lone zero
 * word as two zeros, a run of zero words as a zero and copies of it, an odd last byte alone.
 * With freq they are counted (ct_huff_count()), otherwise coded into b (ct_huff_deflate()):
 * one walk for both, so that the counts are of what is coded; always inlined with freq a
 * constant, so that each caller gets a loop of its own.
 */
static inline __attribute__((always_inline)) void walk(const ct_huff *h, const uint8_t *p, size_t n,
                                                       uint64_t *freq, bits *b)
{
    const uint8_t *s = p, *end = p + (n & ~(size_t)1);
    while (s < end) {
        const uint16_t w = load16(s);
        if (w && freq) {
            freq[s[0]]++;
            freq[s[1]]++;
            s += 2;
            continue;
        }
        if (w && end - s >= 4) { /* two words in one put when neither is zero and their codes
                                  * fit 32 bits (b500's depths: 10 % faster, the same bits) */
            const uint16_t w2 = load16(s + 2);
            const unsigned l1 = h->pair_len[w], l2 = h->pair_len[w2];
            if (w2 && l1 + l2 <= 32) {
                put(b, h->pair[w] | h->pair[w2] << l1, l1 + l2);
                s += 4;
                continue;
            }
        }
        if (w) {
            put(b, h->pair[w], h->pair_len[w]);
            s += 2;
            continue;
        }
        const uint8_t *q = zeros_end(s + 2, end);
        const size_t nz = (size_t)(q - s);
        if (nz < 4) {
            if (freq)
                freq[0] += 2;
            else
                put(b, h->pair[0], h->pair_len[0]);
            s += 2;
            continue;
        }
        if (freq) {
            freq[0]++;
            RUN_COPIES(nz, L, freq[257 + len_index(L)]++);
        } else {
            put(b, h->code[0], h->len[0]);
            RUN_COPIES(nz, L, put(b, h->run[L], h->run_len[L]));
        }
        s = q;
    }
    if (n & 1) {
        if (freq)
            freq[*end]++;
        else
            put(b, h->code[*end], h->len[*end]);
    }
}

void ct_huff_count(uint64_t freq[CT_HUFF_NSYM], const uint8_t *p, size_t n)
{
    walk(NULL, p, n, freq, NULL);
}

size_t ct_huff_deflate(const ct_huff *h, const uint8_t *p, size_t n, uint8_t *out)
{
    out[0] = 0x78; /* zlib: DEFLATE with a 32 KiB window */
    out[1] = 0x01; /* no dictionary, fastest; (0x78 << 8 | 0x01) is a multiple of 31 */
    bits b = {out + 2, 0, 0};
    for (unsigned i = 0; i < h->head_bits; i += 8)
        put(&b, h->head[i / 8], h->head_bits - i < 8 ? h->head_bits - i : 8);
    walk(h, p, n, NULL, &b);
    put(&b, h->code[256], h->len[256]); /* end of block */
    put_flush(&b);
    const uint32_t a = libdeflate_adler32(1, p, n);
    b.p[0] = (uint8_t)(a >> 24);
    b.p[1] = (uint8_t)(a >> 16);
    b.p[2] = (uint8_t)(a >> 8);
    b.p[3] = (uint8_t)a;
    return (size_t)(b.p + 4 - out);
}
