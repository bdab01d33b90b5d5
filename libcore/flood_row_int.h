/* flood_row_int.h — the simulate model's depth row kernel (continuity, rain, running maxima),
 * a template that flood.c includes once per vector width (libcore only; no include guard, on
 * purpose). Before each inclusion flood.c defines
 *   DR_VL    lanes: 4 (16 bytes: SSE2 on any x86-64, NEON) or 8 (32 bytes: AVX2);
 *   DR_SFX   the suffix of this width's function names;
 *   DR_ATTR  the function attribute that selects the instruction set (may be empty);
 *   DR_BOUNDS 1: the vectors run on whole blocks of SIM_BLK columns and keep each block's maxima
 *            (sim.bmv, bdirty);
 * and depth_par, depth_row_io, depth_cell(), fmx(), span_lo/hi() and SIM_ZOFF. The template
 * undefines its parameters at its end.
 *
 * Written with GCC's generic vector types because the auto-vectoriser gives up on this loop:
 * its running maxima are conditional stores and its max/min reductions need SSE4.1 or
 * -ffinite-math-only. A width is only compiled where the instruction set holds a whole vector
 * (32-byte vectors without AVX are split into scalars), hence one instance per width instead of
 * target_clones. Each lane does exactly the scalar operations of depth_cell() in the same order
 * (no FMA contraction in ISO C mode; sqrtps and sqrtss round alike), so both widths, the vector
 * body and the scalar tail give the same bits as a scalar loop, whatever the machine. */

#define DR_CAT2(a, b) a##b
#define DR_CAT(a, b) DR_CAT2(a, b)
#define DR_F(name) DR_CAT(name, DR_SFX)

typedef float DR_F(dr_vf) __attribute__((vector_size(4 * DR_VL)));
typedef int32_t DR_F(dr_vi) __attribute__((vector_size(4 * DR_VL)));
typedef float DR_F(dr_vfu) __attribute__((vector_size(4 * DR_VL), aligned(4), may_alias)); /* unaligned */
#define VF DR_F(dr_vf)
#define VI DR_F(dr_vi)

/* macros, not functions: a function returning these types has a different ABI per width */
#define VLD(p) (*(const DR_F(dr_vfu) *)(p))
#define VST(p, v) (*(DR_F(dr_vfu) *)(p) = (v))
#define VSEL(m, a, b) ((VF)((((VI)(a)) & (m)) | (((VI)(b)) & ~(m))))
#define VSELI(m, a, b) (((a) & (m)) | ((b) & ~(m)))
#define VMAX(a, b) VSEL((a) > (b), (a), (b))
/* VANY: is any lane of a comparison mask set; VSQRT: the square root of every lane */
#if defined(__x86_64__) && defined(__GNUC__) && DR_VL == 8
#define VANY(m) (_mm256_movemask_ps((__m256)(m)) != 0)
#define VSQRT(v) ((VF)_mm256_sqrt_ps((__m256)(v)))
#elif defined(__x86_64__) && defined(__GNUC__) && DR_VL == 4
#define VANY(m) (_mm_movemask_ps((__m128)(m)) != 0)
#define VSQRT(v) ((VF)_mm_sqrt_ps((__m128)(v)))
#else
static inline int DR_F(dr_any)(VI m)
{
    int32_t a = 0;
    for (int k = 0; k < DR_VL; k++)
        a |= m[k];
    return a != 0;
}
#define VANY(m) DR_F(dr_any)(m)
#define VSQRT(v) DR_F(dr_sqrt)(v)
static inline VF DR_F(dr_sqrt)(VF v)
{
    for (int k = 0; k < DR_VL; k++)
        v[k] = sqrtf(v[k]);
    return v;
}
#endif

/* the smallest lane (the maxima are never NaN: a NaN depth stops the run) */
static inline DR_ATTR float DR_F(dr_min)(VF v)
{
    float a = v[0];
    for (int k = 1; k < DR_VL; k++)
        a = v[k] < a ? v[k] : a;
    return a;
}

