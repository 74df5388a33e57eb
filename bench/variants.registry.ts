/** Every variant, the adapters it runs on, the token modes it is measured in, and the Nest module that serves it. */
import { type DynamicModule, Module } from '@nestjs/common';
import type { ModeId } from './matrix.rounds.js';
import { transferController } from './route.controller.js';
import { ADAPTERS, type Adapter, type Alg, type ServerSpec, type VariantId } from './scenario.shared.js';

export interface VariantInfo {
  label: string;
  adapters: readonly Adapter[];
  /** The token modes it is measured in; every mode when left out. */
  modes?: readonly ModeId[];
  /** Whose allowed path (repeated tokens) its challenge rows are compared with; itself when left out. */
  allowedPath?: VariantId;
  /** Loaded lazily so that a server process only imports the packages its variant uses. */
  module(spec: ServerSpec): Promise<DynamicModule>;
}

@Module({})
class UnprotectedBenchModule {}

const unprotected = async (): Promise<DynamicModule> => ({ module: UnprotectedBenchModule, controllers: [transferController()] });

/** nestjs-step-up as the spec names it: the current build, or the one given with `--baseline`. */
const stepUp =
  ({ tokenCache }: { tokenCache: boolean }) =>
  async (spec: ServerSpec): Promise<DynamicModule> =>
    (await import('./variants.stepup.js')).StepUpBenchModule.forSpec(spec, tokenCache);

export const VARIANTS: Readonly<Record<VariantId, VariantInfo>> = {
  none: {
    label: 'none (unprotected)',
    adapters: ADAPTERS,
    modes: ['repeated', 'fresh'],
    module: unprotected,
  },
  'none-control': {
    label: 'none, second process (A/A control)',
    adapters: ADAPTERS,
    modes: ['repeated'],
    module: unprotected,
  },
  'allow-all-guard': {
    label: 'a guard that allows all (floor)',
    adapters: ADAPTERS,
    modes: ['repeated'],
    module: async () => (await import('./variants.references.js')).GuardFloorBenchModule.forGuard('allow'),
  },
  'refuse-all-guard': {
    label: 'a guard that refuses all (floor)',
    adapters: ADAPTERS,
    modes: ['challenge-401'],
    allowedPath: 'stepup',
    module: async () => (await import('./variants.references.js')).GuardFloorBenchModule.forGuard('refuse'),
  },
  stepup: {
    label: 'nestjs-step-up',
    adapters: ADAPTERS,
    module: stepUp({ tokenCache: true }),
  },
  'stepup-nocache': {
    label: 'nestjs-step-up (cache off)',
    adapters: ADAPTERS,
    module: stepUp({ tokenCache: false }),
  },
  'stepup-baseline': {
    label: 'nestjs-step-up, baseline build (--baseline)',
    adapters: ADAPTERS,
    module: stepUp({ tokenCache: true }),
  },
  'oauth2-jwt-bearer': {
    label: 'express-oauth2-jwt-bearer',
    adapters: ['express'],
    module: async (spec) => (await import('./variants.oauth2.js')).OAuth2JwtBearerBenchModule.forSpec(spec),
  },
  'passport-jwt': {
    label: '@nestjs/passport + passport-jwt',
    adapters: ADAPTERS,
    module: async (spec) => (await import('./variants.passport.js')).PassportBenchModule.forSpec(spec),
  },
  'jose-guard': {
    label: 'hand-written jose guard',
    adapters: ADAPTERS,
    module: async (spec) => (await import('./variants.jose.js')).JoseGuardBenchModule.forSpec(spec),
  },
};

/**
 * The servers to start: each variant on each of the given adapters it runs on, for each algorithm, with
 * the issuer's JWKS; `stepup-baseline` serves the build in `baselineDir`.
 */
export function serverSpecs(
  selection: { readonly variants: readonly VariantId[]; readonly adapters: readonly Adapter[]; readonly algs: readonly Alg[]; readonly baselineDir?: string | undefined },
  issuer: { readonly issuer: string; readonly jwksUri: string },
): ServerSpec[] {
  return selection.variants.flatMap((variant) =>
    VARIANTS[variant].adapters
      .filter((adapter) => selection.adapters.includes(adapter))
      .flatMap((adapter) =>
        selection.algs.map((alg) => ({
          variant,
          adapter,
          alg,
          issuer: issuer.issuer,
          jwksUri: issuer.jwksUri,
          ...(variant === 'stepup-baseline' && { libraryDir: selection.baselineDir }),
        })),
      ),
  );
}
