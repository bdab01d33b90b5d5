/*
 * text.c — legacy Vietnamese encodings (TCVN3, VNI-Windows, Windows-1258) to and from UTF-8.
 *
 * Every conversion is table-driven. The tables are built once per process (pthread_once):
 *   - TCVN3 and CP1258 byte tables come from glibc iconv ("TCVN5712-1", "CP1258"), one byte at
 *     a time, so the code mapping is the library's, not ours; decoding then needs no iconv_t
 *     (which is neither cheap to open nor safe to share between threads).
 *   - VNI-Windows has no iconv table, so its diacritic bytes are written out below; its 0x80-0xBF
 *     punctuation is the Windows-1252 one, taken from iconv "CP1252".
 *   - The 134 Vietnamese letters and their compositions come from utf8proc (Unicode data).
 * Combining marks (CP1258 always, TCVN3 sometimes) are composed with utf8proc's NFC.
 */
#include "ct/text.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

/* ct_error() needs a context; these functions also serve callers (the detector, tests) that
 * have none, so a NULL ctx only loses the message. */
#define TEXT_ERR(ctx, st, ...) ((ctx) ? ct_error((ctx), (st), __VA_ARGS__) : (st))

#define CP_INVALID 0xFFFFFFFFu
#define CP_REPLACEMENT 0xFFFDu

/* ---------------------------------------------------------------------------------------- */
/* Vietnamese letters                                                                        */

/* Vowel ids; the Telex spelling of each is used by the syllable checker of the detector. */
enum { V_A, V_AW, V_AA, V_E, V_EE, V_I, V_O, V_OO, V_OW, V_U, V_UW, V_Y, V_DD, V_COUNT };
static const char *const telex[V_COUNT] = {"a", "aw", "aa", "e", "ee", "i", "o", "oo", "ow", "u", "uw", "y", "dd"};

/* Tones: 0 none, 1 grave (huyền), 2 acute (sắc), 3 hook (hỏi), 4 tilde (ngã), 5 dot (nặng). */
static const uint32_t tone_mark[6] = {0, 0x0300, 0x0301, 0x0309, 0x0303, 0x0323};
enum { MOD_NONE = 0, MOD_CIRC = 1, MOD_BREVE = 2, MOD_HORN = 3 };

/* What a letter is: vowel id, tone, case. vowel == 0xFF: not a Vietnamese letter. */
typedef struct vn_letter {
    uint8_t vowel, tone, upper;
} vn_letter;

/* Latin-1, Latin Extended-A/B up to U+01B0, and the Vietnamese block U+1EA0..U+1EF9. */
#define VN_LO_END 0x1B1
#define VN_HI_BEGIN 0x1EA0
#define VN_HI_END 0x1EFA

/* ---------------------------------------------------------------------------------------- */
/* Encoding tables                                                                           */

typedef struct enc_entry {
    uint32_t cp;
    uint8_t len;
    uint8_t b[3];
} enc_entry;

#define MAP_MAX 640

typedef struct enc_table {
    int ok;               /* 0 when iconv could not build it */
    uint32_t dec[256];    /* code point of each byte, CP_INVALID if undefined */
    uint8_t comb[256];    /* 1 when dec[] is a combining mark: the output needs NFC */
    enc_entry map[MAP_MAX]; /* code point -> bytes, sorted by cp */
    size_t nmap;
} enc_table;

/* VNI: each diacritic byte is (modifier << 4 | tone) + 1; 0 for other bytes. Lowercase forms; the
 * uppercase form of each is 0x20 lower (VNI follows the Latin-1 case pairs). */
static const struct {
    uint8_t byte, mod, tone;
} vni_diacritics[] = {
    {0xF8, MOD_NONE, 1},  {0xF9, MOD_NONE, 2},  {0xFB, MOD_NONE, 3},  {0xF5, MOD_NONE, 4},
    {0xEF, MOD_NONE, 5},  {0xE2, MOD_CIRC, 0},  {0xE0, MOD_CIRC, 1},  {0xE1, MOD_CIRC, 2},
    {0xE5, MOD_CIRC, 3},  {0xE3, MOD_CIRC, 4},  {0xE4, MOD_CIRC, 5},  {0xEA, MOD_BREVE, 0},
    {0xE8, MOD_BREVE, 1}, {0xE9, MOD_BREVE, 2}, {0xFA, MOD_BREVE, 3}, {0xFC, MOD_BREVE, 4},
    {0xEB, MOD_BREVE, 5},
};
/* VNI letters that are one byte of their own (lowercase; uppercase is 0x20 lower). */
static const struct {
    uint8_t byte, vowel, tone;
} vni_singles[] = {
    {0xF4, V_OW, 0}, {0xF6, V_UW, 0}, {0xF1, V_DD, 0}, {0xEC, V_I, 1}, {0xED, V_I, 2},
    {0xE6, V_I, 3},  {0xF3, V_I, 4},  {0xF2, V_I, 5},  {0xEE, V_Y, 5},
};

static struct {
    vn_letter lo[VN_LO_END];
    vn_letter hi[VN_HI_END - VN_HI_BEGIN];
    uint32_t cp[V_COUNT][6][2]; /* vowel, tone, upper -> code point (0: no such letter) */
    int nletters;               /* non-ASCII Vietnamese letters found: 134 */
    enc_table tcvn3, cp1258, vni;
    uint8_t vni_diac[256]; /* (mod << 4 | tone) + 1 for VNI diacritic bytes, else 0 */
} T;

static pthread_once_t T_once = PTHREAD_ONCE_INIT;

static const vn_letter *vn_lookup(uint32_t cp)
{
    const vn_letter *l = NULL;
    if (cp < VN_LO_END)
        l = &T.lo[cp];
    else if (cp >= VN_HI_BEGIN && cp < VN_HI_END)
        l = &T.hi[cp - VN_HI_BEGIN];
    return l && l->vowel != 0xFF ? l : NULL;
}

