import { Logger } from '@nestjs/common';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import {
  ACR_MFA,
  buildSteppedUpClaims,
  chooseStepUpMethods,
  type StepUpDecision,
  type StepUpMethod,
  type UnenrolledMfaPolicy,
} from 'nestjs-step-up';
import Provider, { errors, type Interaction, type InteractionResults } from 'oidc-provider';
import { ACR_SINGLE_FACTOR, requiredAcr, SIGN_IN_AMR, signInMethodOfSession } from './idp.acr.js';
import { grantConsent } from './consent.grant.js';
import { AccountThrottle, accountKey } from './account.throttle.js';
import {
  InteractionEndedError,
  InteractionStates,
  type InteractionState,
  type PrimarySignIn,
  type ProvedSecondFactor,
} from './interaction.state.js';
import {
  addSecurityKeyPage,
  enrolRequiredPage,
  errorPage,
  loginPage,
  magicSentPage,
  stepUpPage,
} from './interaction.views.js';
import type { EmailMessage, MessageSender, SmsMessage } from './message.outbox.js';
import type { CodeChannel, CodeCheck } from './one-time-code.js';
import { SecurityKeys } from './security-keys.js';
import { SECURITY_KEY_SCRIPT } from './security-keys.script.js';
import { verifyTotp } from './totp.verifier.js';
import type { User, UserStore } from './users.store.js';

export interface InteractionDependencies {
  readonly provider: Provider;
  readonly users: UserStore;
  readonly mailer: MessageSender<EmailMessage>;
  readonly sms: MessageSender<SmsMessage>;
  readonly unenrolledMfaPolicy: UnenrolledMfaPolicy;
  /** Public origin of the sample, for links in emails. */
  readonly baseUrl: string;
}

/** Login prompt reasons that need the first factor again, not just a second one. */
const FRESH_LOGIN_REASONS = new Set(['no_session', 'max_age', 'login_prompt', 'id_token_hint', 'claims_id_token_sub_value']);

const CODE_MESSAGES: Readonly<Record<Exclude<CodeCheck, 'accepted' | 'locked'>, string>> = {
  no_code: 'Ask for a code first.',
  expired: 'That code has expired. Ask for a new one.',
  wrong: 'That code is not right. Try again.',
};

const isCodeChannel = (method: StepUpMethod): method is 'email_otp' | 'sms' => method === 'email_otp' || method === 'sms';

const TOO_MANY_ATTEMPTS = 'Too many failed attempts: the sign-in was stopped.';
const ACCOUNT_LOCKED = 'Too many failed attempts for this account: try again in 15 minutes.';

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface StepUp {
  readonly user: User;
  readonly primary: PrimarySignIn;
  readonly decision: StepUpDecision;
}

/** The JSON object a page script posted; anything else reads as an empty answer, which no ceremony accepts. */
const jsonBody = (req: Request): Record<string, unknown> =>
  typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? req.body : {};

const bodyField = (req: Request, name: string): string => {
  const value: unknown = req.body?.[name];
  return typeof value === 'string' ? value : '';
};

/**
 * The provider's login and consent screens (server-rendered forms). Login: password, or magic link /
 * magic code for users without a password. Step-up: the second factors `chooseStepUpMethods` offers,
 * asking only for the second factor when the session's first factor is still fresh enough.
 * Cancelling or failing returns `access_denied`: the provider never issues a weaker acr than asked for.
 * Forms rely on the interaction cookie being SameSite=Lax, so cross-site posts carry no interaction.
 */
