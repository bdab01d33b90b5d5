/*
 * ct/landuse.h — the land-use codes of Circular 08/2024/TT-BTNMT, with the older codes of
 * TT 25/2014 and TT 27/2018 mapped onto them, their hierarchy, and plan compatibility.
 *
 * Cadastral data carries a three-letter code per parcel (ODT urban residential, LUC wet rice,
 * CLN perennial crops, ...). Data made before 2024 still uses codes that TT 08/2024 merged:
 * BHK and NHK became HNK. Ingestion normalises such codes (keeping the original), and rejects
 * codes that no circular defines. Aggregate codes (OCT, CDG, CSK, CCC, ...) group others; a
 * planning zone often names an aggregate, and a parcel conforms when its use lies inside it.
 *
 * The table is written by this project from the published code lists (TT 08/2024 appendix;
 * TT 25/2014 and TT 27/2018 for the old codes); names are given in Vietnamese and English.
 */
#ifndef CT_LANDUSE_H
#define CT_LANDUSE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_landuse_code {
    const char *code;        /**< "ODT" */
    const char *name_vi;     /**< "Đất ở tại đô thị" */
    const char *name_en;     /**< "Urban residential land" */
    const char *parent;      /**< the aggregate it belongs to ("OCT"), NULL for the three groups */
    const char *replaced_by; /**< for a code TT 08/2024 no longer uses: its successor; else NULL */
    int aggregate;           /**< 1 for group/aggregate codes that parcels should not carry */
} ct_landuse_code;

/** The whole table (static), with its length in *n. */
const ct_landuse_code *ct_landuse_table(size_t *n);

/** The entry for code (case-insensitive, surrounding blanks ignored), or NULL when unknown. */
const ct_landuse_code *ct_landuse_lookup(const char *code);

/** What ct_landuse_normalise() found. */
typedef enum ct_landuse_check {
    CT_LANDUSE_UNKNOWN = 0, /**< no circular defines this code */
    CT_LANDUSE_CURRENT,     /**< a TT 08/2024 code */
    CT_LANDUSE_MAPPED       /**< an older code, mapped to its TT 08/2024 successor */
} ct_landuse_check;

/**
 * Normalises a code found in data: *tt08 receives the TT 08/2024 code (static string), or NULL
 * when the code is unknown.
 */
ct_landuse_check ct_landuse_normalise(const char *code, const char **tt08);

/** @return 1 when code is inside group (equal to it, or a descendant of it). */
int ct_landuse_within(const char *code, const char *group);

/**
 * Plan conformance: @return 1 when a parcel whose current use is `current` conforms to a zone
 * planned for `planned`. The rule, documented in ct-overlay(1):
 *   - the current use lies within the planned one (equal, or a sub-code of a planned aggregate);
 *   - transport, irrigation, energy and telecom works (DGT, DTL, DNL, DBV) and rivers and canals
 *     (SON, MNC) conform everywhere: the plan draws zones across them;
 *   - urban and rural residential land (ODT, ONT) conform to each other's zones, and commercial
 *     land (TMD) conforms to residential zones (mixed use in the street-front plots of the city).
 * Unknown codes never conform. Old codes are normalised first.
 */
int ct_landuse_compatible(const char *current, const char *planned);

#ifdef __cplusplus
}
#endif
#endif /* CT_LANDUSE_H */
