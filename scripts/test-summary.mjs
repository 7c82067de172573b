// Prints vitest's JSON report as the plain line "N passed, N failed, N skipped"; exits non-zero
// when a test failed, a file failed to load, or no test ran.
import { existsSync, readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'test-output/results.json';
if (!existsSync(path)) {
  console.log('0 passed, 0 failed');
  console.error(`test-summary: ${path} was not written: the test run did not complete`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(path, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const brokenFiles = (report.testResults ?? []).filter((file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0);
console.log(`${passed} passed, ${failed + brokenFiles.length} failed, ${skipped} skipped`);
if (failed > 0 || brokenFiles.length > 0 || report.success === false) process.exit(1);
if (passed === 0) {
  console.error('test-summary: no test ran');
  process.exit(1);
}
