/**
 * Runs after a peer's verification guard (jose, passport-jwt) has put the verified claims on
 * `request.user`; answers 401/403 with the same `WWW-Authenticate` challenge the library sends.
 */
import { type CanActivate, type ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { JWTPayload } from 'jose';
import { denialFor } from './claims.policy.js';

export interface VerifiedRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: JWTPayload;
}

@Injectable()
export class ClaimsGuard implements CanActivate {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const denial = denialFor(http.getRequest<VerifiedRequest>().user ?? {});
    if (!denial) return true;
    this.adapterHost.httpAdapter.setHeader(http.getResponse(), 'WWW-Authenticate', denial.challenge);
    throw new HttpException(denial.status === 401 ? 'Unauthorized' : 'Forbidden', denial.status);
  }
}
