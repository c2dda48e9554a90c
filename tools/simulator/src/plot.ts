import type { SimResult } from './simulate';

/** A small SVG: one panel per policy, jobs waiting (red) and workers (blue) over time, on a shared scale. */
export function plotSvg(title: string, results: readonly SimResult[]): string {
  const width = 720;
  const panel = 150;
  const pad = 40;
  const height = pad + results.length * (panel + pad);
  const tMax = Math.max(1, ...results.flatMap((r) => r.series.map((s) => s.t)));
  const yMax = Math.max(1, ...results.flatMap((r) => r.series.flatMap((s) => [s.waiting, s.workers])));
  const x = (t: number) => pad + ((width - 2 * pad) * t) / tMax;
  const line = (r: SimResult, top: number, key: 'waiting' | 'workers') =>
    r.series.map((s, i) => `${i ? 'L' : 'M'}${x(s.t).toFixed(1)},${(top + panel - (panel * s[key]) / yMax).toFixed(1)}`).join(' ');
  const panels = results.map((r, i) => {
    const top = pad + i * (panel + pad);
    return [
      `<text x="${pad}" y="${top - 8}" font-size="12">${r.policy}: ${r.gpuHours.toFixed(1)} GPU-h, p95 wait ${r.wait.p95.toFixed(0)} s, lost ${r.lost}</text>`,
      `<rect x="${pad}" y="${top}" width="${width - 2 * pad}" height="${panel}" fill="none" stroke="#ccc"/>`,
      `<path d="${line(r, top, 'waiting')}" fill="none" stroke="#d62728" stroke-width="1.2"/>`,
      `<path d="${line(r, top, 'workers')}" fill="none" stroke="#1f77b4" stroke-width="1.2"/>`,
      `<text x="${width - pad}" y="${top + 12}" font-size="10" text-anchor="end" fill="#1f77b4">workers</text>`,
      `<text x="${width - pad}" y="${top + 24}" font-size="10" text-anchor="end" fill="#d62728">jobs waiting</text>`,
      `<text x="${pad - 4}" y="${top + 10}" font-size="10" text-anchor="end">${yMax}</text>`,
      `<text x="${width - pad}" y="${top + panel + 12}" font-size="10" text-anchor="end">${(tMax / 3600).toFixed(1)} h</text>`,
    ].join('\n');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<text x="${pad}" y="20" font-size="14" font-weight="bold">${title}</text>`,
    ...panels,
    '</svg>',
  ].join('\n');
}
