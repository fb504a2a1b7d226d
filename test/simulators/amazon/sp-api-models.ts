import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/*
 * The official SP-API models (../shared/contracts/amazon), read at run time and turned into validators: each
 * swagger 2.0 operation's path, query and body parameters and its responses, and the JSON_LISTINGS_FEED document
 * and processing report schemas. Nothing of the models is copied into the repository.
 */

/** The swagger 2.0 model files the fake serves, with the JSON Schemas of the listings feed. */
export const MODEL_FILES = [
  'feeds_2021-06-30.json',
  'listingsItems_2021-08-01.json',
  'ordersV0.json',
] as const;
export const FEED_SCHEMA_FILE = 'listings-feed-schema-v2.json';
export const FEED_MESSAGE_SCHEMA_FILE = 'listings-feed-message-schema-v2.json';
export const REPORT_SCHEMA_FILE = 'listings-feed-processing-report-schema-v2.json';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A swagger 2.0 parameter (non-body). */
type SwaggerParameter = JsonObject & { name: string; in: 'path' | 'query' | 'header' | 'body' | 'formData' };

/** A usage plan as an operation's description states it. */
export type UsagePlan = Readonly<{ rate: number; burst: number }>;

/** One operation of a model, ready to validate. */
export type OperationModel = Readonly<{
  operationId: string;
  method: string;
  pathTemplate: string;
  file: string;
  /** The usage plan the description states, or null when it states none. */
  plan: UsagePlan | null;
  /** The declared path and query parameters by name. */
  pathParameters: readonly SwaggerParameter[];
  queryParameters: readonly SwaggerParameter[];
  hasBody: boolean;
  isBodyRequired: boolean;
}>;

/** A request as the fake read it. */
export type RequestParts = Readonly<{
  pathParams: Readonly<Record<string, string>>;
  query: URLSearchParams;
  contentType: string | undefined;
  body: string;
}>;

/** What validating a request gave: the problems (empty: valid) and the typed parameters and body. */
export type ValidatedRequest = Readonly<{
  problems: readonly string[];
  path: Readonly<Record<string, unknown>>;
  query: Readonly<Record<string, unknown>>;
  body: unknown;
}>;

type CompiledOperation = OperationModel & {
  regex: RegExp;
  paramNames: readonly string[];
  validateParams: ValidateFunction;
  /** The body's JSON Schema; compiled on first use (the models are large, most operations are never called). */
  bodySchema: object | null;
  validateBody?: ValidateFunction;
  responseSchemas: ReadonlyMap<number, object>;
  responses: Map<number, ValidateFunction>;
};

const PLAN_PATTERN =
  /\|\s*Rate \(requests per second\)\s*\|\s*Burst\s*\|\s*\n\s*\|[\s-]+\|[\s-]+\|\s*\n\s*\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|/;

/** Reads the "Usage Plan" table of an operation's description. */
export function parseUsagePlan(description: string | undefined): UsagePlan | null {
  const match = description === undefined ? null : PLAN_PATTERN.exec(description);
  return match ? { rate: Number(match[1]), burst: Number(match[2]) } : null;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A swagger 2.0 schema as JSON Schema for ajv: vendor extensions (`x-…`) and `example` dropped, and local
 * `#/definitions/…` references pointed at the model's own schema (`fileId`).
 */
export function toJsonSchema(value: Json, fileId: string): Json {
  if (Array.isArray(value)) return value.map((v) => toJsonSchema(v, fileId));
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('x-') || key === 'example') continue;
    if (key === '$ref' && typeof child === 'string' && child.startsWith('#/definitions/'))
      out[key] = `${fileId}${child}`;
    else out[key] = toJsonSchema(child, fileId);
  }
  return out;
}

/** The JSON Schema of one non-body parameter: its type, items, enum and limits. */
function parameterSchema(parameter: SwaggerParameter, fileId: string): Json {
  const schema: JsonObject = {};
  for (const [key, value] of Object.entries(parameter)) {
    if (
      ['name', 'in', 'required', 'description', 'collectionFormat', 'allowEmptyValue', 'default'].includes(
        key,
      )
    )
      continue;
    schema[key] = value;
  }
  return toJsonSchema(schema, fileId);
}

