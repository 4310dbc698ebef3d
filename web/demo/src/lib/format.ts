import type { Money } from './types.ts';

const money = new Map<string, Intl.NumberFormat>();

/** €1,250.00 */
export function formatMoney(m: Money): string {
  let f = money.get(m.currency);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { style: 'currency', currency: m.currency });
    money.set(m.currency, f);
  }
  return f.format(m.amount / 100);
}

const time = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit' });
const day = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' });

/** 14:05, or Mar 3 for another day. */
export function formatTime(iso: string, now = new Date()): string {
  const d = new Date(iso);
  return d.toDateString() === now.toDateString() ? time.format(d) : day.format(d);
}

export function firstName(name: string): string {
  return name.split(' ')[0] ?? name;
}

export function initials(name: string): string {
  return name
    .split(' ')
    .map((p) => p[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

/** A stable avatar hue per user id. */
export function hue(id: string): number {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) % 360;
  return h;
}

/** 1.2 MB, 940 kB */
export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  if (n >= 10 * (1 << 20)) return `${Math.round(n / (1 << 20))} MB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1).replace(/\.0$/, '')} MB`;
  if (n >= 1 << 10) return `${Math.round(n / (1 << 10))} kB`;
  return `${n} B`;
}

/** 3h 12m, 4m 05s */
export function formatUptime(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${String(sec).padStart(2, '0')}s`;
}

/** 12, 3.4, 0.25 per second: rounder as it grows. */
export function formatRate(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  if (n >= 1) return String(Math.round(n * 10) / 10);
  return String(Math.round(n * 100) / 100);
}
