/** The server spec as a Nest provider, for the variant modules that need the issuer or JWKS. */
import type { ValueProvider } from '@nestjs/common';
import type { ServerSpec } from './scenario.shared.js';

export const SERVER_SPEC = Symbol('SERVER_SPEC');

export function specProvider(spec: ServerSpec): ValueProvider<ServerSpec> {
  return { provide: SERVER_SPEC, useValue: spec };
}
