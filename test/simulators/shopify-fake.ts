import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  assertValidSchema,
  buildASTSchema,
  execute,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isInterfaceType,
  isLeafType,
  isObjectType,
  parse,
  validate,
  type DefinitionNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLFieldMap,
  type GraphQLNamedType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type InputValueDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { CONTRACTS_DIR } from '../support/contracts.js';
import { FakeFulfilments } from './shopify-fake-fulfilment.js';
import { ShopifyFakePrices } from './shopify-fake-prices.js';

/*
 * A fake of the Shopify Admin GraphQL API, version 2026-10, for tests: a real HTTP server on 127.0.0.1 whose
 * schema is built at run time from the official SDL in ../shared/contracts (never copied into the repository),
 * with the 2026 changes applied to the parsed document. Every request is parsed, validated and its variables
 * coerced against that schema, then run against in-memory shop state under Shopify's cost-based throttle.
 */

/** The official Shopify Admin 2025-01 schema, whole (fulfilment, product and price, refund and return types included). */
export const SHOPIFY_SDL_FILE = join(CONTRACTS_DIR, 'shopify', 'admin_2025-01.graphql');

/** The API version the fake serves. */
export const FAKE_API_VERSION = '2026-10';

/** What versions from 2026-01 add, and 2026-04 makes mandatory (contracts/README.md). */
const CHANGES_2026_SDL = /* GraphQL */ `
  directive @idempotent(key: String!) on FIELD
`;

/**
 * Builds the 2026-10 schema: the official 2025-01 schema, whole, edited as 2026-04 did: `changeFromQuantity: Int`
 * on `InventoryQuantityInput` and `InventoryChangeInput`, `compareQuantity` and `ignoreCompareQuantity` removed,
 * `CHANGE_FROM_QUANTITY_STALE` among the user error codes, and `directive @idempotent(key: String!) on FIELD`.
 * Every type a query or mutation of the fake's names is the official one, so a connector that selects a field
 * Shopify does not have, or passes an input Shopify would refuse, fails validation here as it would there.
 */
export function buildShopifySchema(sdl: string = readFileSync(SHOPIFY_SDL_FILE, 'utf8')): GraphQLSchema {
  // A schema is immutable: one per SDL text serves every fake of a test run (the full SDL takes a second to build).
  const cached = schemas.get(sdl);
  if (cached) return cached;
  const official = parse(sdl, { noLocation: true });
  const changes = parse(CHANGES_2026_SDL, { noLocation: true });
  const schema = buildASTSchema(
    {
      kind: Kind.DOCUMENT,
      definitions: [...official.definitions.map(apply2026Changes), ...changes.definitions],
    },
    { assumeValidSDL: false },
  );
  assertValidSchema(schema);
  schemas.set(sdl, schema);
  return schema;
}

const schemas = new Map<string, GraphQLSchema>();

/** One definition of the official schema with the 2026 changes applied. */
function apply2026Changes(definition: DefinitionNode): DefinitionNode {
  if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
    const name = definition.name.value;
    const removed = new Set(['compareQuantity', 'ignoreCompareQuantity']);
    let fields = (definition.fields ?? []).filter((f) => !removed.has(f.name.value));
    if (name === 'InventoryQuantityInput' || name === 'InventoryChangeInput')
      fields = [...fields, inputField('changeFromQuantity', 'Int')];
    return { ...definition, fields };
  }
  if (
    definition.kind === Kind.ENUM_TYPE_DEFINITION &&
    (definition.name.value === 'InventorySetQuantitiesUserErrorCode' ||
      definition.name.value === 'InventoryAdjustQuantitiesUserErrorCode')
  ) {
    const values = (definition.values ?? []).filter((v) => !v.name.value.startsWith('COMPARE_QUANTITY'));
    return {
      ...definition,
      values: [
        ...values,
        { kind: Kind.ENUM_VALUE_DEFINITION, name: { kind: Kind.NAME, value: 'CHANGE_FROM_QUANTITY_STALE' } },
      ],
    };
  }
  return definition;
}

function inputField(name: string, type: string): InputValueDefinitionNode {
  return {
    kind: Kind.INPUT_VALUE_DEFINITION,
    name: { kind: Kind.NAME, value: name },
    type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: type } },
  };
}

// ---- query cost ----

type Fragments = ReadonlyMap<string, FragmentDefinitionNode>;
type Variables = Readonly<Record<string, unknown>>;
type CostType = GraphQLNamedType;

/** The fields of a selection set, with fragments spread in (type conditions are not narrowed). */
function collectFields(set: SelectionSetNode | undefined, fragments: Fragments): FieldNode[] {
  if (!set) return [];
  return set.selections.flatMap((s) => {
    if (s.kind === Kind.FIELD) return [s];
    if (s.kind === Kind.INLINE_FRAGMENT) return collectFields(s.selectionSet, fragments);
    return collectFields(fragments.get(s.name.value)?.selectionSet, fragments);
  });
}

function fieldsOf(type: CostType): GraphQLFieldMap<unknown, unknown> | null {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields() : null;
}

/** A Relay connection: an object type named `...Connection` with `edges` (or `nodes`) and `pageInfo`. */
function isConnection(type: CostType): boolean {
  const fields = fieldsOf(type);
  return fields !== null && type.toString().endsWith('Connection') && 'pageInfo' in fields;
}

type Walk = Readonly<{ fragments: Fragments; variables: Variables }>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The cost of a selection set by Shopify's documented rules: scalars and enums 0, objects 1, a connection 2 plus
 * its page size (`first` or `last`) times the cost of one node. With `data`, the actual cost: connections count
 * the nodes returned and objects that came back null cost nothing.
 */
function selectionCost(
  set: SelectionSetNode | undefined,
  parent: CostType,
  walk: Walk,
  data?: unknown,
): number {
  const fields = fieldsOf(parent);
  if (fields === null) return 0;
  const hasData = data !== undefined;
  let total = 0;
  for (const node of collectFields(set, walk.fragments)) {
    const def = fields[node.name.value];
    if (def === undefined) continue;
    const type = getNamedType(def.type);
    if (isLeafType(type)) continue;
    const value = hasData && isRecord(data) ? data[node.alias?.value ?? node.name.value] : undefined;
    if (hasData && (value === null || value === undefined)) continue;
    if (isConnection(type)) {
      total += connectionCost(node, def, type, walk, hasData ? value : undefined);
      continue;
    }
    if (hasData && Array.isArray(value)) {
      total += 1 + Math.max(0, ...value.map((v) => selectionCost(node.selectionSet, type, walk, v)));
      continue;
    }
    total += 1 + selectionCost(node.selectionSet, type, walk, hasData ? value : undefined);
  }
  return total;
}

