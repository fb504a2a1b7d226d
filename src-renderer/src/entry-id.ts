/**
 * A new id for one workbench entry (`wb-` and 32 hex digits), made when its form opens and again after it was
 * posted. Sending the same entry twice (a double click, a retry after a lost answer) sends the same id, which the
 * agent answers `duplicate`. `getRandomValues`, not `randomUUID`: the agent may be opened over plain HTTP on the
 * shop's network, where `randomUUID` does not exist.
 */
export function newEntryId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `wb-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
