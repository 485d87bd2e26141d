/** SARIF 2.1.0 output for `cordon scan` (accepted by GitHub code scanning). */
import { ALL_DETECTORS } from './engine.js';
import type { Confidence } from './types.js';

export interface FileFinding {
  readonly path: string;
  readonly line: number;
  readonly column: number;
  readonly detector: string;
  readonly provider: string;
  readonly confidence: Confidence;
  readonly sample: string;
  readonly explain: string;
  readonly layers?: readonly string[];
}

const LEVEL: Record<Confidence, 'error' | 'warning' | 'note'> = { high: 'error', medium: 'warning', low: 'note' };

export function toSarif(findings: readonly FileFinding[], version: string): unknown {
  const formats = new Map(ALL_DETECTORS.map((d) => [d.id, `${d.provider}: ${d.format}`]));
  const ids = [...new Set(findings.map((f) => f.detector))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'cordon', version, informationUri: 'https://www.npmjs.com/package/cordon',
          rules: ids.map((id) => ({
            id, name: id,
            shortDescription: { text: `Credential found: ${id}` },
            fullDescription: { text: formats.get(id) ?? id },
            defaultConfiguration: { level: 'error' },
            properties: { tags: ['security', 'secret'] },
          })),
        },
      },
      columnKind: 'unicodeCodePoints',
      results: findings.map((f) => ({
        ruleId: f.detector,
        ruleIndex: ids.indexOf(f.detector),
        level: LEVEL[f.confidence],
        message: { text: `${f.explain} Sample: ${f.sample} (confidence ${f.confidence}).` },
        locations: [{ physicalLocation: { artifactLocation: { uri: f.path.split('\\').join('/') }, region: { startLine: f.line, startColumn: f.column } } }],
        partialFingerprints: { 'cordon/v1': `${f.detector}:${f.sample}` },
      })),
    }],
  };
}