static size_t put_utf8(char *p, uint32_t c)
{
    if (c < 0x80) {
        p[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        p[0] = (char)(0xC0 | (c >> 6));
        p[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        p[0] = (char)(0xE0 | (c >> 12));
        p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        p[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    p[0] = (char)(0xF0 | (c >> 18));
    p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    p[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s[i] (stored in *cp), or 0 if it is not valid:
 * overlong forms, surrogates and values above U+10FFFF are refused. */
static size_t utf8_next(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    unsigned c = s[i];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len - i < n)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i + k] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* NFC of a short code point sequence; @return the single code point it composes to, or 0. */
static uint32_t compose_seq(const uint32_t *cps, size_t n)
{
    char buf[64];
    size_t len = 0;
    for (size_t i = 0; i < n && len + 4 < sizeof buf; i++)
        len += put_utf8(buf + len, cps[i]);
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)buf, (utf8proc_ssize_t)len, &dst,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    uint32_t cp = 0;
    if (r > 0 && utf8_next(dst, (size_t)r, 0, &cp) != (size_t)r)
        cp = 0;
    free(dst);
    return cp;
}

/* Classifies cp from its Unicode decomposition: a Vietnamese vowel (base a e i o u y with the
 * modifiers Vietnamese allows on it and at most one tone) or đ. */
static void classify_letter(uint32_t cp, vn_letter *out)
{
    out->vowel = 0xFF;
    if (cp == 0x111 || cp == 0x110) {
        *out = (vn_letter){V_DD, 0, cp == 0x110};
        return;
    }
    utf8proc_int32_t d[8];
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, d, 8, UTF8PROC_DECOMPOSE, NULL);
    if (n < 1 || n > 3 || d[0] >= 0x80)
        return;
    int base = d[0], upper = 0;
    if (base >= 'A' && base <= 'Z')
        base += 'a' - 'A', upper = 1;
    int mod = MOD_NONE, tone = 0;
    for (utf8proc_ssize_t k = 1; k < n; k++) {
        int m = MOD_NONE, t = 0;
        switch (d[k]) {
        case 0x0302: m = MOD_CIRC; break;
        case 0x0306: m = MOD_BREVE; break;
        case 0x031B: m = MOD_HORN; break;
        default:
            for (int j = 1; j < 6; j++)
                if ((uint32_t)d[k] == tone_mark[j])
                    t = j;
            if (!t)
                return;
        }
        if ((m && mod) || (t && tone))
            return;
        if (m)
            mod = m;
        if (t)
            tone = t;
    }
    int v;
    switch (base) {
    case 'a': v = mod == MOD_NONE ? V_A : mod == MOD_BREVE ? V_AW : mod == MOD_CIRC ? V_AA : -1; break;
    case 'e': v = mod == MOD_NONE ? V_E : mod == MOD_CIRC ? V_EE : -1; break;
    case 'o': v = mod == MOD_NONE ? V_O : mod == MOD_CIRC ? V_OO : mod == MOD_HORN ? V_OW : -1; break;
    case 'u': v = mod == MOD_NONE ? V_U : mod == MOD_HORN ? V_UW : -1; break;
    case 'i': v = mod == MOD_NONE ? V_I : -1; break;
    case 'y': v = mod == MOD_NONE ? V_Y : -1; break;
    default: v = -1;
    }
    if (v < 0 || (n == 1))
        return;
    *out = (vn_letter){(uint8_t)v, (uint8_t)tone, (uint8_t)upper};
}

/* ---- encode maps ---- */

static int entry_cmp(const void *a, const void *b)
{
    uint32_t x = ((const enc_entry *)a)->cp, y = ((const enc_entry *)b)->cp;
    return x < y ? -1 : x > y;
}

static const enc_entry *map_find(const enc_table *t, uint32_t cp)
{
    size_t lo = 0, hi = t->nmap;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->map[mid].cp < cp)
            lo = mid + 1;
        else if (t->map[mid].cp > cp)
            hi = mid;
        else
            return &t->map[mid];
    }
    return NULL;
}

/* Adds cp -> bytes unless cp is already there (the first, i.e. shortest, form wins). Only used
 * while building, before the map is sorted, so a linear search is fine. */
static void map_add(enc_table *t, uint32_t cp, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i < t->nmap; i++)
        if (t->map[i].cp == cp)
            return;
    if (t->nmap == MAP_MAX || len < 1 || len > 3)
        return;
    enc_entry *e = &t->map[t->nmap++];
    e->cp = cp;
    e->len = (uint8_t)len;
    memcpy(e->b, b, len);
}

/*
 * Encodes a character the map does not hold in an encoding with combining marks (TCVN3,
 * CP1258): the base letter composed with as many of its marks as the encoding has a byte for,
 * then the remaining marks, e.g. CP1258 "ậ" = "â" + combining dot below (as iconv writes it).
 * @return bytes written to out (<= 8), 0 if impossible.
 */
static size_t encode_decomposed(const enc_table *t, uint32_t cp, uint8_t *out)
{
    utf8proc_int32_t d[8];
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, d, 8, UTF8PROC_DECOMPOSE, NULL);
    if (n < 2 || n > 5)
        return 0;
    int nm = (int)n - 1, full = (1 << nm) - 1;
    /* subsets of the marks kept on the base, the largest first */
    for (int kept = nm; kept >= 0; kept--)
        for (int mask = full; mask >= 0; mask--) {
            if (__builtin_popcount((unsigned)mask) != kept)
                continue;
            uint32_t head[5];
            size_t k = 0;
            head[k++] = (uint32_t)d[0];
            for (int j = 0; j < nm; j++)
                if (mask & (1 << j))
                    head[k++] = (uint32_t)d[j + 1];
            uint32_t c = k == 1 ? head[0] : compose_seq(head, k);
            const enc_entry *e = c ? map_find(t, c) : NULL;
            if (!e)
                continue;
            size_t len = e->len;
            memcpy(out, e->b, e->len);
            int j;
            for (j = 0; j < nm; j++) {
                if (mask & (1 << j))
                    continue;
                const enc_entry *m = map_find(t, (uint32_t)d[j + 1]);
                if (!m || len + m->len > 8)
                    break;
                memcpy(out + len, m->b, m->len);
                len += m->len;
            }
            if (j == nm)
                return len;
        }
    return 0;
}

