/* landuse.c — the TT 08/2024 land-use code table, old-code mapping and plan compatibility. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "ct/landuse.h"

/*
 * Codes and Vietnamese names from the appendix of Circular 08/2024/TT-BTNMT and, for BHK and
 * NHK, Circular 27/2018/TT-BTNMT; the hierarchy follows the appendix's grouping. The wording of
 * some entries is still being checked against the official appendix (see the reference list
 * in ../shared/data/reference of the project workspace, from which these facts were taken).
 * MVB (coastal water surface) is observed but outside the land fund: it has no group.
 */
static const ct_landuse_code table[] = {
    {"NNP", "Nhóm đất nông nghiệp", "Agricultural land (group)", NULL, NULL, 1},
    {"SXN", "Đất sản xuất nông nghiệp", "Agricultural production land", "NNP", NULL, 1},
    {"CHN", "Đất trồng cây hàng năm", "Annual-crop land", "SXN", NULL, 1},
    {"LUA", "Đất trồng lúa", "Paddy (rice) land", "CHN", NULL, 1},
    {"LUC", "Đất chuyên trồng lúa nước", "Land specialised for wet rice (2+ crops/yr)", "LUA", NULL, 0},
    {"LUK", "Đất trồng lúa nước còn lại", "Other wet-rice land (1 crop/yr)", "LUA", NULL, 0},
    {"LUN", "Đất trồng lúa nương", "Upland (rain-fed hill) rice land", "LUA", NULL, 0},
    {"HNK", "Đất trồng cây hàng năm khác", "Other annual-crop land", "CHN", NULL, 0},
    {"BHK", "Đất bằng trồng cây hàng năm khác", "Flat land, other annual crops", "CHN", "HNK", 0},
    {"NHK", "Đất nương rẫy trồng cây hàng năm khác", "Shifting-cultivation land, other annual crops", "CHN", "HNK", 0},
    {"CLN", "Đất trồng cây lâu năm", "Perennial-crop land (orchards)", "SXN", NULL, 0},
    {"LNP", "Đất lâm nghiệp", "Forestry land (group)", "NNP", NULL, 1},
    {"RSX", "Đất rừng sản xuất", "Production forest land", "LNP", NULL, 0},
    {"RPH", "Đất rừng phòng hộ", "Protection forest land", "LNP", NULL, 0},
    {"RDD", "Đất rừng đặc dụng", "Special-use forest land", "LNP", NULL, 0},
    {"NTS", "Đất nuôi trồng thủy sản", "Aquaculture land", "NNP", NULL, 0},
    {"CNT", "Đất chăn nuôi tập trung", "Concentrated livestock-farming land", "NNP", NULL, 0},
    {"LMU", "Đất làm muối", "Salt-making land", "NNP", NULL, 0},
    {"NKH", "Đất nông nghiệp khác", "Other agricultural land", "NNP", NULL, 0},
    {"PNN", "Nhóm đất phi nông nghiệp", "Non-agricultural land (group)", NULL, NULL, 1},
    {"OCT", "Đất ở", "Residential land (aggregate)", "PNN", NULL, 1},
    {"ONT", "Đất ở tại nông thôn", "Rural residential land", "OCT", NULL, 0},
    {"ODT", "Đất ở tại đô thị", "Urban residential land", "OCT", NULL, 0},
    {"CDG", "Đất chuyên dùng", "Special-use land (aggregate)", "PNN", NULL, 1},
    {"TSC", "Đất xây dựng trụ sở cơ quan", "Government office land", "CDG", NULL, 0},
    {"CQP", "Đất quốc phòng", "Defence land", "CDG", NULL, 0},
    {"CAN", "Đất an ninh", "Public-security land", "CDG", NULL, 0},
    {"DSN", "Đất xây dựng công trình sự nghiệp", "Public-service facility land (aggregate)", "CDG", NULL, 1},
    {"DTS", "Đất xây dựng trụ sở của tổ chức sự nghiệp", "Offices of public-service organisations", "DSN", NULL, 0},
    {"DVH", "Đất xây dựng cơ sở văn hóa", "Cultural facility land", "DSN", NULL, 0},
    {"DXH", "Đất xây dựng cơ sở dịch vụ xã hội", "Social-service facility land", "DSN", NULL, 0},
    {"DYT", "Đất xây dựng cơ sở y tế", "Health facility land", "DSN", NULL, 0},
    {"DGD", "Đất xây dựng cơ sở giáo dục và đào tạo", "Education & training facility land", "DSN", NULL, 0},
    {"DTT", "Đất xây dựng cơ sở thể dục thể thao", "Sports facility land", "DSN", NULL, 0},
    {"DKH", "Đất xây dựng cơ sở khoa học và công nghệ", "Science & technology facility land", "DSN", NULL, 0},
    {"DNG", "Đất xây dựng cơ sở ngoại giao", "Diplomatic facility land", "DSN", NULL, 0},
    {"DSK", "Đất xây dựng công trình sự nghiệp khác", "Other public-service facility land", "DSN", NULL, 0},
    {"CSK", "Đất sản xuất, kinh doanh phi nông nghiệp", "Non-agricultural production & business land (aggregate)", "CDG", NULL, 1},
    {"SKK", "Đất khu công nghiệp", "Industrial-park land", "CSK", NULL, 0},
    {"SKN", "Đất cụm công nghiệp", "Industrial-cluster land", "CSK", NULL, 0},
    {"SKT", "Đất khu chế xuất", "Export-processing-zone land", "CSK", NULL, 0},
    {"TMD", "Đất thương mại, dịch vụ", "Commercial & service land", "CSK", NULL, 0},
    {"SKC", "Đất cơ sở sản xuất phi nông nghiệp", "Non-agricultural production-facility land", "CSK", NULL, 0},
    {"SKS", "Đất sử dụng cho hoạt động khoáng sản", "Mining land", "CSK", NULL, 0},
    {"SKX", "Đất sản xuất vật liệu xây dựng, làm đồ gốm", "Building-materials / pottery production land", "CSK", NULL, 0},
    {"CCC", "Đất sử dụng vào mục đích công cộng", "Public-purpose land (aggregate)", "CDG", NULL, 1},
    {"DGT", "Đất giao thông", "Transport land", "CCC", NULL, 0},
    {"DTL", "Đất thủy lợi", "Irrigation / water-works land", "CCC", NULL, 0},
    {"DDT", "Đất có di tích lịch sử - văn hóa", "Historical-cultural relic land", "CCC", NULL, 0},
    {"DDL", "Đất danh lam thắng cảnh", "Scenic-landscape land", "CCC", NULL, 0},
    {"DSH", "Đất sinh hoạt cộng đồng", "Community-activity land", "CCC", NULL, 0},
    {"DKV", "Đất khu vui chơi, giải trí công cộng", "Public recreation land", "CCC", NULL, 0},
    {"DNL", "Đất công trình năng lượng", "Energy-works land", "CCC", NULL, 0},
    {"DBV", "Đất công trình bưu chính, viễn thông", "Post & telecom works land", "CCC", NULL, 0},
    {"DCH", "Đất chợ", "Market land", "CCC", NULL, 0},
    {"DRA", "Đất bãi thải, xử lý chất thải", "Landfill / waste-treatment land", "CCC", NULL, 0},
    {"DCK", "Đất công trình công cộng khác", "Other public-works land", "CCC", NULL, 0},
    {"TON", "Đất cơ sở tôn giáo", "Religious-establishment land", "PNN", NULL, 0},
    {"TIN", "Đất cơ sở tín ngưỡng", "Belief / shrine land", "PNN", NULL, 0},
    {"NTD", "Đất nghĩa trang, nghĩa địa, nhà tang lễ, nhà hỏa táng", "Cemetery / funeral / crematorium land", "PNN", NULL, 0},
    {"SON", "Đất sông, ngòi, kênh, rạch, suối", "Rivers, canals, streams", "PNN", NULL, 0},
    {"MNC", "Đất có mặt nước chuyên dùng", "Special-use water surface (ponds, lakes)", "PNN", NULL, 0},
    {"PNK", "Đất phi nông nghiệp khác", "Other non-agricultural land", "PNN", NULL, 0},
    {"CSD", "Nhóm đất chưa sử dụng", "Unused land (group)", NULL, NULL, 1},
    {"BCS", "Đất bằng chưa sử dụng", "Unused flat land", "CSD", NULL, 0},
    {"DCS", "Đất đồi núi chưa sử dụng", "Unused hilly land", "CSD", NULL, 0},
    {"NCS", "Núi đá không có rừng cây", "Rocky mountain without forest", "CSD", NULL, 0},
    {"MVB", "Đất có mặt nước ven biển", "Coastal water surface (observed, not in land fund)", NULL, NULL, 0},};

