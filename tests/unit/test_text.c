/* test_text.c — legacy Vietnamese encodings and the detector (libcore/text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iconv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "ct/context.h"
#include "ct/text.h"

/*
 * The Vietnamese letters that are not ASCII: the 12 vowels a ă â e ê i o ô ơ u ư y each with
 * the 5 tones (60), plus ă â ê ô ơ ư đ without tone (7): 67 lowercase, 67 uppercase, 134 in all.
 * Written out by hand, independently of libcore's Unicode-derived tables.
 */
static const char *const LOWER =
    "àáảãạ" "ăằắẳẵặ" "âầấẩẫậ" "èéẻẽẹ" "êềếểễệ" "ìíỉĩị" "òóỏõọ" "ôồốổỗộ" "ơờớởỡợ" "ùúủũụ"
    "ưừứửữự" "ỳýỷỹỵ" "đ";
static const char *const UPPER =
    "ÀÁẢÃẠ" "ĂẰẮẲẴẶ" "ÂẦẤẨẪẬ" "ÈÉẺẼẸ" "ÊỀẾỂỄỆ" "ÌÍỈĨỊ" "ÒÓỎÕỌ" "ÔỒỐỔỖỘ" "ƠỜỚỞỠỢ" "ÙÚỦŨỤ"
    "ƯỪỨỬỮỰ" "ỲÝỶỸỴ" "Đ";

#define NLETTERS 134

/* The 134 letters, each as its own NUL-terminated UTF-8 string. */
static char letters[NLETTERS][5];

static size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

static int split_letters(void)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (const char *p = pass ? UPPER : LOWER; *p;) {
            size_t k = utf8_len((unsigned char)*p);
            if (n < NLETTERS) {
                memcpy(letters[n], p, k);
                letters[n][k] = '\0';
            }
            n++;
            p += k;
        }
    return n;
}

static const ct_encoding LEGACY[] = {CT_ENC_TCVN3, CT_ENC_VNI, CT_ENC_CP1258};

/* Helpers that fail the test with the context's message instead of a bare status. */
static char *enc_ok(ct_ctx *ctx, ct_encoding enc, const char *utf8, size_t *len)
{
    char *out = NULL;
    ct_status st = ct_text_encode(ctx, enc, utf8, &out, len);
    if (st != CT_OK)
        fail_msg("encode '%s' to %s: %s", utf8, ct_encoding_name(enc), ct_ctx_errmsg(ctx));
    return out;
}

static char *dec_ok(ct_ctx *ctx, ct_encoding enc, const char *src, size_t len)
{
    char *out = NULL;
    ct_status st = ct_text_decode(ctx, enc, src, len, &out);
    if (st != CT_OK)
        fail_msg("decode from %s: %s", ct_encoding_name(enc), ct_ctx_errmsg(ctx));
    return out;
}

/* iconv from one encoding to another; NULL when iconv refuses. */
static char *iconv_str(const char *to, const char *from, const char *src, size_t len, size_t *outlen)
{
    iconv_t cd = iconv_open(to, from);
    assert_true(cd != (iconv_t)-1);
    size_t cap = len * 4 + 16, ol = cap;
    char *out = malloc(cap), *op = out, *ip = (char *)src;
    size_t il = len;
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
        free(out);
        iconv_close(cd);
        return NULL;
    }
    iconv_close(cd);
    *op = '\0';
    if (outlen)
        *outlen = (size_t)(op - out);
    return out;
}

/* ---------------------------------------------------------------------------------------- */

static void test_the_alphabet_has_134_letters(void **state)
{
    (void)state;
    assert_int_equal(split_letters(), NLETTERS);
    /* each is one code point, and all differ */
    for (int i = 0; i < NLETTERS; i++) {
        assert_true((unsigned char)letters[i][0] >= 0xC3);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(letters[i], letters[j]);
    }
}