/* Decodes every single byte with iconv; a byte that does not give exactly one character is
 * undefined. glibc's TCVN5712-1 holds a base letter back to compose it with a following mark,
 * hence the flush after each byte. */
static int table_from_iconv(enc_table *t, const char *name, int from, int to)
{
    iconv_t cd = iconv_open("UCS-4LE", name);
    if (cd == (iconv_t)-1)
        return 0;
    for (int b = from; b < to; b++) {
        char in = (char)b, outb[16];
        char *ip = &in, *op = outb;
        size_t il = 1, ol = sizeof outb;
        t->dec[b] = CP_INVALID;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
            continue;
        if (op - outb != 4)
            continue;
        const unsigned char *u = (const unsigned char *)outb;
        t->dec[b] = (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
    }
    iconv_close(cd);
    return 1;
}

static void finish_table(enc_table *t)
{
    for (int b = 0; b < 256; b++) {
        uint32_t c = t->dec[b];
        if (c == CP_INVALID)
            continue;
        if (c < 0x110000) {
            const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)c);
            t->comb[b] = p->combining_class != 0;
        }
        uint8_t byte = (uint8_t)b;
        map_add(t, c, &byte, 1);
    }
    qsort(t->map, t->nmap, sizeof t->map[0], entry_cmp);
}

/* Adds the letters that need more than one byte (found through the sorted single-byte map),
 * then re-sorts. */
static void add_letters_decomposed(enc_table *t)
{
    enc_entry add[V_COUNT * 12];
    size_t nadd = 0;
    for (int v = 0; v < V_COUNT; v++)
        for (int tone = 0; tone < 6; tone++)
            for (int up = 0; up < 2; up++) {
                uint32_t cp = T.cp[v][tone][up];
                uint8_t b[8];
                size_t len;
                if (!cp || map_find(t, cp))
                    continue;
                if ((len = encode_decomposed(t, cp, b)) > 0 && len <= 3) {
                    add[nadd].cp = cp;
                    add[nadd].len = (uint8_t)len;
                    memcpy(add[nadd].b, b, len);
                    nadd++;
                }
            }
    for (size_t i = 0; i < nadd; i++)
        map_add(t, add[i].cp, add[i].b, add[i].len);
    qsort(t->map, t->nmap, sizeof t->map[0], entry_cmp);
}

static void build_vni(void)
{
    enc_table *t = &T.vni;
    /* VNI-Windows fonts keep ASCII and the Windows-1252 punctuation and symbols in 0x80-0xBF; the
     * letters of 0xC0-0xFF are re-drawn as the Vietnamese pieces below, the rest of that range
     * is unused and treated as invalid. */
    for (int b = 0; b < 256; b++)
        t->dec[b] = b < 0x80 ? (uint32_t)b : CP_INVALID;
    enc_table w;
    memset(&w, 0, sizeof w);
    if (table_from_iconv(&w, "CP1252", 0x80, 0xC0))
        for (int b = 0x80; b < 0xC0; b++)
            t->dec[b] = w.dec[b];
    /* The diacritic bytes (see ct_text_decode) are not characters on their own. */
    for (size_t i = 0; i < sizeof vni_diacritics / sizeof vni_diacritics[0]; i++) {
        uint8_t code = (uint8_t)((vni_diacritics[i].mod << 4 | vni_diacritics[i].tone) + 1);
        T.vni_diac[vni_diacritics[i].byte] = code;
        T.vni_diac[vni_diacritics[i].byte - 0x20] = code;
    }
    for (size_t i = 0; i < sizeof vni_singles / sizeof vni_singles[0]; i++) {
        t->dec[vni_singles[i].byte] = T.cp[vni_singles[i].vowel][vni_singles[i].tone][0];
        t->dec[vni_singles[i].byte - 0x20] = T.cp[vni_singles[i].vowel][vni_singles[i].tone][1];
    }
    for (int b = 0; b < 256; b++)
        if (t->dec[b] != CP_INVALID)
            map_add(t, t->dec[b], &(uint8_t){(uint8_t)b}, 1);
    /* Letters written as base + diacritic byte; the diacritic byte takes the letter's case. */
    static const int plain[] = {V_A, V_E, V_I, V_O, V_U, V_Y, V_AW, V_AA, V_EE, V_OO, V_OW, V_UW};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        int v = plain[i];
        int base = v == V_AW || v == V_AA ? V_A : v == V_EE ? V_E : v == V_OO ? V_O : v;
        int mod = v == V_AW ? MOD_BREVE : (v == V_AA || v == V_EE || v == V_OO) ? MOD_CIRC : MOD_NONE;
        for (int tone = 0; tone < 6; tone++)
            for (int up = 0; up < 2; up++) {
                uint32_t cp = T.cp[v][tone][up];
                if (!cp || (mod == MOD_NONE && tone == 0))
                    continue;
                uint8_t b[2];
                b[0] = (uint8_t)(T.cp[base][0][up]); /* ASCII, or the ơ/ư byte below */
                if (base == V_OW || base == V_UW)
                    b[0] = (uint8_t)((base == V_OW ? 0xF4 : 0xF6) - (up ? 0x20 : 0));
                int code = (mod << 4 | tone) + 1, found = 0;
                for (size_t k = 0; k < sizeof vni_diacritics / sizeof vni_diacritics[0]; k++)
                    if ((vni_diacritics[k].mod << 4 | vni_diacritics[k].tone) + 1 == code) {
                        b[1] = (uint8_t)(vni_diacritics[k].byte - (up ? 0x20 : 0));
                        found = 1;
                    }
                if (found)
                    map_add(t, cp, b, 2);
            }
    }
    qsort(t->map, t->nmap, sizeof t->map[0], entry_cmp);
    t->ok = 1;
}

static void build_common_keys(void);

