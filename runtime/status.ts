// What `knts status` shows, as data and as text: each service's URL and traffic, and each
// revision's traffic share, ready/desired pods, SKS mode and the autoscaler's stable and panic
// values. The admin endpoint serves the data as JSON; the command prints the table.

export interface TrafficStatus {
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
  readonly url?: string;
}

export interface ServiceStatus {
  readonly namespace: string;
  readonly name: string;
  /** `Service` or a standalone `Route`. */
  readonly kind: string;
  readonly url: string;
  readonly visibility: 'external' | 'cluster-local';
  readonly traffic: readonly TrafficStatus[];
}

export interface RevisionStatus {
  readonly namespace: string;
  readonly name: string;
  readonly configuration: string;
  readonly service: string;
  /** Percent of its routes' default traffic (sum over routes). */
  readonly percent: number;
  readonly ready: boolean;
  readonly readyPods: number;
  readonly desiredPods: number;
  readonly mode: 'Proxy' | 'Serve';
  readonly stable: number | null;
  readonly panic: number | null;
  readonly panicking: boolean;
}

export interface RuntimeStatus {
  readonly services: readonly ServiceStatus[];
  readonly revisions: readonly RevisionStatus[];
  /** Problems with the manifests now (the last good state keeps serving). */
  readonly errors: readonly string[];
}

function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

const num = (v: number | null): string => (v === null ? '-' : String(Math.round(v * 100) / 100));

export function formatStatus(s: RuntimeStatus): string {
  let out = '';
  if (s.services.length === 0) out += 'No services.\n';
  for (const svc of s.services) {
    out += `${svc.kind} ${svc.namespace}/${svc.name}  ${svc.url}${svc.visibility === 'cluster-local' ? '  (cluster-local)' : ''}\n`;
    const rows: string[][] = [['REVISION', 'TRAFFIC', 'TAG', 'URL']];
    for (const t of svc.traffic) rows.push([t.revision, `${t.percent}%`, t.tag ?? '', t.url ?? '']);
    out += table(rows, '  ');
  }
  if (s.revisions.length > 0) {
    out += '\n';
    const rows: string[][] = [['REVISION', 'SERVICE', 'TRAFFIC', 'READY', 'PODS', 'MODE', 'STABLE', 'PANIC']];
    for (const r of s.revisions) {
      rows.push([`${r.namespace}/${r.name}`, r.service || '-', `${r.percent}%`, r.ready ? 'True' : 'False', `${r.readyPods}/${r.desiredPods}`, r.mode, num(r.stable), `${num(r.panic)}${r.panicking ? ' (panicking)' : ''}`]);
    }
    out += table(rows);
  }
  if (s.errors.length > 0) out += `\nErrors (the last good state keeps serving):\n${s.errors.map((e) => `  ${e}`).join('\n')}\n`;
  return out;
}
