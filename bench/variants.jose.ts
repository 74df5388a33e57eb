/** A hand-written guard: jose `jwtVerify` against a remote JWKS, then the shared claim checks. */
import { type CanActivate, type DynamicModule, type ExecutionContext, Inject, Injectable, Module, UnauthorizedException, UseGuards } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ClaimsGuard, type VerifiedRequest } from './guards.claims.js';
import { transferController } from './route.controller.js';
import { AUDIENCE, type ServerSpec } from './scenario.shared.js';
import { SERVER_SPEC, specProvider } from './spec.provider.js';

const BEARER = /^Bearer ([^\s]+)$/i;

@Injectable()
class JoseGuard implements CanActivate {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(@Inject(SERVER_SPEC) private readonly spec: ServerSpec) {
    this.jwks = createRemoteJWKSet(new URL(spec.jwksUri));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<VerifiedRequest>();
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (!token) throw new UnauthorizedException();
    try {
      const { payload } = await jwtVerify(token, this.jwks, {
        issuer: this.spec.issuer,
        audience: AUDIENCE,
        algorithms: [this.spec.alg],
      });
      request.user = payload;
      return true;
    } catch {
      throw new UnauthorizedException();
    }
  }
}

@Module({})
export class JoseGuardBenchModule {
  static forSpec(spec: ServerSpec): DynamicModule {
    return {
      module: JoseGuardBenchModule,
      providers: [specProvider(spec), JoseGuard, ClaimsGuard],
      controllers: [transferController(UseGuards(JoseGuard, ClaimsGuard))],
    };
  }
}
