/** CRC-32 (IEEE 802.3, as in zlib) and the base62 encoding GitHub and npm use for token checksums. */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < s.length; i++) c = (TABLE[(c ^ s.charCodeAt(i)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 of `n`, left-padded with `0` to `width` characters. */
export function base62(n: number, width: number): string {
  let out = '';
  let v = n;
  while (v > 0) {
    out = B62.charAt(v % 62) + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

/**
 * Whether a `<prefix>_<30 random><6 checksum>` token carries a valid checksum:
 * the last 6 characters are base62(crc32(the 30 random characters)).
 */
export function prefixedTokenChecksumOk(token: string): boolean {
  const us = token.indexOf('_');
  const body = token.slice(us + 1);
  if (body.length !== 36) return false;
  return base62(crc32(body.slice(0, 30)), 6) === body.slice(30);
}

/** Builds a token with a valid checksum from 30 random base62 characters (for tests and canaries). */
export function makeChecksummedToken(prefix: string, random30: string): string {
  return `${prefix}_${random30}${base62(crc32(random30), 6)}`;
}
