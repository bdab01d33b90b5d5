/* test_huffman.c — Huffman-coded DEFLATE streams (libcore/huffman.c), decoded by libdeflate. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <libdeflate.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "huffman_int.h"

static uint32_t rng = 12345;
static uint32_t next_rand(void) { return rng = rng * 1664525u + 1013904223u; }

/* Codes p with a code counted on sample (p itself when NULL), decodes the stream with
 * libdeflate and checks that the bytes come back; returns the stream's length. */
static size_t round_trip(const uint8_t *p, size_t n, const uint8_t *sample, size_t ns)
{
    uint64_t freq[CT_HUFF_NSYM] = {0};
    ct_huff_count(freq, sample ? sample : p, sample ? ns : n);
    ct_huff *h = ct_huff_new(freq);
    assert_non_null(h);
    uint8_t *z = malloc(ct_huff_bound(n)), *back = malloc(n + 1);
    assert_non_null(z);
    assert_non_null(back);
    size_t zn = ct_huff_deflate(h, p, n, z);
    assert_true(zn <= ct_huff_bound(n));
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t got = 0;
    assert_int_equal(libdeflate_zlib_decompress(d, z, zn, back, n + 1, &got), LIBDEFLATE_SUCCESS);
    assert_int_equal(got, n);
    assert_memory_equal(back, p, n);
    libdeflate_free_decompressor(d);
    ct_huff_free(h);
    free(z);
    free(back);
    return zn;
}

/* Millimetre depths as a TIFF predictor leaves them: 16-bit differences of noise, with dry
 * stretches of zeros of every length around DEFLATE's longest copy (258) and its minimum (3). */
static void test_depth_like_round_trips(void **state)
{
    (void)state;
    const size_t n = 1 << 20;
    uint8_t *p = malloc(n);
    assert_non_null(p);
    size_t i = 0;
    int run = 1;
    while (i < n) {
        if (next_rand() % 4 == 0) { /* a dry stretch: 2 to 1200 zero bytes, whole words */
            size_t z = 2 * (size_t)(run++ % 600 + 1);
            for (size_t k = 0; k < z && i < n; k++)
                p[i++] = 0;
            continue;
        }
        int16_t d = (int16_t)((int)(next_rand() >> 8 & 0x1ff) - 256);
        p[i++] = (uint8_t)d;
        if (i < n)
            p[i++] = (uint8_t)((uint16_t)d >> 8);
    }
    size_t zn = round_trip(p, n, NULL, 0);
    assert_true(zn < n * 3 / 4); /* about 9 bits of noise a word: well below 16 */
    free(p);
}

/* Every run length from 1 to 800 zero bytes at both parities, between non-zero bytes. */
static void test_every_run_length(void **state)
{
    (void)state;
    for (size_t z = 1; z <= 800; z++) {
        for (size_t lead = 0; lead < 2; lead++) {
            const size_t n = lead + z + 3;
            uint8_t p[810];
            memset(p, 0, sizeof p);
            if (lead)
                p[0] = 7;
            p[lead + z] = 9;
            p[lead + z + 1] = 1;
            p[lead + z + 2] = 200;
            round_trip(p, n, NULL, 0);
        }
    }
}

/* A code counted on one sample codes bytes the sample never had; edge lengths too. */
static void test_unseen_bytes_and_edges(void **state)
{
    (void)state;
    uint8_t sample[4096], p[1001];
    for (size_t i = 0; i < sizeof sample; i++)
        sample[i] = (uint8_t)(i % 3); /* 0, 1, 2 only */
    for (size_t i = 0; i < sizeof p; i++)
        p[i] = (uint8_t)next_rand();
    round_trip(p, sizeof p, sample, sizeof sample); /* odd length, all 256 values */
    round_trip(p, 1, sample, sizeof sample);
    round_trip(p, 0, sample, sizeof sample);
    uint8_t zeros[70000] = {0};
    size_t zn = round_trip(zeros, sizeof zeros, NULL, 0); /* runs of 258 one after another */
    assert_true(zn < 2000);
}

/* The sizes follow the counts: no code goes below the bytes' entropy H, and Huffman's stays
 * within H + 1 bits a byte (a skewed sample: 7/8 one byte, the rest any other but zero). */
static void test_code_fits_the_data(void **state)
{
    (void)state;
    const size_t n = 100000;
    uint8_t *p = malloc(n);
    assert_non_null(p);
    double count[256] = {0}, H = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = (next_rand() >> 16) % 8 ? 0x55 : (uint8_t)((next_rand() >> 16) % 255 + 1);
        count[p[i]]++;
    }
    for (int v = 0; v < 256; v++)
        if (count[v])
            H -= count[v] / n * log2(count[v] / n);
    size_t zn = round_trip(p, n, NULL, 0);
    assert_true(H > 1.4 && H < 1.7);
    assert_true(zn * 8.0 > H * n);
    assert_true(zn * 8.0 < (H + 1) * n);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_like_round_trips),
        cmocka_unit_test(test_every_run_length),
        cmocka_unit_test(test_unseen_bytes_and_edges),
        cmocka_unit_test(test_code_fits_the_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