static void build_tables(void)
{
    for (uint32_t c = 0; c < VN_LO_END; c++)
        classify_letter(c, &T.lo[c]);
    for (uint32_t c = VN_HI_BEGIN; c < VN_HI_END; c++)
        classify_letter(c, &T.hi[c - VN_HI_BEGIN]);
    /* ASCII vowels are the toneless plain letters. */
    static const struct {
        char c;
        int v;
    } asc[] = {{'a', V_A}, {'e', V_E}, {'i', V_I}, {'o', V_O}, {'u', V_U}, {'y', V_Y}};
    for (uint32_t c = 0; c < VN_HI_END; c++) {
        const vn_letter *l = vn_lookup(c);
        if (!l)
            continue;
        T.nletters++;
        T.cp[l->vowel][l->tone][l->upper] = c;
    }
    for (size_t i = 0; i < sizeof asc / sizeof asc[0]; i++) {
        int lo = asc[i].c, up = asc[i].c - 'a' + 'A';
        T.cp[asc[i].v][0][0] = (uint32_t)lo;
        T.cp[asc[i].v][0][1] = (uint32_t)up;
        T.lo[lo] = (vn_letter){(uint8_t)asc[i].v, 0, 0};
        T.lo[up] = (vn_letter){(uint8_t)asc[i].v, 0, 1};
    }
    if (table_from_iconv(&T.tcvn3, "TCVN5712-1", 0, 256)) {
        finish_table(&T.tcvn3);
        add_letters_decomposed(&T.tcvn3);
        T.tcvn3.ok = 1;
    }
    if (table_from_iconv(&T.cp1258, "CP1258", 0, 256)) {
        finish_table(&T.cp1258);
        add_letters_decomposed(&T.cp1258);
        T.cp1258.ok = 1;
    }
    build_vni();
    build_common_keys();
}

static void init_tables(void) { pthread_once(&T_once, build_tables); }

/* ---------------------------------------------------------------------------------------- */
/* Names                                                                                     */

const char *ct_encoding_name(ct_encoding enc)
{
    switch (enc) {
    case CT_ENC_ASCII: return "ascii";
    case CT_ENC_UTF8: return "utf8";
    case CT_ENC_TCVN3: return "tcvn3";
    case CT_ENC_VNI: return "vni";
    case CT_ENC_CP1258: return "cp1258";
    default: return "unknown";
    }
}

ct_encoding ct_encoding_from_name(const char *name)
{
    static const struct {
        const char *name;
        ct_encoding enc;
    } names[] = {
        {"ascii", CT_ENC_ASCII},         {"us-ascii", CT_ENC_ASCII},      {"utf8", CT_ENC_UTF8},
        {"utf-8", CT_ENC_UTF8},          {"tcvn3", CT_ENC_TCVN3},         {"abc", CT_ENC_TCVN3},
        {"tcvn", CT_ENC_TCVN3},          {"tcvn5712", CT_ENC_TCVN3},      {"tcvn5712-1", CT_ENC_TCVN3},
        {"tcvn-3", CT_ENC_TCVN3},        {"vni", CT_ENC_VNI},             {"vni-windows", CT_ENC_VNI},
        {"vniwin", CT_ENC_VNI},          {"cp1258", CT_ENC_CP1258},       {"windows-1258", CT_ENC_CP1258},
        {"1258", CT_ENC_CP1258},         {"win1258", CT_ENC_CP1258},      {"cp-1258", CT_ENC_CP1258},
    };
    if (!name)
        return CT_ENC_UNKNOWN;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].enc;
    return CT_ENC_UNKNOWN;
}

static enc_table *table_of(ct_encoding enc)
{
    switch (enc) {
    case CT_ENC_TCVN3: return &T.tcvn3;
    case CT_ENC_CP1258: return &T.cp1258;
    case CT_ENC_VNI: return &T.vni;
    default: return NULL;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Decoding                                                                                  */

/* Why a decode stopped. */
typedef struct dec_err {
    size_t off;
    const char *why;
    unsigned byte;
} dec_err;

/* NFC of s[0..len) into a new string; frees s. NULL if out of memory. */
static char *nfc_take(char *s, size_t len, size_t *outlen)
{
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &dst,
                                      UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    free(s);
    if (r < 0) {
        free(dst);
        return NULL;
    }
    if (outlen)
        *outlen = (size_t)r;
    return (char *)dst;
}

static int is_ascii(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] & 0x80)
            return 0;
    return 1;
}

/*
 * Decodes src into a new NFC UTF-8 string. Strict mode stops at the first bad byte (filling
 * *err); lenient mode (the detector) writes U+FFFD for it and counts it in *nbad.
 * @return the string, or NULL (error in strict mode, or out of memory: err->why NULL).
 */
