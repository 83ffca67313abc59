// One local pod: the user container as a child process with `PORT` set to a free port, and its
// own real queue-proxy child process in front of it, started with the env Knative's controller
// would set. Readiness is the kubelet's view: the queue-proxy's answer to a kube-probe. A crashed
// app restarts with exponential backoff while the queue-proxy keeps running, as a container
// restart inside a pod does. Termination follows Kubernetes: SIGTERM to the queue-proxy (it
// drains), then to the app, SIGKILL after the grace period. Output lines go to `onLog` with the
// container name.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

export interface PodSpec {
  readonly name: string;
  /** The user container: argv (command then args), env and working directory. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The queue-proxy: node executable, its script, and its env for the app's port (ports of its own are filled in here). */
  readonly queueProxy: { readonly execPath: string; readonly args: readonly string[]; readonly env: (userPort: number) => Readonly<Record<string, string>> };
  /** SIGTERM → SIGKILL grace, ms (the revision's timeout). */
  readonly gracePeriodMs: number;
}

export type PodPhase = 'starting' | 'ready' | 'unready' | 'terminating' | 'terminated';

export interface PodPorts {
  readonly user: number;
  readonly serving: number;
  readonly admin: number;
  readonly metrics: number;
}

export interface PodEvents {
  /** Readiness or phase changed. */
  onChange(pod: PodProcess): void;
  onLog(pod: PodProcess, container: 'user-container' | 'queue-proxy', line: string): void;
}

/** Restart backoff for a crashed app: 100 ms doubling to 10 s; reset after 10 s of running. */
export const RESTART_BACKOFF_MS = { initial: 100, max: 10_000, resetAfter: 10_000 } as const;
const READINESS_FAST_MS = 25;
const READINESS_SLOW_MS = 500;
const READINESS_TIMEOUT_MS = 1000;
const FAILURES_TO_UNREADY = 3;

const running = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;

/** SIGTERM, then SIGKILL at `deadline`; resolves when the process is gone. */
async function terminate(child: ChildProcess | undefined, deadline: number): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
  await exited;
  clearTimeout(kill);
}

/** A port on 127.0.0.1 held by a listening socket until `release()`, so nobody else takes it. */
export interface PortReservation {
  readonly port: number;
  /** Frees the port for its owner to bind; call right before starting the owner. */
  release(): void;
}

export function reservePort(): Promise<PortReservation> {
  return new Promise((resolve, reject) => {
    // Anything that connects meanwhile is cut at once: only the app may answer on this port.
    const s = createServer((socket) => socket.destroy());
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      resolve({ port, release: () => void s.close() });
    });
  });
}

/** A free TCP port on 127.0.0.1 for immediate use (the kernel picks; the race is a few ms). */
export async function freePort(): Promise<number> {
  const r = await reservePort();
  r.release();
  return r.port;
}

