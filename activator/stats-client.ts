// The activator's durable websocket to the autoscaler's stat server (spec §2.7, "Transport"):
// connects, reconnects forever with jittered exponential backoff, keeps the connection honest with
// pings (no pong within the timeout: terminate and reconnect), and sends each batch of
// WireStatMessages as one binary protobuf frame. Stats are best-effort: while disconnected a
// batch is dropped, never queued, because a stale demand report is worse than none (the next
// tick sends fresh numbers). `connected` feeds the activator's health check (§2.8).
import type { Logger } from 'pino';
import { WebSocket } from 'ws';
import { encodeWireStatMessages, type WireStatMessage } from '../autoscaler/stat-proto.ts';

export interface Backoff {
  /** Delay after the first failure, before jitter. */
  readonly initialMs: number;
  /** Growth per consecutive failure. */
  readonly factor: number;
  /** Each delay is stretched by up to this fraction: delay × (1 + jitter × random()). */
  readonly jitter: number;
  /** The delay grows for this many failures, then stays at the last step's value forever. */
  readonly steps: number;
}

/** Knative's connection backoff (knative.dev/pkg websocket): 100 ms × 1.3^k, jitter 0.5, 20 steps. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, factor: 1.3, jitter: 0.5, steps: 20 };
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 3000;
export const DEFAULT_PONG_TIMEOUT_MS = 10_000;
/** Three pings per pong timeout, so one lost pong does not break the connection. */
export const DEFAULT_PING_INTERVAL_MS = DEFAULT_PONG_TIMEOUT_MS / 3;
/** How long close() waits for the server's close frame before cutting the socket. */
const CLOSE_GRACE_MS = 1000;

export interface StatsClientOptions {
  /** e.g. ws://autoscaler.knative-serving.svc.cluster.local:8080 */
  readonly url: string;
  readonly log: Logger;
  readonly handshakeTimeoutMs?: number;
  readonly pingIntervalMs?: number;
  readonly pongTimeoutMs?: number;
  readonly backoff?: Backoff;
  /** In [0, 1); jitter source, injectable for tests. */
  readonly random?: () => number;
  /** Called on every change of `connected`. Must not throw. */
  readonly onStatus?: (connected: boolean) => void;
}

/**
 * The wait before reconnect attempt number `failures` (1 = after the first failure or drop):
 * initial × factor^(min(failures, steps) − 1), stretched by jitter.
 */
export function backoffDelayMs(failures: number, backoff: Backoff, random: () => number): number {
  const step = Math.min(Math.max(failures, 1), Math.max(backoff.steps, 1)) - 1;
  return backoff.initialMs * backoff.factor ** step * (1 + backoff.jitter * random());
}

export class StatsClient {
  readonly #url: string;
  readonly #log: Logger;
  readonly #handshakeTimeoutMs: number;
  readonly #pingIntervalMs: number;
  readonly #pongTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #onStatus: ((connected: boolean) => void) | undefined;

  #ws: WebSocket | undefined;
  #connected = false;
  #started = false;
  #closed = false;
  /** Consecutive failed attempts (and drops) since the last open connection. */
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #pongTimer: NodeJS.Timeout | undefined;

  constructor(opts: StatsClientOptions) {
    this.#url = opts.url;
    this.#log = opts.log;
    this.#handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    this.#pingIntervalMs = opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    this.#pongTimeoutMs = opts.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS;
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#random = opts.random ?? Math.random;
    this.#onStatus = opts.onStatus;
  }

  /** True iff a connection is open: the activator is unhealthy otherwise (§2.8). */
  get connected(): boolean {
    return this.#connected;
  }

  /** Starts connecting in the background; idempotent. Failures are retried, never thrown. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#connect();
  }

  /**
   * Sends one batch as one binary frame. Never throws and never waits: without an open
   * connection the batch is dropped; write errors are logged (the socket's close handler
   * reconnects).
   */
  send(messages: readonly WireStatMessage[]): void {
    if (messages.length === 0) return;
    const ws = this.#ws;
    if (!this.#connected || ws === undefined || ws.readyState !== WebSocket.OPEN) {
      this.#log.debug({ messages: messages.length }, 'not connected to the autoscaler; dropping stats');
      return;
    }
    try {
      ws.send(encodeWireStatMessages(messages), { binary: true }, (err) => {
        if (err) this.#log.warn({ err: err.message, messages: messages.length }, 'failed to send stats to the autoscaler');
      });
    } catch (err) {
      // encode throws on a non-int64 timestamp; send throws only in states excluded above.
      this.#log.error({ err: (err as Error).message, messages: messages.length }, 'failed to send stats to the autoscaler');
    }
  }

