import { Body, Controller, Get, Patch, Post, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  ACR_MFA,
  Public,
  RequireScope,
  RequireStepUp,
  StepUpClaims,
  StepUpModule,
  StepUpRequiredException,
  type StepUpModuleOptions,
} from 'nestjs-step-up';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

@Controller('api')
export class BankController {
  @Get('health')
  @Public()
  health() {
    return { status: 'ok' };
  }

  @Get('profile')
  profile(@StepUpClaims('sub') subject: string) {
    return { subject };
  }

  @Get('news')
  news() {
    return { news: [] };
  }

  @Get('accounts/balance')
  @RequireScope('read:balance')
  balance() {
    return { balance: 100 };
  }

  @Get('accounts/statements')
  @RequireScope('read:balance')
  @RequireScope('read:statements')
  statements() {
    return { statements: [] };
  }

  @Post('payments')
  @RequireScope('transfer:funds')
  payment() {
    throw new StepUpRequiredException({ acrValues: [ACR_MFA], maxAge: 60, description: 'Payments above 1000 € need a fresh MFA' });
  }

  @Post('transfers')
  @RequireScope('transfer:funds')
  @RequireStepUp({ acr: ACR_MFA, maxAge: '5m' })
  transfer(@Body() body: unknown) {
    return { id: 'transfer-1', body };
  }

  @Get('keys')
  @RequireStepUp({ acr: ACR_MFA, amr: ['mfa', 'hwk'] })
  hardwareKeyOnly() {
    return { ok: true };
  }
}

@Controller('admin')
@RequireStepUp({ acr: ACR_MFA })
@RequireScope('admin')
export class AdminController {
  @Get('audit-logs')
  @RequireScope('admin:audit')
  auditLogs() {
    return { logs: [] };
  }

  @Patch('permissions')
  @RequireStepUp({ acr: ACR_MFA, maxAge: 60 })
  permissions() {
    return { updated: true };
  }

  @Get('status')
  @Public()
  status() {
    return { status: 'ok' };
  }
}

export interface TestApp {
  readonly app: INestApplication;
  readonly url: string;
  request(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
}

/** Boots a real Nest application on loopback, on either HTTP platform. */
export async function startTestApp(
  platform: Platform,
  options: StepUpModuleOptions,
  metadata: Pick<ModuleMetadata, 'controllers' | 'providers'> = { controllers: [BankController, AdminController] },
  configure: (app: INestApplication) => void = () => undefined,
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({ imports: [StepUpModule.forRoot(options)], ...metadata }).compile();
  const app = platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication();
  app.useLogger(false);
  configure(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    request: (path, { token, headers, ...init } = {}) =>
      fetch(`${url}${path}`, {
        ...init,
        headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...(headers as Record<string, string>) },
        redirect: 'manual',
      }),
  };
}