static void test_encoding_names(void **state)
{
    (void)state;
    assert_string_equal(ct_encoding_name(CT_ENC_TCVN3), "tcvn3");
    assert_string_equal(ct_encoding_name(CT_ENC_VNI), "vni");
    assert_string_equal(ct_encoding_name(CT_ENC_CP1258), "cp1258");
    assert_string_equal(ct_encoding_name(CT_ENC_UTF8), "utf8");
    assert_string_equal(ct_encoding_name(CT_ENC_ASCII), "ascii");
    assert_string_equal(ct_encoding_name(CT_ENC_UNKNOWN), "unknown");
    assert_int_equal(ct_encoding_from_name("UTF-8"), CT_ENC_UTF8);
    assert_int_equal(ct_encoding_from_name("abc"), CT_ENC_TCVN3);
    assert_int_equal(ct_encoding_from_name("TCVN"), CT_ENC_TCVN3);
    assert_int_equal(ct_encoding_from_name("tcvn5712"), CT_ENC_TCVN3);
    assert_int_equal(ct_encoding_from_name("VNI-Windows"), CT_ENC_VNI);
    assert_int_equal(ct_encoding_from_name("windows-1258"), CT_ENC_CP1258);
    assert_int_equal(ct_encoding_from_name("1258"), CT_ENC_CP1258);
    assert_int_equal(ct_encoding_from_name("latin1"), CT_ENC_UNKNOWN);
    assert_int_equal(ct_encoding_from_name(NULL), CT_ENC_UNKNOWN);
    for (ct_encoding e = CT_ENC_ASCII; e <= CT_ENC_CP1258; e++)
        assert_int_equal(ct_encoding_from_name(ct_encoding_name(e)), e);
}

