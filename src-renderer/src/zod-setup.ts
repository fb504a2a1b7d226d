import { z } from 'zod';

// The agent's CSP forbids eval; without this zod would probe for it (and log a violation) to compile parsers.
// Imported first by main.tsx, before any schema exists.
z.config({ jitless: true });
