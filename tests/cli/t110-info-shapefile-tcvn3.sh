#!/usr/bin/env bash
# ct-info on a shapefile whose DBF text is TCVN3 and whose .prj is the custom Transverse
# Mercator on WGS 84 that Vietnamese software writes: recognised as TCVN3 and as vn2000:105,
# field names decoded.
. "$(dirname "$0")/lib.sh"
plan 12

# Owner names and land-use descriptions, written as TCVN3 bytes with glibc iconv.
cat >"$T/utf8.csv" <<'CSV'
WKT,SoThua,TenChu,MucDich,DiaChi
"POLYGON((586000 1109000,586020 1109000,586020 1109010,586000 1109010,586000 1109000))",1,"Nguyễn Văn Thành","ODT","Phường Tân An"
"POLYGON((586020 1109000,586040 1109000,586040 1109010,586020 1109010,586020 1109000))",2,"Trần Thị Ánh Hồng","ODT","Phường An Cư"
"POLYGON((586040 1109000,586060 1109000,586060 1109010,586040 1109010,586040 1109000))",3,"Lê Hoàng Phúc","LUC","Phường Hưng Lợi"
CSV
iconv -f UTF-8 -t TCVN5712-1 "$T/utf8.csv" >"$T/p.csv"
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING= "$T/p.shp" "$T/p.csv" -oo GEOM_POSSIBLE_NAMES=WKT \
    -oo KEEP_GEOM_COLUMNS=NO -a_srs EPSG:32648 2>/dev/null
cat >"$T/p.prj" <<'PRJ'
PROJCS["VN_2000_TM3_Can_Tho",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]
PRJ
rm -f "$T/p.cpg"

run ct-info "$T/p.shp"
ok $rc "exit 0 on a TCVN3 shapefile"
like "$T/out" '^Type: vector \(ESRI Shapefile\)$' "driver"
like "$T/out" '^  Features: 3$' "feature count"
like "$T/out" '^  Geometry: Polygon$' "geometry type"
like "$T/out" '^  Text encoding: tcvn3 ' "attributes recognised as TCVN3"
like "$T/out" '^  VN-2000 zone: vn2000:105 ' "custom WGS 84 TM with k=0.9999 recognised as the 105-00 zone"
like "$T/out" '^    TenChu +String\(' "field names and types listed"

run ct-info --json "$T/p.shp"
is "$(jq -r '.layers[0].encoding.name' "$T/out")" "tcvn3" "JSON encoding"
is "$(jq -r '.layers[0].crs.vn2000_zone' "$T/out")" "vn2000:105" "JSON zone"
is "$(jq -r '[.layers[0].fields[].name] | join(",")' "$T/out")" "SoThua,TenChu,MucDich,DiaChi" "JSON fields"

# The same table in UTF-8 is told apart.
ogr2ogr -q -f "ESRI Shapefile" -lco ENCODING=UTF-8 "$T/u.shp" "$T/utf8.csv" -oo GEOM_POSSIBLE_NAMES=WKT -oo KEEP_GEOM_COLUMNS=NO 2>/dev/null
run ct-info --json "$T/u.shp"
is "$(jq -r '.layers[0].encoding.name' "$T/out")" "utf8" "UTF-8 attributes recognised as UTF-8"
run ct-info "$T/u.shp"
like "$T/out" '^  CRS: none$' "a layer without CRS says so"
exit $_failed