/* Byte values checked against glibc iconv TCVN5712-1 by hand (echo -n à | iconv -t TCVN5712-1). */
static void test_tcvn3_known_bytes(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const struct {
        const char *u;
        const char *b;
    } k[] = {
        {"à", "\xB5"}, {"đ", "\xAE"}, {"Đ", "\xA7"}, {"ư", "\xAD"}, {"ơ", "\xAC"}, {"ă", "\xA8"},
        {"â", "\xA9"}, {"ê", "\xAA"}, {"ô", "\xAB"}, {"á", "\xB8"}, {"ấ", "\xCA"}, {"ễ", "\xD4"},
        {"ờ", "\xEA"}, {"ỵ", "\xFE"}, {"Ấ", "\xC4"}, {"Ú", "\x01"}, {"Ý", "\x16"},
        {"Thành", "Th\xB5nh"}, {"Phường", "Ph\xAD\xEAng"}, {"Đất ở", "\xA7\xCA" "t \xEB"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        size_t n;
        char *e = enc_ok(ctx, CT_ENC_TCVN3, k[i].u, &n);
        assert_int_equal(n, strlen(k[i].b));
        assert_memory_equal(e, k[i].b, n);
        char *d = dec_ok(ctx, CT_ENC_TCVN3, k[i].b, strlen(k[i].b));
        assert_string_equal(d, k[i].u);
        free(e);
        free(d);
    }
    ct_ctx_free(ctx);
}

/* The TCVN3 and CP1258 tables come from iconv; check the whole result against iconv anyway:
 * every single byte, and every letter in both directions. */
static void check_against_iconv(ct_encoding enc, const char *iconv_name)
{
    ct_ctx *ctx = ct_ctx_new();
    assert_int_equal(split_letters(), NLETTERS);
    int defined = 0;
    for (int b = 1; b < 256; b++) {
        char in = (char)b, *mine = NULL;
        char *ref = iconv_str("UTF-8", iconv_name, &in, 1, NULL);
        ct_status st = ct_text_decode(ctx, enc, &in, 1, &mine);
        if (!ref) {
            assert_int_equal(st, CT_ERR_ENCODING);
            continue;
        }
        defined++;
        assert_int_equal(st, CT_OK);
        assert_string_equal(mine, ref);
        free(mine);
        free(ref);
    }
    assert_true(defined >= (enc == CT_ENC_TCVN3 ? 255 : 240));
    char all[1024] = "";
    for (int i = 0; i < NLETTERS; i++) {
        size_t n, rn;
        char *mine = enc_ok(ctx, enc, letters[i], &n);
        char *ref = iconv_str(iconv_name, "UTF-8", letters[i], strlen(letters[i]), &rn);
        assert_non_null(ref);
        if (n != rn || memcmp(mine, ref, n) != 0)
            fail_msg("%s: '%s' encodes differently from iconv", iconv_name, letters[i]);
        char *back = iconv_str("UTF-8", iconv_name, mine, n, NULL);
        assert_string_equal(back, letters[i]);
        free(mine), free(ref), free(back);
        strcat(all, letters[i]);
        strcat(all, " ");
    }
    /* and a whole text in one piece, where iconv composes across bytes */
    size_t n, rn;
    char *mine = enc_ok(ctx, enc, all, &n);
    char *ref = iconv_str(iconv_name, "UTF-8", all, strlen(all), &rn);
    assert_int_equal(n, rn);
    assert_memory_equal(mine, ref, n);
    char *d = dec_ok(ctx, enc, ref, rn);
    assert_string_equal(d, all);
    free(mine), free(ref), free(d);
    ct_ctx_free(ctx);
}

static void test_tcvn3_matches_iconv(void **state)
{
    (void)state;
    check_against_iconv(CT_ENC_TCVN3, "TCVN5712-1");
}

static void test_cp1258_matches_iconv(void **state)
{
    (void)state;
    check_against_iconv(CT_ENC_CP1258, "CP1258");
}

static void test_cp1258_combining_marks_compose(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const struct {
        const char *b, *u;
    } k[] = {
        {"a\xEC", "á"},              /* base + combining acute: NFC gives the precomposed letter */
        {"\xE1", "á"},               /* the precomposed byte */
        {"\xE2\xEC", "ấ"},           /* â + acute */
        {"\xD5\xCC", "Ờ"},           /* Ơ + grave */
        {"Nguy\xEA\xDEn", "Nguyễn"}, /* ê + tilde */
        {"Ph\xFD\xF5\xCCng", "Phường"},
        {"\xD0\xE2\xECt", "Đất"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        char *d = dec_ok(ctx, CT_ENC_CP1258, k[i].b, strlen(k[i].b));
        assert_string_equal(d, k[i].u);
        free(d);
    }
    /* the canonical form uses the precomposed byte where there is one */
    size_t n;
    char *e = enc_ok(ctx, CT_ENC_CP1258, "á", &n);
    assert_int_equal(n, 1);
    assert_int_equal((unsigned char)e[0], 0xE1);
    free(e);
    ct_ctx_free(ctx);
}

/* The decoder composes vowel + tone mark itself; every pair must equal iconv + utf8proc NFC. */
static void test_cp1258_tcvn3_pairs_equal_iconv_nfc(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const struct {
        ct_encoding enc;
        const char *name;
        unsigned char marks[5];
    } e[] = {{CT_ENC_CP1258, "CP1258", {0xCC, 0xEC, 0xD2, 0xDE, 0xF2}},
             {CT_ENC_TCVN3, "TCVN5712-1", {0xB0, 0xB1, 0xB2, 0xB3, 0xB4}}};
    int checked = 0;
    for (int k = 0; k < 2; k++)
        for (int b = 0x20; b < 0x100; b++)
            for (int m = 0; m < 5; m++) {
                /* Each byte through iconv on its own, then NFC: glibc's own composition is
                 * looser than Unicode's (CP1258 "Ó" + tilde gives it "Ṍ", whose canonical
                 * decomposition is O + tilde + acute, not O + acute + tilde). */
                char in[3] = {(char)b, (char)e[k].marks[m], 0}, *mine = NULL;
                char *r1 = iconv_str("UTF-8", e[k].name, in, 1, NULL);
                char *r2 = iconv_str("UTF-8", e[k].name, in + 1, 1, NULL);
                if (!r1 || !r2) {
                    free(r1), free(r2);
                    continue;
                }
                char ref[16];
                snprintf(ref, sizeof ref, "%s%s", r1, r2);
                free(r1), free(r2);
                char *nfc = (char *)utf8proc_NFC((const utf8proc_uint8_t *)ref);
                assert_int_equal(ct_text_decode(ctx, e[k].enc, in, 2, &mine), CT_OK);
                if (strcmp(mine, nfc) != 0)
                    fail_msg("%s %02X %02X: '%s', NFC says '%s'", e[k].name, b, e[k].marks[m], mine, nfc);
                free(nfc), free(mine);
                checked++;
            }
    assert_true(checked > 2000);
    ct_ctx_free(ctx);
}

/* VNI-Windows facts: a base letter then a diacritic byte, some letters one byte of their own. */
static void test_vni_known_bytes(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const struct {
        const char *u, *b;
    } k[] = {
        {"à", "a\xF8"},        {"á", "a\xF9"},        {"ả", "a\xFB"},          {"ã", "a\xF5"},
        {"ạ", "a\xEF"},        {"â", "a\xE2"},        {"ấ", "a\xE1"},          {"ầ", "a\xE0"},
        {"ẩ", "a\xE5"},        {"ẫ", "a\xE3"},        {"ậ", "a\xE4"},          {"ă", "a\xEA"},
        {"ắ", "a\xE9"},        {"ằ", "a\xE8"},        {"ẳ", "a\xFA"},          {"ẵ", "a\xFC"},
        {"ặ", "a\xEB"},        {"ơ", "\xF4"},         {"ư", "\xF6"},           {"đ", "\xF1"},
        {"ì", "\xEC"},         {"í", "\xED"},         {"ỉ", "\xE6"},           {"ĩ", "\xF3"},
        {"ị", "\xF2"},         {"ỵ", "\xEE"},         {"ý", "y\xF9"},          {"ớ", "\xF4\xF9"},
        {"Đ", "\xD1"},         {"Ơ", "\xD4"},         {"Ư", "\xD6"},           {"Ị", "\xD2"},
        {"Ỵ", "\xCE"},         {"Á", "A\xD9"},        {"Ấ", "A\xC1"},          {"Ặ", "A\xCB"},
        {"Ờ", "\xD4\xD8"},     {"Phường", "Ph\xF6\xF4\xF8ng"},                 {"Việt Nam", "Vie\xE4t Nam"},
        {"Cần Thơ", "Ca\xE0n Th\xF4"},                 {"địa chỉ", "\xF1\xF2" "a ch\xE6"},
        {"THÀNH PHỐ CẦN THƠ", "THA\xD8NH PHO\xC1 CA\xC0N TH\xD4"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        size_t n;
        char *e = enc_ok(ctx, CT_ENC_VNI, k[i].u, &n);
        if (n != strlen(k[i].b) || memcmp(e, k[i].b, n) != 0)
            fail_msg("VNI '%s' encodes wrongly", k[i].u);
        char *d = dec_ok(ctx, CT_ENC_VNI, k[i].b, strlen(k[i].b));
        assert_string_equal(d, k[i].u);
        free(e);
        free(d);
    }
    ct_ctx_free(ctx);
}

/* Some VNI sources put lowercase diacritic bytes after capitals; the base letter sets the case.
 * The encoder writes the canonical form (uppercase diacritic byte for a capital). */
static void test_vni_mixed_case_variants(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const struct {
        const char *b, *u;
    } k[] = {
        {"A\xF9", "Á"},
        {"PH\xD6\xD4\xF8NG", "PHƯỜNG"},
        {"Ca\xC0n", "Cần"}, /* the other way round: uppercase byte after a lowercase base */
        {"VIE\xE4T NAM", "VIỆT NAM"},
        {"\xD1" "A\xE1T", "ĐẤT"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        char *d = dec_ok(ctx, CT_ENC_VNI, k[i].b, strlen(k[i].b));
        assert_string_equal(d, k[i].u);
        free(d);
    }
    size_t n;
    char *e = enc_ok(ctx, CT_ENC_VNI, "PHƯỜNG", &n);
    assert_int_equal(n, 7);
    assert_memory_equal(e, "PH\xD6\xD4\xD8NG", 7);
    free(e);
    ct_ctx_free(ctx);
}

/* decode(encode(x)) == x and encode(decode(b)) == b for all 134 letters in every encoding. */
static void test_all_letters_round_trip(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    assert_int_equal(split_letters(), NLETTERS);
    static const ct_encoding all[] = {CT_ENC_TCVN3, CT_ENC_VNI, CT_ENC_CP1258, CT_ENC_UTF8};
    for (size_t e = 0; e < sizeof all / sizeof all[0]; e++) {
        int count = 0;
        char text[2048] = "";
        for (int i = 0; i < NLETTERS; i++) {
            size_t n, n2;
            char *b = enc_ok(ctx, all[e], letters[i], &n);
            assert_true(n >= 1 && n <= 3);
            char *u = dec_ok(ctx, all[e], b, n);
            if (strcmp(u, letters[i]) != 0)
                fail_msg("%s: '%s' comes back as '%s'", ct_encoding_name(all[e]), letters[i], u);
            char *b2 = enc_ok(ctx, all[e], u, &n2);
            assert_int_equal(n, n2);
            assert_memory_equal(b, b2, n);
            free(b), free(u), free(b2);
            count++;
            /* the letters also in a word: after a consonant, before a vowel */
            strcat(text, "x");
            strcat(text, letters[i]);
            strcat(text, "a ");
        }
        assert_int_equal(count, 134);
        size_t n;
        char *b = enc_ok(ctx, all[e], text, &n);
        char *u = dec_ok(ctx, all[e], b, n);
        assert_string_equal(u, text);
        free(b), free(u);
    }
    ct_ctx_free(ctx);
}

static void test_utf8_is_validated_and_normalised(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char *d = dec_ok(ctx, CT_ENC_UTF8, "a\xCC\x81", 3); /* a + U+0301 */
    assert_string_equal(d, "á");
    free(d);
    d = dec_ok(ctx, CT_ENC_ASCII, "Phu\xCC\x9Bo\xCC\x9B\xCC\x80ng", 12); /* decomposed Phường */
    assert_string_equal(d, "Phường");
    free(d);
    /* a decomposed ậ with its marks in the other order still composes */
    d = dec_ok(ctx, CT_ENC_UTF8, "a\xCC\x82\xCC\xA3", 5);
    assert_string_equal(d, "ậ");
    free(d);
    d = dec_ok(ctx, CT_ENC_UTF8, "Cần Thơ  ", strlen("Cần Thơ  "));
    assert_string_equal(d, "Cần Thơ  "); /* trailing spaces kept */
    free(d);

    static const struct {
        const char *b;
        size_t len, off;
    } bad[] = {
        {"ab\xC3", 3, 2},            /* cut inside a character */
        {"x\xC0\xAF", 3, 1},         /* overlong '/' */
        {"\xED\xA0\x80", 3, 0},      /* a surrogate */
        {"Th\xE0nh", 5, 2},          /* CP1258 text is not UTF-8 */
        {"ok\0no", 5, 2},            /* NUL inside */
        {"\xF4\x90\x80\x80", 4, 0},  /* above U+10FFFF */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = (char *)1, want[32];
        assert_int_equal(ct_text_decode(ctx, CT_ENC_UTF8, bad[i].b, bad[i].len, &out), CT_ERR_ENCODING);
        assert_null(out);
        snprintf(want, sizeof want, "byte offset %zu: ", bad[i].off);
        if (strncmp(ct_ctx_errmsg(ctx), want, strlen(want)) != 0)
            fail_msg("case %zu: message '%s'", i, ct_ctx_errmsg(ctx));
    }
    ct_ctx_free(ctx);
}

static void test_invalid_legacy_bytes(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const struct {
        ct_encoding enc;
        const char *b;
        size_t len, off;
    } bad[] = {
        {CT_ENC_CP1258, "ab\x81", 3, 2},       /* undefined in Windows-1258 */
        {CT_ENC_VNI, "\xF9" "abc", 4, 0},      /* a tone byte with nothing to mark */
        {CT_ENC_VNI, "b\xF9", 2, 1},           /* a consonant takes no tone */
        {CT_ENC_VNI, "e\xEA", 2, 1},           /* no ĕ in Vietnamese */
        {CT_ENC_VNI, "a\xF9\xF8", 3, 2},       /* two tones */
        {CT_ENC_VNI, "Ph\xFF", 3, 2},          /* unused byte */
        {CT_ENC_TCVN3, "a\0b", 3, 1},          /* NUL */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out = NULL, want[32];
        assert_int_equal(ct_text_decode(ctx, bad[i].enc, bad[i].b, bad[i].len, &out), CT_ERR_ENCODING);
        assert_null(out);
        snprintf(want, sizeof want, "byte offset %zu: ", bad[i].off);
        if (strncmp(ct_ctx_errmsg(ctx), want, strlen(want)) != 0)
            fail_msg("case %zu: message '%s'", i, ct_ctx_errmsg(ctx));
    }
    /* no context: the status alone */
    char *out = NULL;
    assert_int_equal(ct_text_decode(NULL, CT_ENC_VNI, "\xF9", 1, &out), CT_ERR_ENCODING);
    assert_int_equal(ct_text_decode(ctx, CT_ENC_UNKNOWN, "a", 1, &out), CT_ERR_USAGE);
    ct_ctx_free(ctx);
}

static void test_unencodable_characters(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    char *out = NULL;
    assert_int_equal(ct_text_encode(ctx, CT_ENC_TCVN3, "Cần Thơ 中", &out, NULL), CT_ERR_ENCODING);
    assert_null(out);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "U+4E2D"));
    assert_int_equal(ct_text_encode(ctx, CT_ENC_VNI, "Köln", &out, NULL), CT_ERR_ENCODING);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "U+00F6"));
    assert_int_equal(ct_text_encode(ctx, CT_ENC_ASCII, "Thơ", &out, NULL), CT_ERR_ENCODING);
    assert_int_equal(ct_text_encode(ctx, CT_ENC_CP1258, "x\xC3", &out, NULL), CT_ERR_ENCODING);
    assert_non_null(strstr(ct_ctx_errmsg(ctx), "byte offset 1"));
    /* decomposed input is normalised before encoding */
    size_t n;
    char *e = enc_ok(ctx, CT_ENC_TCVN3, "a\xCC\x80", &n);
    assert_int_equal(n, 1);
    assert_int_equal((unsigned char)e[0], 0xB5);
    free(e);
    /* UTF-8 and ASCII encode to themselves (NFC) */
    e = enc_ok(ctx, CT_ENC_UTF8, "Ninh Kiều", &n);
    assert_string_equal(e, "Ninh Kiều");
    free(e);
    e = enc_ok(ctx, CT_ENC_ASCII, "Can Tho", &n);
    assert_string_equal(e, "Can Tho");
    assert_int_equal(n, 7);
    free(e);
    ct_ctx_free(ctx);
}