function connectionCost(
  node: FieldNode,
  def: GraphQLField<unknown, unknown>,
  type: CostType,
  walk: Walk,
  data: unknown,
): number {
  const fields = fieldsOf(type) ?? {};
  const nodeType = fields['nodes'] ? getNamedType(fields['nodes'].type) : null;
  if (nodeType === null) return 2;
  const parts = collectFields(node.selectionSet, walk.fragments);
  if (data === undefined) {
    let perNode = 0;
    for (const part of parts) {
      if (part.name.value === 'nodes') perNode += 1 + selectionCost(part.selectionSet, nodeType, walk);
      if (part.name.value === 'edges')
        for (const inner of collectFields(part.selectionSet, walk.fragments))
          if (inner.name.value === 'node') perNode += 1 + selectionCost(inner.selectionSet, nodeType, walk);
    }
    const args = getArgumentValues(def, node, walk.variables);
    const size =
      typeof args['first'] === 'number' ? args['first'] : typeof args['last'] === 'number' ? args['last'] : 0;
    return 2 + size * Math.max(1, perNode);
  }
  let cost = 2;
  if (!isRecord(data)) return cost;
  for (const part of parts) {
    const list = data[part.alias?.value ?? part.name.value];
    if (!Array.isArray(list)) continue;
    if (part.name.value === 'nodes')
      for (const item of list) cost += 1 + selectionCost(part.selectionSet, nodeType, walk, item);
    if (part.name.value === 'edges')
      for (const edge of list)
        for (const inner of collectFields(part.selectionSet, walk.fragments))
          if (inner.name.value === 'node' && isRecord(edge))
            cost += 1 + selectionCost(inner.selectionSet, nodeType, walk, edge[inner.alias?.value ?? 'node']);
  }
  return cost;
}

/**
 * The requested cost of an operation (or, with `data`, its actual cost), as Shopify documents it: every mutation
 * field 10; in a query, objects 1, scalars and enums 0, connections 2 + `first` × the cost of a node.
 *
 * @example
 * queryCost(schema, parse('{ locations(first: 10) { nodes { id name } } }')) // 12
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Variables = {},
  operationName?: string | null,
  data?: unknown,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const fragments = new Map(
    document.definitions.flatMap((d) =>
      d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
    ),
  );
  const walk = { fragments, variables };
  if (operation.operation === OperationTypeNode.MUTATION)
    return (
      10 *
      collectFields(operation.selectionSet, fragments).filter((f) => !f.name.value.startsWith('__')).length
    );
  const root = schema.getQueryType();
  return root ? selectionCost(operation.selectionSet, root, walk, data) : 0;
}

// ---- search syntax ----

type Term = Readonly<{
  field: string | null;
  op: '=' | '>' | '>=' | '<' | '<=';
  value: string;
  isNegated: boolean;
}>;

/**
 * Reads Shopify's search syntax, as far as a sync agent uses it: `field:value`, `field:>=value` (and `>`, `<`,
 * `<=`), values bare or in single or double quotes with backslash escapes, `-` or `NOT` to negate, terms joined by
 * `AND` (or a space) and `OR`. Returns OR-groups of AND-ed terms.
 */
export function parseSearch(query: string): Term[][] {
  const groups: Term[][] = [[]];
  let i = 0;
  let isNegated = false;
  const readValue = (): string => {
    const quote = query[i];
    if (quote === "'" || quote === '"') {
      i += 1;
      let value = '';
      while (i < query.length && query[i] !== quote) {
        if (query[i] === '\\' && i + 1 < query.length) i += 1;
        value += query[i];
        i += 1;
      }
      i += 1;
      return value;
    }
    const start = i;
    while (i < query.length && !/\s/.test(query[i]!)) i += 1;
    return query.slice(start, i);
  };
  while (i < query.length) {
    if (/\s/.test(query[i]!)) {
      i += 1;
      continue;
    }
    const rest = query.slice(i);
    if (/^OR\s/.test(rest)) {
      groups.push([]);
      i += 2;
      continue;
    }
    if (/^AND\s/.test(rest)) {
      i += 3;
      continue;
    }
    if (/^NOT\s/.test(rest)) {
      isNegated = true;
      i += 3;
      continue;
    }
    if (query[i] === '-') {
      isNegated = true;
      i += 1;
    }
    const field = /^([a-z_][a-z0-9_.]*):/i.exec(query.slice(i));
    let term: Term;
    if (field) {
      i += field[0].length;
      const op = /^(>=|<=|>|<)/.exec(query.slice(i))?.[0] as Term['op'] | undefined;
      if (op) i += op.length;
      term = { field: field[1]!.toLowerCase(), op: op ?? '=', value: readValue(), isNegated };
    } else {
      term = { field: null, op: '=', value: readValue(), isNegated };
    }
    groups[groups.length - 1]!.push(term);
    isNegated = false;
  }
  return groups.filter((g) => g.length > 0);
}

/** How a searchable record answers for one filter field: text (exact, case-insensitive), a number or a time. */
type Searchable = Readonly<Record<string, string | number | null>>;

function matchesSearch(
  record: Searchable,
  groups: readonly Term[][],
  textFields: readonly string[],
): boolean {
  if (groups.length === 0) return true;
  const test = (term: Term): boolean => {
    const fields = term.field === null ? textFields : [term.field];
    const known = fields.filter((f) => f in record);
    // Shopify ignores a filter on a field it does not know (and warns); so does the fake.
    if (known.length === 0) return true;
    return known.some((f) => {
      const actual = record[f];
      if (actual === null || actual === undefined) return false;
      if (typeof actual === 'number') {
        const wanted = /^\d{4}-\d{2}-\d{2}/.test(term.value) ? Date.parse(term.value) : Number(term.value);
        if (Number.isNaN(wanted)) return false;
        return compare(actual, wanted, term.op);
      }
      if (term.op !== '=') return compare(actual.localeCompare(term.value, 'en'), 0, term.op);
      return term.field === null
        ? actual.toLowerCase().includes(term.value.toLowerCase())
        : actual.toLowerCase() === term.value.toLowerCase();
    });
  };
  return groups.some((group) => group.every((term) => test(term) !== term.isNegated));
}

function compare(a: number, b: number, op: Term['op']): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

// ---- the fake ----

/** A fault answered instead of the next request (one per request, in order). */
export type ShopifyFault =
  /** HTTP 429 Too Many Requests with `Retry-After` (seconds), nothing applied. */
  | Readonly<{ kind: 'http_429'; retryAfterSeconds?: number }>
  /** An HTTP 5xx (default 503), nothing applied. */
  | Readonly<{ kind: 'http_5xx'; status?: number }>
  /** No answer at all; with `afterApplying` the request is executed (and applied) first. Held until `stop()`. */
  | Readonly<{ kind: 'hang'; afterApplying?: boolean }>;

/** The leaky bucket of one app and store. */
export type ThrottleSettings = Readonly<{
  /** Bucket size in cost points. Default 1000. */
  maximumAvailable: number;
  /** Points restored per second. Default 50. */
  restoreRate: number;
}>;

export type ShopifyFakeOptions = Readonly<{
  /** The `X-Shopify-Access-Token` the fake accepts. Default `shpat_fake_token`. */
  accessToken?: string;
  throttle?: Partial<ThrottleSettings>;
  /** Mutations that refuse to run without `@idempotent(key:)`. Default: `inventoryAdjustQuantities` (2026-04). */
  idempotencyRequiredOn?: readonly string[];
  /** The official SDL text; read from `SHOPIFY_SDL_FILE` when not given. */
  sdl?: string;
}>;

/** One request as the fake received and judged it. */
export type FakeRequest = Readonly<{
  at: number;
  /** HTTP status answered; null when no answer was sent (a hang). */
  status: number | null;
  operationName: string | null;
  /** `query` or `mutation`, null when the document could not be read. */
  operationType: 'query' | 'mutation' | 'subscription' | null;
  /** The top-level fields of the operation. */
  rootFields: readonly string[];
  query: string;
  variables: Readonly<Record<string, unknown>>;
  /** False when the request failed parsing, validation or variable coercion against the schema. */
  isValid: boolean;
  /** The GraphQL errors of an invalid request (or of execution). */
  errors: readonly string[];
  isThrottled: boolean;
  requestedCost: number | null;
  actualCost: number | null;
  /** Points in the bucket when the request arrived (after restoring). */
  availableAtArrival: number;
  /** The `@idempotent` keys the request carried. */
  idempotencyKeys: readonly string[];
  fault: ShopifyFault['kind'] | null;
}>;

