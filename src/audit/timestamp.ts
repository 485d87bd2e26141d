/**
 * Record timestamps (ISO 8601, UTC, milliseconds) without
 * `Date.prototype.toISOString`: V8 computes the local time-zone offset on
 * every call of it (through ICU), which showed in the MCP gateway's
 * per-call profile. The part up to the second is formatted once per
 * second; the result is the same string `new Date(ms).toISOString()` gives
 * for years 0000-9999 (other instants fall back to it).
 */

let cachedSecond = Number.NaN;
let cachedPrefix = '';

export function isoTimestamp(ms: number = Date.now()): string {
  const second = Math.floor(ms / 1000);
  const milli = ms - second * 1000;
  if (!Number.isInteger(milli) || ms < -62_167_219_200_000 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  if (second !== cachedSecond) {
    cachedSecond = second;
    // `YYYY-MM-DDTHH:MM:SS.`
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  return `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}
