/**
 * JUnit XML for CI systems (GitLab, Jenkins, GitHub test reporters): one
 * testcase per artifact, so a failed artifact shows inline with its reason.
 */
import type { BatchReport } from './report.js';

/** XML 1.0 text: escape markup characters and drop code points XML cannot carry at all. */
export function xmlText(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function toJunitXml(report: BatchReport): string {
  const failures = report.results.filter((r) => r.verdict === 'failed' || (report.options.require_signed && r.verdict === 'unsigned')).length;
  const skipped = report.options.require_signed ? 0 : report.results.filter((r) => r.verdict === 'unsigned').length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="blux-reg verify-batch" tests="${report.results.length}" failures="${failures}" time="${report.timings.wall_seconds.toFixed(3)}">`,
    `  <testsuite name="${xmlText(report.roots.join(' '))}" tests="${report.results.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${report.timings.wall_seconds.toFixed(3)}">`,
  ];
  for (const r of report.results) {
    const open = `    <testcase classname="blux-reg.verify-batch" name="${xmlText(r.path)}">`;
    if (r.verdict === 'verified') {
      lines.push(`    <testcase classname="blux-reg.verify-batch" name="${xmlText(r.path)}"/>`);
    } else if (r.verdict === 'unsigned' && !report.options.require_signed) {
      lines.push(open, `      <skipped message="unsigned: no manifest names this file"/>`, '    </testcase>');
    } else {
      lines.push(open, `      <failure type="${xmlText(r.reason)}" message="${xmlText(`${r.reason}: ${r.message}`)}">${xmlText(r.message)}</failure>`, '    </testcase>');
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
