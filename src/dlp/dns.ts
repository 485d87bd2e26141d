/** Hostname labels that carry hex-encoded text (`4a6f686e446f65.exfil.example`): DNS exfiltration. */
import { printableRatio } from './decode.js';

export function hexLabelsDecode(hostname: string): string[] {
  const out: string[] = [];
  for (const label of hostname.split('.')) {
    if (label.length < 12 || label.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(label)) continue;
    const text = Buffer.from(label, 'hex').toString('latin1');
    if (printableRatio(text) === 1 && /[A-Za-z]{3}/.test(text)) out.push(text);
  }
  return out;
}
