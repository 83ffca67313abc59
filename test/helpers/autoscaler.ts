// A real autoscaler process in-process for tests: one revision with the given annotations,
// default config, a silent logger and ephemeral ports on 127.0.0.1.
import { Writable } from 'node:stream';
import { runAutoscaler, type AutoscalerOptions, type RunningAutoscaler } from '../../autoscaler/autoscaler-process.ts';
import { StaticRevisionSource } from '../../autoscaler/multiscaler.ts';
import { autoscalerConfigMap } from '../../config/autoscaler.ts';
import { effectiveConfig } from '../../config/configmaps.ts';
import { createLogger } from '../../config/logger.ts';
import { resolveRevisionAutoscaling } from '../../config/revision-autoscaling.ts';

export type TestAutoscalerOptions = Omit<AutoscalerOptions, 'config' | 'source' | 'log'>;

export function startTestAutoscaler(key: string, annotations: Record<string, string>, opts: TestAutoscalerOptions): Promise<RunningAutoscaler> {
  const autoscaling = resolveRevisionAutoscaling(annotations, autoscalerConfigMap.defaults(), 0);
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  return runAutoscaler({
    config: effectiveConfig([]).config,
    source: new StaticRevisionSource([{ key, autoscaling, pods: [] }]),
    log: createLogger('autoscaler', 'info', sink),
    host: '127.0.0.1',
    statPort: 0,
    metricsPort: 0,
    ...opts,
  });
}
