/* Internal: DEFLATE streams of Huffman-coded bytes and runs of zeros (huffman.c). */
#ifndef CT_HUFFMAN_INT_H
#define CT_HUFFMAN_INT_H

#include <stddef.h>
#include <stdint.h>

#define CT_HUFF_NSYM 286 /* DEFLATE's literal/length alphabet: bytes, end of block, lengths */

/* A code for one kind of data (say, one resolution of a raster): its symbols' frequencies are
 * counted on a sample (ct_huff_count()), then every buffer is coded with it (ct_huff_deflate()). */
typedef struct ct_huff ct_huff;

/* Adds to freq what coding the n bytes at p would emit. */
void ct_huff_count(uint64_t freq[CT_HUFF_NSYM], const uint8_t *p, size_t n);

/* The code for these counts (any byte and any run can still be coded); NULL: out of memory. */
ct_huff *ct_huff_new(const uint64_t freq[CT_HUFF_NSYM]);
void ct_huff_free(ct_huff *h);

/* The most bytes ct_huff_deflate() writes for n bytes. */
size_t ct_huff_bound(size_t n);

/* The n bytes at p as a zlib stream (RFC 1950: one DEFLATE block with this code, then the
 * Adler-32) into out, which holds ct_huff_bound(n) bytes; returns its length. */
size_t ct_huff_deflate(const ct_huff *h, const uint8_t *p, size_t n, uint8_t *out);

#endif
