/**
 * Shared types of the DLP engine. Detector definitions are plain data
 * (`DetectorSpec`); compiled matchers live in `engine.ts`.
 */

export const CONFIDENCES = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export function confidenceRank(c: Confidence): number {
  return CONFIDENCES.indexOf(c);
}

/** Named checks a detector may ask for; implemented in `checks.ts`. */
export type ValidatorId =
  | 'github-crc32'
  | 'npm-crc32'
  | 'jwt'
  | 'private-key-body'
  | 'random-value'
  | 'random-hex'
  | 'ops-token'
  | 'luhn'
  | 'url-userinfo'
  | 'basic-credential';

/**
 * One detector, as data. The prefilter finds `keywords` (exact bytes, case
 * sensitive: list each spelling); the `pattern` then runs anchored (sticky)
 * at the keyword (or up to `back` scheme characters before it) in a window
 * that ends `maxLength` characters after the keyword. A named group
 * `secret` marks the secret inside the match (else the whole match).
 */
export interface DetectorSpec {
  readonly id: string;
  readonly provider: string;
  /** The documented format, in one sentence. */
  readonly format: string;
  readonly keywords: readonly string[];
  /** JavaScript regex source, linear-time: bounded quantifiers only, no nested or overlapping repetition. */
  readonly pattern: string;
  readonly flags?: string;
  /** How far before the keyword the match may start (default 0), walking back over URL-scheme characters. */
  readonly back?: number;
  /** Characters after the keyword start the window covers. */
  readonly maxLength: number;
  /** Require that the character before the keyword is not an ASCII letter. */
  readonly letterBoundary?: boolean;
  /**
   * A fact about the pattern that lets most keyword hits be dismissed before
   * the window is read: every match has one of the characters `anyOf` after
   * the keyword, within `within` characters of the keyword's start, and none
   * of the characters `stop` comes between the keyword and it (the `@` of URL
   * userinfo, after no `/` or space; the `:` or `=` of an assignment, after
   * name characters only).
   */
  readonly requires?: { readonly anyOf: string; readonly within: number; readonly stop?: string };
  readonly validator?: ValidatorId;
  readonly confidence: Confidence;
  /** Confidence when the validator reports a soft failure (e.g. a checksum that does not match). */
  readonly weakConfidence?: Confidence;
  /** Off unless enabled by name (identifiers that are not secrets on their own). */
  readonly optIn?: boolean;
}

/** Where a finding was made. `offset`/`line`/`column` refer to the scanned text (bytes for buffers). */
export interface Location {
  /** `body`, `url`, `header:<name>`, `frame:<n>`, `args.<path>`, a file path... */
  readonly where: string;
  readonly offset: number;
  readonly length: number;
  readonly line?: number;
  readonly column?: number;
  /** The decoding layers the secret was found under, outermost first (e.g. `percent`, `base64`). */
  readonly layers?: readonly string[];
}

export interface DlpFinding {
  readonly detector: string;
  readonly provider: string;
  readonly confidence: Confidence;
  /** Redacted sample: at most the first and last 4 characters; never the secret. */
  readonly sample: string;
  readonly location: Location;
  readonly explain: string;
}