/* ---------------------------------------------------------------------------------------- */
/* Detection                                                                                 */

/* Cadastral field values of the kind the detector sees: owners, places, land uses. */
static const char *const CORPUS[] = {
    "Nguyễn Văn Thành", "Trần Thị Mỹ Hạnh", "Lê Hoàng Phúc", "Phạm Thị Ngọc Hân",
    "Huỳnh Văn Lợi", "Võ Thị Thu Trang", "Đặng Quốc Tuấn", "Bùi Thị Kim Loan",
    "Dương Minh Khôi", "Lý Thị Hồng Nhung", "Trương Công Định", "Hồ Thị Bích Ngọc",
    "Phường Tân An", "Quận Ninh Kiều", "Phường Hưng Lợi", "Quận Cái Răng",
    "Huyện Phong Điền", "Xã Nhơn Ái", "Quận Bình Thủy", "Phường An Khánh",
    "Quận Ô Môn", "Quận Thốt Nốt", "Huyện Cờ Đỏ", "Ấp Thới Thuận A",
    "Huyện Vĩnh Thạnh", "Phường Trà Nóc", "Thành phố Cần Thơ", "Sông Hậu",
    "Đất ở tại đô thị", "Đất ở tại nông thôn", "Đất trồng lúa nước còn lại",
    "Đất trồng cây lâu năm", "Đất nuôi trồng thủy sản", "Đất cơ sở sản xuất phi nông nghiệp",
    "Đất thương mại, dịch vụ", "Đất giao thông", "Đất thủy lợi", "Đất sông, ngòi, kênh, rạch, suối",
    "Đất nghĩa trang, nghĩa địa", "Đất cơ sở tôn giáo", "Đất xây dựng cơ sở giáo dục và đào tạo",
    "Đất chưa sử dụng", "Đất quốc phòng", "ĐẤT Ở TẠI ĐÔ THỊ", "Đường Nguyễn Văn Cừ",
    "Đường 30 Tháng 4", "Số 12, hẻm 51, đường Trần Hưng Đạo", "Khu vực Thới Lợi, phường Long Hòa",
};
#define NCORPUS (sizeof CORPUS / sizeof CORPUS[0])

