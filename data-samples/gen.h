/*
 * gen.h — shared model of the synthetic Cần Thơ sample dataset (private to data-samples/).
 *
 * The generator first builds one "world" in memory — rivers, a curvilinear grid of street
 * blocks, zones, wards — and then every layer is drawn from that one model, so that the DEM,
 * the dikes, the parcels, the wards and the planning zones agree with each other.
 *
 * All geometry is computed in local metres (0..SIZE) and shifted by (X0, Y0) into VN-2000
 * TM-3 105°00′ only when written. Randomness comes from one splitmix64 stream per layer with
 * a fixed seed: the output depends on nothing but this source code.
 */
#ifndef GEN_H
#define GEN_H

#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>
#include "ct/context.h"
#include "ct/crs.h"
#include "ct/text.h"
#include "ct/vector.h"

/* The 6 km × 6 km window, VN-2000 TM-3 105°00′ (its NE corner holds the Hậu river, the
 * Ninh Kiều wharf — DESIGN.md's check point 10.0340 N 105.7880 E — lies at local 5185, 3720). */
#define X0 581000.0
#define Y0 1106000.0
#define SIZE 6000.0
#define MARGIN 50.0 /* NoData margin of the DEM, and parcels keep out of it */

typedef struct pt { double x, y; } pt;

/* ---- random numbers: splitmix64, one stream per purpose ---- */
typedef struct rng { uint64_t s; } rng;
rng rng_new(uint64_t seed);
uint64_t rng_next(rng *r);
double rng_unif(rng *r);                 /* [0, 1) */
double rng_range(rng *r, double a, double b);
int rng_int(rng *r, int n);              /* 0 .. n-1 */
double rng_normal(rng *r);

/* ---- the world ---- */

/* The grid of streets: node (i, j) for i in [GI0, GI1], j in [GJ0, GJ1]; u runs along the Hậu
 * (towards the SE), v away from it inland → towards the river. Block (i, j) has the corners
 * node(i,j), node(i+1,j), node(i+1,j+1), node(i,j+1). */
#define GI0 (-26)
#define GI1 19
#define GJ0 (-2)
#define GJ1 57
#define NI (GI1 - GI0 + 1)
#define NJ (GJ1 - GJ0 + 1)

enum edge_kind { EDGE_NONE = 0, EDGE_FIELD, EDGE_MINOR_ROAD, EDGE_MAJOR_ROAD, EDGE_CANAL };
enum zone_class { ZONE_WATER = 0, ZONE_RURAL, ZONE_PERI, ZONE_URBAN };

typedef struct world {
    pt node[NI][NJ];
    /* the kind of the block edge from node(i,j) to node(i+1,j) ("h") and to node(i,j+1) ("v") */
    unsigned char hedge[NI][NJ], vedge[NI][NJ];
    /* Cần Thơ river centre line */
    pt *ct; int nct;
    double *ct_hw; /* half width at each centre-line point */
    /* street names of major grid lines */
    int hname[NJ], vname[NI];
} world;

extern world W;
extern const double U_DIR[2], V_DIR[2];

void world_build(void);
/* signed distance to the Hậu river's SW bank: > 0 in the river (far bank at HAU_WIDTH) */
#define HAU_WIDTH 1500.0
double hau_s(double x, double y);
/* distance to the Cần Thơ river centre line, its half width there, and the side (+1 NW / Ninh
 * Kiều, -1 SE / Cái Răng) */
double ct_dist(double x, double y, double *hw, int *side);
double urbanity(double x, double y);
/* 1 when the point is dry land inside the city window, keeping `keep` metres off both rivers */
int on_land(double x, double y, double keep);

/* ---- wards ---- */
typedef struct ward {
    const char *code, *name, *level;  /* level: "Phường" or "Xã" */
    const char *district;
    double sx, sy;                    /* seed of its Voronoi cell */
    int side;                         /* +1 Ninh Kiều side, -1 Cái Răng side */
    int merged;                       /* index into NEW_WARDS */
} ward;
typedef struct new_ward { const char *code, *name; } new_ward;
extern const ward WARDS[];
extern const int NWARDS;
extern const new_ward NEW_WARDS[];
extern const int NNEW_WARDS;
int ward_at(double x, double y);      /* index into WARDS, -1 outside the city */

/* ---- names ---- */
extern const char *const STREETS[];
extern const int NSTREETS;

/* ---- output helpers (gen-main.c) ---- */
extern ct_ctx *CTX;
extern const char *OUTDIR;
extern json_object *KEY;            /* the answer key being built */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void check(ct_status st, const char *what);
char *outpath(const char *rel);     /* static buffer: OUTDIR/rel, creating the folder */
FILE *out_open(const char *rel);
void out_close(FILE *f, const char *rel);
json_object *jnum(double v, int decimals);
char *enc(ct_encoding e, const char *utf8); /* ct_text_encode or die; free() */
void patch_dbf_date(const char *rel);
void write_prj_esri_vn2000(const char *rel_shp);
ct_crs *crs_vn2000(void);
GEOSGeometry *geos_ring_polygon(const pt *p, int n, int close); /* local coordinates → VN-2000 */
GEOSGeometry *geos_line(const pt *p, int n);

/* ---- layers ---- */
void gen_wards(void);
void gen_dem(void);
void gen_dikes_plan(void);          /* fixes the dike stretches before the DEM burns them */
void gen_dikes(void);
void gen_cadastre(void);            /* parcels, map sheets, planning zones */
void gen_flood(void);

/* dikes (gen-terrain.c) for the DEM */
typedef struct dike {
    pt *p; int n;
    double crest;         /* crest height, m above Hòn Dấu */
    int state;            /* 0 good, 1 low, 2 broken (no crest in the DEM) */
    char id[16];
    const char *name;
} dike;
extern dike *DIKES;
extern int NDIKES;

#endif
