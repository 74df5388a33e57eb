/** Every variant, the adapters it runs on, and the Nest module that serves it. */
import { type DynamicModule, Module } from '@nestjs/common';
import { transferController } from './route.controller.js';
import { ADAPTERS, type Adapter, type ServerSpec, type VariantId } from './scenario.shared.js';

export interface VariantInfo {
  label: string;
  adapters: readonly Adapter[];
  /** Loaded lazily so that a server process only imports the packages its variant uses. */
  module(spec: ServerSpec): Promise<DynamicModule>;
}

@Module({})
class UnprotectedBenchModule {}

const unprotected = async (): Promise<DynamicModule> => ({ module: UnprotectedBenchModule, controllers: [transferController()] });

export const VARIANTS: Readonly<Record<VariantId, VariantInfo>> = {
  none: {
    label: 'none (unprotected)',
    adapters: ADAPTERS,
    module: unprotected,
  },
  'none-control': {
    label: 'none, second process (A/A control)',
    adapters: ADAPTERS,
    module: unprotected,
  },
  'allow-all-guard': {
    label: 'a guard that allows all (floor)',
    adapters: ADAPTERS,
    module: async () => (await import('./variants.references.js')).GuardFloorBenchModule.forGuard('allow'),
  },
  'refuse-all-guard': {
    label: 'a guard that refuses all (floor)',
    adapters: ADAPTERS,
    module: async () => (await import('./variants.references.js')).GuardFloorBenchModule.forGuard('refuse'),
  },
  stepup: {
    label: 'nestjs-step-up',
    adapters: ADAPTERS,
    module: async (spec) => (await import('./variants.stepup.js')).StepUpBenchModule.forSpec(spec, true),
  },
  'stepup-nocache': {
    label: 'nestjs-step-up (cache off)',
    adapters: ADAPTERS,
    module: async (spec) => (await import('./variants.stepup.js')).StepUpBenchModule.forSpec(spec, false),
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
