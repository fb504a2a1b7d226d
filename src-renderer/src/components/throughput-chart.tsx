import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ThroughputPoint } from '../../../shared/rpc-views.js';
import { TableHead } from './table-head.js';

const COLORS = ['#1f6feb', '#8250df', '#bf3989', '#9a6700', '#0a7f6f'];
const WINDOW_BUCKETS = 90;

type Props = { points: ThroughputPoint[]; destinations: string[]; bucketSeconds: number; at: number };

/** The last 15 minutes bucket by bucket, zero where nothing happened, so the axis always spans the window. */
function fullWindow(points: ThroughputPoint[], bucketSeconds: number, at: number): ThroughputPoint[] {
  const byT = new Map(points.map((p) => [p.t, p]));
  const end = Math.floor(at / 1000 / bucketSeconds) * bucketSeconds;
  const window: ThroughputPoint[] = [];
  for (let t = end - (WINDOW_BUCKETS - 1) * bucketSeconds; t <= end; t += bucketSeconds) {
    window.push(byT.get(t) ?? { t, captured: 0, delivered: {} });
  }
  return window;
}

/**
 * Captured and delivered events per bucket over the last 15 minutes (uPlot: canvas, small, and cheap to update
 * every two seconds). A visually hidden table below carries the same numbers for screen readers.
 */
export function ThroughputChart({ points: raw, destinations, bucketSeconds, at }: Props) {
  const points = fullWindow(raw, bucketSeconds, at);
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const seriesKey = destinations.join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const options: uPlot.Options = {
      width: Math.max(320, el.clientWidth),
      height: 220,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.1))] } },
      legend: { live: false },
      axes: [{}, { label: `events / ${bucketSeconds} s`, size: 60 }],
      series: [
        {},
        { label: 'Captured', stroke: '#1a7f37', width: 2, fill: 'rgba(26,127,55,0.08)' },
        ...destinations.map((d, i) => ({
          label: `Delivered to ${d}`,
          stroke: COLORS[i % COLORS.length]!,
          width: 2,
        })),
      ],
    };
    const chart = new uPlot(options, [[], [], ...destinations.map(() => [])], el);
    plot.current = chart;
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(320, el.clientWidth), height: 220 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of destinations changes; data updates go through setData.
  }, [seriesKey, bucketSeconds]);

  useEffect(() => {
    plot.current?.setData([
      points.map((p) => p.t),
      points.map((p) => p.captured),
      ...destinations.map((d) => points.map((p) => p.delivered[d] ?? 0)),
    ]);
  }, [points, destinations]);

  const recent = points.slice(-6);
  return (
    <figure className="chart">
      <div ref={box} aria-hidden="true" />
      <figcaption className="visually-hidden">
        <table>
          <caption>Events per {bucketSeconds} seconds, last minute</caption>
          <TableHead columns={['Time', 'Captured', ...destinations.map((d) => `Delivered to ${d}`)]} />
          <tbody>
            {recent.map((p) => (
              <tr key={p.t}>
                <td>{new Date(p.t * 1000).toLocaleTimeString()}</td>
                <td>{p.captured}</td>
                {destinations.map((d) => (
                  <td key={d}>{p.delivered[d] ?? 0}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </figcaption>
    </figure>
  );
}
