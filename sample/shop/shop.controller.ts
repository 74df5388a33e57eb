import { Catch, Controller, Get, Req, Res, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import {
  ACR_MFA,
  AuthenticationRequiredException,
  InvalidTokenException,
  Public,
  RequireStepUp,
  sameOriginPath,
  StepUpClaims,
  type AccessTokenClaims,
} from 'nestjs-step-up';
import { AuthorizationFailedError, ShopClient, type AuthenticationRequest, type IssuedToken } from './shop.client.js';
import { ShopSessions, type ShopSession } from './shop.sessions.js';
import { checkoutPage, shopHomePage, signInFailedPage } from './shop.views.js';

/** Where the library's filter sends a browser that must step up (`reauthenticateUrl`). */
export const REAUTHENTICATE_PATH = '/account/re-authenticate';

const single = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function sendPage(response: Response, status: number, body: string): void {
  response
    .status(status)
    .set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
    })
    .type('html')
    .send(body);
}

/** A shop page without a valid session token: sign in, then come back here. */
@Catch(AuthenticationRequiredException, InvalidTokenException)
export class ShopSignInFilter implements ExceptionFilter {
  catch(_exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const returnTo = sameOriginPath(http.getRequest<Request>().originalUrl);
    http.getResponse<Response>().redirect(303, `/shop/login?return_to=${encodeURIComponent(returnTo)}`);
  }
}

/**
 * A web shop in front of the bank: server-rendered pages, tokens kept in a server-side session. Its
 * checkout needs a fresh MFA; the library's filter redirects the browser to {@link REAUTHENTICATE_PATH},
 * which asks the provider for the challenge's `acr_values` and `max_age` and comes back to the checkout.
 */
@Controller()
@UseFilters(ShopSignInFilter)
export class ShopController {
  constructor(
    private readonly sessions: ShopSessions,
    private readonly client: ShopClient,
  ) {}

  @Public()
  @Get()
  root(@Res() response: Response): void {
    response.redirect(303, '/shop');
  }

  @Public()
  @Get('shop')
  home(@Req() request: Request, @Res() response: Response): void {
    sendPage(response, 200, shopHomePage(this.sessions.isSignedIn(this.sessions.find(request))));
  }

  @RequireStepUp({ acr: ACR_MFA, maxAge: '10m' })
  @Get('shop/checkout')
  checkout(@StepUpClaims() claims: AccessTokenClaims, @Res() response: Response): void {
    sendPage(response, 200, checkoutPage(claims));
  }

  @Public()
  @Get('shop/login')
  login(@Req() request: Request, @Res() response: Response): void {
    this.startSignIn(request, response, {});
  }

  /** The re-authenticate page: the same sign-in, asking for what the challenge asked. */
  @Public()
  @Get(REAUTHENTICATE_PATH.slice(1))
  reauthenticate(@Req() request: Request, @Res() response: Response): void {
    const acrValues = single(request.query.acr_values);
    const maxAge = single(request.query.max_age);
    this.startSignIn(request, response, {
      ...(acrValues !== undefined && /^[\x21-\x7e]+( [\x21-\x7e]+)*$/.test(acrValues) && { acrValues }),
      ...(maxAge !== undefined && /^\d{1,9}$/.test(maxAge) && { maxAge }),
    });
  }

  @Public()
  @Get('shop/callback')
  async callback(@Req() request: Request, @Res() response: Response): Promise<void> {
    const params = new URLSearchParams(request.originalUrl.split('?')[1] ?? '');
    const session = this.sessions.find(request);
    const state = params.get('state');
    const pending = session !== undefined && state !== null ? this.sessions.complete(session, state) : undefined;
    if (session === undefined || pending === undefined) {
      return sendPage(response, 400, signInFailedPage('This sign-in was not started in this browser, or it took too long. Start again.'));
    }
    let token: IssuedToken;
    try {
      token = await this.client.exchange(params, pending.codeVerifier);
    } catch (error) {
      if (!(error instanceof AuthorizationFailedError)) throw error;
      return sendPage(response, 403, signInFailedPage(`The sign-in did not complete: ${error.message}.`));
    }
    // A new session id once signed in, so an id planted before the sign-in is worth nothing after it.
    const signedIn = this.sessions.renew(session);
    signedIn.token = token;
    this.setSessionCookie(response, signedIn);
    response.redirect(303, pending.returnTo);
  }

  private startSignIn(request: Request, response: Response, authentication: AuthenticationRequest): void {
    let session = this.sessions.find(request);
    if (session === undefined) {
      session = this.sessions.create();
      this.setSessionCookie(response, session);
    }
    const codeVerifier = ShopClient.newCodeVerifier();
    const returnTo = sameOriginPath(single(request.query.return_to) ?? '/shop');
    const state = this.sessions.begin(session, codeVerifier, returnTo);
    response.set('Cache-Control', 'no-store').redirect(303, this.client.authorizationUrl(state, codeVerifier, authentication));
  }

  private setSessionCookie(response: Response, session: ShopSession): void {
    response.setHeader('Set-Cookie', this.sessions.cookieFor(session, this.client.settings.redirectUri.startsWith('https:')));
  }
}