static void test_detects_each_field(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const ct_encoding encs[] = {CT_ENC_TCVN3, CT_ENC_VNI, CT_ENC_CP1258, CT_ENC_UTF8};
    assert_true(NCORPUS >= 30);
    int wrong = 0;
    for (size_t e = 0; e < sizeof encs / sizeof encs[0]; e++)
        for (size_t i = 0; i < NCORPUS; i++) {
            size_t n;
            char *b = enc_ok(ctx, encs[e], CORPUS[i], &n);
            double conf = -1;
            ct_encoding got = ct_text_detect(b, n, &conf);
            if (got != encs[e]) {
                print_error("'%s' in %s detected as %s (%.2f)\n", CORPUS[i], ct_encoding_name(encs[e]),
                            ct_encoding_name(got), conf);
                wrong++;
            }
            assert_true(conf > 0.0 && conf <= 1.0);
            free(b);
        }
    assert_int_equal(wrong, 0);
    ct_ctx_free(ctx);
}

/* Many field values of one source, joined as an ingest would sample them. */
static void test_detects_concatenated_fields(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    static const ct_encoding encs[] = {CT_ENC_TCVN3, CT_ENC_VNI, CT_ENC_CP1258, CT_ENC_UTF8};
    static const char *const seps[] = {"\n", "|", "  "};
    for (size_t e = 0; e < sizeof encs / sizeof encs[0]; e++)
        for (size_t s = 0; s < sizeof seps / sizeof seps[0]; s++) {
            char text[8192] = "";
            for (size_t i = 0; i < NCORPUS; i++) {
                strcat(text, CORPUS[i]);
                strcat(text, seps[s]);
            }
            size_t n;
            char *b = enc_ok(ctx, encs[e], text, &n);
            double conf;
            assert_int_equal(ct_text_detect(b, n, &conf), encs[e]);
            assert_true(conf >= 0.5);
            free(b);
        }
    ct_ctx_free(ctx);
}

