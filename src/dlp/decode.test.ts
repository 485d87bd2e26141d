import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childLayers, LayerBudget, spansAround } from './decode.js';

void describe('text-wide decodings in windows', () => {
  void it('decodes only the surroundings of each sequence, windows merged where they touch', () => {
    const filler = 'x'.repeat(50_000);
    const text = `${filler}\\u0041KIA${filler}a%41b%42${filler}`;
    const layers = childLayers(text, new LayerBudget());
    const escape = layers.find((l) => l.layers[0] === 'escape');
    const percent = layers.find((l) => l.layers[0] === 'percent');
    assert.ok(escape !== undefined && percent !== undefined);
    assert.equal(escape.start, 50_000 - 256);
    assert.equal(escape.end, 50_000 + 6 + 256);
    assert.ok(escape.text.includes('AKIA'));
    assert.ok(percent.end - percent.start < 600, 'two nearby sequences share one window');
    assert.ok(percent.text.includes('aAbB'));
  });
  void it('keeps the number of windows bounded: past the limit, one window runs to the end', () => {
    const text = Array.from({ length: 20 }, () => `%41${'y'.repeat(1000)}`).join('');
    const spans = spansAround(text, /%[0-9A-Fa-f]{2}/g, 5);
    assert.equal(spans.length, 5);
    assert.equal(spans[4]?.end, text.length);
  });
});