  /** Stops reconnecting and closes the connection; resolves once the socket is closed. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#stopKeepalive();
    const ws = this.#ws;
    this.#ws = undefined;
    this.#setConnected(false);
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.OPEN) {
        // A clean close frame, but do not let an unresponsive server hold shutdown.
        const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
        timer.unref();
        ws.once('close', () => clearTimeout(timer));
        ws.close(1000, 'activator shutting down');
      } else {
        // CONNECTING (aborts the handshake) or CLOSING.
        ws.terminate();
      }
    });
  }

  #connect(): void {
    this.#retryTimer = undefined;
    if (this.#closed) return;
    let ws: WebSocket;
    try {
      // Knative's stat server negotiates no compression; skip the offer.
      ws = new WebSocket(this.#url, { handshakeTimeout: this.#handshakeTimeoutMs, perMessageDeflate: false });
    } catch (err) {
      // An invalid URL throws synchronously; retrying cannot fix it, but the backoff bounds the noise.
      this.#log.error({ url: this.#url, err: (err as Error).message }, 'cannot connect to the autoscaler');
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    let opened = false;
    let lastError: string | undefined;

    // Without an 'error' listener ws would throw; every failure is followed by 'close', which
    // is where the reconnect is scheduled, so it happens exactly once per socket.
    ws.on('error', (err) => {
      lastError = err.message;
    });
    ws.on('open', () => {
      if (this.#ws !== ws) return;
      opened = true;
      this.#failures = 0;
      this.#log.info({ url: this.#url }, 'connected to the autoscaler');
      this.#startKeepalive(ws);
      this.#setConnected(true);
    });
    ws.on('pong', () => {
      if (this.#ws === ws) this.#pongTimer?.refresh();
    });
    ws.on('close', (code: number) => {
      // close() already detached this socket, or a newer one replaced it.
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      this.#stopKeepalive();
      this.#setConnected(false);
      if (this.#closed) return;
      if (opened) {
        this.#log.warn({ url: this.#url, code, err: lastError }, 'connection to the autoscaler broke; reconnecting');
      }
      this.#scheduleReconnect(opened ? undefined : lastError);
    });
  }

  #scheduleReconnect(error?: string): void {
    if (this.#closed) return;
    this.#failures++;
    const delayMs = backoffDelayMs(this.#failures, this.#backoff, this.#random);
    // A failed attempt is logged at warn the first time and at error once per backoff cycle,
    // the rest at debug, so a long outage is visible without a line every few seconds.
    const fields = { url: this.#url, attempt: this.#failures, delayMs: Math.round(delayMs), err: error };
    if (error !== undefined && this.#failures === 1) {
      this.#log.warn(fields, 'cannot connect to the autoscaler; retrying');
    } else if (error !== undefined && this.#failures % this.#backoff.steps === 0) {
      this.#log.error(fields, 'still cannot connect to the autoscaler; retrying');
    } else {
      this.#log.debug(fields, 'reconnecting to the autoscaler');
    }
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
    // The activator's servers keep the process alive; a retry loop alone should not.
    this.#retryTimer.unref();
  }

  #startKeepalive(ws: WebSocket): void {
    this.#pingTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      try {
        ws.ping();
      } catch (err) {
        this.#log.debug({ err: (err as Error).message }, 'ping to the autoscaler failed');
      }
    }, this.#pingIntervalMs);
    this.#pingTimer.unref();
    // Re-armed by every pong (Knative: a read deadline pushed back by the pong handler).
    this.#pongTimer = setTimeout(() => {
      this.#log.warn({ url: this.#url, pongTimeoutMs: this.#pongTimeoutMs }, 'no pong from the autoscaler; dropping the connection');
      // Emits 'close', which reconnects.
      ws.terminate();
    }, this.#pongTimeoutMs);
    this.#pongTimer.unref();
  }

  #stopKeepalive(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#pongTimer);
    this.#pingTimer = undefined;
    this.#pongTimer = undefined;
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    try {
      this.#onStatus?.(connected);
    } catch (err) {
      this.#log.error({ err: (err as Error).message }, 'stats client status callback threw');
    }
  }
}
