/** What every variant protects, and how the orchestrator tells a server process what to be. */

export const ROUTE = '/transfer';
export const RESPONSE_BODY = { status: 'accepted', transfer: 'tr_001' } as const;

export const ACR_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
export const REQUIRED_AMR = 'mfa';
export const MAX_AGE_SECONDS = 300;
export const REQUIRED_SCOPE = 'transfer:funds';
export const AUDIENCE = 'https://api.bench.local';

export const ALGORITHMS = ['ES256', 'RS256'] as const;
export type Alg = (typeof ALGORITHMS)[number];

export const ADAPTERS = ['express', 'fastify'] as const;
export type Adapter = (typeof ADAPTERS)[number];

export const VARIANT_IDS = ['none', 'none-control', 'allow-all-guard', 'refuse-all-guard', 'stepup', 'stepup-nocache', 'stepup-baseline', 'oauth2-jwt-bearer', 'passport-jwt', 'jose-guard'] as const;
export type VariantId = (typeof VARIANT_IDS)[number];
/**
 * Reference servers, yardsticks rather than protection anyone would deploy: the unprotected baseline; an
 * identical second process, which shows how far two equal servers differ; a global guard that allows
 * everything, the least any Nest guard adds; and one that refuses everything with one prebuilt step-up
 * exception answered by the library's filter, the least a standard refusal through Nest costs.
 */
export const REFERENCES = ['none', 'none-control', 'allow-all-guard', 'refuse-all-guard'] as const satisfies readonly VariantId[];
export type ReferenceId = (typeof REFERENCES)[number];
export const isReference = (variant: VariantId): variant is ReferenceId => (REFERENCES as readonly VariantId[]).includes(variant);

/** Environment variable carrying a {@link ServerSpec} (JSON) into a server process. */
export const SERVER_SPEC_ENV = 'BENCH_SERVER_SPEC';

export interface ServerSpec {
  variant: VariantId;
  adapter: Adapter;
  alg: Alg;
  issuer: string;
  jwksUri: string;
  /** A built copy of the library (`index.js` inside) to serve instead of the package's own `dist/`. */
  libraryDir?: string;
}

/** Messages a server process sends to the orchestrator over the IPC channel. */
export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'memory'; usage: NodeJS.MemoryUsage };

/** Messages the orchestrator sends to a server process. */
export type OrchestratorMessage = { type: 'memory' };
