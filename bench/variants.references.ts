/**
 * The two guard floors: the route behind a global guard that allows everything, and behind one that
 * refuses everything with a single prebuilt step-up exception, answered by the library's filter.
 */
import { type CanActivate, type DynamicModule, Injectable, Module, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ACR_MFA, StepUpExceptionFilter, StepUpRequiredException } from 'nestjs-step-up';
import { transferController } from './route.controller.js';
import { MAX_AGE_SECONDS } from './scenario.shared.js';

/** What the library answers a single-factor token on the bench route, built once. */
const REFUSAL = new StepUpRequiredException({
  acrValues: [ACR_MFA],
  maxAge: MAX_AGE_SECONDS,
  description: 'A stronger authentication context (acr) is required',
});

@Injectable()
class AllowAllGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

/** Refuses the way StepUpGuard does: with one rejected promise, built and marked handled once, rather than a throw. */
const REJECTED = Promise.reject(REFUSAL);
REJECTED.catch(() => undefined);

@Injectable()
class RefuseAllGuard implements CanActivate {
  canActivate(): Promise<boolean> {
    return REJECTED;
  }
}

@Module({})
export class GuardFloorBenchModule {
  static forGuard(kind: 'allow' | 'refuse'): DynamicModule {
    const providers: Provider[] =
      kind === 'allow'
        ? [{ provide: APP_GUARD, useClass: AllowAllGuard }]
        : [
            { provide: APP_GUARD, useClass: RefuseAllGuard },
            { provide: APP_FILTER, useClass: StepUpExceptionFilter },
          ];
    return { module: GuardFloorBenchModule, controllers: [transferController()], providers };
  }
}
