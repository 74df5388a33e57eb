/**
 * The library under test, imported as a user would (self-reference to the built dist/), or the build
 * given with `--baseline`, to compare a change with what it changes side by side.
 */
import { type DynamicModule, Module } from '@nestjs/common';
import * as published from 'nestjs-step-up';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { transferController } from './route.controller.js';
import { AUDIENCE, MAX_AGE_SECONDS, REQUIRED_AMR, REQUIRED_SCOPE, type ServerSpec } from './scenario.shared.js';

type StepUpLibrary = Pick<typeof published, 'ACR_MFA' | 'RequireScope' | 'RequireStepUp' | 'StepUpGuard' | 'StepUpModule'>;

/** The library the spec names: a build given with `--baseline`, or the package's own. */
export async function libraryFor(spec: Pick<ServerSpec, 'libraryDir'>): Promise<StepUpLibrary> {
  return spec.libraryDir === undefined ? published : ((await import(pathToFileURL(join(spec.libraryDir, 'index.js')).href)) as StepUpLibrary);
}

@Module({})
export class StepUpBenchModule {
  static async forSpec(spec: ServerSpec, tokenCache: boolean): Promise<DynamicModule> {
    const { ACR_MFA, RequireScope, RequireStepUp, StepUpModule } = await libraryFor(spec);
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
