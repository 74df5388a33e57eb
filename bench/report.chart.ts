/** A dependency-free SVG bar chart: each variant's throughput as a share of the unprotected server's. */
import type { ModeId } from './matrix.rounds.js';
import type { Row } from './report.summary.js';
import { ADAPTERS, ALGORITHMS, isReference, type ReferenceId, type VariantId } from './scenario.shared.js';
import { VARIANTS } from './variants.registry.js';

type Charted = Exclude<VariantId, ReferenceId>;
const COLORS: Readonly<Record<Charted, string>> = {
  stepup: '#1d4ed8',
  'stepup-nocache': '#60a5fa',
  'stepup-baseline': '#94a3b8',
  'oauth2-jwt-bearer': '#f59e0b',
  'passport-jwt': '#10b981',
  'jose-guard': '#8b5cf6',
};
const CHARTED_MODES: readonly ModeId[] = ['repeated', 'fresh'];
const LABEL_WIDTH = 230;
const BAR_AREA = 520;
const BAR = 13;
const GAP = 3;
const GROUP_GAP = 14;
const TOP = 64;

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function ratioChart(rows: readonly Row[]): string {
  const charted = rows.filter((r) => !isReference(r.variant) && CHARTED_MODES.includes(r.mode) && !Number.isNaN(r.ratioToNone));
  const scale = Math.max(1.1, ...charted.map((r) => r.ratioToNone));
  const x = (ratio: number): number => LABEL_WIDTH + (ratio / scale) * BAR_AREA;
  const parts: string[] = [];
  let y = TOP;
  for (const adapter of ADAPTERS) {
    for (const alg of ALGORITHMS) {
      for (const mode of CHARTED_MODES) {
        const group = charted.filter((r) => r.adapter === adapter && r.alg === alg && r.mode === mode);
        if (!group.length) continue;
        parts.push(`<text x="8" y="${y + BAR - 2}" font-weight="bold">${adapter} · ${alg} · ${mode === 'fresh' ? 'new token per request' : 'repeated tokens'}</text>`);
        y += BAR + GAP;
        for (const row of group) {
          const variant = row.variant as Charted;
          parts.push(
            `<text x="20" y="${y + BAR - 2}">${escape(VARIANTS[variant].label)}</text>`,
            `<rect x="${LABEL_WIDTH}" y="${y}" width="${(x(row.ratioToNone) - LABEL_WIDTH).toFixed(1)}" height="${BAR}" fill="${COLORS[variant]}"/>`,
            `<text x="${(x(row.ratioToNone) + 4).toFixed(1)}" y="${y + BAR - 2}">${row.ratioToNone.toFixed(2)}</text>`,
          );
          y += BAR + GAP;
        }
        y += GROUP_GAP;
      }
    }
  }
  const height = y + 10;
  const width = LABEL_WIDTH + BAR_AREA + 60;
  const line = (ratio: number, color: string, label: string, labelY: number) =>
    `<line x1="${x(ratio)}" y1="${TOP - 8}" x2="${x(ratio)}" y2="${height - 10}" stroke="${color}" stroke-dasharray="4 3"/>` +
    `<text x="${x(ratio)}" y="${labelY}" fill="${color}" text-anchor="middle">${label}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="14" font-weight="bold">Throughput as a share of the unprotected endpoint (median over rounds)</text>`,
    line(0.95, '#dc2626', '0.95', TOP - 24),
    line(1, '#6b7280', '1.0', TOP - 12),
    ...parts,
    `</svg>`,
    '',
  ].join('\n');
}
