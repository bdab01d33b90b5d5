/*
 * ct/text.h — legacy Vietnamese text encodings: decoding to UTF-8 (NFC), encoding back, and a
 * detector that says which encoding a byte string most likely is.
 *
 * Why this module exists
 * ----------------------
 * Cadastral data made before Unicode was common stores Vietnamese in one of three 8-bit forms:
 *
 *   TCVN3 (ABC)   TCVN 5712:1993, one byte per letter, all 134 Vietnamese letters precomposed
 *                 (the VN1 repertoire; glibc iconv calls it TCVN5712-1).
 *   VNI-Windows   a base letter followed by a diacritic byte ("a" + 0xF8 = "à"); iconv has no
 *                 table for it.
 *   Windows-1258  Microsoft's code page: some precomposed letters plus combining tone marks.
 *
 * GDAL 3.6's shapefile recoding drops the last character of such strings (GDAL issue #2045), so
 * ctgis reads raw DBF bytes and decodes them here. Output is always UTF-8 in Unicode NFC, so that
 * "Phường" compares equal however it was typed. UTF-8 input is normalised to NFC as well.
 *
 * Strings returned by this module are malloc()ed; the caller frees them with free().
 */
#ifndef CT_TEXT_H
#define CT_TEXT_H

#include <stddef.h>
#include "ct/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_encoding {
    CT_ENC_UNKNOWN = 0, /**< from the detector: nothing reads as Vietnamese, or empty input */
    CT_ENC_ASCII,       /**< from the detector: only 7-bit bytes, every encoding reads it alike */
    CT_ENC_UTF8,
    CT_ENC_TCVN3,
    CT_ENC_VNI,
    CT_ENC_CP1258
} ct_encoding;

/** The encoding's name as used on the command line: "ascii", "utf8", "tcvn3", "vni", "cp1258"
 *  ("unknown" for CT_ENC_UNKNOWN). */
const char *ct_encoding_name(ct_encoding enc);

/**
 * Parses an encoding name, case-insensitive, accepting the usual aliases ("utf-8", "abc",
 * "tcvn", "tcvn5712", "vni-windows", "windows-1258", "1258"). @return CT_ENC_UNKNOWN if unknown.
 */
ct_encoding ct_encoding_from_name(const char *name);

/**
 * Decodes len bytes of src in encoding enc to a new NUL-terminated UTF-8 string in NFC.
 * CT_ENC_ASCII and CT_ENC_UTF8 validate (and normalise) UTF-8. Trailing spaces are kept.
 * A NUL byte is an error (it would cut the C string short): strip DBF padding first.
 * VNI: a diacritic byte must follow a vowel it can mark; the base letter gives the case, so the
 * lowercase diacritic bytes some sources put after capitals are read too ("A" + 0xF9 = "Á").
 * @return CT_OK and *out (free with free()), or CT_ERR_ENCODING with a message giving the byte
 * offset of the first sequence that is not valid in enc.
 */
ct_status ct_text_decode(ct_ctx *ctx, ct_encoding enc, const char *src, size_t len, char **out);

/**
 * Encodes a UTF-8 string to enc (the inverse of ct_text_decode for every Vietnamese letter).
 * @return CT_OK and *out (NUL-terminated, free with free()) with its length in *outlen (may be
 * NULL), or CT_ERR_ENCODING naming the first character enc cannot represent.
 */
ct_status ct_text_encode(ct_ctx *ctx, ct_encoding enc, const char *utf8, char **out, size_t *outlen);

/**
 * Guesses the encoding of a byte string (or of many strings of one source, concatenated with
 * separators): scores each candidate by whether the bytes are valid in it and by how much the
 * decoded text looks like Vietnamese (syllables built of Vietnamese letters and tone marks).
 * Returns CT_ENC_ASCII when every byte is below 0x80 (unless control bytes that TCVN3 reads as
 * capitals, such as 0x16 "Ý", form Vietnamese words: then CT_ENC_TCVN3), CT_ENC_UTF8 whenever
 * the bytes are valid UTF-8 with multibyte sequences, CT_ENC_UNKNOWN for empty input or when no
 * reading looks Vietnamese. confidence (may be NULL) receives a value in [0, 1]: how far the
 * winner is ahead of the runner-up (0 for a tie, e.g. a lone word that reads as Vietnamese in
 * two encodings; ties go to TCVN3, then VNI, then CP1258).
 */
ct_encoding ct_text_detect(const char *src, size_t len, double *confidence);

/**
 * Folds UTF-8 text for matching and for identifiers: lower case, tone and vowel marks removed,
 * đ read as d ("Thành Phố Cần Thơ" -> "thanh pho can tho", "QUẬN" -> "quan"). Characters that
 * have no such reading stay as they are. @return a new string (free with free()), or NULL when
 * utf8 is not valid UTF-8 or memory runs out.
 */
char *ct_text_fold(const char *utf8);

#ifdef __cplusplus
}
#endif
#endif /* CT_TEXT_H */