#define NCODES (sizeof table / sizeof table[0])

const ct_landuse_code *ct_landuse_table(size_t *n)
{
    *n = NCODES;
    return table;
}

const ct_landuse_code *ct_landuse_lookup(const char *code)
{
    if (!code)
        return NULL;
    while (isspace((unsigned char)*code))
        code++;
    size_t len = strlen(code);
    while (len && isspace((unsigned char)code[len - 1]))
        len--;
    if (len != 3)
        return NULL;
    for (size_t i = 0; i < NCODES; i++)
        if (!strncasecmp(table[i].code, code, 3))
            return &table[i];
    return NULL;
}

ct_landuse_check ct_landuse_normalise(const char *code, const char **tt08)
{
    const ct_landuse_code *c = ct_landuse_lookup(code);
    *tt08 = NULL;
    if (!c)
        return CT_LANDUSE_UNKNOWN;
    if (c->replaced_by) {
        *tt08 = ct_landuse_lookup(c->replaced_by)->code;
        return CT_LANDUSE_MAPPED;
    }
    *tt08 = c->code;
    return CT_LANDUSE_CURRENT;
}

int ct_landuse_within(const char *code, const char *group)
{
    const ct_landuse_code *g = ct_landuse_lookup(group);
    const char *n;
    if (!g || !ct_landuse_normalise(code, &n))
        return 0;
    /* walk up the hierarchy: at most four levels (NNP > SXN > CHN > LUA > LUC) */
    for (const ct_landuse_code *c = ct_landuse_lookup(n); c; c = c->parent ? ct_landuse_lookup(c->parent) : NULL)
        if (c == g)
            return 1;
    return 0;
}

static int in_list(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(code, *list))
            return 1;
    return 0;
}

int ct_landuse_compatible(const char *current, const char *planned)
{
    static const char *const everywhere[] = {"DGT", "DTL", "DNL", "DBV", "SON", "MNC", NULL};
    static const char *const residential[] = {"ODT", "ONT", "OCT", NULL};
    const char *cur, *plan;
    if (!ct_landuse_normalise(current, &cur) || !ct_landuse_normalise(planned, &plan))
        return 0;
    if (ct_landuse_within(cur, plan) || in_list(cur, everywhere))
        return 1;
    if (in_list(plan, residential) && (in_list(cur, residential) || !strcmp(cur, "TMD")))
        return 1;
    return 0;
}
