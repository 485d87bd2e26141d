/**
 * Keccak-256 (the original Keccak padding, as Ethereum uses it; not SHA3-256,
 * which Node's crypto offers): for EIP-55 address checksums. BigInt lanes:
 * it runs only on rare candidates (a mixed-case `0x` and 40 hex characters).
 */
const MASK = (1n << 64n) - 1n;
const RC: readonly bigint[] = (() => {
  const out: bigint[] = [];
  let r = 1;
  for (let round = 0; round < 24; round++) {
    let c = 0n;
    for (let j = 0; j < 7; j++) {
      if ((r & 1) === 1) c |= 1n << BigInt((1 << j) - 1);
      r = (r & 0x80) !== 0 ? ((r << 1) ^ 0x71) & 0xff : (r << 1) & 0xff;
    }
    out.push(c);
  }
  return out;
})();
/** Rotation offsets and the pi permutation, lane index x + 5y. */
const ROT: readonly number[] = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];

function rotl(v: bigint, n: number): bigint {
  if (n === 0) return v;
  const s = BigInt(n);
  return ((v << s) | (v >> (64n - s))) & MASK;
}

function permute(a: bigint[]): void {
  for (let round = 0; round < 24; round++) {
    const c: bigint[] = [];
    for (let x = 0; x < 5; x++) c.push(a[x]! ^ a[x + 5]! ^ a[x + 10]! ^ a[x + 15]! ^ a[x + 20]!);
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5]! ^ rotl(c[(x + 1) % 5]!, 1);
      for (let y = 0; y < 25; y += 5) a[x + y] = a[x + y]! ^ d;
    }
    const b: bigint[] = new Array<bigint>(25).fill(0n);
    for (let x = 0; x < 5; x++) for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y]!, ROT[x + 5 * y]!);
    for (let x = 0; x < 5; x++) for (let y = 0; y < 25; y += 5) a[x + y] = b[x + y]! ^ (~b[((x + 1) % 5) + y]! & MASK & b[((x + 2) % 5) + y]!);
    a[0] = a[0]! ^ RC[round]!;
  }
}

export function keccak256(data: Uint8Array): Buffer {
  const rate = 136;
  const padded = new Uint8Array(Math.ceil((data.length + 1) / rate) * rate);
  padded.set(data);
  padded[data.length] = 0x01;
  padded[padded.length - 1]! |= 0x80;
  const a: bigint[] = new Array<bigint>(25).fill(0n);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n;
      for (let k = 7; k >= 0; k--) lane = (lane << 8n) | BigInt(padded[off + i * 8 + k]!);
      a[i] = a[i]! ^ lane;
    }
    permute(a);
  }
  const out = Buffer.alloc(32);
  for (let i = 0; i < 4; i++) {
    let lane = a[i]!;
    for (let k = 0; k < 8; k++) {
      out[i * 8 + k] = Number(lane & 0xffn);
      lane >>= 8n;
    }
  }
  return out;
}

/** EIP-55: a mixed-case address whose letters' case follows the Keccak-256 of its lower-case hex. */
export function eip55Valid(address: string): boolean {
  const hex = address.slice(2);
  if (!/^0x[0-9a-fA-F]{40}$/.test(address) || hex === hex.toLowerCase() || hex === hex.toUpperCase()) return false;
  const hash = keccak256(Buffer.from(hex.toLowerCase(), 'latin1')).toString('hex');
  for (let i = 0; i < 40; i++) {
    const c = hex.charAt(i);
    if (c >= '0' && c <= '9') continue;
    const upper = parseInt(hash.charAt(i), 16) >= 8;
    if (upper !== (c === c.toUpperCase())) return false;
  }
  return true;
}