/** The kubelet's readiness probe of the queue-proxy: 200 means ready. */
function kubeletProbe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: READINESS_TIMEOUT_MS, headers: { 'user-agent': 'kube-probe/1.30', 'k-network-probe': 'queue' } }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export class PodProcess {
  readonly spec: PodSpec;
  readonly startedAtMs = Date.now();
  #phase: PodPhase = 'starting';
  #ports: PodPorts | undefined;
  #app: ChildProcess | undefined;
  #qp: ChildProcess | undefined;
  #events: PodEvents;
  #restarts = 0;
  #appStartedAt = 0;
  #starting: Promise<void> | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopping: Promise<void> | undefined;

  constructor(spec: PodSpec, events: PodEvents) {
    this.spec = spec;
    this.#events = events;
  }

  get name(): string {
    return this.spec.name;
  }

  get phase(): PodPhase {
    return this.#phase;
  }

  get ready(): boolean {
    return this.#phase === 'ready';
  }

  get ports(): PodPorts | undefined {
    return this.#ports;
  }

  /**
   * Starts both containers; resolves once the queue-proxy listens (readiness comes later). A
   * sidecar started ahead of time (`WarmSidecar`) is adopted instead of starting a new one.
   */
  start(warm?: WarmSidecar): Promise<void> {
    this.#starting = this.#start(warm);
    return this.#starting;
  }

  async #start(warm: WarmSidecar | undefined): Promise<void> {
    if (this.spec.argv.length === 0) {
      await warm?.discard();
      throw new Error(`${this.name}: the container has no command`);
    }
    // stop() or kill() may come at any await below: nothing may be left running after it.
    if (warm !== undefined) {
      if (this.#stopping !== undefined) return warm.discard();
      warm.releasePort();
      this.#startApp(warm.userPort);
      this.#adopt(warm);
    } else {
      const user = await freePort();
      if (this.#stopping !== undefined) return;
      this.#startApp(user);
      const sidecar = await WarmSidecar.start(this.spec, user, (container, line) => this.#events.onLog(this, container, line));
      if (this.#stopping !== undefined) return sidecar.discard();
      this.#adopt(sidecar);
    }
    this.#scheduleProbe(0);
  }

  #adopt(sidecar: WarmSidecar): void {
    const qp = sidecar.child;
    this.#qp = qp;
    this.#ports = { user: sidecar.userPort, ...sidecar.ports };
    sidecar.onLog = (container, line) => this.#events.onLog(this, container, line);
    qp.on('exit', (code) => {
      if (this.#stopping !== undefined) return;
      // The sidecar died: the pod is gone for good (Kubernetes would restart it; we replace it).
      this.#events.onLog(this, 'queue-proxy', `exited (code ${String(code)})`);
      void this.stop();
    });
  }

  #startApp(port: number): void {
    this.#appStartedAt = Date.now();
    const [cmd = '', ...args] = this.spec.argv;
    const app = spawn(cmd, args, { cwd: this.spec.cwd, env: { ...this.spec.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#app = app;
    this.#pipe(app, 'user-container');
    const gone = (why: string): void => {
      if (this.#app !== app) return;
      this.#app = undefined;
      if (this.#stopping !== undefined) return;
      this.#events.onLog(this, 'user-container', `${why}; restarting`);
      // Back off harder the more often it crashed recently; a long good run resets it.
      if (Date.now() - this.#appStartedAt > RESTART_BACKOFF_MS.resetAfter) this.#restarts = 0;
      const delay = Math.min(RESTART_BACKOFF_MS.max, RESTART_BACKOFF_MS.initial * 2 ** this.#restarts);
      this.#restarts++;
      this.#restartTimer = setTimeout(() => {
        if (this.#stopping === undefined) this.#startApp(port);
      }, delay);
    };
    // A command that cannot be spawned (ENOENT, EACCES) emits no 'exit': it is a crash too.
    app.on('error', (err) => {
      if (app.pid === undefined) gone(`failed to start: ${err.message}`);
    });
    app.on('exit', (code, signal) => gone(`exited (${signal ?? `code ${String(code)}`})`));
  }

  #pipe(child: ChildProcess, container: 'user-container' | 'queue-proxy'): void {
    for (const s of [child.stdout, child.stderr]) if (s) createInterface({ input: s }).on('line', (line) => this.#events.onLog(this, container, line));
  }

  #scheduleProbe(ms: number): void {
    this.#probeTimer = setTimeout(() => void this.#probe(), ms);
  }

  async #probe(): Promise<void> {
    if (this.#stopping !== undefined || this.#ports === undefined) return;
    const ok = await kubeletProbe(this.#ports.serving);
    // The pod may have been stopped while the probe was out.
    if (this.#stopping !== undefined) return;
    if (ok) {
      this.#failures = 0;
      if (this.#phase !== 'ready') this.#setPhase('ready');
    } else if (this.#phase === 'ready' && ++this.#failures >= FAILURES_TO_UNREADY) {
      this.#setPhase('unready');
    }
    // Fast until ready (Knative probes aggressively at startup), then at a calmer period.
    this.#scheduleProbe(this.#phase === 'ready' ? READINESS_SLOW_MS : READINESS_FAST_MS);
  }

  #setPhase(p: PodPhase): void {
    this.#phase = p;
    this.#events.onChange(this);
  }

  /** SIGTERM to both containers; SIGKILL whatever is left after the grace period. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    clearTimeout(this.#probeTimer);
    clearTimeout(this.#restartTimer);
    this.#setPhase('terminating');
    // A start in flight sees the stop at its next step and lets go of what it started.
    await this.#starting?.catch(() => undefined);
    const deadline = Date.now() + this.spec.gracePeriodMs;
    // The queue-proxy drains first; the app gets SIGTERM once it is done, as Knative's preStop
    // hook on /wait-for-drain holds the user container until then.
    await terminate(this.#qp, deadline);
    await terminate(this.#app, deadline);
    this.#setPhase('terminated');
  }

  /**
   * Kills both containers at once, with no drain and no restart (a pod that failed to start, or
   * the shutdown of the whole runtime after its own drain). Reports no phase change.
   */
  kill(): void {
    this.#stopping ??= Promise.resolve();
    clearTimeout(this.#probeTimer);
    clearTimeout(this.#restartTimer);
    this.#phase = 'terminated';
    for (const c of [this.#qp, this.#app]) if (running(c)) c.kill('SIGKILL');
  }
}

/**
 * A pod's queue-proxy, started before its app: `knts serve` keeps one ready for each revision at
 * zero, so a cold start waits only for the app (Node's start of the queue-proxy is the slowest
 * step otherwise). The pod name and the app's port are fixed when it starts.
 */
export class WarmSidecar {
  readonly name: string;
  readonly userPort: number;
  readonly child: ChildProcess;
  readonly ports: Omit<PodPorts, 'user'>;
  onLog: (container: 'queue-proxy', line: string) => void;
  /** Holds the app's port while the sidecar waits, which may be minutes: the OS would reuse it. */
  readonly #reservation: PortReservation | undefined;

  private constructor(name: string, userPort: number, child: ChildProcess, ports: Omit<PodPorts, 'user'>, onLog: WarmSidecar['onLog'], reservation: PortReservation | undefined) {
    this.name = name;
    this.userPort = userPort;
    this.#reservation = reservation;
    this.child = child;
    this.ports = ports;
    this.onLog = onLog;
  }

  /** Frees the app's port, right before the app starts. */
  releasePort(): void {
    this.#reservation?.release();
  }

  /** `port` is the app's port, a number already free or a reservation held until the app starts. */
  static start(spec: PodSpec, port: number | PortReservation, onLog: WarmSidecar['onLog']): Promise<WarmSidecar> {
    const reservation = typeof port === 'number' ? undefined : port;
    const userPort = typeof port === 'number' ? port : port.port;
    const q = spec.queueProxy;
    const env = { ...q.env(userPort), USER_PORT: String(userPort), QUEUE_SERVING_PORT: '0', KNTS_ADMIN_PORT: '0', KNTS_METRICS_PORT: '0', KNTS_USER_METRICS_PORT: '0', KNTS_LISTEN_HOST: '127.0.0.1' };
    const child = spawn(q.execPath, q.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let sidecar: WarmSidecar | undefined;
      const log = (line: string): void => (sidecar ? sidecar.onLog('queue-proxy', line) : onLog('queue-proxy', line));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (sidecar === undefined && line.includes('"queue-proxy listening"')) {
          const p = (JSON.parse(line) as { ports: { serving: number; admin: number; metrics: number } }).ports;
          sidecar = new WarmSidecar(spec.name, userPort, child, { serving: p.serving, admin: p.admin, metrics: p.metrics }, onLog, reservation);
          resolve(sidecar);
        }
        log(line);
      });
      createInterface({ input: child.stderr! }).on('line', log);
      child.on('error', (err) => {
        reservation?.release();
        reject(new Error(`${spec.name}: queue-proxy failed to start: ${err.message}`));
      });
      child.on('exit', (code) => {
        if (sidecar === undefined) {
          reservation?.release();
          reject(new Error(`${spec.name}: queue-proxy exited with ${String(code)} before listening`));
        }
      });
    });
  }

  /** A spare that is no longer needed: drain-free stop; resolves once the process is gone. */
  discard(): Promise<void> {
    this.#reservation?.release();
    if (!running(this.child)) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    return exited;
  }
}
