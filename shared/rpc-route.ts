import { z } from 'zod';
import type { OperatorRole } from './operator-roles.js';

/*
 * What every route table of the contract (`RPC` in rpc.ts, and the tables it is made of) is built from.
 */

/** A phantom type carrier: the value is never read. */
export function out<T>(): T {
  return undefined as unknown as T;
}

/**
 * Who may call a route: `public` anyone; `token` any valid token (a till's, an operator's, the local CLI's);
 * `operator` a named operator (a UI session or an operator token); `operator_or_control` that or the local CLI,
 * which then names the operator in the input; `control` only the local CLI (the lock file's token).
 * A route without `access` is for a named operator.
 */
export type RpcAccess = 'public' | 'token' | 'operator' | 'operator_or_control' | 'control';

/** One route of the contract. */
export type RpcRoute = {
  method: 'GET' | 'POST';
  path: `/api/v1/${string}`;
  access?: RpcAccess;
  /** The least role of an operator who may call it (default `clerk`); the local CLI may call every route. */
  role?: OperatorRole;
  input: z.ZodType;
  output: unknown;
};

export const ids = z.array(z.number().int().positive()).min(1).max(10_000);
export const reason = z.string().trim().max(1000);
export const empty = z.strictObject({});

/** Required with the local CLI's control token; a session or an operator token names its operator itself. */
export const operatorName = z.string().min(1).max(100);
