import { expect } from '@jest/globals';
import { describeStep, type FlowStep, type OidcTestClient } from './oidc-client.js';

/** The uid in a provider page's URL (`/interaction/:uid`). */
export function interactionOf(step: FlowStep): string {
  const uid = step.kind === 'page' ? /^\/interaction\/([^/]+)/.exec(step.url.pathname)?.[1] : undefined;
  if (uid === undefined) throw new Error(`expected an interaction page, got ${describeStep(step)}`);
  return uid;
}

export function expectPage(step: FlowStep, status: number, text: string | RegExp): asserts step is Extract<FlowStep, { kind: 'page' }> {
  if (step.kind !== 'page') throw new Error(`expected a page, got ${describeStep(step)}`);
  expect(step.status).toBe(status);
  expect(step.body).toMatch(text);
}

export function expectCallbackError(step: FlowStep, error: string, description?: string | RegExp): void {
  if (step.kind !== 'callback') throw new Error(`expected a callback, got ${describeStep(step)}`);
  expect(step.params.get('error')).toBe(error);
  if (description !== undefined) expect(step.params.get('error_description')).toMatch(description);
  expect(step.params.has('code')).toBe(false);
}

/** The login page's password form, submitted. */
export function submitPassword(client: OidcTestClient, step: FlowStep, email: string, password: string): Promise<FlowStep> {
  expectPage(step, 200, /name="password"/);
  return client.submit(`/interaction/${interactionOf(step)}/login`, { email, password });
}

/** On the step-up page: asks for a code by email or SMS. */
export function sendCode(client: OidcTestClient, step: FlowStep, method: 'email_otp' | 'sms'): Promise<FlowStep> {
  return client.submit(`/interaction/${interactionOf(step)}/step-up/send`, { method });
}

export function verifyCode(client: OidcTestClient, step: FlowStep, method: string, code: string): Promise<FlowStep> {
  return client.submit(`/interaction/${interactionOf(step)}/step-up/verify`, { method, code });
}

/** The step-up methods the page offers, from its forms' hidden `method` fields, in page order. */
export function offeredMethods(step: FlowStep): string[] {
  if (step.kind !== 'page') throw new Error(`expected a page, got ${describeStep(step)}`);
  return [...step.body.matchAll(/name="method" value="([a-z_]+)"/g)].map((match) => match[1]!);
}
