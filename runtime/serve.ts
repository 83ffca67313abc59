// `knts serve [DIR]`: Knative Serving on one machine. Reads every manifest in DIR, runs the
// serving model over them, and keeps the control plane (pods, autoscaler, activator, ingress)
// in line with it: on every file change, and whenever a revision's readiness changes (which
// moves traffic, as the route controller does when a revision becomes ready). Serves the admin
// API for `knts status`. Runs until SIGTERM or SIGINT, then drains every pod.
import { dirname, resolve } from 'node:path';
import { createLogger } from '../config/logger.ts';
import { levelFor } from '../config/logging.ts';
import { untilSignal } from '../cli/until-signal.ts';
import { listen } from '../network/listen.ts';
import { createAdminServer } from './admin.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { listManifests, readManifest, watchManifests } from './manifest-dir.ts';
import { ServingModel, type ManifestFile, type Routing } from './model.ts';
import type { RevisionStatus, RuntimeStatus } from './status.ts';

export interface ServeOptions {
  readonly dir: string;
  readonly port: number;
  readonly adminPort: number;
  readonly host: string;
  /** Internal (cluster-local) ingress port; 0 picks one. */
  readonly internalPort?: number;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where the runtime's own JSON log lines go (default stdout, with the pod logs). */
  readonly log?: NodeJS.WritableStream;
}

export interface RunningServe {
  readonly ports: { readonly ingress: number; readonly internal: number; readonly admin: number };
  readonly controlPlane: ControlPlane;
  status(): RuntimeStatus;
  /** Re-reads the folder now (the watcher does it on changes). */
  reload(): Promise<readonly string[]>;
  close(): Promise<void>;
}

