/* coverage_int.h — cadastral polygon topology that GEOS 3.11 does slowly: the union of a
 * coverage, the validity of a small polygon; and the making of polygons from the rings or parts
 * a reader made (libcore only). */
#ifndef CT_COVERAGE_INT_H
#define CT_COVERAGE_INT_H

#include <stddef.h>
#include <geos_c.h>

/*
 * The union of n polygons or multipolygons that form a coverage: they do not overlap and
 * neighbours share their edges vertex for vertex (a cadastral sheet). The edges two parts
 * share, walked in opposite directions, cancel; the rest is the union's boundary, traced into
 * rings. @return the union (a Polygon or MultiPolygon), or NULL when the parts are not such a
 * coverage as far as their edges show (an edge walked twice the same way, a vertex with more
 * edges leaving than arriving: overlaps, or edges that do not match), when a part is not
 * polygonal, or when memory runs out. A union returned is still to be checked: parts that
 * overlap without sharing an edge give an invalid polygon, or one whose area is not their sum.
 */
GEOSGeometry *ct_coverage_union(GEOSContextHandle_t h, const GEOSGeometry *const *g, size_t n);

/*
 * Whether g is a polygon (or a multipolygon of one) of one ring without holes, of at most 64
 * points, that is provably valid: a closed ring of finite points whose edges meet only their
 * neighbours at their shared ends, every orientation that says so exact (a parcel as most are).
 * @return 1 when proven valid; 0 when not proven (invalid, or too near a degenerate case to
 * tell in doubles, or not such a shape): GEOSisValid() decides those.
 */
int ct_polygon_simple(GEOSContextHandle_t h, const GEOSGeometry *g);

/*
 * A polygon of ring[0] (its shell) and ring[1 .. n - 1] (its holes), when all n were made
 * (made == n, n >= 1); otherwise the made rings are destroyed. GEOS takes the rings whether or
 * not it makes the polygon: nothing is left to the caller but the array. @return the polygon,
 * or NULL.
 */
GEOSGeometry *ct_geos_polygon(GEOSContextHandle_t h, GEOSGeometry **ring, size_t made, size_t n);
/* The same for a collection of the given GEOS type of n parts. */
GEOSGeometry *ct_geos_collection(GEOSContextHandle_t h, int type, GEOSGeometry **parts, size_t made, size_t n);

#endif
