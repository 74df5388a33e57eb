import { Inject, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, ModulesContainer } from '@nestjs/core';
import { StepUpAuthenticator } from './step-up.authenticator.js';
import { StepUpExceptionFilter } from './step-up.filter.js';
import { StepUpGuard } from './step-up.guard.js';
import { STEP_UP_MODULE_OPTIONS, STEP_UP_OPTIONS } from './step-up.metadata.js';
import {
  resolveStepUpOptions,
  StepUpOptionsError,
  type StepUpModuleAsyncOptions,
  type StepUpModuleOptions,
  type StepUpRegistration,
} from './step-up.options.js';

/**
 * Two registrations would each add a global guard with its own options, and every token would fail one
 * of them as if its signature were wrong. Counted in this application's own container, as one process
 * may run several applications.
 */
function refuseSecondRegistration(modules: ModulesContainer): void {
  const registrations = [...modules.values()].filter(({ metatype, providers }) => metatype === StepUpModule && providers.has(STEP_UP_OPTIONS));
  if (registrations.length > 1) {
    throw new StepUpOptionsError(['StepUpModule is registered twice: call forRoot() or forRootAsync() once, in the root module']);
  }
}

/**
 * Step-up authentication for the whole application: `StepUpModule.forRoot({ issuer, audience, jwksUri })`
 * registers {@link StepUpGuard} and {@link StepUpExceptionFilter} globally, unless told not to.
 */
@Module({})
export class StepUpModule {
  constructor(@Inject(ModulesContainer) modules: ModulesContainer) {
    refuseSecondRegistration(modules);
  }

  static forRoot(options: StepUpModuleOptions): DynamicModule {
    return StepUpModule.register([{ provide: STEP_UP_MODULE_OPTIONS, useValue: options }], [], options ?? {});
  }

  static forRootAsync(options: StepUpModuleAsyncOptions): DynamicModule {
    const { useFactory, inject = [], imports = [] } = options;
    const provider: Provider = {
      provide: STEP_UP_MODULE_OPTIONS,
      inject,
      useFactory: async (...args: unknown[]) => {
        const resolved = await useFactory(...args);
        const misplaced = (['globalGuard', 'globalFilter'] as const).filter((name) => name in (resolved ?? {}));
        if (misplaced.length) {
          throw new StepUpOptionsError(misplaced.map((name) => `${name} belongs beside useFactory in forRootAsync(), not in what it returns`));
        }
        return resolved;
      },
    };
    return StepUpModule.register([provider], imports, options);
  }

  private static register(
    optionsProviders: Provider[],
    imports: NonNullable<DynamicModule['imports']>,
    { globalGuard = true, globalFilter = true }: StepUpRegistration,
  ): DynamicModule {
    return {
      module: StepUpModule,
      global: true,
      imports,
      providers: [
        ...optionsProviders,
        { provide: STEP_UP_OPTIONS, useFactory: resolveStepUpOptions, inject: [STEP_UP_MODULE_OPTIONS] },
        StepUpAuthenticator,
        StepUpGuard,
        StepUpExceptionFilter,
        ...(globalGuard ? [{ provide: APP_GUARD, useExisting: StepUpGuard }] : []),
        ...(globalFilter ? [{ provide: APP_FILTER, useExisting: StepUpExceptionFilter }] : []),
      ],
      exports: [STEP_UP_OPTIONS, StepUpAuthenticator, StepUpGuard, StepUpExceptionFilter],
    };
  }
}