type MutableRequest = { -readonly [K in keyof FakeRequest]: FakeRequest[K] };

type LocationRecord = { id: number; name: string; isActive: boolean; createdAt: number };
type ItemRecord = {
  id: number;
  variantId: number;
  sku: string;
  title: string;
  createdAt: number;
  updatedAt: number;
};
type LevelRecord = {
  itemId: number;
  locationId: number;
  available: number;
  committed: number;
  updatedAt: number;
};
type LineRecord = {
  id: number;
  itemId: number | null;
  sku: string | null;
  title: string;
  quantity: number;
  currentQuantity: number;
};
type OrderRecord = {
  id: number;
  name: string;
  createdAt: number;
  updatedAt: number;
  cancelledAt: number | null;
  fulfillmentStatus: 'UNFULFILLED' | 'FULFILLED';
  locationId: number;
  fulfillmentOrderId: number;
  lines: LineRecord[];
};
type ChangeRecord = {
  name: string;
  delta: number;
  quantityAfterChange: number;
  itemId: number;
  locationId: number;
};
type GroupRecord = {
  id: number;
  createdAt: number;
  reason: string;
  referenceDocumentUri: string | null;
  changes: ChangeRecord[];
};
type UserErrorRecord = { field: string[] | null; message: string; code: string };
type MutationResult = { group: GroupRecord | null; userErrors: UserErrorRecord[] };

/** A quantity to set or change, as the fake reads `InventoryQuantityInput` / `InventoryChangeInput`. */
type QuantityInput = Readonly<{
  inventoryItemId: string;
  locationId: string;
  quantity?: number;
  delta?: number;
  changeFromQuantity?: number | null;
}>;

const SET_REASONS = new Set([
  'correction',
  'cycle_count_available',
  'damaged',
  'movement_created',
  'movement_updated',
  'movement_received',
  'movement_canceled',
  'other',
  'promotion',
  'quality_control',
  'received',
  'reservation_created',
  'reservation_deleted',
  'reservation_updated',
  'restock',
  'safety_stock',
  'shrinkage',
]);

/** Largest list an inventory mutation takes, per Shopify's input limits. */
export const MAX_INPUT_SIZE = 250;
/** Largest page a connection returns. */
const MAX_PAGE_SIZE = 250;

const gid = (type: string, id: number) => `gid://shopify/${type}/${id}`;

/** The numeric id of a gid of `type`, or null when it is not one. */
function parseGid(value: unknown, type: string): number | null {
  if (typeof value !== 'string') return null;
  const match = new RegExp(`^gid://shopify/${type}/(\\d+)(\\?.*)?$`).exec(value);
  return match ? Number(match[1]) : null;
}

/** Shopify's DateTime: ISO 8601, whole seconds. */
const dateTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

const encodeCursor = (key: readonly (string | number)[]) =>
  Buffer.from(JSON.stringify(key)).toString('base64url');
function decodeCursor(cursor: string): (string | number)[] | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(value) ? (value as (string | number)[]) : null;
  } catch {
    return null;
  }
}
function compareKeys(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'en');
  }
  return 0;
}

/** Canonical JSON (sorted keys): the "same input" test of idempotency. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value))
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value ?? null);
}

type Connection = Readonly<{
  edges: { cursor: string; node: unknown }[];
  nodes: unknown[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}>;

type ConnectionArgs = Readonly<{
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  reverse?: boolean | null;
}>;

/**
 * A page of `records` (already in sort order, each with a sort key) as a Relay connection. Shopify requires one
 * of `first` or `last`, at most 250; the cursor holds the sort key, so a page stays right when records change.
 */
