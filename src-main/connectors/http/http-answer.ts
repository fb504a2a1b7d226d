import type { Response } from 'got';

/** An HTTP answer as a connector judges it: its status, its body as text, and its Retry-After. */
export type HttpAnswer = Readonly<{ status: number; body: string; retryAfter: string | undefined }>;

/** The parts of a got response a connector classifies (the client answers error statuses, never throws them). */
export function httpAnswer(response: Response<string>): HttpAnswer {
  return {
    status: response.statusCode,
    body: response.body,
    retryAfter: response.headers['retry-after'],
  };
}
