/**
 * `audit verify-chain --report-html FILE`: the audit report as one
 * self-contained HTML page (inline CSS and SVG; no script, no external
 * resource, so it can be mailed, archived or opened offline). A pure function
 * of the same `LedgerAuditReport` the JSON report holds, so the two never
 * disagree.
 *
 * Every string that comes from the ledger (file name, actors, actions, days,
 * details) is attacker-controlled and goes through `escapeMarkup`.
 */
import { groupDigits } from '../formats/digit-groups.js';
import { bucketDays, escapeMarkup, renderEntriesChartSvg } from './entries-chart.js';
import type { LedgerAuditProblem, LedgerAuditReport, SignerSummary } from './report.js';

/** Tables of actors and actions stop here (a hostile ledger may hold a million distinct actors); the rest is summed up in one row. */
export const MAX_TABLE_ROWS = 200;

/** What each failure means to someone reading the page. */
const PROBLEM_TEXT: Record<LedgerAuditProblem, string> = {
  'malformed-line': 'a line is not a ledger entry (not a JSON object, or no entry_hash)',
  'entry-hash-mismatch': 'an entry does not match its entry_hash: it was changed after it was written',
  'prev-hash-mismatch': 'an entry does not link to the one before it: entries were deleted, inserted or reordered',
  'signature-invalid': 'an entry signature does not verify under the key of its actor',
  'signer-revoked': 'an entry is signed by a key that was revoked before the entry was written',
  'entry-unsigned': 'an entry is unsigned or signed by an untrusted key, and signatures are required',
  'head-mismatch': 'the ledger no longer holds the entry an earlier audit saw (--expect-head)',
};

