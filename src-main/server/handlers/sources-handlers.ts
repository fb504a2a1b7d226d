import type { ResolvedConfig } from '../../../shared/config.js';
import type { SourceTokenRepo } from '../../capture/source-token-repo.js';
import type { AuditLog } from '../../exceptions/audit-log.js';
import { fieldFailure } from '../api-failure.js';
import type { HandlerTable } from '../rpc-router.js';

/**
 * POS source tokens: created here (shown once, only a hash kept), revoked here, each audited with the token's
 * last four characters, never the token; the config file's tokens stay as they are.
 */
export function sourcesHandlers(
  deps: Readonly<{ config: Pick<ResolvedConfig, 'sources'>; sourceTokens: SourceTokenRepo; audit: AuditLog }>,
): Pick<HandlerTable, 'sources.list' | 'sources.createToken' | 'sources.revokeToken'> {
  const { sourceTokens, audit } = deps;
  return {
    'sources.list': () => ({
      configured: deps.config.sources.map((src) => ({ id: src.id })),
      tokens: sourceTokens.list(),
    }),

    'sources.createToken': ({ source, label }, { operator }) => {
      const { token, entry } = sourceTokens.create({ sourceId: source, label, operator });
      audit.record({
        operator,
        action: 'sources.token_create',
        subject: `source:${source}`,
        reason: null,
        before: null,
        // The token never goes into the log: its id and last four characters tell it apart.
        after: { tokenId: entry.id, label, hint: entry.hint },
      });
      return { token, entry };
    },

    'sources.revokeToken': ({ id, reason }, { operator }) => {
      const before = sourceTokens.get(id);
      if (before === null) throw fieldFailure('id', `names no source token (${id})`);
      if (before.revokedAt !== null) return { entry: before };
      const entry = sourceTokens.revoke(id, operator)!;
      audit.record({
        operator,
        action: 'sources.token_revoke',
        subject: `source:${before.sourceId}`,
        reason,
        before: { tokenId: id, label: before.label, hint: before.hint, revoked: false },
        after: { tokenId: id, revoked: true },
      });
      return { entry };
    },
  };
}
