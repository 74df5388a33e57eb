import { ACR_MFA } from './step-up.constants.js';
import { prefersHtml, reauthenticationLocation, sameOriginPath } from './step-up.redirect.js';

describe('prefersHtml', () => {
  it.each([
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', true],
    ['text/html;q=0.9, application/json;q=0.5', true],
    ['application/json', false],
    ['application/json, text/html;q=0.5', false],
    ['text/html;q=0', false],
    ['*/*', false],
    ['text/html, application/json', false],
    ['text/html, application/json;q=0.9', true],
    ['TEXT/HTML;Q=0.9, application/json;q=0.5', true],
    ['text/html;q=0.5, application/json;q=x', true],
    ['text/html;qs=0.1, application/json;q=0.9', true],
    ['application/problem+json, text/html;q=0.5', false],
    ['text/html;q=0.9, text/html;q=0.1, application/json;q=0.5', true],
    [undefined, false],
  ])('%j → %s', (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});

describe('sameOriginPath', () => {
  it.each([
    ['/checkout?cart=42', '/checkout?cart=42'],
    ['/a/../b', '/b'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['/..%2F%2Fevil.example', '/'],
    ['/.%2F%2Fevil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/ok\r\nLocation: https://evil.example', '/'],
    ['', '/'],
    ['checkout', '/'],
    ['/a\\b', '/'],
    ['/a%0d%0aSet-Cookie:%20x=1', '/'],
  ])('%j → %j', (target, expected) => {
    expect(sameOriginPath(target)).toBe(expected);
  });
});

describe('reauthenticationLocation', () => {
  it('carries acr_values, max_age and return_to on a relative page', () => {
    expect(reauthenticationLocation('/account/re-authenticate?app=shop', { acrValues: [ACR_MFA], maxAge: 300 }, '/checkout?step=pay')).toBe(
      `/account/re-authenticate?app=shop&acr_values=${encodeURIComponent(ACR_MFA)}&max_age=300&return_to=%2Fcheckout%3Fstep%3Dpay`,
    );
  });

  it('carries the scope the route also lacks, and keeps the fragment of a relative page', () => {
    expect(reauthenticationLocation('/step-up#factors', { acrValues: [ACR_MFA], scope: ['read:orders', 'pay'] }, '/checkout')).toBe(
      `/step-up?acr_values=${encodeURIComponent(ACR_MFA)}&scope=read%3Aorders+pay&return_to=%2Fcheckout#factors`,
    );
  });

  it('carries max_age 0 (authenticate now), and no empty acr_values or scope', () => {
    expect(reauthenticationLocation('/step-up', { acrValues: [], maxAge: 0, scope: [] }, '/')).toBe('/step-up?max_age=0&return_to=%2F');
  });

  it('keeps an absolute page absolute and never returns off-origin', () => {
    expect(reauthenticationLocation('https://id.example/step-up', { acrValues: ['gold'] }, '//evil.example')).toBe(
      'https://id.example/step-up?acr_values=gold&return_to=%2F',
    );
  });
});
