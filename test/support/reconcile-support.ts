import { callRoute } from './rpc-client.js';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiName } from '../../shared/agent-api.js';
import type { ConfigInput } from '../../shared/config.js';
import type {
  AuditEntryView,
  ExceptionPage,
  ReconcileFix,
  ReconcileReport,
  ReconcileRow,
} from '../../shared/rpc-views.js';

/*
 * What the reconciliation tests share: operators with roles, a client of the agent's HTTP API that calls a route
 * as one of them, and a poll.
 */

export const MANAGER = { name: 'Maria', token: 'manager-token-0123456789', role: 'manager' } as const;
export const CLERK = { name: 'Cleo', token: 'clerk-token-0123456789', role: 'clerk' } as const;

/** The operators of a reconciliation test's config: a manager who may fix, a clerk who may only look. */
export const OPERATORS: NonNullable<ConfigInput['operators']> = [MANAGER, CLERK];

export type ApiAnswer = { status: number; body: Record<string, unknown> };

/** The agent's API as an operator sees it over HTTP (a bearer token names the operator). */
export type OperatorApi = {
  /** Calls a route by its contract name; never throws on an HTTP error status. */
  call: (name: ApiName, input: Record<string, unknown>, token?: string) => Promise<ApiAnswer>;
  /** `reconcile.run` as the manager; asserts 200. */
  run: (
    destination: string,
    filter?: Readonly<{ sku?: string; location?: string }>,
  ) => Promise<ReconcileReport>;
  /** The row of one item in a fresh `reconcile.run` (as the manager). */
  row: (destination: string, sku: string, location: string) => Promise<ReconcileRow>;
  /** `reconcile.fix` as the manager; asserts 200 and returns the answer's detail. */
  fix: (
    input: Readonly<{
      destination: string;
      sku: string;
      location: string;
      action: ReconcileFix;
      reason: string;
    }>,
  ) => Promise<string>;
  /** The audit log's entries (`audit.list`) of one action. */
  audit: (action: string) => Promise<AuditEntryView[]>;
  /** Exceptions of a kind (`exceptions.page`), optionally of one status. */
  exceptions: (kind: string, status?: string) => Promise<ExceptionPage>;
};

export function operatorApi(url: string): OperatorApi {
  const call: OperatorApi['call'] = async (name, input, token = MANAGER.token) => {
    return callRoute(url, name, input, token);
  };
  const run: OperatorApi['run'] = async (destination, filter = {}) => {
    const answer = await call('reconcile.run', { destination, ...filter });
    assert.equal(answer.status, 200, `reconcile.run ${destination}: ${JSON.stringify(answer.body)}`);
    return answer.body as unknown as ReconcileReport;
  };
  return {
    call,
    run,
    row: async (destination, sku, location) => {
      const report = await run(destination, { sku, location });
      assert.equal(report.rows.length, 1, `one row of ${sku} at ${location}: ${JSON.stringify(report.rows)}`);
      return report.rows[0]!;
    },
    fix: async (input) => {
      const answer = await call('reconcile.fix', input);
      assert.equal(answer.status, 200, `reconcile.fix ${input.action}: ${JSON.stringify(answer.body)}`);
      return String(answer.body['detail']);
    },
    audit: async (action) => {
      const answer = await call('audit.list', {});
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body['entries'] as AuditEntryView[]).filter((e) => e.action === action);
    },
    exceptions: async (kind, status) => {
      const answer = await call('exceptions.page', { kind, ...(status === undefined ? {} : { status }) });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body as unknown as ExceptionPage;
    },
  };
}

/** Polls `check` every 50 ms until it holds; fails naming `what` (and `detail()`) after `timeoutMs`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  detail: () => string | Promise<string> = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${await detail()}`);
    await sleep(50);
  }
}

/** The figures of a row that a test asserts, in one object for a readable diff. */
export function figures(
  row: ReconcileRow,
): Pick<ReconcileRow, 'cause' | 'expected' | 'expectedNow' | 'remote' | 'drift'> {
  return {
    cause: row.cause,
    expected: row.expected,
    expectedNow: row.expectedNow,
    remote: row.remote,
    drift: row.drift,
  };
}