/** A query or path value typed as its parameter says (a value that does not parse stays a string, and fails). */
function coerce(raw: string, schema: JsonObject | undefined): unknown {
  const type = typeof schema?.['type'] === 'string' ? schema['type'] : '';
  switch (type) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'number':
      return /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined, prefix: string): string[] {
  return (errors ?? []).map((e) => {
    const where = `${prefix}${e.instancePath}`;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` ("${String((e.params as { additionalProperty?: string }).additionalProperty)}")`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})`
          : '';
    return `${where === '' ? '(root)' : where} ${e.message ?? e.keyword}${extra}`;
  });
}

/** Models already compiled, by folder: they hold no state of a fake, and compiling them takes a second. */
const loaded = new Map<string, SpApiModels>();

/** The SP-API models and the listings feed schemas, compiled. */
export class SpApiModels {
  readonly #ajv: Ajv;
  readonly #operations: CompiledOperation[] = [];
  readonly #feed: ValidateFunction;
  readonly #message: ValidateFunction;
  readonly #report: ValidateFunction;

  private constructor(contractsDir: string) {
    const dir = join(contractsDir, 'amazon');
    this.#ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(this.#ajv);
    for (const name of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'])
      this.#ajv.addFormat(name, true);
    for (const file of MODEL_FILES) {
      const model = JSON.parse(readFileSync(join(dir, file), 'utf8')) as JsonObject;
      const fileId = `https://backroom.test/sp-api/${file}`;
      this.#ajv.addSchema({ $id: fileId, definitions: toJsonSchema(model['definitions'] ?? {}, fileId) });
      for (const [pathTemplate, pathItem] of Object.entries(model['paths'] as JsonObject)) {
        if (!isObject(pathItem)) continue;
        const shared = Array.isArray(pathItem['parameters'])
          ? (pathItem['parameters'] as SwaggerParameter[])
          : [];
        for (const [method, operation] of Object.entries(pathItem)) {
          if (method === 'parameters' || !isObject(operation)) continue;
          this.#operations.push(this.#compile(file, fileId, pathTemplate, method, operation, shared));
        }
      }
    }
    const schema = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as object;
    this.#feed = this.#ajv.compile(schema(FEED_SCHEMA_FILE));
    this.#message = this.#ajv.compile(schema(FEED_MESSAGE_SCHEMA_FILE));
    this.#report = this.#ajv.compile(schema(REPORT_SCHEMA_FILE));
  }

  /** Reads and compiles the models under `contractsDir` (`../shared/contracts`), once per folder and process. */
  static load(contractsDir: string): SpApiModels {
    let models = loaded.get(contractsDir);
    if (models === undefined) {
      models = new SpApiModels(contractsDir);
      loaded.set(contractsDir, models);
    }
    return models;
  }

  /** Every operation of the models (also those the fake does not serve). */
  get operations(): readonly OperationModel[] {
    return this.#operations;
  }

  operation(operationId: string): OperationModel {
    const op = this.#operations.find((o) => o.operationId === operationId);
    if (op === undefined) throw new Error(`no operation ${operationId} in the models`);
    return op;
  }

  /** The operation a request names, with its path parameters (still URL-encoded), or why none does. */
  match(
    method: string,
    path: string,
  ): { operation: OperationModel; pathParams: Record<string, string> } | 'no_path' | 'no_method' {
    let isPathKnown = false;
    // No two templates of these models match the same path (literal segments differ), so order does not matter.
    for (const op of this.#operations) {
      const match = op.regex.exec(path);
      if (match === null) continue;
      isPathKnown = true;
      if (op.method !== method.toLowerCase()) continue;
      return {
        operation: op,
        pathParams: Object.fromEntries(op.paramNames.map((n, i) => [n, match[i + 1]!])),
      };
    }
    return isPathKnown ? 'no_method' : 'no_path';
  }

  /** Validates a request's path and query parameters and its body against the operation's model. */
  validateRequest(operation: OperationModel, request: RequestParts): ValidatedRequest {
    const op = this.#compiled(operation.operationId);
    const problems: string[] = [];
    const path: Record<string, unknown> = {};
    for (const p of op.pathParameters) {
      const raw = request.pathParams[p.name];
      let decoded: string | undefined;
      try {
        decoded = raw === undefined ? undefined : decodeURIComponent(raw);
      } catch {
        problems.push(`path parameter ${p.name} is not URL-encoded correctly`);
      }
      if (decoded !== undefined) path[p.name] = coerce(decoded, p);
    }
    const query: Record<string, unknown> = {};
    const declared = new Map(op.queryParameters.map((p) => [p.name, p]));
    for (const name of new Set(request.query.keys())) {
      const p = declared.get(name);
      if (p === undefined) {
        problems.push(`unknown query parameter "${name}"`);
        continue;
      }
      const values = request.query.getAll(name);
      const format = typeof p['collectionFormat'] === 'string' ? p['collectionFormat'] : 'csv';
      if (p['type'] === 'array') {
        const items = isObject(p['items']) ? p['items'] : undefined;
        const parts =
          format === 'multi'
            ? values
            : values.length === 1
              ? values[0]!.split(
                  format === 'pipes' ? '|' : format === 'ssv' ? ' ' : format === 'tsv' ? '\t' : ',',
                )
              : null;
        if (parts === null)
          problems.push(`query parameter ${name} is given ${values.length} times (${format} list)`);
        else query[name] = parts.map((v) => coerce(v, items));
      } else if (values.length > 1) {
        problems.push(`query parameter ${name} is given ${values.length} times`);
      } else {
        query[name] = coerce(values[0]!, p);
      }
    }
    if (!op.validateParams({ path, query })) problems.push(...describeErrors(op.validateParams.errors, ''));
    let body: unknown = undefined;
    if (op.hasBody) {
      if (request.body.trim() === '') {
        if (op.isBodyRequired) problems.push('the body is required');
      } else if (!/^application\/json\b/i.test(request.contentType ?? '')) {
        problems.push(`the body must be application/json (got ${request.contentType ?? 'no content-type'})`);
      } else {
        try {
          body = JSON.parse(request.body);
          op.validateBody ??= op.bodySchema === null ? undefined : this.#ajv.compile(op.bodySchema);
          if (op.validateBody !== undefined && !op.validateBody(body))
            problems.push(...describeErrors(op.validateBody.errors, '/body'));
        } catch {
          problems.push('the body is not JSON');
        }
      }
    } else if (request.body.trim() !== '') {
      problems.push(`${op.operationId} takes no body`);
    }
    return { problems, path, query, body };
  }

  /** Problems of a response the fake is about to send (empty: it matches the model). */
  validateResponse(operationId: string, status: number, body: unknown): string[] {
    const op = this.#compiled(operationId);
    const schema = op.responseSchemas.get(status);
    if (schema === undefined) return [`${operationId} has no ${status} response in the model`];
    let validate = op.responses.get(status);
    if (validate === undefined) {
      validate = this.#ajv.compile(schema);
      op.responses.set(status, validate);
    }
    return validate(body) ? [] : describeErrors(validate.errors, `${operationId} ${status} response`);
  }

  /** Problems of a JSON_LISTINGS_FEED document: the feed schema, and each message against the message schema. */
  validateFeedDocument(document: unknown): string[] {
    const problems = this.#feed(document) ? [] : describeErrors(this.#feed.errors, '/feed');
    const messages = isObject(document) && Array.isArray(document['messages']) ? document['messages'] : [];
    messages.forEach((message, i) => {
      if (!this.#message(message))
        problems.push(...describeErrors(this.#message.errors, `/feed/messages/${i}`));
    });
    // The feed schema embeds the message rules, so a bad message is reported by both: once is enough.
    return [...new Set(problems)];
  }

  /** Problems of a processing report against listings-feed-processing-report-schema-v2. */
  validateProcessingReport(report: unknown): string[] {
    return this.#report(report) ? [] : describeErrors(this.#report.errors, '/report');
  }

  #compiled(operationId: string): CompiledOperation {
    const op = this.#operations.find((o) => o.operationId === operationId);
    if (op === undefined) throw new Error(`no operation ${operationId} in the models`);
    return op;
  }

  #compile(
    file: string,
    fileId: string,
    pathTemplate: string,
    method: string,
    operation: JsonObject,
    shared: readonly SwaggerParameter[],
  ): CompiledOperation {
    const own = Array.isArray(operation['parameters']) ? (operation['parameters'] as SwaggerParameter[]) : [];
    const parameters = [
      ...own,
      ...shared.filter((s) => !own.some((o) => o.name === s.name && o.in === s.in)),
    ];
    const pathParameters = parameters.filter((p) => p.in === 'path');
    const queryParameters = parameters.filter((p) => p.in === 'query');
    const bodyParameter = parameters.find((p) => p.in === 'body');
    const group = (list: readonly SwaggerParameter[]) => ({
      type: 'object',
      properties: Object.fromEntries(list.map((p) => [p.name, parameterSchema(p, fileId)])),
      required: list.filter((p) => p['required'] === true).map((p) => p.name),
    });
    const paramNames: string[] = [];
    const regex = new RegExp(
      `^${pathTemplate.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_, name: string) => {
        paramNames.push(name);
        return '([^/]+)';
      })}$`,
    );
    const responseSchemas = new Map<number, object>();
    for (const [status, response] of Object.entries(
      isObject(operation['responses']) ? operation['responses'] : {},
    )) {
      if (isObject(response) && isObject(response['schema']) && /^\d+$/.test(status))
        responseSchemas.set(Number(status), toJsonSchema(response['schema'], fileId) as object);
    }
    return {
      operationId:
        typeof operation['operationId'] === 'string' ? operation['operationId'] : `${method} ${pathTemplate}`,
      method,
      pathTemplate,
      file,
      plan: parseUsagePlan(
        typeof operation['description'] === 'string' ? operation['description'] : undefined,
      ),
      pathParameters,
      queryParameters,
      hasBody: bodyParameter !== undefined,
      isBodyRequired: bodyParameter?.['required'] === true,
      regex,
      paramNames,
      validateParams: this.#ajv.compile({
        type: 'object',
        properties: { path: group(pathParameters), query: group(queryParameters) },
      }),
      bodySchema:
        bodyParameter !== undefined && isObject(bodyParameter['schema'])
          ? (toJsonSchema(bodyParameter['schema'], fileId) as object)
          : null,
      responseSchemas,
      responses: new Map(),
    };
  }
}
