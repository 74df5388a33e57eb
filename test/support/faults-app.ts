import { Controller, Get, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { StepUpModule, type StepUpModuleOptions } from 'nestjs-step-up';
import type { Platform } from './test-app.js';

export interface LogEntry {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  readonly message: string;
  readonly context: string | undefined;
  /** Everything the logger was handed (message, stack, context), for "never logs the token" checks. */
  readonly text: string;
}

/** A Nest logger that keeps every entry, so tests can count what was logged and check what was not. */
export class CapturingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

  private add(level: LogEntry['level'], message: unknown, params: unknown[]) {
    const context = typeof params.at(-1) === 'string' ? (params.at(-1) as string) : undefined;
    const render = (value: unknown) => (value instanceof Error ? `${value.stack ?? value.message}` : typeof value === 'string' ? value : JSON.stringify(value));
    this.entries.push({ level, message: render(message), context, text: [message, ...params].map(render).join(' | ') });
  }

  log(message: unknown, ...params: unknown[]) {
    this.add('log', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.add('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.add('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.add('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.add('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.add('fatal', message, params);
  }

  /** Entries from one context (`StepUpModule`, `StepUpGuard`, `ExceptionsHandler`…), optionally of one level. */
  from(context: string, level?: LogEntry['level']): LogEntry[] {
    return this.entries.filter((entry) => entry.context === context && (level === undefined || entry.level === level));
  }
}

export const profileCalls = { count: 0 };

/** One authenticated route that counts how often its handler actually ran. */
@Controller('api')
export class CountingController {
  @Get('profile')
  profile() {
    profileCalls.count++;
    return { ok: true };
  }
}

export interface CapturedApp {
  readonly app: INestApplication;
  readonly url: string;
  readonly logger: CapturingLogger;
  request(path: string, token?: string, headers?: Record<string, string>): Promise<Response>;
}

/**
 * Boots Nest on loopback like `startTestApp`, but with a capturing logger in place before the module
 * initializes, so what the key source logs at start-up is kept too.
 */
export async function startCapturedApp(
  platform: Platform,
  options: StepUpModuleOptions,
  metadata: Pick<ModuleMetadata, 'controllers' | 'providers'> = { controllers: [CountingController] },
  configure?: (builder: ReturnType<typeof Test.createTestingModule>) => ReturnType<typeof Test.createTestingModule>,
): Promise<CapturedApp> {
  const logger = new CapturingLogger();
  let builder = Test.createTestingModule({ imports: [StepUpModule.forRoot(options)], ...metadata }).setLogger(logger);
  if (configure) builder = configure(builder);
  const moduleRef = await builder.compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    logger,
    request: (path, token, headers = {}) =>
      fetch(`${url}${path}`, { headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...headers }, redirect: 'manual' }),
  };
}
