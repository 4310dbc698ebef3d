// Prints one closing line, "web: N passed, N failed", from Vitest JSON reports,
// and fails when a report is missing or ran no test.
import { readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
  if (r.numTotalTests === 0) {
    console.error(`${file}: no test ran`);
    failed++;
  }
}
console.log(`web: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