/* field: rain per cell (m->rain) instead of uniform rain; a constant at both calls, so that the
 * uniform loop stays as it was and the field's costs one load and one multiplication more. Per
 * cell, rain is rr * rk, and uniform rain rain_u * rain_k: the same bits for the same mm/h. */
static inline __attribute__((always_inline)) DR_ATTR void DR_F(depth_row_k)(sim *m, int r, float dt, float tnew,
                                                                             int field)
{
    const int w = m->w, lo = span_lo(m->act, r), hi = span_hi(m->act, r);
    if (lo >= hi) {
        m->wet[2 * r] = m->wet[2 * r + 1] = 0;
        m->rhmax[r] = 0;
        return;
    }
    const depth_par p = {dt / m->dx, dt / m->dy, m->rain_u * m->rain_k, m->thr, m->arr, m->debris, m->t0, tnew, m->rain_k};
    size_t o0 = (size_t)r * w;
    const depth_row_io o = {m->hh + o0, m->maxh + o0, m->tmaxh + o0, m->maxv + o0, m->maxhaz + o0, m->arrival + o0,
                            m->dur + o0, m->z + o0, m->qx + (size_t)r * (w + 1), m->qy + o0, m->qy + o0 + w,
                            field ? m->rain + o0 : NULL};
    const VF zero = {0}, zoff = zero + SIM_ZOFF, thr = zero + p.thr, arr = zero + p.arr;
    const VF ax = zero + p.ax, ay = zero + p.ay, rain = zero + p.rain, half = zero + 0.5f, cm = zero + 0.01f;
    const VF quarter = zero + 0.25f, debris = zero + p.debris, tn = zero + tnew, tp = zero + p.tprev, rk = zero + p.rk;
    const VI izero = {0}, one = izero + 1, step = izero + DR_VL, absmask = izero + 0x7fffffff;
    const VF big = zero + 1e4f;
    VF rmaxv = zero;
    float rmax = 0;
    int wlo = INT_MAX, whi = 0, neg = 0, bad = 0;
    int c = lo;
#if DR_BOUNDS
    /* vectors on whole blocks: the head of the span goes cell by cell */
    float *restrict bmv = m->bmv + (size_t)r * m->nblk;
    uint8_t *restrict dirty = m->bdirty + (size_t)r * m->nblk;
    for (; c < hi && c % SIM_BLK; c++)
        depth_cell(&o, &p, c, &rmax, &wlo, &whi, &neg, &bad);
#endif
    VI wlov = izero + INT_MAX, whiv = izero, negv = izero, badv = izero, col;
    for (int k = 0; k < DR_VL; k++)
        col[k] = c + k;
    for (; c + DR_VL <= hi; c += DR_VL, col += step) {
        VF zc = VLD(o.z + c), h0 = VLD(o.h + c);
        VF qw = VLD(o.qx + c), qe = VLD(o.qx + c + 1), qn = VLD(o.qn + c), qs = VLD(o.qs + c);
        VF hn = h0 + ax * (qw - qe) + ay * (qn - qs) + (field ? (VF)(VLD(o.rr + c) * rk) : rain);
        hn = VSEL(zc < zoff, hn, h0);
        VST(o.h + c, hn);
        negv |= hn < zero;
        badv |= ~((VF)((VI)hn & absmask) < big); /* |hn| < 1e4 is false for NaN too */
        VI wt = ((zc + hn) - zc > thr) | (hn >= arr);
        wlov = VSELI(wt & (col < wlov), col, wlov);
        whiv = VSELI(wt, col + one, whiv);
        VF hp = VMAX(hn, zero);
        rmaxv = VMAX(rmaxv, hp);
        /* the running maxima change at few cells per step: each is stored only where it does,
         * time of maximum and arrival read only then (an untouched cache line costs no
         * memory traffic); a cell not yet arrived has no duration, so du == 0 tells where
         * arrival needs a look */
#if DR_BOUNDS
        /* Where the block is clean (sim.bdirty), maxh >= max(h0, 0) and, where that exceeds
         * 1 cm, maxhaz >= lowhz (the hazard of the old depth at zero velocity; rounding is
         * monotone): a maximum is read only where the new value could exceed those. */
        const size_t b = (size_t)c / SIM_BLK;
        const int full = dirty[b];
        if (full)
            dirty[b] = 0;
        VF hp0 = VMAX(h0, zero);
        if (full || VANY(hp > hp0)) {
#endif
            VF mh = VLD(o.mh + c);
            VI deeper = hp > mh;
            if (VANY(deeper)) {
                VST(o.tm + c, VSEL(deeper, tn, VLD(o.tm + c)));
                VST(o.mh + c, VSEL(deeper, hp, mh));
            }
#if DR_BOUNDS
        }
#endif
        /* duration and arrival change only where a cell crosses the arrival depth (see
         * sim.dur); in a clean block the old state is the old depth's */
        VI over = hp >= arr;
#if DR_BOUNDS
        if (full || VANY(over ^ (hp0 >= arr))) {
#endif
            VF du = VLD(o.du + c);
            VI was = (VI)du < izero, on = over & ~was, off = was & ~over;
            if (VANY(on | off)) {
                if (VANY(on)) {
                    VF ar = VLD(o.ar + c);
                    VST(o.ar + c, VSEL(on & (ar < zero), tn, ar));
                }
                VST(o.du + c, VSEL(on, -VMAX(tp - du, zero), VSEL(off, VMAX(tp + du, zero), du)));
            }
#if DR_BOUNDS
        }
#endif
        VI w1 = hp > cm;
        VF hs = VMAX(hp, thr);
        VF vx = half * (qw + qe) / hs, vy = half * (qn + qs) / hs;
        VF v = VSQRT(vx * vx + vy * vy);
#if DR_BOUNDS
        if (VANY(VSEL(w1, v, zero) > zero + bmv[b])) {
#endif
            VF mv = VLD(o.mv + c), nmv = VSEL(w1, VMAX(mv, v), mv);
            if (VANY((VI)nmv != (VI)mv))
                VST(o.mv + c, nmv);
#if DR_BOUNDS
            bmv[b] = DR_F(dr_min)(nmv);
        }
#endif
        VF hz = hp * (v + half) + VSEL(hp > quarter, debris, zero);
#if DR_BOUNDS
        VF lowhz = hp0 * half + VSEL(hp0 > quarter, debris, zero);
        if (full || VANY(w1 & ((hz > lowhz) | ~(hp0 > cm)))) {
#endif
            VF mz = VLD(o.mz + c), nmz = VSEL(w1, VMAX(mz, hz), mz);
            if (VANY((VI)nmz != (VI)mz))
                VST(o.mz + c, nmz);
#if DR_BOUNDS
        }
#endif
    }
    for (int k = 0; k < DR_VL; k++) {
        rmax = fmx(rmax, rmaxv[k]);
        wlo = wlov[k] < wlo ? wlov[k] : wlo;
        whi = whiv[k] > whi ? whiv[k] : whi;
        neg |= negv[k] != 0;
        bad |= badv[k] != 0;
    }
    for (; c < hi; c++)
        depth_cell(&o, &p, c, &rmax, &wlo, &whi, &neg, &bad);
    m->wet[2 * r] = wlo < whi ? wlo : 0;
    m->wet[2 * r + 1] = wlo < whi ? whi : 0;
    m->rhmax[r] = rmax;
    m->rflag[r] |= (uint8_t)(neg | bad << 1);
}

static DR_ATTR void DR_F(depth_row_uniform)(sim *m, int r, float dt, float tnew) { DR_F(depth_row_k)(m, r, dt, tnew, 0); }
static DR_ATTR void DR_F(depth_row_field)(sim *m, int r, float dt, float tnew) { DR_F(depth_row_k)(m, r, dt, tnew, 1); }

#undef VANY
#undef VSQRT
#undef VMAX
#undef VSELI
#undef VSEL
#undef VST
#undef VLD
#undef VI
#undef VF
#undef DR_F
#undef DR_CAT
#undef DR_CAT2
/* the parameters too: the next inclusion defines its own */
#undef DR_VL
#undef DR_SFX
#undef DR_ATTR
#undef DR_BOUNDS
