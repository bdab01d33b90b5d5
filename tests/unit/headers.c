/* headers.c — compiles with only the public headers, as a program using libctcore would. */
#include "ct/context.h"
#include "ct/crs.h"
#include "ct/flood.h"
#include "ct/info.h"
#include "ct/ingest.h"
#include "ct/landuse.h"
#include "ct/overlay.h"
#include "ct/raster.h"
#include "ct/sdi.h"
#include "ct/style.h"
#include "ct/text.h"
#include "ct/tile.h"
#include "ct/vector.h"

int headers_compile(void);
int headers_compile(void) { return (int)CT_OK; }
