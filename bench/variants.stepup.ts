/** The library under test, imported as a user would (self-reference to the built dist/). */
import { type DynamicModule, Module } from '@nestjs/common';
import { ACR_MFA, RequireScope, RequireStepUp, StepUpModule } from 'nestjs-step-up';
import { transferController } from './route.controller.js';
import { AUDIENCE, MAX_AGE_SECONDS, REQUIRED_AMR, REQUIRED_SCOPE, type ServerSpec } from './scenario.shared.js';

@Module({})
export class StepUpBenchModule {
  static forSpec(spec: ServerSpec, tokenCache: boolean): DynamicModule {
    return {
      module: StepUpBenchModule,
      imports: [
        StepUpModule.forRoot({
          issuer: spec.issuer,
          audience: AUDIENCE,
          jwksUri: spec.jwksUri,
          algorithms: [spec.alg],
          ...(!tokenCache && { tokenCacheSize: 0 }),
        }),
      ],
      controllers: [
        transferController(
          RequireStepUp({ acr: ACR_MFA, amr: [REQUIRED_AMR], maxAge: MAX_AGE_SECONDS }),
          RequireScope(REQUIRED_SCOPE),
        ),
      ],
    };
  }
}
