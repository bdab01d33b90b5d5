/*
 * gen-flood.c — flood inputs: the water level at the Cần Thơ station (Hậu river), rainfall over
 * Ninh Kiều, and the scenario files of ct-flood.
 *
 * The tide is the sum of the four main constituents (M2, S2, K1, O1: a mixed, mainly
 * semi-diurnal tide as at Cần Thơ) on a slowly rising flood-season level, shifted so that the
 * spring-tide peak of the week reaches 2.02 m — just over alarm level III (2.00 m).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gen.h"

#define TIDE_STEP_MIN 15
#define TIDE_DAYS 7
#define TIDE_N (TIDE_DAYS * 24 * 60 / TIDE_STEP_MIN)
#define RAIN_N (TIDE_DAYS * 24)
#define PEAK 2.02

/* A timestamp of the synthetic week starting 2025-10-05 00:00 local time (UTC+7): computed
 * from the step, never from the clock. */
static void stamp(char *buf, size_t n, int minutes)
{
    int day = 5 + minutes / 1440, hh = minutes % 1440 / 60, mm = minutes % 60;
    snprintf(buf, n, "2025-10-%02dT%02d:%02d:00+07:00", day, hh, mm);
}

static double tide_raw(double hours)
{
    /* amplitude (m), period (h), phase (rad); phases put the spring peak on the 2nd/3rd day */
    static const double c[4][3] = {
        {0.64, 12.4206012, 0.9}, {0.21, 12.0, 0.4}, {0.37, 23.9344697, 1.3}, {0.27, 25.8193417, 0.7},
    };
    double z = 0.12 * sin(hours / 720.0 * M_PI / 2); /* the season's water slowly rising */
    for (int k = 0; k < 4; k++)
        z += c[k][0] * cos(2 * M_PI * hours / c[k][1] - c[k][2]);
    return z;
}

static void write_scenario(const char *rel, const char *const *lines)
{
    FILE *f = out_open(rel);
    for (int i = 0; lines[i]; i++)
        fprintf(f, "%s\n", lines[i]);
    out_close(f, rel);
}