static char *decode_impl(ct_encoding enc, const unsigned char *s, size_t len, int lenient,
                         dec_err *err, size_t *nbad, size_t *outlen)
{
    err->why = NULL;
    if (nbad)
        *nbad = 0;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int need_nfc = 0;

#define BAD(off_, why_)                                                                        \
    do {                                                                                       \
        if (!lenient) {                                                                        \
            err->off = (off_), err->why = (why_), err->byte = s[off_];                         \
            free(out);                                                                         \
            return NULL;                                                                       \
        }                                                                                      \
        ++*nbad;                                                                               \
        o += put_utf8(out + o, CP_REPLACEMENT);                                                \
    } while (0)

    if (enc == CT_ENC_UTF8 || enc == CT_ENC_ASCII) {
        for (size_t i = 0; i < len;) {
            uint32_t c;
            size_t n = utf8_next(s, len, i, &c);
            if (n == 0) {
                BAD(i, "invalid UTF-8 sequence");
                i++;
                continue;
            }
            if (c == 0) {
                BAD(i, "NUL byte");
                i++;
                continue;
            }
            memcpy(out + o, s + i, n);
            o += n;
            /* Latin up to U+02FF and the precomposed U+1E00-U+1EFF are NFC whatever their
             * neighbours; only other text pays for utf8proc. */
            need_nfc |= c >= 0x300 && (c < 0x1E00 || c > 0x1EFF);
            i += n;
        }
    } else if (enc == CT_ENC_VNI) {
        const enc_table *t = &T.vni;
        /* Where the last character starts in out and what it is, while it can still take a
         * diacritic byte. */
        size_t last_at = 0;
        const vn_letter *last = NULL;
        for (size_t i = 0; i < len; i++) {
            unsigned b = s[i];
            uint8_t d = T.vni_diac[b];
            if (d) {
                int mod = (d - 1) >> 4, tone = (d - 1) & 15;
                uint32_t c = 0;
                if (last && last->tone == 0) {
                    int v = last->vowel;
                    if (mod == MOD_CIRC)
                        v = v == V_A ? V_AA : v == V_E ? V_EE : v == V_O ? V_OO : -1;
                    else if (mod == MOD_BREVE)
                        v = v == V_A ? V_AW : -1;
                    if (v >= 0 && v != V_DD)
                        c = T.cp[v][tone][last->upper];
                }
                if (!c) {
                    BAD(i, "VNI diacritic byte does not follow a letter it can mark");
                    last = NULL;
                    continue;
                }
                o = last_at + put_utf8(out + last_at, c);
                last = vn_lookup(c);
                continue;
            }
            uint32_t c = t->dec[b];
            if (c == CP_INVALID || c == 0) {
                BAD(i, c == 0 ? "NUL byte" : "byte is not used in VNI-Windows");
                last = NULL;
                continue;
            }
            last_at = o;
            o += put_utf8(out + o, c);
            last = vn_lookup(c);
        }
    } else {
        const enc_table *t = table_of(enc);
        /* A tone mark after a toneless vowel is composed here (what NFC would do, without its
         * cost); anything else with a mark goes through utf8proc below. */
        size_t last_at = 0;
        const vn_letter *last = NULL;
        for (size_t i = 0; i < len; i++) {
            uint32_t c = t->dec[s[i]];
            if (c == CP_INVALID || c == 0) {
                BAD(i, c == 0 ? "NUL byte" : "byte is not defined in this encoding");
                last = NULL;
                continue;
            }
            if (t->comb[s[i]]) {
                int tone = 0;
                for (int j = 1; j < 6; j++)
                    if (c == tone_mark[j])
                        tone = j;
                uint32_t pc = last && last->tone == 0 && last->vowel != V_DD && tone
                                  ? T.cp[last->vowel][tone][last->upper] : 0;
                if (pc) {
                    o = last_at + put_utf8(out + last_at, pc);
                    last = NULL;
                    continue;
                }
                need_nfc = 1;
            }
            last_at = o;
            o += put_utf8(out + o, c);
            last = vn_lookup(c);
        }
    }
#undef BAD
    out[o] = '\0';
    if (!need_nfc) {
        if (outlen)
            *outlen = o;
        return out;
    }
    return nfc_take(out, o, outlen);
}

ct_status ct_text_decode(ct_ctx *ctx, ct_encoding enc, const char *src, size_t len, char **out)
{
    if (!out)
        return TEXT_ERR(ctx, CT_ERR_USAGE, "ct_text_decode: no output pointer");
    *out = NULL;
    if (!src && len)
        return TEXT_ERR(ctx, CT_ERR_USAGE, "ct_text_decode: no input");
    if (enc < CT_ENC_ASCII || enc > CT_ENC_CP1258)
        return TEXT_ERR(ctx, CT_ERR_USAGE, "cannot decode from encoding '%s'", ct_encoding_name(enc));
    const unsigned char *s = (const unsigned char *)(src ? src : "");
    /* Pure ASCII reads alike in every encoding but TCVN3 (capitals in C0 positions). */
    if (enc != CT_ENC_TCVN3 && is_ascii(s, len) && !memchr(s, 0, len)) {
        if (!(*out = malloc(len + 1)))
            return TEXT_ERR(ctx, CT_ERR_NOMEM, "out of memory");
        memcpy(*out, s, len);
        (*out)[len] = '\0';
        return CT_OK;
    }
    init_tables();
    if (table_of(enc) && !table_of(enc)->ok)
        return TEXT_ERR(ctx, CT_ERR_UNSUPPORTED, "iconv has no table for %s", ct_encoding_name(enc));
    dec_err e;
    *out = decode_impl(enc, s, len, 0, &e, NULL, NULL);
    if (*out)
        return CT_OK;
    if (!e.why)
        return TEXT_ERR(ctx, CT_ERR_NOMEM, "out of memory");
    return TEXT_ERR(ctx, CT_ERR_ENCODING, "byte offset %zu: %s (0x%02X, %s)", e.off, e.why, e.byte,
                    ct_encoding_name(enc));
}

/* ---------------------------------------------------------------------------------------- */
/* Encoding                                                                                  */

