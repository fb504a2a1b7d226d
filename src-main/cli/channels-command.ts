import { userInfo } from 'node:os';
import { InvalidArgumentError } from 'commander';
import { MAX_CHANNEL_BUFFER } from '../../shared/rpc.js';
import type { Agent } from '../agent/agent.js';
import { UsageError } from '../platform/errors.js';
import { loadConfig } from '../agent/config-loader.js';
import { channelsOf } from '../ledger/channel-buffers.js';
import { withAgent } from './with-agent.js';
import type { Io } from './cli-io.js';

/** What `<units>` of `channels buffer` reads as: a whole number of units, or `config` for the config file's. */
export function parseUnits(value: string): number | null {
  if (value === 'config') return null;
  if (!/^\d+$/.test(value) || Number(value) > MAX_CHANNEL_BUFFER)
    throw new InvalidArgumentError(
      `"${value}" is not a buffer: give a whole number of units from 0 to ${MAX_CHANNEL_BUFFER}, or "config" for the config file's`,
    );
  return Number(value);
}

/**
 * `backroom channels [--json]` lists each sales channel's buffer and where it comes from (the config file, or
 * set by someone in Settings, with who, when and why); `backroom channels buffer <channel> <units|config>
 * --reason R` sets one the way Settings does, audited under `--operator` (default `cli:<OS user>`). The running
 * agent is asked when there is one (it is the only writer); otherwise the database is opened here.
 */
export async function channelsCommand(
  opts: { config: string; json?: boolean },
  io: Io,
  change?: Readonly<{ channel: string; units: number | null; reason: string; operator?: string }>,
): Promise<number> {
  const config = loadConfig(opts.config);
  let request: Parameters<Agent['channelsCommand']>[0];
  if (change !== undefined) {
    const known = channelsOf(config).map((c) => c.id);
    if (!known.includes(change.channel))
      throw new UsageError(
        `channel "${change.channel}" is not configured; the channels are: ${known.join(', ') || 'none (no marketplace destination)'}`,
      );
    const reason = change.reason.trim();
    if (reason === '') throw new UsageError('--reason: say why the buffer changes');
    request = {
      channel: change.channel,
      buffer: change.units,
      reason,
      operator: change.operator ?? `cli:${userInfo().username}`,
    };
  }
  const { channels } = await withAgent(
    config,
    {
      path: '/api/v1/control/channels',
      body: request === undefined ? {} : { change: request },
      timeoutMs: 30_000,
    },
    (agent) => ({ channels: agent.channelsCommand(request) }),
  );
  if (opts.json) {
    io.out(`${JSON.stringify({ channels }, null, 2)}\n`);
    return 0;
  }
  if (channels.length === 0) {
    io.out('no channels: no marketplace destination is configured\n');
    return 0;
  }
  const rows = channels.map((c) => [
    c.channel,
    String(c.buffer),
    c.override === null
      ? c.isDeclared
        ? 'config file'
        : 'none configured'
      : `set ${new Date(c.override.setAt).toISOString().slice(0, 16).replace('T', ' ')} UTC by ${c.override.setBy}: "${c.override.reason}" (config file: ${c.configured})`,
    c.destinations.join(', ') || '—',
  ]);
  const table = [['channel', 'buffer', 'from', 'published to'], ...rows];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  for (const row of table)
    io.out(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}
