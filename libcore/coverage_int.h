/* coverage_int.h — the union of a polygonal coverage (libcore only). */
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

#endif
