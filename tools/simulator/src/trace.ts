import { readFileSync } from 'node:fs';

/** A job-arrival trace: rate segments, a diurnal curve, or explicit arrival times (seconds from the start). */
export interface TraceFile {
  name: string;
  description?: string;
  seed?: number;
  segments?: { minutes: number; perMinute: number }[];
  diurnal?: { hours: number; minPerMinute: number; maxPerMinute: number; peakHour: number };
  arrivals?: number[];
}

/** A small seeded generator (mulberry32), so a trace and a run are the same every time. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Poisson arrivals at a rate that may change every second: exponential gaps, thinned by the rate's peak. */
function poisson(ratePerSecond: (t: number) => number, durationS: number, peakPerSecond: number, random: () => number): number[] {
  const out: number[] = [];
  let t = 0;
  while (peakPerSecond > 0) {
    t += -Math.log(1 - random()) / peakPerSecond;
    if (t >= durationS) break;
    if (random() < ratePerSecond(t) / peakPerSecond) out.push(t);
  }
  return out;
}

/** Arrival times in seconds, sorted. */
export function arrivals(trace: TraceFile): number[] {
  if (trace.arrivals) return [...trace.arrivals].sort((a, b) => a - b);
  const random = rng(trace.seed ?? 1);
  if (trace.segments) {
    const bounds: { end: number; perSecond: number }[] = [];
    let end = 0;
    for (const s of trace.segments) bounds.push({ end: (end += s.minutes * 60), perSecond: s.perMinute / 60 });
    const rate = (t: number) => bounds.find((b) => t < b.end)?.perSecond ?? 0;
    return poisson(rate, end, Math.max(...bounds.map((b) => b.perSecond)), random);
  }
  if (trace.diurnal) {
    const d = trace.diurnal;
    const lo = d.minPerMinute / 60;
    const hi = d.maxPerMinute / 60;
    const rate = (t: number) => lo + ((hi - lo) * (1 + Math.cos(((t / 3600 - d.peakHour) / 24) * 2 * Math.PI))) / 2;
    return poisson(rate, d.hours * 3600, hi, random);
  }
  throw new Error(`trace ${trace.name} has no segments, diurnal curve or arrivals`);
}

export function loadTrace(pathOrName: string, tracesDir: string): TraceFile {
  const path = pathOrName.endsWith('.json') ? pathOrName : `${tracesDir}/${pathOrName}.json`;
  return JSON.parse(readFileSync(path, 'utf8')) as TraceFile;
}