/* A DBF field cut at its width may end inside a UTF-8 character; the rest still says UTF-8. */
static void test_detects_utf8_with_a_cut_character(void **state)
{
    (void)state;
    const char *s = "Nguyễn Văn Thành|Phường Tân An|Đất ở tại đô th\xE1\xBB";
    double conf;
    assert_int_equal(ct_text_detect(s, strlen(s), &conf), CT_ENC_UTF8);
}

static void test_detect_adversarial(void **state)
{
    (void)state;
    double conf = -1;
    assert_int_equal(ct_text_detect("Can Tho, Ninh Kieu 123", 22, &conf), CT_ENC_ASCII);
    assert_true(conf == 1.0);
    assert_int_equal(ct_text_detect("", 0, &conf), CT_ENC_UNKNOWN);
    assert_true(conf == 0.0);
    assert_int_equal(ct_text_detect("x", 1, NULL), CT_ENC_ASCII);
    /* non-Vietnamese UTF-8 is still UTF-8 */
    assert_int_equal(ct_text_detect("北京 Zürich", strlen("北京 Zürich"), &conf), CT_ENC_UTF8);
    /* random bytes: whatever the guess, it is not a confident one */
    uint32_t x = 12345;
    for (int round = 0; round < 20; round++) {
        unsigned char buf[300];
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (unsigned char)(x >> 16);
        }
        ct_encoding got = ct_text_detect((const char *)buf, sizeof buf, &conf);
        if (conf >= 0.3)
            fail_msg("random bytes detected as %s with confidence %.2f", ct_encoding_name(got), conf);
    }
    /* Latin-1 French is not Vietnamese in any legacy encoding */
    const char *fr = "Ch\xE2teau de la for\xEAt, \xE9t\xE9 \xE0 No\xEBl";
    ct_encoding got = ct_text_detect(fr, strlen(fr), &conf);
    assert_true(got == CT_ENC_UNKNOWN || conf < 0.5);
}