export function interactionRouter(deps: InteractionDependencies): Router {
  const { provider, users, mailer, sms, unenrolledMfaPolicy, baseUrl } = deps;
  const states = new InteractionStates();
  const throttle = new AccountThrottle();
  const securityKeys = new SecurityKeys(baseUrl);
  const logger = new Logger('Interactions');
  const router = Router();

  router.get('/interaction/webauthn.js', (_req, res) => {
    res.set({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }).type('text/javascript').send(SECURITY_KEY_SCRIPT);
  });

  const formOrJson = [express.urlencoded({ extended: false, limit: '4kb' }), express.json({ limit: '16kb' })];
  router.use('/interaction', ...formOrJson, (_req, res, next) => {
    res.set({
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'X-Content-Type-Options': 'nosniff',
    });
    next();
  });

  async function loginInteraction(req: Request, res: Response): Promise<Interaction> {
    const interaction = await provider.interactionDetails(req, res);
    if (interaction.uid !== req.params.uid || interaction.prompt.name !== 'login') {
      throw new errors.SessionNotFound('interaction does not match');
    }
    return interaction;
  }

  const finish = async (req: Request, res: Response, interaction: Interaction, result: InteractionResults) => {
    states.end(interaction);
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  };

  const deny = (req: Request, res: Response, interaction: Interaction, description: string) =>
    finish(req, res, interaction, { error: 'access_denied', error_description: description });

  /** As finish(), for a page script that called with fetch(): it is told where to go, in JSON. */
  const finishInJson = async (req: Request, res: Response, interaction: Interaction, result: InteractionResults) => {
    states.end(interaction);
    res.json({ location: await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false }) });
  };

  /** The stepped-up sign-in, dated when the second factor was proved (`at`, epoch seconds; default now). */
  const steppedUp = (user: User, method: StepUpMethod, at?: number): InteractionResults => {
    const { acr, amr, auth_time } = buildSteppedUpClaims({ method, ...(at !== undefined && { authTime: at }) });
    return { login: { accountId: user.id, acr, amr, ts: auth_time } };
  };

  /** When the first factor was proved: in this interaction, or at the session's last sign-in. */
  async function signedInAt(interaction: Interaction, primary: PrimarySignIn): Promise<number> {
    if (primary.at !== undefined) return primary.at;
    const uid = interaction.session?.uid;
    const at = uid === undefined ? undefined : (await provider.Session.findByUid(uid))?.authTime();
    // Without it the provider would date the sign-in now: a session that cannot be found has ended.
    if (at === undefined) throw new errors.SessionNotFound('the session of this sign-in is gone');
    return at;
  }

  /** Stops the sign-in, before any proof is checked, when the account has failed too often across interactions. */
  async function refusedAsLocked(req: Request, res: Response, interaction: Interaction, account: string): Promise<boolean> {
    if (!throttle.locked(account)) return false;
    await deny(req, res, interaction, ACCOUNT_LOCKED);
    return true;
  }

  /**
   * Runs a proof that waits (a password hash, a TOTP check, a security key's signature), refused outright once
   * the login is at its limit. It is counted as a failure, for the login and for the account, before it is
   * awaited, and forgiven if it succeeds: counted afterwards, a burst of guesses would all pass the limits
   * before any of them counted.
   */
  async function countedAhead<T>(state: InteractionState, account: string, prove: () => Promise<T | undefined>): Promise<{ check: CodeCheck; proved?: T }> {
    if (state.codes.locked) return { check: 'locked' };
    const attempt = state.codes.recordFailure();
    const failedAt = throttle.recordFailure(account);
    const proved = await prove();
    if (proved === undefined) return { check: attempt };
    state.codes.forgiveFailure();
    throttle.forgive(account, failedAt);
    return { check: 'accepted', proved };
  }

  /** Checks a one-time code that was sent; a wrong one counts against the account as well as the login. */
  function checkSentCode(state: InteractionState, channel: CodeChannel, code: string, account: string | undefined): CodeCheck {
    const check = state.codes.check(channel, code);
    if (account !== undefined && (check === 'wrong' || check === 'locked')) throttle.recordFailure(account);
    return check;
  }

  /** A second factor was proved: finish, unless the user may first add a security key for next time. */
  async function afterSecondFactor(req: Request, res: Response, interaction: Interaction, user: User, method: StepUpMethod) {
    if (!securityKeys.available || users.securityKeysOf(user.id).length > 0) return finish(req, res, interaction, steppedUp(user, method));
    states.for(interaction).verified = { method, at: nowSeconds() };
    res.type('html').send(addSecurityKeyPage({ uid: interaction.uid }));
  }

  /** The first factor this login can build on: proved in this interaction, or the session's when only a step-up is asked. */
  function primaryOf(interaction: Interaction, state: InteractionState): PrimarySignIn | undefined {
    if (state.primary !== undefined) return state.primary;
    const { session, prompt, params } = interaction;
    if (session === undefined || requiredAcr(params.acr_values) !== ACR_MFA) return undefined;
    if (prompt.reasons.some((reason) => FRESH_LOGIN_REASONS.has(reason))) return undefined;
    const method = signInMethodOfSession(session.amr);
    return method === undefined ? undefined : { userId: session.accountId, method };
  }

  function stepUpOf(interaction: Interaction, state: InteractionState): StepUp | undefined {
    const primary = primaryOf(interaction, state);
    const user = primary && users.findById(primary.userId);
    if (primary === undefined || user === undefined) return undefined;
    // A second factor is proved for one user: once a code was sent or tried, or a key asked, for this one,
    // a first factor of another user in the same interaction gets no step-up from it.
    if (state.stepUpUserId !== undefined && state.stepUpUserId !== user.id) return undefined;
    const decision = chooseStepUpMethods({ enrolled: users.enrolledMethods(user), signedInWith: primary.method }, { unenrolledMfaPolicy });
    return { user, primary, decision };
  }

  /** Shows the next screen of a login interaction, or finishes it when nothing is left to prove. */
  async function proceed(req: Request, res: Response, interaction: Interaction, error?: string, status = 200) {
    const { uid } = interaction;
    const state = states.for(interaction);
    const acr = requiredAcr(interaction.params.acr_values);
    if (acr === undefined) {
      return finish(req, res, interaction, {
        error: 'unmet_authentication_requirements',
        error_description: 'none of the requested acr_values can be satisfied',
      });
    }
    const stepUp = stepUpOf(interaction, state);
    if (stepUp === undefined) {
      state.primary = undefined;
      return res.status(status).type('html').send(loginPage({ uid, error }));
    }
    const { user, primary, decision } = stepUp;
    if (state.verified !== undefined) return res.status(status).type('html').send(addSecurityKeyPage({ uid }));
    // Only the first factor: the sign-in is as old as it is, not as this request.
    const firstFactor = async (acr: string) =>
      finish(req, res, interaction, { login: { accountId: user.id, acr, amr: [...SIGN_IN_AMR[primary.method]], ts: await signedInAt(interaction, primary) } });
    if (acr === ACR_SINGLE_FACTOR) return firstFactor(ACR_SINGLE_FACTOR);
    switch (decision.outcome) {
      case 'skip':
        // Policy ALLOW_SKIP: acr MFA by policy, but the amr stays the first factor's and gains no `mfa`.
        return firstFactor(ACR_MFA);
      case 'enrol_required':
        return res.status(403).type('html').send(enrolRequiredPage({ uid, message: decision.error.message }));
      case 'challenge': {
        const codeSent = new Set(
          decision.options.map(({ method }) => method).filter((method) => isCodeChannel(method) && state.codes.pending(method)),
        );
        return res.status(status).type('html').send(stepUpPage({ uid, email: user.email, phone: user.phone, options: decision.options, codeSent, error }));
      }
    }
  }

  /** Applies a code check: continue on success, stop the login at the attempt limit, else show why. */
  async function afterCodeCheck(req: Request, res: Response, interaction: Interaction, check: CodeCheck, onAccepted: () => Promise<void>) {
    if (check === 'accepted') return onAccepted();
    if (check === 'locked') return deny(req, res, interaction, TOO_MANY_ATTEMPTS);
    return proceed(req, res, interaction, CODE_MESSAGES[check], 400);
  }

  const redirectToInteraction = (res: Response, uid: string) => res.redirect(303, `/interaction/${encodeURIComponent(uid)}`);

  router.get('/interaction/:uid', async (req, res) => {
    const interaction = await provider.interactionDetails(req, res);
    if (interaction.uid !== req.params.uid) throw new errors.SessionNotFound('interaction does not match');
    if (interaction.prompt.name === 'consent') return grantConsent(provider, users, req, res, interaction);
    return proceed(req, res, interaction);
  });

  router.post('/interaction/:uid/login', async (req, res) => {
    const interaction = await loginInteraction(req, res);
    const state = states.for(interaction);
    const email = bodyField(req, 'email');
    // By address, known or not: locking reveals nothing about which accounts exist.
    const account = accountKey(email);
    if (await refusedAsLocked(req, res, interaction, account)) return;
    const { check, proved: user } = await countedAhead(state, account, () => users.verifyPassword(email, bodyField(req, 'password')));
    if (user === undefined) {
      if (check === 'locked') return deny(req, res, interaction, TOO_MANY_ATTEMPTS);
      return res.status(401).type('html').send(loginPage({ uid: interaction.uid, error: 'Wrong email or password.', email }));
    }
    state.primary = { userId: user.id, method: 'password', at: nowSeconds() };
    return redirectToInteraction(res, interaction.uid);
  });

  router.post('/interaction/:uid/magic/send', async (req, res) => {
    const interaction = await loginInteraction(req, res);
    const state = states.for(interaction);
    const email = bodyField(req, 'email');
    const user = users.findByEmail(email);
    // Same answer whether or not the address may sign in by email, the send limit and the lock included: no
    // account enumeration. A code is drawn either way; it is mailed only to an address that may use it.
    const code = state.codes.issue('magic');
    if (code === undefined) return deny(req, res, interaction, TOO_MANY_ATTEMPTS);
    state.magicAccount = accountKey(email);
    state.magicUserId = undefined;
    if (user !== undefined && user.passwordHash === undefined && !throttle.locked(state.magicAccount)) {
      state.magicUserId = user.id;
      const link = `${baseUrl}/interaction/${encodeURIComponent(interaction.uid)}/magic/link?code=${code}`;
      // Not awaited: an answer that waited for the mail server would tell, by its time, whose address this is.
      mailer
        .send({
          to: user.email,
          subject: 'Your Sample Bank sign-in link',
          text: `Sign in to Sample Bank: open ${link} in the browser you started from, or type the code ${code}. It expires in 5 minutes.`,
        })
        .catch((error: unknown) => logger.warn(`A sign-in link could not be sent: ${error instanceof Error ? error.message : String(error)}`));
    }
    return res.type('html').send(magicSentPage({ uid: interaction.uid }));
  });

  async function magicSignIn(req: Request, res: Response, code: string, method: 'magic_link' | 'magic_code') {
    const interaction = await loginInteraction(req, res);
    const state = states.for(interaction);
    const account = state.magicAccount;
    if (account !== undefined && (await refusedAsLocked(req, res, interaction, account))) return;
    const check = checkSentCode(state, 'magic', code, account);
    if (check === 'accepted' && state.magicUserId !== undefined) {
      state.primary = { userId: state.magicUserId, method, at: nowSeconds() };
      return redirectToInteraction(res, interaction.uid);
    }
    if (check === 'locked') return deny(req, res, interaction, TOO_MANY_ATTEMPTS);
    return res.status(400).type('html').send(magicSentPage({ uid: interaction.uid, error: CODE_MESSAGES[check === 'accepted' ? 'no_code' : check] }));
  }

  router.get('/interaction/:uid/magic/link', (req, res) =>
    magicSignIn(req, res, typeof req.query.code === 'string' ? req.query.code : '', 'magic_link'),
  );
  router.post('/interaction/:uid/magic/code', (req, res) => magicSignIn(req, res, bodyField(req, 'code'), 'magic_code'));

  const offers = (stepUp: StepUp, method: StepUpMethod) =>
    stepUp.decision.outcome === 'challenge' && stepUp.decision.options.some((option) => option.method === method);

  /** The offered method named in the form, if the current step-up offers it. */
  function chosenMethod(req: Request, stepUp: StepUp | undefined): StepUpMethod | undefined {
    if (stepUp?.decision.outcome !== 'challenge') return undefined;
    const wanted = bodyField(req, 'method');
    return stepUp.decision.options.find(({ method }) => method === wanted)?.method;
  }

  /** The login interaction a second-factor request belongs to, its state, and the step-up under way. */
  async function stepUpRequest(req: Request, res: Response) {
    const interaction = await loginInteraction(req, res);
    const state = states.for(interaction);
    return { interaction, state, stepUp: stepUpOf(interaction, state) };
  }

  router.post('/interaction/:uid/step-up/send', async (req, res) => {
    const { interaction, state, stepUp } = await stepUpRequest(req, res);
    const method = chosenMethod(req, stepUp);
    if (stepUp === undefined || method === undefined || !isCodeChannel(method)) {
      return proceed(req, res, interaction, 'Choose one of the offered methods.', 400);
    }
    state.stepUpUserId = stepUp.user.id;
    const code = state.codes.issue(method);
    if (code === undefined) return deny(req, res, interaction, TOO_MANY_ATTEMPTS);
    const text = `Your Sample Bank verification code is ${code}. It expires in 5 minutes. Never share it.`;
    if (method === 'email_otp') {
      await mailer.send({ to: stepUp.user.email, subject: 'Your Sample Bank verification code', text });
    } else if (stepUp.user.phone !== undefined) {
      await sms.send({ to: stepUp.user.phone, text });
    }
    return redirectToInteraction(res, interaction.uid);
  });

  router.post('/interaction/:uid/step-up/verify', async (req, res) => {
    const { interaction, state, stepUp } = await stepUpRequest(req, res);
    const method = chosenMethod(req, stepUp);
    if (stepUp === undefined || method === undefined || method === 'webauthn') {
      return proceed(req, res, interaction, 'Choose one of the offered methods.', 400);
    }
    state.stepUpUserId = stepUp.user.id;
    const account = accountKey(stepUp.user.email);
    if (await refusedAsLocked(req, res, interaction, account)) return;
    const code = bodyField(req, 'code');
    const check =
      method === 'authenticator_app'
        ? (await countedAhead(state, account, async () => (await verifyTotp(users, stepUp.user, code)) || undefined)).check
        : checkSentCode(state, method, code, account);
    return afterCodeCheck(req, res, interaction, check, () => afterSecondFactor(req, res, interaction, stepUp.user, method));
  });

  router.post('/interaction/:uid/step-up/webauthn/options', async (req, res) => {
    const { state, stepUp } = await stepUpRequest(req, res);
    if (stepUp === undefined || !offers(stepUp, 'webauthn')) return res.status(400).json({ error: 'A security key is not offered here.' });
    state.stepUpUserId = stepUp.user.id;
    return res.json(await securityKeys.authenticationOptions(users.securityKeysOf(stepUp.user.id), state));
  });

  router.post('/interaction/:uid/step-up/webauthn', async (req, res) => {
    const { interaction, state, stepUp } = await stepUpRequest(req, res);
    if (stepUp === undefined || !offers(stepUp, 'webauthn')) return res.status(400).json({ error: 'A security key is not offered here.' });
    const { user } = stepUp;
    state.stepUpUserId = user.id;
    const account = accountKey(user.email);
    if (throttle.locked(account)) {
      return finishInJson(req, res, interaction, { error: 'access_denied', error_description: ACCOUNT_LOCKED });
    }
    const answer = jsonBody(req);
    const { check, proved: counter } = await countedAhead(state, account, () => securityKeys.authenticate(answer, users.securityKeysOf(user.id), state));
    if (counter !== undefined) {
      users.updateSecurityKeyCounter(user.id, String(answer.id), counter);
      return finishInJson(req, res, interaction, steppedUp(user, 'webauthn'));
    }
    if (check === 'locked') return finishInJson(req, res, interaction, { error: 'access_denied', error_description: TOO_MANY_ATTEMPTS });
    return res.status(400).json({ error: 'That security key was not accepted. Try again.' });
  });

  /** The user who just proved a second factor and is offered to add a security key, with that factor. */
  function verifiedStepUp(interaction: Interaction): { user: User; proved: ProvedSecondFactor } | undefined {
    const state = states.for(interaction);
    const user = state.verified === undefined ? undefined : stepUpOf(interaction, state)?.user;
    return user === undefined ? undefined : { user, proved: state.verified! };
  }

  router.post('/interaction/:uid/security-key/options', async (req, res) => {
    const interaction = await loginInteraction(req, res);
    const verified = verifiedStepUp(interaction);
    if (verified === undefined || !securityKeys.available) return res.status(400).json({ error: 'Prove a second factor first.' });
    return res.json(await securityKeys.registrationOptions(verified.user, users.securityKeysOf(verified.user.id), states.for(interaction)));
  });

  router.post('/interaction/:uid/security-key', async (req, res) => {
    const interaction = await loginInteraction(req, res);
    const verified = verifiedStepUp(interaction);
    if (verified === undefined) return res.status(400).json({ error: 'Prove a second factor first.' });
    const credential = await securityKeys.register(jsonBody(req), states.for(interaction));
    if (credential === undefined) return res.status(400).json({ error: 'The security key could not be added. Try again, or choose Not now.' });
    users.addSecurityKey(verified.user.id, credential);
    return finishInJson(req, res, interaction, steppedUp(verified.user, verified.proved.method, verified.proved.at));
  });

  router.post('/interaction/:uid/security-key/skip', async (req, res) => {
    const interaction = await loginInteraction(req, res);
    const verified = verifiedStepUp(interaction);
    if (verified === undefined) return proceed(req, res, interaction, 'Choose one of the offered methods.', 400);
    return finish(req, res, interaction, steppedUp(verified.user, verified.proved.method, verified.proved.at));
  });

  router.post('/interaction/:uid/abort', async (req, res) => {
    const interaction = await loginInteraction(req, res);
    const stepUp = stepUpOf(interaction, states.for(interaction));
    const description =
      stepUp?.decision.outcome === 'enrol_required' ? stepUp.decision.error.message : 'The sign-in was cancelled.';
    return deny(req, res, interaction, description);
  });

  router.use('/interaction', (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof errors.SessionNotFound || error instanceof InteractionEndedError) {
      res.status(400).type('html').send(errorPage('This sign-in has expired or was opened in another browser. Start again from the app.'));
      return;
    }
    // The body parsers' and the router's refusals (malformed, too large, bad charset or path): the client's
    // fault, answered as such and not logged, as the error would carry the raw body, password included.
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).type('html').send(errorPage('That request could not be read. Start again from the app.'));
      return;
    }
    logger.error(error);
    res.status(500).type('html').send(errorPage('Something went wrong. Start again from the app.'));
  });

  return router;
}