const KEY_STATUS_TEXT: Record<SignerSummary['key'], string> = {
  trusted: 'trusted key',
  revoked: 'revoked key',
  untrusted: 'known, not trusted',
  unknown: 'unknown key',
};

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1000px; color: #1a1a1a; background: #fff; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 16px; }
h2 { font-size: 17px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
#summary th, #signature-totals th { width: 38%; }
.verdict { padding: 14px 18px; border-radius: 6px; font-size: 18px; font-weight: 600; }
.verdict.valid { background: #e3f4e6; border: 2px solid #2e7d32; color: #1b5e20; }
.verdict.invalid { background: #fdecea; border: 2px solid #c62828; color: #8e1b1b; }
.verdict .detail { display: block; font-weight: 400; font-size: 14px; margin-top: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid #e2e2e2; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
.note { color: #555; font-size: 13px; }
.chart { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
.status-unsigned { color: #555; } .status-trusted { color: #1b5e20; } .status-revoked, .status-unknown { color: #8e1b1b; } .status-untrusted { color: #8a5a00; }
`;

function row(label: string, valueHtml: string, id?: string): string {
  return `<tr${id !== undefined ? ` id="${id}"` : ''}><th scope="row">${escapeMarkup(label)}</th><td>${valueHtml}</td></tr>`;
}

function verdictBanner(r: LedgerAuditReport): string {
  if (r.status === 'valid') {
    const text = `VALID: the chain of ${groupDigits(r.entries)} ${r.entries === 1 ? 'entry' : 'entries'} is intact`;
    return `<section id="verdict" class="verdict valid" role="status">${escapeMarkup(text)}</section>`;
  }
  const where = r.first_bad_line !== null ? ` at line ${r.first_bad_line}` : '';
  const reason = r.reason === 'ok' ? 'invalid' : r.reason;
  const meaning = r.reason === 'ok' ? '' : PROBLEM_TEXT[r.reason];
  const detail = [meaning, r.detail ?? '', r.torn_last_line ? 'the last line is torn (a crash mid-write?): run `blux-reg audit repair`' : '']
    .filter((s) => s !== '')
    .map((s) => `<span class="detail">${escapeMarkup(s)}</span>`)
    .join('');
  return `<section id="verdict" class="verdict invalid" role="alert">${escapeMarkup(`INVALID${where}: ${reason}`)}${detail}</section>`;
}

function timeRange(r: LedgerAuditReport): string {
  if (r.first_ts === null || r.last_ts === null) return '<span class="note">no entries</span>';
  return `<span class="mono">${escapeMarkup(r.first_ts)}</span> to <span class="mono">${escapeMarkup(r.last_ts)}</span>`;
}

/**
 * The head hash and its line, with the option that makes the next audit
 * prove the ledger only grew: a chain alone cannot show a cut tail.
 */
function headCell(r: LedgerAuditReport): string {
  if (r.last_hash === null) return '<span class="note">none (empty)</span>';
  const hash = `<span class="mono">${escapeMarkup(r.last_hash)}</span>`;
  if (r.last_line === null) return hash;
  const option = `--expect-head ${r.last_hash}@${r.last_line}`;
  return `${hash} at line ${groupDigits(r.last_line)}<br><span class="note">next audit: <span class="mono">${escapeMarkup(option)}</span> detects a cut or rewritten tail</span>`;
}

function summaryTable(r: LedgerAuditReport): string {
  const t = r.throughput;
  const rows = [
    row('Ledger file', `<span class="mono">${escapeMarkup(r.file)}</span>`, 'summary-file'),
    row(r.status === 'valid' ? 'Entries' : 'Entries verified (before the first bad line)', groupDigits(r.entries), 'summary-entries'),
    row('Time range', timeRange(r), 'summary-time-range'),
    row('Head (last verified entry)', headCell(r), 'summary-head'),
    row('Torn last line', r.torn_last_line ? 'yes' : 'no', 'summary-torn'),
    row('Throughput',
      `${groupDigits(Math.round(t.entries_per_second))} entries/s, ${t.megabytes_per_second.toFixed(1)} MB/s (${groupDigits(t.bytes)} bytes in ${t.seconds.toFixed(3)} s)`,
      'summary-throughput'),
    row('Backend', escapeMarkup(r.backend), 'summary-backend'),
    row('Jobs', groupDigits(r.jobs), 'summary-jobs'),
  ];
  if (r.slow_path_lines !== undefined) {
    rows.push(row('Lines re-checked by the reference parser', groupDigits(r.slow_path_lines), 'summary-slow-path'));
  }
  if (r.expect_head !== undefined) {
    const at = r.expect_head.line !== null ? ` at line ${r.expect_head.line}` : '';
    rows.push(row('Expected head', `<span class="mono">${escapeMarkup(r.expect_head.hash)}</span>${escapeMarkup(at)}: ${r.expect_head.found ? 'found' : 'NOT found'}`, 'summary-expect-head'));
  }
  return `<table id="summary"><tbody>${rows.join('')}</tbody></table>`;
}

/** Name / count rows, largest first, cut at MAX_TABLE_ROWS with a closing "n more" row. */
function countTable(id: string, heading: string, counts: Readonly<Record<string, number>>): string {
  const sorted = Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const shown = sorted.slice(0, MAX_TABLE_ROWS);
  const rows = shown.map(([name, n]) => `<tr><td class="mono">${escapeMarkup(name)}</td><td class="num">${groupDigits(n)}</td></tr>`);
  const rest = sorted.slice(MAX_TABLE_ROWS);
  if (rest.length > 0) {
    const restEntries = rest.reduce((sum, [, n]) => sum + n, 0);
    rows.push(`<tr class="more"><td class="note">${groupDigits(rest.length)} more (not listed)</td><td class="num">${groupDigits(restEntries)}</td></tr>`);
  }
  if (rows.length === 0) rows.push('<tr><td class="note" colspan="2">none</td></tr>');
  return `<table id="${id}"><thead><tr><th>${escapeMarkup(heading)}</th><th class="num">entries</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A free-text actor that never signed is no key at all: say "unsigned" rather than "unknown key". */
function keyCell(g: SignerSummary): string {
  if (g.signed === 0 && g.key === 'unknown') return '<td class="status-unsigned">unsigned (not a key)</td>';
  return `<td class="status-${g.key}">${escapeMarkup(KEY_STATUS_TEXT[g.key])}</td>`;
}

function signatureSection(r: LedgerAuditReport): string {
  const s = r.signatures;
  const totals = `<table id="signature-totals"><tbody>${[
    row('Signed entries', groupDigits(s.signed)),
    row('Unsigned entries', groupDigits(s.unsigned)),
    row('Valid signatures', groupDigits(s.valid)),
    row('Invalid signatures', groupDigits(s.invalid)),
    row('Unverified signatures (no key for the actor)', groupDigits(s.unverified)),
  ].join('')}</tbody></table>`;
  const signers = [...s.signers].sort((a, b) => b.entries - a.entries).slice(0, MAX_TABLE_ROWS);
  const signerRows = signers.map((g) =>
    `<tr><td class="mono">${escapeMarkup(g.actor)}</td><td class="num">${groupDigits(g.entries)}</td><td class="num">${groupDigits(g.signed)}</td>` +
    `${keyCell(g)}` +
    `<td class="num">${groupDigits(g.valid)}</td><td class="num">${groupDigits(g.invalid)}</td><td class="num">${groupDigits(g.unverified)}</td></tr>`);
  const more = s.signers.length > signers.length ? `<p class="note">${groupDigits(s.signers.length - signers.length)} more signers not listed.</p>` : '';
  const table = signerRows.length === 0
    ? '<p class="note">No signers.</p>'
    : `<table id="signers"><thead><tr><th>actor</th><th class="num">entries</th><th class="num">signed</th><th>key</th><th class="num">valid</th><th class="num">invalid</th><th class="num">unverified</th></tr></thead><tbody>${signerRows.join('')}</tbody></table>${more}`;
  return `${totals}<h3>Signers</h3>${table}`;
}

/** Entries whose `ts` gives no real day cannot be charted: say how many, so the bars do not look like everything. */
function undatedNote(r: LedgerAuditReport): string {
  const { undated } = bucketDays(r.entries_per_day);
  return undated === 0 ? '' : `<p class="note" id="undated">${groupDigits(undated)} entries have no valid date and are not in the chart.</p>`;
}

export function renderLedgerAuditHtml(report: LedgerAuditReport): string {
  const title = `Ledger audit: ${report.status} (${report.file})`;
  const partial = report.status === 'invalid'
    ? `<p class="note">The figures below cover the ${groupDigits(report.entries)} entries before the first bad line.</p>`
    : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing on this page loads or runs anything: say so to the browser too.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeMarkup(title)}</title><style>${STYLE}</style></head><body>`,
    '<h1>blux-reg ledger audit</h1>',
    verdictBanner(report),
    partial,
    '<h2>Summary</h2>',
    summaryTable(report),
    '<h2>Entries over time</h2>',
    renderEntriesChartSvg(report.entries_per_day),
    undatedNote(report),
    '<h2>Signatures</h2>',
    signatureSection(report),
    '<h2>Actions</h2>',
    countTable('actions', 'action', report.actions),
    '<h2>Actors</h2>',
    countTable('actors', 'actor', report.actors),
    '</body></html>',
    '',
  ].join('\n');
}
