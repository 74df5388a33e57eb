import { Catch, Inject, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { formatBearerChallenge } from './core/step-up.challenge.js';
import { prefersHtml, reauthenticationLocation } from './core/step-up.redirect.js';
import { BearerChallengeException, KeySetUnavailableException, StepUpRequiredException } from './step-up.exceptions.js';
import { STEP_UP_OPTIONS } from './step-up.metadata.js';
import type { ResolvedStepUpOptions } from './step-up.options.js';

interface RenderedRefusal {
  readonly challenge: string;
  readonly body: string;
}

interface HttpRequest {
  readonly method?: string;
  readonly url?: string;
  readonly originalUrl?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Answers step-up refusals as the standards say: the `WWW-Authenticate: Bearer` challenge (RFC 6750,
 * RFC 9470), an `application/problem+json` body (RFC 9457), and for browser navigations that need
 * step-up, when `reauthenticateUrl` is set, a 303 redirect carrying `acr_values`, `max_age` and `return_to`.
 */
@Catch(BearerChallengeException, KeySetUnavailableException)
export class StepUpExceptionFilter implements ExceptionFilter {
  private readonly rendered = new WeakMap<BearerChallengeException, RenderedRefusal>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Optional() @Inject(STEP_UP_OPTIONS) private readonly options?: ResolvedStepUpOptions,
  ) {}

  catch(exception: BearerChallengeException | KeySetUnavailableException, host: ArgumentsHost): void {
    // GraphQL, RPC or WebSocket (a guard subclass may serve them): no HTTP response to write. Returning
    // nothing leaves the exception to that context's own handler, which refuses the call in its own way.
    if (host.getType() !== 'http') return;
    const adapter = this.adapterHost.httpAdapter;
    // As in the guard: switchToHttp() would assign three new closures to the host on every refusal.
    const request = host.getArgByIndex<HttpRequest>(0);
    const response = host.getArgByIndex<unknown>(1);
    adapter.setHeader(response, 'Cache-Control', 'no-store');

    let body: string;
    if (exception instanceof KeySetUnavailableException) {
      adapter.setHeader(response, 'Retry-After', String(exception.retryAfterSeconds));
      body = JSON.stringify(exception.getResponse());
    } else {
      const { reauthenticateUrl } = this.options ?? {};
      if (reauthenticateUrl && exception instanceof StepUpRequiredException && this.isNavigation(request)) {
        const returnTo = request.originalUrl ?? request.url ?? '/';
        adapter.redirect(response, 303, reauthenticationLocation(reauthenticateUrl, exception.challenge, returnTo));
        return;
      }
      const rendered = this.render(exception);
      adapter.setHeader(response, 'WWW-Authenticate', rendered.challenge);
      // A browser applies this only to a cross-origin response, and such a request always carries Origin.
      if (request.headers.origin !== undefined) adapter.appendHeader(response, 'Access-Control-Expose-Headers', 'WWW-Authenticate');
      body = rendered.body;
    }
    adapter.setHeader(response, 'Content-Type', 'application/problem+json');
    adapter.reply(response, body, exception.getStatus());
  }

  /** The challenge header and the serialised body, written once per exception (the guard reuses them). */
  private render(exception: BearerChallengeException): RenderedRefusal {
    let rendered = this.rendered.get(exception);
    if (!rendered) {
      const realm = this.options?.realm;
      rendered = {
        challenge: formatBearerChallenge({ ...(realm && { realm }), ...exception.challenge }),
        body: JSON.stringify(exception.getResponse()),
      };
      this.rendered.set(exception, rendered);
    }
    return rendered;
  }

  private isNavigation(request: HttpRequest): boolean {
    const accept = request.headers.accept;
    return (request.method === 'GET' || request.method === 'HEAD') && prefersHtml(typeof accept === 'string' ? accept : undefined);
  }
}
