import { useLayoutEffect, useRef, useState } from 'react';
import { niceCeil, WINDOW } from './series.ts';

export interface Series {
  name: string;
  color: string;
  values: number[];
  /** A dashed line, for limits such as a queue's capacity. */
  dashed?: boolean;
}

const H = 180;
const PAD = { top: 10, right: 12, bottom: 24 };

/**
 * A line chart of the last WINDOW seconds in plain SVG: no chart library.
 * The legend states every series' latest value, so the numbers are there
 * as text for everyone, and the SVG is one labelled image.
 */
export function LineChart({ title, series, format, min = 1, unit = 1, testId }: {
  title: string;
  series: Series[];
  format: (n: number) => string;
  /** The least top of the y axis. */
  min?: number;
  /** The y axis steps are round in this unit (e.g. 2^20 for MB). */
  unit?: number;
  testId?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(480);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const ro = new ResizeObserver(([e]) => e && setWidth(Math.max(240, Math.floor(e.contentRect.width))));
    ro.observe(el);
    setWidth(Math.max(240, Math.floor(el.getBoundingClientRect().width)));
    return () => ro.disconnect();
  }, []);

  const { top, ticks } = axis(Math.max(0, ...series.flatMap((s) => s.values)), min, unit);
  // Room for the longest tick label (11 px text).
  const left = Math.max(28, Math.ceil(Math.max(...ticks.map((t) => format(t).length)) * 6.6) + 12);
  const plotW = width - left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number, n: number) => left + plotW * ((WINDOW - n + i) / (WINDOW - 1));
  const y = (v: number) => PAD.top + plotH * (1 - v / top);
  const latest = (s: Series) => s.values[s.values.length - 1] ?? 0;
  const summary = series.map((s) => `${s.name} ${format(latest(s))}`).join(', ');

  return (
    <figure className="chart" data-testid={testId}>
      <figcaption>
        <span className="chart-title">{title}</span>
        <ul className="legend">
          {series.map((s) => (
            <li key={s.name}>
              <span className={s.dashed ? 'swatch dashed' : 'swatch'} style={{ background: s.dashed ? undefined : s.color, borderColor: s.color }} aria-hidden="true" />
              {s.name} <strong>{format(latest(s))}</strong>
            </li>
          ))}
        </ul>
      </figcaption>
      <div ref={ref} className="chart-box">
        <svg width={width} height={H} role="img" aria-label={`${title}, last ${WINDOW} seconds. Now: ${summary}.`}>
          {ticks.map((t) => (
            <g key={t}>
              <line x1={left} x2={width - PAD.right} y1={y(t)} y2={y(t)} className={t === 0 ? 'axis' : 'grid'} />
              <text x={left - 8} y={y(t)} dy="0.32em" textAnchor="end" className="tick">
                {format(t)}
              </text>
            </g>
          ))}
          {[0, 0.5, 1].map((f) => (
            <text key={f} x={left + plotW * f} y={H - 6} textAnchor={f === 0 ? 'start' : f === 1 ? 'end' : 'middle'} className="tick">
              {f === 1 ? 'now' : `-${Math.round(WINDOW * (1 - f))}s`}
            </text>
          ))}
          {series.map((s, k) => {
            const n = s.values.length;
            if (n === 0) return null;
            const pts = s.values.map((v, i) => `${x(i, n).toFixed(1)},${y(v).toFixed(1)}`);
            const line = `M${pts.join('L')}`;
            const area = `${line}L${x(n - 1, n).toFixed(1)},${y(0)}L${x(0, n).toFixed(1)},${y(0)}Z`;
            return (
              <g key={s.name}>
                {k === 0 && !s.dashed ? <path d={area} fill={s.color} fillOpacity={0.08} /> : null}
                <path d={line} fill="none" stroke={s.color} strokeWidth={s.dashed ? 1.5 : 2} strokeDasharray={s.dashed ? '5 4' : undefined} strokeLinejoin="round" strokeLinecap="round" />
                {s.dashed ? null : <circle cx={x(n - 1, n)} cy={y(latest(s))} r={3} fill={s.color} />}
              </g>
            );
          })}
        </svg>
      </div>
    </figure>
  );
}

/** A y axis from 0 to a round top at least max and min, with 3 to 6 round steps in unit. */
export function axis(max: number, min: number, unit: number): { top: number; ticks: number[] } {
  const topU = niceCeil(max / unit, min / unit);
  const step = niceCeil(topU / 5, 1e-9);
  const n = Math.ceil(topU / step - 1e-9);
  const ticks = Array.from({ length: n + 1 }, (_, k) => k * step * unit);
  return { top: n * step * unit, ticks };
}