/* Decoding what the detector says gives the text back. */
static void test_detect_then_decode(void **state)
{
    (void)state;
    ct_ctx *ctx = ct_ctx_new();
    for (size_t e = 0; e < 3; e++) {
        size_t n;
        char *b = enc_ok(ctx, LEGACY[e], "Phường Thới An Đông, quận Bình Thủy", &n);
        ct_encoding enc = ct_text_detect(b, n, NULL);
        char *u = dec_ok(ctx, enc, b, n);
        assert_string_equal(u, "Phường Thới An Đông, quận Bình Thủy");
        free(b), free(u);
    }
    ct_ctx_free(ctx);
}

/* The tables are built on first use: many threads at once must all see them whole. */
static void *decode_in_thread(void *arg)
{
    (void)arg;
    char *out = NULL;
    ct_status st = ct_text_decode(NULL, CT_ENC_VNI, "Ph\xF6\xF4\xF8ng", 7, &out);
    intptr_t ok = st == CT_OK && strcmp(out, "Phường") == 0;
    free(out);
    st = ct_text_decode(NULL, CT_ENC_TCVN3, "Th\xB5nh", 5, &out);
    ok = ok && st == CT_OK && strcmp(out, "Thành") == 0;
    free(out);
    return (void *)ok;
}

static void test_first_use_from_many_threads(void **state)
{
    (void)state;
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&t[i], NULL, decode_in_thread, NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        assert_true((intptr_t)ok);
    }
}

