/** Runs part (a) alone: `node --import tsx bench/dlp/run-fixtures.ts [--verbose]`. */
import { runFixtures } from './report.js';

runFixtures(process.argv.includes('--verbose'));
