/**
 * express-oauth2-jwt-bearer, mounted as Express middleware through Nest's MiddlewareConsumer:
 * `auth()` (signature, iss, aud), `requiredScopes()` and a `claimCheck()` with the shared step-up
 * predicate. Express only: the middleware needs Express's request (`req.is`, `req.get`,
 * `req.protocol`), which Nest's Fastify adapter does not give its middleware.
 *
 * The library puts status and `WWW-Authenticate` on its error object; Nest's default exception
 * filter turns that error into a 500, so a small filter writes them out, as an app would need to.
 */
import {
  type ArgumentsHost,
  Catch,
  type DynamicModule,
  type ExceptionFilter,
  Inject,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { auth, claimCheck, requiredScopes, UnauthorizedError } from 'express-oauth2-jwt-bearer';
import { stepUpSatisfied } from './claims.policy.js';
import { transferController } from './route.controller.js';
import { AUDIENCE, REQUIRED_SCOPE, ROUTE, type ServerSpec } from './scenario.shared.js';
import { SERVER_SPEC, specProvider } from './spec.provider.js';

@Catch(UnauthorizedError)
class UnauthorizedErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: UnauthorizedError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<unknown>();
    const adapter = this.adapterHost.httpAdapter;
    for (const [name, value] of Object.entries(error.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, { statusCode: error.status, message: error.message }, error.status);
  }
}

@Module({})
export class OAuth2JwtBearerBenchModule implements NestModule {
  constructor(@Inject(SERVER_SPEC) private readonly spec: ServerSpec) {}

  static forSpec(spec: ServerSpec): DynamicModule {
    return {
      module: OAuth2JwtBearerBenchModule,
      providers: [specProvider(spec), { provide: APP_FILTER, useClass: UnauthorizedErrorFilter }],
      controllers: [transferController()],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(
        auth({ issuer: this.spec.issuer, audience: AUDIENCE, jwksUri: this.spec.jwksUri, tokenSigningAlg: this.spec.alg }),
        requiredScopes(REQUIRED_SCOPE),
        claimCheck(stepUpSatisfied, 'A different authentication level is required'),
      )
      .forRoutes(ROUTE);
  }
}