ct_status ct_text_encode(ct_ctx *ctx, ct_encoding enc, const char *utf8, char **out, size_t *outlen)
{
    if (!out)
        return TEXT_ERR(ctx, CT_ERR_USAGE, "ct_text_encode: no output pointer");
    *out = NULL;
    if (outlen)
        *outlen = 0;
    if (!utf8)
        return TEXT_ERR(ctx, CT_ERR_USAGE, "ct_text_encode: no input");
    if (enc < CT_ENC_ASCII || enc > CT_ENC_CP1258)
        return TEXT_ERR(ctx, CT_ERR_USAGE, "cannot encode to encoding '%s'", ct_encoding_name(enc));
    init_tables();
    const enc_table *t = table_of(enc);
    if (t && !t->ok)
        return TEXT_ERR(ctx, CT_ERR_UNSUPPORTED, "iconv has no table for %s", ct_encoding_name(enc));

    /* Validate and bring to NFC, so that decomposed input finds its precomposed letters. */
    size_t len = strlen(utf8), n;
    dec_err e;
    char *nfc = decode_impl(CT_ENC_UTF8, (const unsigned char *)utf8, len, 0, &e, NULL, &n);
    if (!nfc) {
        if (!e.why)
            return TEXT_ERR(ctx, CT_ERR_NOMEM, "out of memory");
        return TEXT_ERR(ctx, CT_ERR_ENCODING, "byte offset %zu: %s (0x%02X)", e.off, e.why, e.byte);
    }
    if (enc == CT_ENC_UTF8 || (enc == CT_ENC_ASCII && is_ascii((const unsigned char *)nfc, n))) {
        *out = nfc;
        if (outlen)
            *outlen = n;
        return CT_OK;
    }
    if (enc == CT_ENC_ASCII) {
        free(nfc);
        return TEXT_ERR(ctx, CT_ERR_ENCODING, "text is not ASCII");
    }
    /* At most 8 bytes per character (a decomposed fallback), one character per UTF-8 byte. */
    char *buf = malloc(n * 8 + 1);
    if (!buf) {
        free(nfc);
        return TEXT_ERR(ctx, CT_ERR_NOMEM, "out of memory");
    }
    size_t o = 0, nchar = 0;
    for (size_t i = 0; i < n; nchar++) {
        uint32_t c;
        size_t k = utf8_next((const unsigned char *)nfc, n, i, &c);
        const enc_entry *m = map_find(t, c);
        if (m) {
            memcpy(buf + o, m->b, m->len);
            o += m->len;
        } else {
            size_t w = enc == CT_ENC_VNI ? 0 : encode_decomposed(t, c, (uint8_t *)buf + o);
            if (!w) {
                char u[5] = {0};
                put_utf8(u, c);
                free(nfc);
                free(buf);
                return TEXT_ERR(ctx, CT_ERR_ENCODING, "character %zu (U+%04X '%s') cannot be written in %s",
                                nchar + 1, (unsigned)c, u, ct_encoding_name(enc));
            }
            o += w;
        }
        i += k;
    }
    free(nfc);
    buf[o] = '\0';
    *out = buf;
    if (outlen)
        *outlen = o;
    return CT_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Detection                                                                                 */

/* Vietnamese rhymes (vần) without tone, spelled in Telex (ă aw, â aa, ê ee, ô oo, ơ ow, ư uw),
 * sorted for bsearch. A syllable is an onset from onsets[] followed by one of these. */
static const char *const rhymes[] = {
    "a", "aac", "aam", "aan", "aang", "aap", "aat", "aau", "aay", "ac", "ach", "ai", "am", "an",
    "ang", "anh", "ao", "ap", "at", "au", "awc", "awm", "awn", "awng", "awp", "awt", "ay", "e",
    "ec", "ee", "eech", "eem", "een", "eenh", "eep", "eet", "eeu", "em", "en", "eng", "eo", "ep",
    "et", "i", "ia", "ich", "ieec", "ieem", "ieen", "ieeng", "ieep", "ieet", "ieeu", "im", "in",
    "inh", "ip", "it", "iu", "o", "oa", "oac", "oach", "oai", "oam", "oan", "oang", "oanh", "oao",
    "oap", "oat", "oawc", "oawm", "oawn", "oawng", "oawt", "oay", "oc", "oe", "oen", "oeo", "oet",
    "oi", "om", "on", "ong", "oo", "ooc", "ooi", "oom", "oon", "oong", "oop", "oot", "op", "ot",
    "ow", "owi", "owm", "own", "owp", "owt", "u", "ua", "uaan", "uaang", "uaat", "uaay", "uc",
    "uee", "ueech", "ueenh", "ui", "um", "un", "ung", "uooc", "uooi", "uoom", "uoon", "uoong",
    "uoot", "uow", "up", "ut", "uw", "uwa", "uwc", "uwi", "uwm", "uwn", "uwng", "uwowc", "uwowi",
    "uwowm", "uwown", "uwowng", "uwowp", "uwowt", "uwowu", "uwt", "uwu", "uy", "uya", "uych",
    "uyeen", "uyeet", "uyn", "uynh", "uyt", "uyu", "y", "ych", "yeem", "yeen", "yeet", "yeeu",
    "ynh", "yt",
};
static const char *const onsets[] = {
    "", "b", "c", "ch", "d", "dd", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng",
    "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
};

static int str_cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Counts of a decoding's evidence. */
typedef struct vn_score {
    size_t good;  /* words with non-ASCII letters that are Vietnamese syllables */
    size_t bad;   /* words with non-ASCII letters that are not */
    size_t odd;   /* non-ASCII symbols and control characters outside words */
    size_t nbad;  /* bytes not valid in the encoding */
    size_t common; /* good words that are among the common syllables below */
} vn_score;

/* Syllables common in cadastral data (names, places, land uses). Only a tie-break: between two
 * readings that are both Vietnamese, "Lê" beats "Lờ". Matched as Telex + tone digit keys. */
static const char *const common_words[] = {
    "nguyễn", "trần", "lê", "phạm", "hoàng", "huỳnh", "phan", "vũ", "võ", "đặng", "bùi", "đỗ",
    "hồ", "ngô", "dương", "lý", "văn", "thị", "hữu", "đức", "công", "quang", "minh", "thành",
    "hùng", "dũng", "tuấn", "anh", "hoa", "hương", "lan", "mai", "hạnh", "ngọc", "thu", "trang",
    "hà", "hải", "sơn", "tâm", "tân", "an", "bình", "phú", "phước", "lộc", "thọ", "thới", "long",
    "hưng", "thạnh", "vĩnh", "đông", "tây", "nam", "bắc", "cần", "thơ", "ninh", "kiều", "cái",
    "răng", "ô", "môn", "thốt", "nốt", "phong", "điền", "cờ", "đỏ", "hậu", "giang", "sông",
    "kênh", "rạch", "ấp", "xã", "phường", "quận", "huyện", "phố", "đường", "số", "hẻm", "khu",
    "vực", "đất", "ở", "tại", "đô", "nông", "thôn", "trồng", "lúa", "nước", "cây", "lâu", "năm",
    "hàng", "thủy", "thuỷ", "sản", "lợi", "rừng", "chuyên", "dùng", "giao", "cơ", "sở", "xuất",
    "kinh", "doanh", "dịch", "vụ", "thương", "mại", "nghĩa", "địa", "giáo", "dục", "tôn", "tín",
    "ngưỡng", "quốc", "phòng", "chưa", "sử", "dụng", "làm", "nhà", "ủy", "uỷ", "ban", "nhân",
    "dân", "hộ", "gia", "đình", "cá", "diện", "tích", "thửa", "tờ", "bản", "đồ", "mục", "đích",
    "tư", "bảy", "út", "tám", "chín", "mười", "hai", "ba", "bà", "ông", "chùa", "miếu", "cồn",
    "cù", "lao", "hòa", "hoà", "khánh", "thuận", "trà", "nóc", "lại", "còn", "xây", "dựng",
    "đào", "tạo", "văn", "hóa", "hoá", "y", "tế", "thể", "thao", "chợ", "cầu", "bến", "cảng",
};
#define COMMON_KEY 20
static char common_keys[sizeof common_words / sizeof common_words[0]][COMMON_KEY];
static size_t ncommon_keys;

#define WORD_MAX 8 /* "nghiêng" has 7 letters; a longer word is not one syllable */

/* The word being read: per letter its vowel id (-1 for a consonant), case and where its Telex
 * spelling starts; the tone and which letter carries it. */
typedef struct word_state {
    size_t n;
    int nonascii, foreign, ntone, tone, tone_at;
    int vowel[WORD_MAX], upper[WORD_MAX], tpos[WORD_MAX + 1];
    char telex[WORD_MAX * 2 + 1];
    size_t tl;
} word_state;

static int is_modified(int v) { return v == V_AW || v == V_AA || v == V_EE || v == V_OO || v == V_OW || v == V_UW; }

/*
 * Whether the tone sits where Vietnamese spelling puts it, for the rhyme letters r0..n-1: on a
 * lone vowel; on the (last) vowel with a modifier (ă â ê ô ơ ư: "người", "tuổi"); before a final
 * consonant on the last vowel ("toán"); in an open syllable on the first of two vowels ("mái",
 * "múa"), either one of oa/oe/uy (old and new styles: "hòa"/"hoà"), the middle one of three.
 */
static int tone_in_place(const word_state *w, size_t r0)
{
    if (!w->tone)
        return 1;
    int v[WORD_MAX], nv = 0, last_mod = -1;
    for (size_t i = r0; i < w->n; i++)
        if (w->vowel[i] >= 0) {
            if (is_modified(w->vowel[i]))
                last_mod = (int)i;
            v[nv++] = (int)i;
        }
    if (nv == 0)
        return 0;
    int coda = w->vowel[w->n - 1] < 0, at = w->tone_at;
    if (nv == 1)
        return at == v[0];
    if (last_mod >= 0)
        return at == last_mod;
    if (coda)
        return at == v[nv - 1];
    if (nv == 2) {
        int a = w->vowel[v[0]], b = w->vowel[v[1]];
        if ((a == V_O && (b == V_A || b == V_E)) || (a == V_U && b == V_Y))
            return at == v[0] || at == v[1];
        return at == v[0];
    }
    return at == v[1];
}

/* Whether the word is a Vietnamese syllable: an onset from onsets[], a rhyme from rhymes[], the
 * tone in its place, and only the acute or dot-below tone on a syllable closed by c, ch, p, t. */
static int is_syllable(const word_state *w)
{
    size_t n = w->tl;
    const char *s = w->telex;
    for (size_t i = 0; i < sizeof onsets / sizeof onsets[0]; i++) {
        if (onsets[i][0] && onsets[i][0] != s[0])
            continue; /* (most onsets, cheaply) */
        size_t k = strlen(onsets[i]), r0 = 0;
        if (k >= n || strncmp(s, onsets[i], k) != 0)
            continue;
        while (r0 < w->n && (size_t)w->tpos[r0] < k)
            r0++;
        if ((size_t)w->tpos[r0] != k)
            continue; /* the split would cut a letter (đ is "dd") */
        const char *r = s + k;
        if (!bsearch(&r, rhymes, sizeof rhymes / sizeof rhymes[0], sizeof rhymes[0], str_cmp))
            continue;
        char last = s[n - 1];
        if ((last == 'c' || last == 'p' || last == 't' || (last == 'h' && s[n - 2] == 'c')) &&
            w->tone != 2 && w->tone != 5)
            continue;
        if (!tone_in_place(w, r0))
            continue;
        return 1;
    }
    return 0;
}

/* Appends a letter (l from vn_lookup, NULL for an ASCII consonant) to the word. */
static void word_add(word_state *w, uint32_t c, const vn_letter *l)
{
    if (w->n < WORD_MAX) {
        const char *tx = l ? telex[l->vowel] : NULL;
        char one[2] = {(char)(c | 0x20), 0};
        if (!tx)
            tx = one;
        size_t tl = strlen(tx);
        w->upper[w->n] = l ? l->upper : c < 'a';
        w->vowel[w->n] = l && l->vowel != V_DD ? l->vowel : -1;
        w->tpos[w->n] = (int)w->tl;
        memcpy(w->telex + w->tl, tx, tl);
        w->tl += tl;
        if (l && l->tone) {
            w->tone = l->tone;
            w->tone_at = (int)w->n;
        }
    }
    w->n++;
    if (c >= 0x80)
        w->nonascii = 1;
    if (l && l->tone)
        w->ntone++;
    if (c < 0x80 && strchr("fjwzFJWZ", (int)c))
        w->foreign = 1;
}

/* "nguyễn" -> "nguyeen4" (without snprintf: a key for every word of a source's sample, and
 * printf in this process goes down glibc's slow path, see put_int in ingest.c) */
static void word_key(const word_state *w, char *key)
{
    size_t n = w->tl < COMMON_KEY - 1 ? w->tl : COMMON_KEY - 1;
    memcpy(key, w->telex, n);
    if (n < COMMON_KEY - 1)
        key[n++] = (char)('0' + w->tone);
    key[n] = '\0';
}

static int key_cmp(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static void build_common_keys(void)
{
    for (size_t i = 0; i < sizeof common_words / sizeof common_words[0]; i++) {
        word_state w;
        memset(&w, 0, sizeof w);
        const unsigned char *p = (const unsigned char *)common_words[i];
        size_t len = strlen(common_words[i]);
        for (size_t k = 0; k < len;) {
            uint32_t c;
            size_t m = utf8_next(p, len, k, &c);
            if (!m)
                break;
            k += m;
            const vn_letter *l = vn_lookup(c);
            word_add(&w, c, l);
        }
        word_key(&w, common_keys[ncommon_keys++]);
    }
    qsort(common_keys, ncommon_keys, COMMON_KEY, key_cmp);
}

static void word_end(word_state *w, vn_score *sc)
{
    if (w->n && w->nonascii) {
        int ok = !w->foreign && w->n <= WORD_MAX && w->ntone <= 1;
        if (ok) {
            int all_up = 1, rest_low = 1;
            for (size_t i = 0; i < w->n; i++) {
                all_up &= w->upper[i];
                if (i)
                    rest_low &= !w->upper[i];
            }
            ok = all_up || rest_low;
        }
        if (ok) {
            w->telex[w->tl] = '\0';
            w->tpos[w->n] = (int)w->tl;
            ok = is_syllable(w);
        }
        if (ok) {
            char key[COMMON_KEY];
            word_key(w, key);
            sc->good++;
            sc->common += bsearch(key, common_keys, ncommon_keys, COMMON_KEY, key_cmp) != NULL;
        } else {
            sc->bad++;
        }
    }
    memset(w, 0, sizeof *w);
}

static void score_utf8(const char *u, size_t n, vn_score *sc)
{
    word_state w;
    memset(&w, 0, sizeof w);
    const unsigned char *s = (const unsigned char *)u;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t k = utf8_next(s, n, i, &c);
        if (!k) { /* cannot happen: the decoders write valid UTF-8 */
            i++;
            continue;
        }
        i += k;
        const vn_letter *l = vn_lookup(c);
        int ascii_letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
        if (l || ascii_letter) {
            word_add(&w, c, l);
            continue;
        }
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
        if (c != CP_REPLACEMENT && cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ME) {
            /* a letter or mark that Vietnamese does not use: part of the word, spoils it */
            w.n++;
            w.nonascii = w.foreign = 1;
            continue;
        }
        word_end(&w, sc);
        if (c == CP_REPLACEMENT)
            continue; /* counted in nbad */
        if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
            sc->odd++;
    }
    word_end(&w, sc);
}

/* A value in [0, 1]: the share of the evidence that says "Vietnamese in this encoding". */
static double score_value(const vn_score *sc)
{
    double den = (double)sc->good + (double)sc->bad + (double)sc->odd + 2.0 * (double)sc->nbad;
    /* a plausible but uncommon syllable counts 0.9, a common one 1 */
    return den > 0 ? (0.9 * (double)sc->good + 0.1 * (double)sc->common) / den : 0.0;
}

static double score_encoding(ct_encoding enc, const unsigned char *s, size_t len, vn_score *sc)
{
    memset(sc, 0, sizeof *sc);
    dec_err e;
    size_t n;
    char *u = decode_impl(enc, s, len, 1, &e, &sc->nbad, &n);
    if (!u)
        return -1.0;
    /* NUL separates concatenated fields: not evidence either way. */
    score_utf8(u, n, sc);
    free(u);
    return score_value(sc);
}

/* Control bytes that TCVN 5712 VN1 uses for capitals (Ú Ụ Ừ ... Ỵ), from the iconv table. */
static int tcvn3_c0_letter(unsigned b) { return b < 0x20 && T.tcvn3.ok && vn_lookup(T.tcvn3.dec[b]); }

ct_encoding ct_text_detect(const char *src, size_t len, double *confidence)
{
    double dummy;
    if (!confidence)
        confidence = &dummy;
    *confidence = 0.0;
    if (!src || len == 0)
        return CT_ENC_UNKNOWN;
    init_tables();
    const unsigned char *s = (const unsigned char *)src;

    if (is_ascii(s, len)) {
        int c0 = 0;
        for (size_t i = 0; i < len && !c0; i++)
            c0 = tcvn3_c0_letter(s[i]);
        vn_score sc;
        /* A capital like "Ý" is a control byte in TCVN3: say TCVN3 only when such bytes make
         * Vietnamese words, and nothing else speaks against it. */
        if (c0 && score_encoding(CT_ENC_TCVN3, s, len, &sc) >= 0.99 && sc.good > 0) {
            *confidence = 0.5;
            return CT_ENC_TCVN3;
        }
        *confidence = 1.0;
        return CT_ENC_ASCII;
    }

    static const ct_encoding cand[] = {CT_ENC_UTF8, CT_ENC_TCVN3, CT_ENC_VNI, CT_ENC_CP1258};
    double sv[4];
    vn_score sc[4];
    for (int i = 0; i < 4; i++) {
        if (table_of(cand[i]) && !table_of(cand[i])->ok) {
            sv[i] = -1.0;
            continue;
        }
        sv[i] = score_encoding(cand[i], s, len, &sc[i]);
    }
    /* Valid UTF-8 with multibyte sequences is almost never an accident of 8-bit text (it takes
     * a lead byte followed by the right number of 0x80-0xBF bytes, every time): it wins. Partly
     * valid UTF-8 (fields cut inside a character) just competes on its score. */
    if (sv[0] >= 0 && sc[0].nbad == 0) {
        double other = 0.0;
        for (int i = 1; i < 4; i++)
            if (sv[i] > other)
                other = sv[i];
        double c = 0.5 + 0.5 * sv[0] - 0.5 * other;
        *confidence = c < 0.25 ? 0.25 : c > 1.0 ? 1.0 : c;
        return CT_ENC_UTF8;
    }
    int best = -1, second = -1;
    for (int i = 0; i < 4; i++) {
        if (best < 0 || sv[i] > sv[best])
            second = best, best = i;
        else if (second < 0 || sv[i] > sv[second])
            second = i;
    }
    double b = sv[best] > 0 ? sv[best] : 0.0, r = second >= 0 && sv[second] > 0 ? sv[second] : 0.0;
    if (b < 0.2) {
        /* nothing reads as Vietnamese: no answer, and how little the best one fits */
        *confidence = b - r;
        return CT_ENC_UNKNOWN;
    }
    *confidence = b - r;
    return cand[best];
}

char *ct_text_fold(const char *utf8)
{
    utf8proc_uint8_t *f = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)utf8, 0, &f,
                                      UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
                                          UTF8PROC_STRIPMARK);
    if (n < 0)
        return NULL;
    /* đ (U+0111, C4 91 in UTF-8) is a letter of its own, not d with a mark: utf8proc keeps it */
    char *s = (char *)f, *w = s;
    for (const char *r = s; *r; r++) {
        if ((unsigned char)r[0] == 0xC4 && (unsigned char)r[1] == 0x91) {
            *w++ = 'd';
            r++;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return s;
}
