// compare.cjs ARCHIVE.pmtiles FOLDER — reads every tile of a PMTiles archive with the reference
// `pmtiles` package and compares it with FOLDER/{z}/{x}/{y}.png (tests/cli/t720-tile-pmtiles-node.sh).
'use strict';
const fs = require('fs');
const path = require('path');
const { PMTiles } = require('pmtiles');

class FileSource {
  constructor(p) { this.p = p; this.fd = fs.openSync(p, 'r'); }
  getKey() { return this.p; }
  async getBytes(offset, length) {
    const b = Buffer.alloc(length);
    const n = fs.readSync(this.fd, b, 0, length, offset);
    return { data: b.buffer.slice(b.byteOffset, b.byteOffset + n) };
  }
}

(async () => {
  const [archive, dir] = process.argv.slice(2);
  const p = new PMTiles(new FileSource(archive));
  const h = await p.getHeader();
  console.log(`header: specVersion=${h.specVersion} clustered=${h.clustered} tileType=${h.tileType} ` +
              `minZoom=${h.minZoom} maxZoom=${h.maxZoom} rootDirectoryOffset=${h.rootDirectoryOffset}`);
  console.log(`root_in_first_16k: ${h.rootDirectoryOffset + h.rootDirectoryLength <= 16384}`);
  let compared = 0, mismatched = 0, extra = 0;
  for (let z = h.minZoom; z <= h.maxZoom; z++) {
    const zd = path.join(dir, String(z));
    const files = new Set();
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    if (fs.existsSync(zd))
      for (const x of fs.readdirSync(zd))
        for (const f of fs.readdirSync(path.join(zd, x))) {
          const y = parseInt(f, 10), xi = parseInt(x, 10);
          files.add(`${xi}/${y}`);
          x0 = Math.min(x0, xi); x1 = Math.max(x1, xi); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
    if (!files.size) continue;
    for (let x = Math.max(0, x0 - 1); x <= x1 + 1; x++)
      for (let y = Math.max(0, y0 - 1); y <= y1 + 1; y++) {
        const t = await p.getZxy(z, x, y);
        if (!files.has(`${x}/${y}`)) { if (t) extra++; continue; }
        compared++;
        const want = fs.readFileSync(path.join(zd, String(x), `${y}.png`));
        if (!t || Buffer.compare(Buffer.from(t.data), want) !== 0) mismatched++;
      }
  }
  console.log(`compared: ${compared}`);
  console.log(`mismatched: ${mismatched}`);
  console.log(`extra: ${extra}`);
})().catch((e) => { console.error(e); process.exit(1); });
