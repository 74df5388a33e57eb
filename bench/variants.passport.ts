/**
 * @nestjs/passport + passport-jwt, then the shared claims guard.
 *
 * Fairness: the keys are fetched once from the JWKS URI and handed to passport-jwt as `KeyObject`s
 * chosen by `kid` (secretOrKeyProvider). The usual `jwks-rsa` helper hands over PEM strings, which
 * jsonwebtoken re-parses on every request; that would make this variant several times slower.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { type DynamicModule, Inject, Injectable, Module, UseGuards } from '@nestjs/common';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { decodeProtectedHeader, type JSONWebKeySet, type JWTPayload } from 'jose';
import { ExtractJwt, type SecretOrKeyProvider, Strategy } from 'passport-jwt';
import { ClaimsGuard } from './guards.claims.js';
import { transferController } from './route.controller.js';
import { AUDIENCE, type ServerSpec } from './scenario.shared.js';
import { SERVER_SPEC, specProvider } from './spec.provider.js';

const PUBLIC_KEYS = Symbol('PUBLIC_KEYS');
type PublicKeys = ReadonlyMap<string, KeyObject>;

async function fetchPublicKeys(spec: ServerSpec): Promise<PublicKeys> {
  const response = await fetch(spec.jwksUri);
  const { keys } = (await response.json()) as JSONWebKeySet;
  return new Map(keys.map((jwk) => [jwk.kid ?? '', createPublicKey({ key: jwk, format: 'jwk' })]));
}

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(SERVER_SPEC) spec: ServerSpec, @Inject(PUBLIC_KEYS) keys: PublicKeys) {
    const keyFor = (_request: unknown, rawJwt: string, done: (error: Error | null, key?: KeyObject) => void): void => {
      const key = keys.get(decodeProtectedHeader(rawJwt).kid ?? '');
      if (key) done(null, key);
      else done(new Error('unknown kid'));
    };
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken 9 accepts a KeyObject; @types/passport-jwt only lists string | Buffer.
      secretOrKeyProvider: keyFor as SecretOrKeyProvider,
      issuer: spec.issuer,
      audience: AUDIENCE,
      algorithms: [spec.alg],
    });
  }

  validate(payload: JWTPayload): JWTPayload {
    return payload;
  }
}

@Module({})
export class PassportBenchModule {
  static forSpec(spec: ServerSpec): DynamicModule {
    return {
      module: PassportBenchModule,
      imports: [PassportModule.register({ session: false })],
      providers: [
        specProvider(spec),
        { provide: PUBLIC_KEYS, useFactory: () => fetchPublicKeys(spec) },
        JwtStrategy,
        ClaimsGuard,
      ],
      controllers: [transferController(UseGuards(AuthGuard('jwt'), ClaimsGuard))],
    };
  }
}
