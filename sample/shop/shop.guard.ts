import { Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { STEP_UP_OPTIONS, StepUpAuthenticator, StepUpGuard, type ResolvedStepUpOptions, type StepUpRequest } from 'nestjs-step-up';
import { ShopSessions } from './shop.sessions.js';

// Matched as the router matches routes: paths in any case, and HEAD with GET.
const isShopPage = (request: StepUpRequest) =>
  (request.method === 'GET' || request.method === 'HEAD') && request.url?.toLowerCase().startsWith('/shop/') === true;

/**
 * The library's guard, reading the shop's pages' access token from the browser's session instead of an
 * `Authorization` header. Only for pages read with GET (or HEAD): a cookie must never authorize a request that changes
 * something, or any site could make the browser send one (CSRF). Every other request, the bank API's
 * included, is read as before.
 */
@Injectable()
export class SessionStepUpGuard extends StepUpGuard {
  constructor(
    reflector: Reflector,
    @Inject(STEP_UP_OPTIONS) options: ResolvedStepUpOptions,
    authenticator: StepUpAuthenticator,
    private readonly sessions: ShopSessions,
  ) {
    super(reflector, options, authenticator);
  }

  protected override getToken(request: StepUpRequest): string | undefined {
    return isShopPage(request) ? this.sessions.find(request)?.token?.accessToken : super.getToken(request);
  }
}