export async function startServe(o: ServeOptions): Promise<RunningServe> {
  const dir = resolve(o.dir);
  const model = new ServingModel();
  const log = createLogger('serve', levelFor(model.config.logging, 'controller'), o.log ?? o.stdout);
  // Ready once: a revision's Ready condition stays True after it scales to zero.
  const everReady = new Set<string>();
  let cp: ControlPlane | undefined;
  let lastErrors: readonly string[] = [];

  const podLog = (pod: string, container: string, line: string): void => {
    // A queue-proxy's info lines (startup, drain) are noise next to the apps' own output, unless
    // config-logging asks for them.
    if (container === 'queue-proxy' && model.config.logging.levels['queueproxy'] === undefined && /^\{"level":(10|20|30),/.test(line)) return;
    o.stdout.write(`[${pod} ${container}] ${line}\n`);
  };

  let closed = false;
  const reroute = (): void => {
    if (cp === undefined || closed) return;
    for (const key of cp.cluster.keys()) if ((cp.cluster.status(key)?.ready ?? 0) > 0) everReady.add(key);
    const routing = model.routing((ns, name) => everReady.has(`${ns}/${name}`));
    // A deleted revision forgets it was ready: a Service deleted and added again starts over.
    const live = new Set(routing.revisions.map((r) => `${r.namespace}/${r.name}`));
    for (const key of everReady) if (!live.has(key)) everReady.delete(key);
    cp.apply(routing.revisions, routing.rules);
    applied = routing;
  };
  let applied: Routing | undefined;

  // One reload at a time, and one more if files changed meanwhile: an older read must never
  // be applied after a newer one.
  let reloading: Promise<readonly string[]> | undefined;
  let again = false;
  const reload = (): Promise<readonly string[]> => {
    if (reloading !== undefined) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        let errors: readonly string[];
        do {
          again = false;
          errors = await readAndApply();
        } while (again && !closed);
        return errors;
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  const readAndApply = async (): Promise<readonly string[]> => {
    const files: ManifestFile[] = [];
    const unreadable = new Map<string, string[]>();
    let paths: string[] = [];
    try {
      paths = await listManifests(dir);
    } catch (err) {
      // The folder went away: report it, and keep serving what was loaded.
      const e = folderError(dir, err);
      if (!lastErrors.includes(e)) o.stderr.write(`error: ${e}\n`);
      lastErrors = [e];
      return lastErrors;
    }
    for (const file of paths) {
      const r = await readManifest(file);
      if (r.ok) files.push({ file, dir: dirname(file), docs: r.docs });
      else unreadable.set(file, r.errors);
    }
    if (closed) return lastErrors;
    const errors = model.update(files, unreadable);
    for (const e of errors) if (!lastErrors.includes(e)) o.stderr.write(`error: ${e}\n`);
    lastErrors = errors;
    reroute();
    return errors;
  };

  // A folder that cannot be read at all is a mistake in the command line, not an edit.
  await listManifests(dir).catch((err: unknown) => {
    throw new Error(folderError(o.dir, err));
  });
  cp = await startControlPlane({ host: o.host, port: o.port, internalPort: o.internalPort ?? 0, config: () => model.config, log, podLog });
  const controlPlane = cp;
  let timer: NodeJS.Timeout | undefined;
  // Readiness changes arrive in bursts (every pod, every probe): route once they settle.
  const unsubscribe = cp.cluster.revisions.subscribe(() => {
    clearTimeout(timer);
    timer = setTimeout(reroute, 20);
  });
  await reload();

  let watcher: { close(): void } | undefined;
  try {
    watcher = watchManifests(dir, () => void reload());
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'cannot watch the folder; edits will not apply live');
  }

  // Status shows what is applied (routes move once a revision's readiness has been acted on).
  const status = (): RuntimeStatus => {
    const routing = applied ?? { revisions: [], rules: [], services: [], pending: [] };
    // A revision's share: its percents on each route's own host (not on tag hosts).
    const routeHosts = new Set(routing.services.map((s) => s.url.replace(/^https?:\/\//, '')));
    const percents = new Map<string, number>();
    for (const rule of routing.rules) {
      if (!routeHosts.has(rule.host)) continue;
      for (const t of rule.targets) percents.set(`${rule.namespace}/${t.revision}`, (percents.get(`${rule.namespace}/${t.revision}`) ?? 0) + t.percent);
    }
    const revisions: RevisionStatus[] = routing.revisions.map((r) => {
      const key = `${r.namespace}/${r.name}`;
      const s = controlPlane.cluster.status(key);
      const d = controlPlane.decisions.get(key);
      return {
        namespace: r.namespace,
        name: r.name,
        configuration: r.configuration,
        service: r.service,
        percent: percents.get(key) ?? 0,
        ready: everReady.has(key),
        readyPods: s?.ready ?? 0,
        desiredPods: s?.desired ?? 0,
        mode: s?.mode ?? 'Proxy',
        stable: d?.stable ?? null,
        panic: d?.panic ?? null,
        panicking: d?.panicking ?? false,
      };
    });
    return { services: routing.services, revisions, errors: [...lastErrors, ...routing.pending] };
  };

  const admin = createAdminServer(status);
  let adminPort: number;
  try {
    adminPort = await listen(admin, o.adminPort, o.host);
  } catch (err) {
    watcher?.close();
    unsubscribe();
    await cp.close();
    throw err;
  }
  log.info({ dir, ingress: cp.ports.ingress, internal: cp.ports.internal, admin: adminPort }, 'knts serve: ready');

  return {
    ports: { ingress: cp.ports.ingress, internal: cp.ports.internal, admin: adminPort },
    controlPlane,
    status,
    reload,
    async close() {
      closed = true;
      clearTimeout(timer);
      watcher?.close();
      unsubscribe();
      admin.closeAllConnections();
      await new Promise<void>((r) => admin.close(() => r()));
      await controlPlane.close();
    },
  };
}

const folderError = (dir: string, err: unknown): string => `${dir}: cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;

/** `knts serve`: runs until a signal; exit 1 if it cannot start. */
export async function runServe(o: ServeOptions): Promise<number> {
  let running: RunningServe;
  try {
    running = await startServe(o);
  } catch (err) {
    o.stderr.write(`serve: ${(err as Error).message}\n`);
    return 1;
  }
  const s = running.status();
  o.stdout.write(`knts serve: ingress on http://${o.host}:${running.ports.ingress} (cluster-local routes: ${running.ports.internal}), admin on http://${o.host}:${running.ports.admin}/status\n`);
  for (const svc of s.services) o.stdout.write(`  ${svc.kind} ${svc.namespace}/${svc.name}: ${svc.url}\n`);
  const log = createLogger('serve', 'info');
  return untilSignal(log, () => running.close());
}