function paginate<T>(
  records: readonly T[],
  args: ConnectionArgs,
  keyOf: (record: T) => (string | number)[],
  view: (record: T) => unknown,
): Connection {
  const first = args.first ?? null;
  const last = args.last ?? null;
  if (first === null && last === null) throw new GraphQLError('you must provide one of first or last');
  for (const [name, size] of [
    ['first', first],
    ['last', last],
  ] as const)
    if (size !== null && (size < 0 || size > MAX_PAGE_SIZE))
      throw new GraphQLError(`The ${name} argument must be between 0 and ${MAX_PAGE_SIZE}`);
  let list = [...records];
  if (args.reverse === true) list.reverse();
  const sign = args.reverse === true ? -1 : 1;
  const readCursor = (cursor: string) => {
    const key = decodeCursor(cursor);
    if (key === null) throw new GraphQLError(`Invalid cursor: ${cursor}`);
    return key;
  };
  const afterKey = args.after ? readCursor(args.after) : null;
  const beforeKey = args.before ? readCursor(args.before) : null;
  const hadBefore = list.length;
  if (afterKey) list = list.filter((r) => sign * compareKeys(keyOf(r), afterKey) > 0);
  const hasSkipped = list.length < hadBefore;
  const hadAfter = list.length;
  if (beforeKey) list = list.filter((r) => sign * compareKeys(keyOf(r), beforeKey) < 0);
  const isCut = list.length < hadAfter;
  let page = list;
  if (first !== null) page = page.slice(0, first);
  if (last !== null) page = page.slice(Math.max(0, page.length - last));
  const edges = page.map((r) => ({ cursor: encodeCursor(keyOf(r)), node: view(r) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage: first !== null ? list.length > page.length : isCut,
      hasPreviousPage: last !== null ? list.length > page.length : hasSkipped,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/** Thrown inside a resolver to make the whole request fail with one top-level error code. */
class TopLevelError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * A fake Shopify shop speaking the Admin GraphQL API 2026-10 on 127.0.0.1.
 *
 * Each POST to `/admin/api/2026-10/graphql.json`, in order: the access token (`401`); an injected fault (`429`
 * with Retry-After, `5xx`, a hang); the body; parsing, validation and variable coercion against the schema (an
 * invalid request gets the GraphQL errors a real server gives, and is recorded as invalid); the cost and the
 * leaky bucket (`MAX_COST_EXCEEDED` over the bucket size, `THROTTLED` over what is available, both with the cost
 * extension); then execution against the shop's state, answered with `extensions.cost` (requested and actual
 * cost, and `throttleStatus`). The unused part of the requested cost goes back into the bucket, as on Shopify.
 *
 * Inventory mutations honour `@idempotent(key:)`: a key seen before with the same input returns the first
 * result without applying again (a different input is an error); `changeFromQuantity` that is not the current
 * quantity is a `CHANGE_FROM_QUANTITY_STALE` user error; a mutation with any user error applies nothing.
 *
 * @example
 * const shop = await ShopifyFake.start({ throttle: { maximumAvailable: 100, restoreRate: 20 } });
 * const store = shop.addLocation('Store one');
 * const item = shop.addItem('SKU-1', { [store]: 5 });
 * // ... point a `shopify` destination at shop.url with shop.accessToken ...
 * assert.equal(shop.available(item, store), 3);
 * assert.deepEqual(shop.invalidRequests, []);
 * await shop.stop();
 */
export class ShopifyFake {
  readonly schema: GraphQLSchema;
  readonly accessToken: string;
  readonly #idempotencyRequiredOn: ReadonlySet<string>;
  readonly #idempotent: GraphQLDirective;
  #server: Server | null = null;
  #port = 0;
  readonly #sockets = new Set<Socket>();

  /** Variants' prices and `productVariantsBulkUpdate` (shopify-fake-prices.ts). */
  readonly prices = new ShopifyFakePrices(() => this.#items.values());
  #throttle: ThrottleSettings;
  #available: number;
  #availableAt = Date.now();

  #nextId = 1000;
  readonly #locations = new Map<number, LocationRecord>();
  readonly #items = new Map<number, ItemRecord>();
  readonly #levels = new Map<string, LevelRecord>();
  readonly #orders = new Map<number, OrderRecord>();
  #orderNumber = 1001;
  readonly #byKey = new Map<string, { input: string; result: MutationResult }>();

  readonly #faults: ShopifyFault[] = [];
  /** Operations down until restored (`failOperation`): operation name → the HTTP status they get. */
  readonly #failingOperations = new Map<string, number>();
  readonly #requests: MutableRequest[] = [];
  readonly #applied = new Map<string, number>();
  #replays = 0;
  readonly #internalErrors: unknown[] = [];
  /** Fulfilment orders, `fulfillmentCreate` and the orders' fulfilments (shopify-fake-fulfilment.ts). */
  readonly fulfilments: FakeFulfilments = new FakeFulfilments({
    orders: () => this.#orders.values(),
    newId: () => this.#id(),
    dateTime,
    touch: (order) => (order.updatedAt = this.#touch(order.updatedAt, undefined)),
    ship: (itemId, locationId, quantity) => {
      const level = this.#level(itemId, locationId);
      if (level) level.committed -= quantity;
    },
    orderView: (id) => (this.#orders.has(id) ? this.#orderView(this.#orders.get(id)!) : null),
    lineView: (id, lineId) => {
      const line = this.#orders.get(id)?.lines.find((l) => l.id === lineId);
      return line ? this.#lineView(line) : null;
    },
    locationView: (id) => (this.#locations.has(id) ? this.#locationView(this.#locations.get(id)!) : null),
    locationName: (id) => this.#locations.get(id)?.name ?? '',
    connection: paginate,
  });

  private constructor(options: ShopifyFakeOptions) {
    this.schema = buildShopifySchema(options.sdl);
    const directive = this.schema.getDirective('idempotent');
    if (!directive) throw new Error('the 2026 schema has no @idempotent directive');
    this.#idempotent = directive;
    this.accessToken = options.accessToken ?? 'shpat_fake_token';
    this.#idempotencyRequiredOn = new Set(options.idempotencyRequiredOn ?? ['inventoryAdjustQuantities']);
    this.#throttle = { maximumAvailable: 1000, restoreRate: 50, ...options.throttle };
    this.#available = this.#throttle.maximumAvailable;
  }

  /** Starts a fake shop on a free port of 127.0.0.1. */
  static async start(options: ShopifyFakeOptions = {}): Promise<ShopifyFake> {
    const fake = new ShopifyFake(options);
    const server = createServer((req, res) => fake.#onRequest(req, res));
    server.requestTimeout = 0;
    server.on('connection', (socket) => {
      fake.#sockets.add(socket);
      socket.on('close', () => fake.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the fake has no TCP address');
    fake.#port = address.port;
    fake.#server = server;
    return fake;
  }

  /** The shop's base URL (what a `shopify` destination's `url` holds), like `http://127.0.0.1:41234`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The GraphQL endpoint. */
  get endpoint(): string {
    return `${this.url}/admin/api/${FAKE_API_VERSION}/graphql.json`;
  }

  /** Stops the server, dropping hung requests. Rejects if the fake's own handling ever threw (a bug in it). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const socket of this.#sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.#internalErrors.length > 0)
      throw new AggregateError(this.#internalErrors, 'ShopifyFake: request handling failed');
  }

  // ---- seeding and shop-side actions ----

  /** Adds a location; returns its gid. */
  addLocation(name: string, options: Readonly<{ isActive?: boolean }> = {}): string {
    const id = this.#id();
    this.#locations.set(id, { id, name, isActive: options.isActive ?? true, createdAt: Date.now() });
    return gid('Location', id);
  }

  /**
   * Adds a product with one variant and its inventory item of `sku`, stocked at the given locations with the
   * given available quantities; returns the inventory item's gid.
   */
  addItem(sku: string, levels: Readonly<Record<string, number>> = {}): string {
    const id = this.#id();
    const now = Date.now();
    this.#items.set(id, {
      id,
      variantId: this.#id(),
      sku,
      title: `Product ${sku}`,
      createdAt: now,
      updatedAt: now,
    });
    const item = gid('InventoryItem', id);
    for (const [location, available] of Object.entries(levels)) this.setAvailable(item, location, available);
    return item;
  }

  /** Stocks an item at a location (if it was not) and sets its available quantity, as staff would in the admin. */
  setAvailable(itemGid: string, locationGid: string, available: number): void {
    const itemId = this.#mustGet(this.#items, parseGid(itemGid, 'InventoryItem'), itemGid).id;
    const locationId = this.#mustGet(this.#locations, parseGid(locationGid, 'Location'), locationGid).id;
    const level = this.#levels.get(`${itemId}|${locationId}`);
    if (level) {
      level.available = available;
      level.updatedAt = Date.now();
    } else {
      this.#levels.set(`${itemId}|${locationId}`, {
        itemId,
        locationId,
        available,
        committed: 0,
        updatedAt: Date.now(),
      });
    }
  }

  /** The available quantity of an item at a location; null when it is not stocked there. */
  available(itemGid: string, locationGid: string): number | null {
    return (
      this.#level(parseGid(itemGid, 'InventoryItem'), parseGid(locationGid, 'Location'))?.available ?? null
    );
  }

  /** The inventory item gid of a SKU (the first, if several), or null. */
  itemBySku(sku: string): string | null {
    const item = [...this.#items.values()].find((i) => i.sku === sku);
    return item ? gid('InventoryItem', item.id) : null;
  }

  /**
   * A customer places an order fulfilled from `location`: each line's available quantity there falls (and
   * committed rises) at once, as on Shopify. A line names its variant by the SKU or by the inventory item gid
   * (`item`); a line with neither, or a SKU the shop does not know, is a custom item (no variant). `at` sets the
   * order's creation (and update) time. Returns the order's gid.
   */
  placeOrder(
    order: Readonly<{
      location: string;
      lines: readonly Readonly<{ sku?: string; item?: string; title?: string; quantity: number }>[];
      at?: Date | string;
    }>,
  ): string {
    const locationId = this.#mustGet(
      this.#locations,
      parseGid(order.location, 'Location'),
      order.location,
    ).id;
    const at = wholeSecond(order.at === undefined ? Date.now() : new Date(order.at).getTime());
    const id = this.#id();
    const lines: LineRecord[] = order.lines.map((line) => {
      const item =
        line.item !== undefined
          ? this.#mustGet(this.#items, parseGid(line.item, 'InventoryItem'), line.item)
          : line.sku === undefined
            ? undefined
            : [...this.#items.values()].find((i) => i.sku === line.sku);
      const level = item ? this.#levels.get(`${item.id}|${locationId}`) : undefined;
      if (level) {
        level.available -= line.quantity;
        level.committed += line.quantity;
        level.updatedAt = Date.now();
      }
      return {
        id: this.#id(),
        itemId: item?.id ?? null,
        sku: item?.sku ?? line.sku ?? null,
        title: line.title ?? item?.title ?? 'Custom item',
        quantity: line.quantity,
        currentQuantity: line.quantity,
      };
    });
    this.#orders.set(id, {
      id,
      name: `#${this.#orderNumber++}`,
      createdAt: at,
      updatedAt: at,
      cancelledAt: null,
      fulfillmentStatus: 'UNFULFILLED',
      locationId,
      fulfillmentOrderId: this.#id(),
      lines,
    });
    return gid('Order', id);
  }

  /** The order ships: committed (and so on hand) falls; available does not change. */
  fulfilOrder(orderGid: string, options: Readonly<{ at?: Date | string }> = {}): void {
    const order = this.#mustGet(this.#orders, parseGid(orderGid, 'Order'), orderGid);
    if (order.fulfillmentStatus === 'FULFILLED' || order.cancelledAt !== null) return;
    for (const line of order.lines) {
      const level = line.itemId === null ? undefined : this.#levels.get(`${line.itemId}|${order.locationId}`);
      if (level) level.committed -= line.currentQuantity;
    }
    order.fulfillmentStatus = 'FULFILLED';
    order.updatedAt = this.#touch(order.updatedAt, options.at);
  }

  /** The order is cancelled; with `restock` (the default) its committed units become available again. */
  cancelOrder(orderGid: string, options: Readonly<{ restock?: boolean; at?: Date | string }> = {}): void {
    const order = this.#mustGet(this.#orders, parseGid(orderGid, 'Order'), orderGid);
    if (order.cancelledAt !== null) return;
    if (order.fulfillmentStatus !== 'FULFILLED') {
      for (const line of order.lines) {
        const level =
          line.itemId === null ? undefined : this.#levels.get(`${line.itemId}|${order.locationId}`);
        if (!level) continue;
        level.committed -= line.currentQuantity;
        if (options.restock ?? true) level.available += line.currentQuantity;
      }
    }
    order.updatedAt = this.#touch(order.updatedAt, options.at);
    order.cancelledAt = order.updatedAt;
  }

  // ---- throttle and faults ----

  /** Changes the bucket; the bucket is then full unless `currentlyAvailable` is given. */
  setThrottle(settings: Partial<ThrottleSettings> & Readonly<{ currentlyAvailable?: number }>): void {
    this.#throttle = { ...this.#throttle, ...settings };
    this.#available = Math.min(
      this.#throttle.maximumAvailable,
      settings.currentlyAvailable ?? this.#throttle.maximumAvailable,
    );
    this.#availableAt = Date.now();
  }

  /** Spends points from the bucket as another app of the same store would. */
  drainBucket(points: number): void {
    this.#restore(Date.now());
    this.#available = Math.max(0, this.#available - points);
  }

  /** Points in the bucket now. */
  get currentlyAvailable(): number {
    this.#restore(Date.now());
    return this.#available;
  }

  /** Answers the next requests with these faults, one each, in order. */
  injectFaults(...faults: readonly ShopifyFault[]): void {
    this.#faults.push(...faults);
  }

  /**
   * Answers every request of one GraphQL operation (by the `operationName` it is sent with) with an HTTP `status`
   * (default 503) until `restoreOperation`, while the others work: part of the shop down, as when its orders
   * cannot be read but inventory can be written.
   */
  failOperation(operationName: string, status = 503): void {
    this.#failingOperations.set(operationName, status);
  }

  /** Ends `failOperation` for that operation. */
  restoreOperation(operationName: string): void {
    this.#failingOperations.delete(operationName);
  }

  // ---- records ----

  /** Every request received, in arrival order. */
  get requests(): readonly FakeRequest[] {
    return this.#requests;
  }

  /** Requests that failed parsing, validation or variable coercion against the 2026-10 schema. */
  get invalidRequests(): readonly FakeRequest[] {
    return this.#requests.filter((r) => !r.isValid);
  }

  /** Requests answered `THROTTLED` (they asked for more points than the bucket held). */
  get throttledCount(): number {
    return this.#requests.filter((r) => r.isThrottled).length;
  }

  /** How many times `mutation` (a field name like `inventorySetQuantities`) changed the shop's state. */
  appliedCount(mutation: string): number {
    return this.#applied.get(mutation) ?? 0;
  }

  /** Inventory mutations answered from the idempotency record (same key, same input) without applying. */
  get idempotentReplays(): number {
    return this.#replays;
  }

  // ---- internals ----

  #id(): number {
    this.#nextId += 1;
    return this.#nextId;
  }

  #mustGet<T>(map: ReadonlyMap<number, T>, id: number | null, label: string): T {
    const record = id === null ? undefined : map.get(id);
    if (record === undefined) throw new Error(`the fake shop has no ${label}`);
    return record;
  }

  #level(itemId: number | null, locationId: number | null): LevelRecord | undefined {
    return itemId === null || locationId === null ? undefined : this.#levels.get(`${itemId}|${locationId}`);
  }

  /** The next update time of a record: `at`, or now, and never earlier than the previous one. */
  #touch(previous: number, at: Date | string | undefined): number {
    return Math.max(previous, wholeSecond(at === undefined ? Date.now() : new Date(at).getTime()));
  }

  #restore(now: number): void {
    const { maximumAvailable, restoreRate } = this.#throttle;
    this.#available = Math.min(
      maximumAvailable,
      this.#available + ((now - this.#availableAt) / 1000) * restoreRate,
    );
    this.#availableAt = now;
  }

  #costExtension(requested: number, actual: number | null) {
    return {
      cost: {
        requestedQueryCost: requested,
        actualQueryCost: actual,
        throttleStatus: {
          maximumAvailable: this.#throttle.maximumAvailable,
          currentlyAvailable: Math.floor(this.#available),
          restoreRate: this.#throttle.restoreRate,
        },
      },
    };
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#handle(req, res).catch((error: unknown) => {
      this.#internalErrors.push(error);
      req.socket.destroy();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    this.#restore(at);
    const entry: MutableRequest = {
      at,
      status: null,
      operationName: null,
      operationType: null,
      rootFields: [],
      query: '',
      variables: {},
      isValid: false,
      errors: [],
      isThrottled: false,
      requestedCost: null,
      actualCost: null,
      availableAtArrival: Math.floor(this.#available),
      idempotencyKeys: [],
      fault: null,
    };
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== `/admin/api/${FAKE_API_VERSION}/graphql.json`) {
      this.#requests.push(entry);
      return this.#send(res, entry, 404, { errors: 'Not Found' });
    }
    this.#requests.push(entry);
    if (req.headers['x-shopify-access-token'] !== this.accessToken)
      return this.#send(res, entry, 401, {
        errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      });

    const fault = this.#faults.shift();
    entry.fault = fault?.kind ?? null;
    if (fault?.kind === 'http_429')
      return this.#send(
        res,
        entry,
        429,
        {
          errors:
            'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
        },
        {
          'retry-after': String(fault.retryAfterSeconds ?? 2),
        },
      );
    if (fault?.kind === 'http_5xx')
      return this.#send(res, entry, fault.status ?? 503, { errors: 'Service Unavailable' });
    const down = this.#failingOperations.get(operationNameOf(raw) ?? '');
    if (down !== undefined) {
      entry.fault = 'http_5xx';
      return this.#send(res, entry, down, { errors: 'Service Unavailable' });
    }

    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.#send(res, entry, 400, { errors: 'The request body is not valid JSON' });
    }
    if (!isRecord(body) || typeof body['query'] !== 'string')
      return this.#send(res, entry, 400, { errors: { query: 'Required parameter missing or invalid' } });
    const variables = isRecord(body['variables']) ? body['variables'] : {};
    const operationName = typeof body['operationName'] === 'string' ? body['operationName'] : null;
    entry.query = body['query'];
    entry.variables = variables;
    entry.operationName = operationName;

    if (fault?.kind === 'hang' && fault.afterApplying !== true) {
      // Held open, nothing applied: the client sees no answer.
      return;
    }
    const answer = await this.#graphql(entry, body['query'], variables, operationName);
    if (fault?.kind === 'hang') {
      // Applied, then held open: the client cannot tell that it succeeded.
      return;
    }
    this.#send(res, entry, 200, answer);
  }

  /** Parses, validates, throttles and executes one GraphQL request; returns the response body. */
  async #graphql(
    entry: MutableRequest,
    query: string,
    variables: Readonly<Record<string, unknown>>,
    operationName: string | null,
  ): Promise<Record<string, unknown>> {
    const invalid = (errors: readonly GraphQLError[]) => {
      entry.errors = errors.map((e) => e.message);
      return { errors: errors.map((e) => e.toJSON()) };
    };
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      if (error instanceof GraphQLError) return invalid([error]);
      throw error;
    }
    const operation = getOperationAST(document, operationName);
    entry.operationType = operation?.operation ?? null;
    entry.operationName = operation?.name?.value ?? operationName;
    entry.rootFields =
      operation?.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) ?? [];
    const validationErrors = validate(this.schema, document);
    if (validationErrors.length > 0) return invalid(validationErrors);
    if (!operation)
      return invalid([
        new GraphQLError('An operation name is required when the document has several operations'),
      ]);
    const coerced = getVariableValues(this.schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return invalid(coerced.errors);
    entry.isValid = true;
    entry.idempotencyKeys = operation.selectionSet.selections.flatMap((s) => {
      if (s.kind !== Kind.FIELD) return [];
      const values = getDirectiveValues(this.#idempotent, s, coerced.coerced);
      return typeof values?.['key'] === 'string' ? [values['key']] : [];
    });

    const requested = queryCost(this.schema, document, coerced.coerced, operationName);
    entry.requestedCost = requested;
    if (requested > this.#throttle.maximumAvailable) {
      entry.errors = ['MAX_COST_EXCEEDED'];
      return {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${this.#throttle.maximumAvailable}).`,
            extensions: {
              code: 'MAX_COST_EXCEEDED',
              cost: requested,
              maxCost: this.#throttle.maximumAvailable,
            },
          },
        ],
        extensions: this.#costExtension(requested, null),
      };
    }
    if (requested > this.#available) {
      entry.isThrottled = true;
      return {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'rate limits' } }],
        extensions: this.#costExtension(requested, null),
      };
    }
    this.#available -= requested;
    const result = await execute({
      schema: this.schema,
      document,
      rootValue: this.#root(),
      variableValues: variables,
      operationName,
    });
    const data: unknown = result.data ?? undefined;
    const actual =
      operation.operation === OperationTypeNode.MUTATION
        ? requested
        : queryCost(this.schema, document, coerced.coerced, operationName, data ?? {});
    entry.actualCost = actual;
    this.#available = Math.min(this.#throttle.maximumAvailable, this.#available + (requested - actual));
    const errors = (result.errors ?? []).map((e) => {
      const original = e.originalError;
      if (original instanceof TopLevelError)
        return { message: original.message, extensions: { code: original.code } };
      return e.toJSON();
    });
    entry.errors = errors.map((e) => e.message);
    return {
      ...(errors.length > 0 ? { errors } : {}),
      data: result.data ?? null,
      extensions: this.#costExtension(requested, actual),
    };
  }

  #send(
    res: ServerResponse,
    entry: MutableRequest,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    entry.status = status;
    if (res.destroyed) return;
    res
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
      .end(JSON.stringify(body));
  }

  // ---- resolvers: views over the shop's state, resolved by graphql's default field resolver ----

  #root(): Record<string, unknown> {
    const notImplemented = (name: string) => () => {
      throw new GraphQLError(`${name} is not implemented by the fake`);
    };
    return {
      orders: (args: ConnectionArgs & { sortKey?: string; query?: string | null }) =>
        this.#ordersConnection(args),
      order: ({ id }: { id: string }) => {
        const order = this.#orders.get(parseGid(id, 'Order') ?? -1);
        return order ? this.#orderView(order) : null;
      },
      inventoryItem: ({ id }: { id: string }) => {
        const item = this.#items.get(parseGid(id, 'InventoryItem') ?? -1);
        return item ? this.#itemView(item) : null;
      },
      inventoryItems: (args: ConnectionArgs & { query?: string | null }) => {
        const search = parseSearch(args.query ?? '');
        const items = [...this.#items.values()].filter((i) =>
          matchesSearch({ sku: i.sku, id: i.id, created_at: i.createdAt, updated_at: i.updatedAt }, search, [
            'sku',
          ]),
        );
        return paginate(
          items,
          args,
          (i) => [i.id],
          (i) => this.#itemView(i),
        );
      },
      inventoryLevel: ({ id }: { id: string }) => {
        const match = /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(id);
        const level = match ? this.#level(Number(match[2]), Number(match[1])) : undefined;
        return level ? this.#levelView(level) : null;
      },
      locations: (
        args: ConnectionArgs & { query?: string | null; includeInactive?: boolean | null; sortKey?: string },
      ) => {
        const search = parseSearch(args.query ?? '');
        const locations = [...this.#locations.values()]
          .filter((l) => l.isActive || args.includeInactive === true)
          .filter((l) => matchesSearch({ name: l.name, id: l.id }, search, ['name']))
          .sort((a, b) =>
            args.sortKey === 'ID' ? a.id - b.id : a.name.localeCompare(b.name, 'en') || a.id - b.id,
          );
        const keyOf = (l: LocationRecord) => (args.sortKey === 'ID' ? [l.id] : [l.name, l.id]);
        return paginate(locations, args, keyOf, (l) => this.#locationView(l));
      },
      productVariants: (args: ConnectionArgs & { query?: string | null }) => {
        const search = parseSearch(args.query ?? '');
        const items = [...this.#items.values()].filter((i) =>
          matchesSearch({ sku: i.sku, id: i.variantId }, search, ['sku']),
        );
        return paginate(
          items,
          args,
          (i) => [i.variantId],
          (i) => this.#variantView(i),
        );
      },
      inventorySetQuantities: (
        args: { input: Record<string, unknown> },
        _context: unknown,
        info: GraphQLResolveInfo,
      ) => this.#mutate('inventorySetQuantities', args.input, info, () => this.#setQuantities(args.input)),
      inventoryAdjustQuantities: (
        args: { input: Record<string, unknown> },
        _context: unknown,
        info: GraphQLResolveInfo,
      ) =>
        this.#mutate('inventoryAdjustQuantities', args.input, info, () => this.#adjustQuantities(args.input)),
      inventorySetOnHandQuantities: notImplemented('inventorySetOnHandQuantities'),
      inventoryMoveQuantities: notImplemented('inventoryMoveQuantities'),
      inventoryActivate: notImplemented('inventoryActivate'),
      ...this.fulfilments.rootFields(),
      ...this.prices.resolvers(),
    };
  }

  #ordersConnection(args: ConnectionArgs & { sortKey?: string; query?: string | null }): Connection {
    const sortKey = args.sortKey ?? 'PROCESSED_AT';
    const search = parseSearch(args.query ?? '');
    const keyOf = (o: OrderRecord): (string | number)[] => {
      switch (sortKey) {
        case 'UPDATED_AT':
          return [o.updatedAt, o.id];
        case 'ID':
          return [o.id];
        default:
          return [o.createdAt, o.id];
      }
    };
    const orders = [...this.#orders.values()]
      .filter((o) =>
        matchesSearch(
          {
            updated_at: o.updatedAt,
            created_at: o.createdAt,
            processed_at: o.createdAt,
            id: o.id,
            name: o.name,
          },
          search,
          ['name'],
        ),
      )
      .sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
    return paginate(orders, args, keyOf, (o) => this.#orderView(o));
  }

  #locationView(location: LocationRecord): Record<string, unknown> {
    return {
      id: gid('Location', location.id),
      name: location.name,
      isActive: location.isActive,
      activatable: false,
      deactivatable: true,
      deletable: false,
      fulfillsOnlineOrders: true,
      hasActiveInventory: true,
      hasUnfulfilledOrders: [...this.#orders.values()].some(
        (o) => o.locationId === location.id && o.fulfillmentStatus !== 'FULFILLED',
      ),
      isFulfillmentService: false,
      isPrimary: false,
      shipsInventory: true,
      legacyResourceId: String(location.id),
      createdAt: dateTime(location.createdAt),
      updatedAt: dateTime(location.createdAt),
      inventoryLevel: ({ inventoryItemId }: { inventoryItemId: string }) => {
        const level = this.#level(parseGid(inventoryItemId, 'InventoryItem'), location.id);
        return level ? this.#levelView(level) : null;
      },
      inventoryLevels: (args: ConnectionArgs) => {
        const levels = [...this.#levels.values()].filter((l) => l.locationId === location.id);
        return paginate(
          levels,
          args,
          (l) => [l.itemId],
          (l) => this.#levelView(l),
        );
      },
    };
  }

  #itemView(item: ItemRecord): Record<string, unknown> {
    return {
      id: gid('InventoryItem', item.id),
      sku: item.sku,
      tracked: true,
      requiresShipping: true,
      legacyResourceId: String(item.id),
      duplicateSkuCount: [...this.#items.values()].filter((i) => i.sku === item.sku && i.id !== item.id)
        .length,
      createdAt: dateTime(item.createdAt),
      updatedAt: dateTime(item.updatedAt),
      variant: () => this.#variantView(item),
      inventoryLevel: ({ locationId }: { locationId: string }) => {
        const level = this.#level(item.id, parseGid(locationId, 'Location'));
        return level ? this.#levelView(level) : null;
      },
      inventoryLevels: (args: ConnectionArgs) => {
        const levels = [...this.#levels.values()].filter((l) => l.itemId === item.id);
        return paginate(
          levels,
          args,
          (l) => [l.locationId],
          (l) => this.#levelView(l),
        );
      },
    };
  }

  #variantView(item: ItemRecord): Record<string, unknown> {
    return {
      id: gid('ProductVariant', item.variantId),
      sku: item.sku,
      title: 'Default Title',
      displayName: `${item.title} - Default Title`,
      inventoryItem: () => this.#itemView(item),
      ...this.prices.variantFields(item),
    };
  }

  #levelView(level: LevelRecord): Record<string, unknown> {
    const item = this.#items.get(level.itemId);
    const location = this.#locations.get(level.locationId);
    const quantities: Record<string, number> = {
      available: level.available,
      committed: level.committed,
      on_hand: level.available + level.committed,
      incoming: 0,
      reserved: 0,
      damaged: 0,
      safety_stock: 0,
      quality_control: 0,
    };
    return {
      id: `gid://shopify/InventoryLevel/${level.locationId}?inventory_item_id=${level.itemId}`,
      canDeactivate: true,
      createdAt: dateTime(level.updatedAt),
      updatedAt: dateTime(level.updatedAt),
      item: item ? () => this.#itemView(item) : null,
      location: location ? () => this.#locationView(location) : null,
      quantities: ({ names }: { names: string[] }) =>
        names.map((name) => {
          if (!(name in quantities)) throw new GraphQLError(`Invalid quantity name: ${name}`);
          return {
            id: `gid://shopify/InventoryQuantity/${level.locationId}?inventory_item_id=${level.itemId}&name=${name}`,
            name,
            quantity: quantities[name],
            updatedAt: dateTime(level.updatedAt),
          };
        }),
    };
  }

  #orderView(order: OrderRecord): Record<string, unknown> {
    const location = this.#locations.get(order.locationId);
    const foStatus =
      order.cancelledAt !== null ? 'CANCELLED' : order.fulfillmentStatus === 'FULFILLED' ? 'CLOSED' : 'OPEN';
    return {
      id: gid('Order', order.id),
      name: order.name,
      createdAt: dateTime(order.createdAt),
      processedAt: dateTime(order.createdAt),
      updatedAt: dateTime(order.updatedAt),
      cancelledAt: order.cancelledAt === null ? null : dateTime(order.cancelledAt),
      closed: order.fulfillmentStatus === 'FULFILLED',
      displayFulfillmentStatus: order.fulfillmentStatus,
      legacyResourceId: String(order.id),
      test: false,
      lineItems: (args: ConnectionArgs) =>
        paginate(
          order.lines,
          args,
          (l) => [l.id],
          (l) => this.#lineView(l),
        ),
      fulfillmentOrders: (args: ConnectionArgs) =>
        paginate(
          [order],
          args,
          (o) => [o.fulfillmentOrderId],
          () => ({
            id: gid('FulfillmentOrder', order.fulfillmentOrderId),
            status: foStatus,
            updatedAt: dateTime(order.updatedAt),
            assignedLocation: {
              name: location?.name ?? '',
              location: location ? this.#locationView(location) : null,
            },
          }),
        ),
      ...this.fulfilments.orderFields(order),
    };
  }

  #lineView(line: LineRecord): Record<string, unknown> {
    const item = line.itemId === null ? undefined : this.#items.get(line.itemId);
    return {
      id: gid('LineItem', line.id),
      sku: line.sku,
      name: line.title,
      title: line.title,
      quantity: line.quantity,
      currentQuantity: line.currentQuantity,
      unfulfilledQuantity: line.currentQuantity,
      variant: item ? () => this.#variantView(item) : null,
    };
  }

  // ---- inventory mutations ----

  /**
   * Runs an inventory mutation under `@idempotent(key:)`: a key seen with the same input answers the recorded
   * result and applies nothing; with another input it is an error. Counts what was applied.
   */
  #mutate(
    name: string,
    input: Record<string, unknown>,
    info: GraphQLResolveInfo,
    run: () => MutationResult,
  ): unknown {
    const node = info.fieldNodes[0];
    const key = node ? getDirectiveValues(this.#idempotent, node, info.variableValues)?.['key'] : undefined;
    if (typeof key !== 'string') {
      if (this.#idempotencyRequiredOn.has(name))
        throw new TopLevelError(
          `The @idempotent directive is required for ${name}.`,
          'IDEMPOTENCY_KEY_REQUIRED',
        );
      return this.#payload(this.#run(name, run));
    }
    const inputText = canonical(input);
    const seen = this.#byKey.get(key);
    if (seen) {
      if (seen.input !== inputText)
        throw new TopLevelError(
          `The idempotency key ${key} was already used with a different input.`,
          'IDEMPOTENCY_KEY_PARAMETER_MISMATCH',
        );
      this.#replays += 1;
      return this.#payload(seen.result);
    }
    const result = this.#run(name, run);
    this.#byKey.set(key, { input: inputText, result });
    return this.#payload(result);
  }

  #run(name: string, run: () => MutationResult): MutationResult {
    const result = run();
    if (result.group) this.#applied.set(name, (this.#applied.get(name) ?? 0) + 1);
    return result;
  }

  #payload(result: MutationResult): Record<string, unknown> {
    const group = result.group;
    return {
      userErrors: result.userErrors,
      inventoryAdjustmentGroup: group
        ? {
            id: gid('InventoryAdjustmentGroup', group.id),
            createdAt: dateTime(group.createdAt),
            reason: group.reason,
            referenceDocumentUri: group.referenceDocumentUri,
            changes: ({
              inventoryItemIds,
              locationIds,
              quantityNames,
            }: {
              inventoryItemIds?: string[];
              locationIds?: string[];
              quantityNames?: string[];
            }) =>
              group.changes
                .filter((c) => !inventoryItemIds || inventoryItemIds.includes(gid('InventoryItem', c.itemId)))
                .filter((c) => !locationIds || locationIds.includes(gid('Location', c.locationId)))
                .filter((c) => !quantityNames || quantityNames.includes(c.name))
                .map((c) => {
                  const item = this.#items.get(c.itemId);
                  const location = this.#locations.get(c.locationId);
                  return {
                    name: c.name,
                    delta: c.delta,
                    quantityAfterChange: c.quantityAfterChange,
                    ledgerDocumentUri: null,
                    item: item ? this.#itemView(item) : null,
                    location: location ? this.#locationView(location) : null,
                  };
                }),
          }
        : null,
    };
  }

  /** Checks the common parts of an inventory mutation's input; returns user errors. */
  #checkInput(
    input: Record<string, unknown>,
    list: readonly QuantityInput[],
    listName: string,
  ): UserErrorRecord[] {
    if (list.length > MAX_INPUT_SIZE)
      throw new TopLevelError(
        `The input array size of ${list.length} is greater than the maximum allowed of ${MAX_INPUT_SIZE}.`,
        'MAX_INPUT_SIZE_EXCEEDED',
      );
    const errors: UserErrorRecord[] = [];
    const name = input['name'];
    if (name !== 'available' && name !== 'on_hand')
      errors.push({
        field: ['input', 'name'],
        message: "The quantity name must be either 'available' or 'on_hand'.",
        code: 'INVALID_NAME',
      });
    if (typeof input['reason'] !== 'string' || !SET_REASONS.has(input['reason']))
      errors.push({
        field: ['input', 'reason'],
        message: 'The specified reason is invalid.',
        code: 'INVALID_REASON',
      });
    const uri = input['referenceDocumentUri'];
    if (
      uri !== undefined &&
      uri !== null &&
      (typeof uri !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(uri))
    )
      errors.push({
        field: ['input', 'referenceDocumentUri'],
        message: 'The specified reference document is invalid.',
        code: 'INVALID_REFERENCE_DOCUMENT',
      });
    const seen = new Set<string>();
    list.forEach((q, i) => {
      const field = (f: string) => ['input', listName, String(i), f];
      const itemId = parseGid(q.inventoryItemId, 'InventoryItem');
      const locationId = parseGid(q.locationId, 'Location');
      const pair = `${q.inventoryItemId}|${q.locationId}`;
      if (seen.has(pair))
        errors.push({
          field: field('locationId'),
          message: 'The combination of inventoryItemId and locationId must be unique.',
          code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR',
        });
      seen.add(pair);
      if (itemId === null || !this.#items.has(itemId)) {
        errors.push({
          field: field('inventoryItemId'),
          message: 'The specified inventory item could not be found.',
          code: 'INVALID_INVENTORY_ITEM',
        });
        return;
      }
      if (locationId === null || !this.#locations.has(locationId)) {
        errors.push({
          field: field('locationId'),
          message: 'The specified location could not be found.',
          code: 'INVALID_LOCATION',
        });
        return;
      }
      const level = this.#level(itemId, locationId);
      if (!level) {
        errors.push({
          field: field('locationId'),
          message: 'The specified inventory item is not stocked at the location.',
          code: 'ITEM_NOT_STOCKED_AT_LOCATION',
        });
        return;
      }
      const current = name === 'on_hand' ? level.available + level.committed : level.available;
      if (
        q.changeFromQuantity !== undefined &&
        q.changeFromQuantity !== null &&
        q.changeFromQuantity !== current
      )
        errors.push({
          field: field('changeFromQuantity'),
          message: `The specified changeFromQuantity (${q.changeFromQuantity}) does not match the current quantity.`,
          code: 'CHANGE_FROM_QUANTITY_STALE',
        });
      const after = q.quantity ?? current + (q.delta ?? 0);
      if (after < 0 && listName === 'quantities')
        errors.push({
          field: field('quantity'),
          message: "The quantity can't be negative.",
          code: 'INVALID_QUANTITY_NEGATIVE',
        });
      if (after > 1_000_000_000)
        errors.push({
          field: field('quantity'),
          message: "The total quantity can't be higher than 1,000,000,000.",
          code: 'INVALID_QUANTITY_TOO_HIGH',
        });
    });
    return errors;
  }

  /** Applies a checked list: every quantity or none. */
  #apply(input: Record<string, unknown>, list: readonly QuantityInput[]): GroupRecord {
    const name = String(input['name']);
    const changes = list.map((q) => {
      const level = this.#level(
        parseGid(q.inventoryItemId, 'InventoryItem'),
        parseGid(q.locationId, 'Location'),
      )!;
      const before = name === 'on_hand' ? level.available + level.committed : level.available;
      const after = q.quantity ?? before + (q.delta ?? 0);
      level.available += after - before;
      level.updatedAt = Date.now();
      return {
        name,
        delta: after - before,
        quantityAfterChange: after,
        itemId: level.itemId,
        locationId: level.locationId,
      };
    });
    const group: GroupRecord = {
      id: this.#id(),
      createdAt: Date.now(),
      reason: String(input['reason']),
      referenceDocumentUri:
        typeof input['referenceDocumentUri'] === 'string' ? input['referenceDocumentUri'] : null,
      changes,
    };
    return group;
  }

  #setQuantities(input: Record<string, unknown>): MutationResult {
    const list = (input['quantities'] ?? []) as QuantityInput[];
    const userErrors = this.#checkInput(input, list, 'quantities');
    return userErrors.length > 0
      ? { group: null, userErrors }
      : { group: this.#apply(input, list), userErrors: [] };
  }

  #adjustQuantities(input: Record<string, unknown>): MutationResult {
    const list = (input['changes'] ?? []) as QuantityInput[];
    const userErrors = this.#checkInput(input, list, 'changes');
    return userErrors.length > 0
      ? { group: null, userErrors }
      : { group: this.#apply(input, list), userErrors: [] };
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The `operationName` a GraphQL request body names, or null (not JSON, or none named). */
function operationNameOf(raw: Buffer): string | null {
  try {
    const body: unknown = JSON.parse(raw.toString('utf8'));
    return isRecord(body) && typeof body['operationName'] === 'string' ? body['operationName'] : null;
  } catch {
    return null;
  }
}