/* Folding for matching: case, tone and vowel marks go, đ becomes d, other text stays. */
static void test_fold(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"Thành Phố Cần Thơ", "thanh pho can tho"}, {"QUẬN NINH KIỀU", "quan ninh kieu"},
        {"Đơn_vị", "don_vi"}, {"Phường Tân An", "phuong tan an"}, {"HUYỆN", "huyen"},
        {"Thị xã", "thi xa"}, {"TỈNH", "tinh"}, {"abc 123", "abc 123"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *f = ct_text_fold(cases[i][0]);
        assert_non_null(f);
        assert_string_equal(f, cases[i][1]);
        free(f);
    }
    assert_null(ct_text_fold("bad \xC3 byte"));
}

int main(void)
{
    /* test_first_use_from_many_threads must run first: it checks the lazy table build. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_from_many_threads),
        cmocka_unit_test(test_the_alphabet_has_134_letters),
        cmocka_unit_test(test_encoding_names),
        cmocka_unit_test(test_tcvn3_known_bytes),
        cmocka_unit_test(test_tcvn3_matches_iconv),
        cmocka_unit_test(test_cp1258_matches_iconv),
        cmocka_unit_test(test_cp1258_combining_marks_compose),
        cmocka_unit_test(test_cp1258_tcvn3_pairs_equal_iconv_nfc),
        cmocka_unit_test(test_vni_known_bytes),
        cmocka_unit_test(test_vni_mixed_case_variants),
        cmocka_unit_test(test_all_letters_round_trip),
        cmocka_unit_test(test_utf8_is_validated_and_normalised),
        cmocka_unit_test(test_invalid_legacy_bytes),
        cmocka_unit_test(test_unencodable_characters),
        cmocka_unit_test(test_detects_each_field),
        cmocka_unit_test(test_detects_concatenated_fields),
        cmocka_unit_test(test_detects_utf8_with_a_cut_character),
        cmocka_unit_test(test_detect_adversarial),
        cmocka_unit_test(test_detect_then_decode),
        cmocka_unit_test(test_fold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
