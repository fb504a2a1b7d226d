import { loadFleetConfig } from '../fleet/fleet-config-loader.js';
import { FleetService } from '../fleet/fleet-service.js';
import { createLogger } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
import { EXIT, type Io } from './cli-io.js';

export type FleetServeOptions = { config: string; port?: number; logLevel: string };

/**
 * `backroom fleet serve`: runs the central fleet service until SIGTERM or SIGINT, then stops it cleanly (the
 * batch in hand stored and acked). A bad config exits 2 naming the field; a cluster or PostgreSQL that cannot
 * be reached at start exits 1.
 */
export async function fleetServe(opts: FleetServeOptions, io: Io): Promise<number> {
  const config = loadFleetConfig(opts.config);
  const logger = createLogger({ level: opts.logLevel, fd: 2 });
  const service = await FleetService.start({
    config,
    logger,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
  });
  await new Promise<void>((resolveStop) => {
    let isStopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (isStopping) {
        io.err(`${signal} again: exiting without a clean stop\n`);
        process.exit(EXIT.failure);
      }
      isStopping = true;
      io.out(`${signal}: stopping\n`);
      service.stop().then(resolveStop, (error: unknown) => {
        io.err(`stop failed: ${String(error)}\n`);
        resolveStop();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    io.out(`Backroom ${VERSION} fleet service listening on ${service.address}\n`);
  });
  io.out('stopped\n');
  return EXIT.ok;
}