void gen_flood(void)
{
    json_object *k = json_object_new_object();

    /* --- water level --- */
    double lv[TIDE_N], mx = -1e9, mn = 1e9;
    int imx = 0;
    /* start the week 40 h before the highest spring tide of a month of the constituents */
    double t0 = 0, best = -1e9;
    for (double h = 0; h < 720; h += 0.25)
        if (tide_raw(h) > best)
            best = tide_raw(h), t0 = h;
    t0 -= 40;
    for (int i = 0; i < TIDE_N; i++) {
        lv[i] = tide_raw(t0 + i * TIDE_STEP_MIN / 60.0);
        if (lv[i] > mx)
            mx = lv[i], imx = i;
    }
    double shift = PEAK - mx;
    mx = -1e9;
    for (int i = 0; i < TIDE_N; i++) {
        lv[i] = round((lv[i] + shift) * 1000) / 1000;
        mx = fmax(mx, lv[i]), mn = fmin(mn, lv[i]);
    }
    const char *trel = "flood/tide-cantho-2025-10.csv";
    FILE *f = out_open(trel);
    fputs("time,level_m\n", f);
    char ts[40];
    for (int i = 0; i < TIDE_N; i++) {
        stamp(ts, sizeof ts, i * TIDE_STEP_MIN);
        fprintf(f, "%s,%.3f\n", ts, lv[i]);
    }
    out_close(f, trel);
    double mx72 = -1e9;
    for (int i = 0; i < 72 * 60 / TIDE_STEP_MIN; i++)
        mx72 = fmax(mx72, lv[i]);
    json_object *t = json_object_new_object();
    json_object_object_add(t, "file", json_object_new_string(trel));
    json_object_object_add(t, "rows", json_object_new_int(TIDE_N));
    json_object_object_add(t, "step_minutes", json_object_new_int(TIDE_STEP_MIN));
    json_object_object_add(t, "first_time", json_object_new_string("2025-10-05T00:00:00+07:00"));
    stamp(ts, sizeof ts, imx * TIDE_STEP_MIN);
    json_object_object_add(t, "peak_time", json_object_new_string(ts));
    json_object_object_add(t, "peak_m", jnum(mx, 3));
    json_object_object_add(t, "peak_first_72h_m", jnum(mx72, 3));
    json_object_object_add(t, "min_m", jnum(mn, 3));
    json_object_object_add(t, "constituents", json_object_new_string("M2 0.64 m, S2 0.21 m, K1 0.37 m, O1 0.27 m, plus a slow seasonal rise (0.12 sin(t/720 h · π/2))"));
    json_object_object_add(k, "water_level", t);

    /* --- rainfall: afternoon showers, and a 6-hour storm on the 2nd day, 100.0 mm in the
     * first 72 hours altogether --- */
    rng g = rng_new(53);
    double rain[RAIN_N] = {0};
    for (int d = 0; d < TIDE_DAYS; d++)
        if (rng_unif(&g) < 0.6)
            for (int h = 14 + rng_int(&g, 3), n = 1 + rng_int(&g, 3); n > 0; h++, n--)
                rain[d * 24 + h] = round(rng_range(&g, 1, 9) * 10) / 10;
    static const double storm[6] = {8, 22, 31, 18, 9, 4};
    double first = 0;
    for (int h = 0; h < 72; h++)
        if (h < 40 || h > 45)
            first += rain[h];
    for (int h = 0; h < 6; h++) /* scale the storm so that the 72 h total is exactly 100 mm */
        rain[40 + h] = storm[h];
    double st = 92.0, want = 100.0 - first;
    for (int h = 0; h < 6; h++)
        rain[40 + h] = round(rain[40 + h] * want / st * 10) / 10;
    double tot72 = 0, tot = 0, pk = 0;
    for (int h = 0; h < RAIN_N; h++) {
        if (h < 72)
            tot72 += rain[h];
        tot += rain[h], pk = fmax(pk, rain[h]);
    }
    /* rounding may leave a tenth: put it on the storm's peak hour */
    rain[42] = round((rain[42] + 100.0 - tot72) * 10) / 10;
    tot72 = tot = pk = 0;
    for (int h = 0; h < RAIN_N; h++) {
        if (h < 72)
            tot72 += rain[h];
        tot += rain[h], pk = fmax(pk, rain[h]);
    }
    const char *rrel = "flood/rain-ninhkieu-2025-10.csv";
    f = out_open(rrel);
    fputs("time,rain_mm_h\n", f);
    for (int h = 0; h < RAIN_N; h++) {
        stamp(ts, sizeof ts, h * 60);
        fprintf(f, "%s,%.1f\n", ts, rain[h]);
    }
    out_close(f, rrel);
    json_object *r = json_object_new_object();
    json_object_object_add(r, "file", json_object_new_string(rrel));
    json_object_object_add(r, "rows", json_object_new_int(RAIN_N));
    json_object_object_add(r, "step_minutes", json_object_new_int(60));
    json_object_object_add(r, "total_first_72h_mm", jnum(tot72, 1));
    json_object_object_add(r, "total_mm", jnum(tot, 1));
    json_object_object_add(r, "peak_mm_h", jnum(pk, 1));
    json_object_object_add(k, "rainfall", r);

    /* --- scenarios; paths are relative to the scenario file --- */
    static const struct { const char *file, *name, *level, *slr, *desc; } S[] = {
        {"flood/scenario-bd1.txt", "bd1", "1.80", "0.00", "Báo động I tại trạm Cần Thơ (1.80 m), mực nước tĩnh"},
        {"flood/scenario-bd2.txt", "bd2", "1.90", "0.00", "Báo động II tại trạm Cần Thơ (1.90 m), mực nước tĩnh"},
        {"flood/scenario-bd3.txt", "bd3", "2.00", "0.00", "Báo động III tại trạm Cần Thơ (2.00 m), mực nước tĩnh"},
        {"flood/scenario-record-2025.txt", "record-2025", "2.29", "0.00", "Đỉnh triều lịch sử năm 2025 (2.29 m)"},
        {"flood/scenario-record-2025-slr50.txt", "record-2025-slr50", "2.29", "0.50", "Đỉnh lịch sử 2025 cộng 0.5 m nước biển dâng (2.79 m)"},
    };
    json_object *sc = json_object_new_array();
    for (size_t i = 0; i < sizeof S / sizeof S[0]; i++) {
        char l0[160], l1[64], l2[64], l3[64];
        snprintf(l0, sizeof l0, "# ctgis flood scenario: %s. Heights in metres above Hòn Dấu.", S[i].desc);
        snprintf(l1, sizeof l1, "name = %s", S[i].name);
        snprintf(l2, sizeof l2, "level = %s", S[i].level);
        snprintf(l3, sizeof l3, "slr_offset = %s", S[i].slr);
        char d[200];
        snprintf(d, sizeof d, "description = %s", S[i].desc);
        /* the river and the canals (beds below 0 m) carry the water in, not the map's edges */
        const char *lines[] = {l0, "# Paths are relative to this file.", l1, "model = static",
                               "dem = ../dem/dem-5m.tif", "dikes = ../dikes/dikes.shp", "sources = below",
                               "source_below = 0.0", l2, l3, d, NULL};
        write_scenario(S[i].file, lines);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "file", json_object_new_string(S[i].file));
        json_object_object_add(e, "name", json_object_new_string(S[i].name));
        json_object_object_add(e, "level_m", json_object_new_double_s(atof(S[i].level), S[i].level));
        json_object_object_add(e, "slr_offset_m", json_object_new_double_s(atof(S[i].slr), S[i].slr));
        json_object_array_add(sc, e);
    }
    const char *lines[] = {
        "# ctgis flood scenario: three days of spring tide at Cần Thơ with 100 mm of rain.",
        "# Paths are relative to this file; the run starts at the first row of the series.",
        "name = spring-tide-rain100",
        "model = dynamic",
        "dem = ../dem/dem-5m.tif",
        "dikes = ../dikes/dikes.shp",
        "water_level_series = tide-cantho-2025-10.csv",
        "rainfall_series = rain-ninhkieu-2025-10.csv",
        "slr_offset = 0.00",
        "duration = 72h",
        "output_interval = 1h",
        "description = Triều cường 3 ngày (đỉnh 2.02 m) kết hợp mưa 100 mm",
        NULL,
    };
    write_scenario("flood/scenario-spring-tide-rain100.txt", lines);
    json_object *e = json_object_new_object();
    json_object_object_add(e, "file", json_object_new_string("flood/scenario-spring-tide-rain100.txt"));
    json_object_object_add(e, "name", json_object_new_string("spring-tide-rain100"));
    json_object_object_add(e, "duration_h", json_object_new_int(72));
    json_object_object_add(e, "rain_mm", jnum(tot72, 1));
    json_object_array_add(sc, e);
    json_object_object_add(k, "scenarios", sc);
    json_object_object_add(KEY, "flood", k);
}
