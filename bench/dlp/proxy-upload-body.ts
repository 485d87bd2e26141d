import type { ClientRequest } from 'node:http';

/** Writes `count` 1 MiB pieces of `chunks` (in turn) to `req`, waiting for 'drain' when it asks, then ends it. */
export function sendChunks(req: ClientRequest, chunks: readonly Buffer[], count: number): void {
  let i = 0;
  const pump = (): void => {
    while (i < count) {
      const ok = req.write(chunks[i % chunks.length]);
      i += 1;
      if (!ok) return void req.once('drain', pump);
    }
    req.end();
  };
  pump();
}

/** The upload body of bench/egress (run.ts imports it) and bench/dlp/proxy-upload.ts: four 1 MiB pieces of seeded prose. */
export function uploadChunks(): Buffer[] {
  const words = 'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no what up out can more about into than them only other time some could these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
  let x = 12345;
  const rnd = (n: number): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x % n;
  };
  return Array.from({ length: 4 }, () => {
    let s = '';
    while (s.length < 1024 * 1024) {
      s += `${words[rnd(words.length)] ?? 'word'}${rnd(12) === 0 ? '.\n' : ' '}`;
    }
    return Buffer.from(s.slice(0, 1024 * 1024));
  });
}

/** One 1 MiB piece of a body dense in what the layers and traffic checks look for (seeded, so the same bytes every run). */
export function bodyPieces(kind: string): Buffer {
  let x = 3;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x;
  };
  const hex = (n: number): string => Array.from({ length: n }, () => (rnd() % 256).toString(16).padStart(2, '0')).join('');
  const make: Record<string, () => string> = {
    csv: () => `${rnd() % 100000}, `,
    digits: () => String(rnd()),
    hexdump: () => `${hex(16).replace(/(..)(?!$)/g, '$1:')}\n`,
    base64: () => `${Buffer.from(hex(57), 'hex').toString('base64')}\n`,
    escaped: () => `{\\"k\\":\\"v${rnd() % 1000}\\",\\n`,
    percent: () => `%${(rnd() % 256).toString(16).padStart(2, '0')}`,
  };
  const f = make[kind];
  if (f === undefined) throw new Error(`--body: one of prose, ${Object.keys(make).join(', ')}`);
  let s = '';
  while (s.length < 1024 * 1024) s += f();
  return Buffer.from(s.slice(0, 1024 * 1024));
}
