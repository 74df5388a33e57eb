import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { RemoteKeySource, StaticKeySource, type KeySource } from './core/step-up.keys.js';
import { AccessTokenVerifier, type AccessTokenClaims } from './core/step-up.verifier.js';
import { STEP_UP_OPTIONS } from './step-up.metadata.js';
import type { ResolvedStepUpOptions } from './step-up.options.js';

/**
 * Holds the key source and the token verifier. Inject it to verify a token outside an HTTP route.
 * Throws the core's `TokenVerificationError` or `KeySetUnavailableError`.
 */
@Injectable()
export class StepUpAuthenticator implements OnModuleInit, OnApplicationShutdown {
  private readonly keys: KeySource;
  private readonly verifier: AccessTokenVerifier;

  constructor(@Inject(STEP_UP_OPTIONS) options: ResolvedStepUpOptions) {
    this.keys = options.jwksUri
      ? new RemoteKeySource(options.jwksUri, {
          timeoutMs: options.jwksTimeoutMs,
          cooldownMs: options.jwksCooldownMs,
          refreshIntervalMs: options.jwksRefreshIntervalMs,
          algorithms: options.algorithms,
          logger: new Logger('StepUpModule'),
        })
      : new StaticKeySource(options.keys!, options.algorithms);
    this.verifier = new AccessTokenVerifier({
      issuer: options.issuer,
      audience: options.audience,
      keys: this.keys,
      algorithms: options.algorithms,
      clockTolerance: options.clockTolerance,
      tokenType: options.tokenType,
      requiredClaims: options.requiredClaims,
      cacheSize: options.tokenCacheSize,
    });
  }

  async onModuleInit(): Promise<void> {
    if (this.keys instanceof RemoteKeySource) await this.keys.start();
  }

  onApplicationShutdown(): void {
    this.keys.close();
  }

  /** The claims of a token verified before and still valid, with no signature work; else undefined. */
  cached(token: string, now = Date.now() / 1000): AccessTokenClaims | undefined {
    return this.verifier.cached(token, now);
  }

  /** @param now seconds since the epoch */
  verify(token: string, now = Date.now() / 1000): Promise<AccessTokenClaims> {
    return this.verifier.verify(token, now);
  }
}
