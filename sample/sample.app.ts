import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ValidationPipe, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import express from 'express';
import { ACR_MFA, type StepUpModuleOptions, type UnenrolledMfaPolicy } from 'nestjs-step-up';
import type Provider from 'oidc-provider';
import { BankModule } from './bank/bank.module.js';
import { callbackPage } from './client/callback.page.js';
import { ACR_SINGLE_FACTOR } from './idp/idp.acr.js';
import { createIdentityProvider, SHOP_CLIENT_ID } from './idp/idp.provider.js';
import { interactionRouter } from './idp/interaction.router.js';
import { ConsoleOutbox, smtpMailer, type EmailMessage, type MessageSender, type SmsMessage } from './idp/message.outbox.js';
import { UserStore } from './idp/users.store.js';
import { discoverJwksUri } from './issuer.discovery.js';
import type { ShopClientSettings } from './shop/shop.client.js';
import { REAUTHENTICATE_PATH } from './shop/shop.controller.js';

export interface ExternalIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** Discovered from the issuer's metadata when absent. */
  readonly jwksUri?: string;
}

export interface SampleAppOptions {
  /** Default 3000; 0 picks a free port. */
  readonly port?: number;
  /** Interface to listen on, also the host in every URL. Default 127.0.0.1 (IPv4 only). */
  readonly host?: string;
  /** Trust this issuer instead of starting the embedded identity provider. */
  readonly externalIssuer?: ExternalIssuer;
  /** Embedded provider: SMTP server for email (`smtp://host:port`); without it, email goes to the console. */
  readonly smtpUrl?: string;
  /** Embedded provider: email delivery, overriding `smtpUrl`. */
  readonly mailer?: MessageSender<EmailMessage>;
  /** Embedded provider: SMS delivery. Default: the console. */
  readonly sms?: MessageSender<SmsMessage>;
  /** Embedded provider: step-up of magic-link users with no second factor. Default FORCE_ENROLL. */
  readonly unenrolledMfaPolicy?: UnenrolledMfaPolicy;
  readonly logger?: false | LogLevel[];
}

export interface EmbeddedIdentityProvider {
  readonly provider: Provider;
  readonly users: UserStore;
}

export interface SampleApp {
  readonly app: INestApplication;
  /** Origin of the API (and of the embedded provider), e.g. http://127.0.0.1:3000. */
  readonly url: string;
  readonly issuer: string;
  readonly audience: string;
  /** Absent when trusting an external issuer. */
  readonly idp?: EmbeddedIdentityProvider;
  close(): Promise<void>;
}

const DEMO_MAIL_FROM = 'Sample Bank <no-reply@bank.example>';

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

/**
 * Starts the sample bank: the Nest API under /api and, unless an external issuer is given, the
 * embedded OpenID Provider under /oidc with its login screens under /interaction, all in this process
 * on one port. The port is bound first because the provider's issuer URL has to contain it.
 */
export async function createSampleApp(options: SampleAppOptions = {}): Promise<SampleApp> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  const port = await listen(server, options.port ?? 3000, host);
  const url = `http://${host}:${port}`;
  const web = express();
  web.disable('x-powered-by');
  const senders: Array<MessageSender<EmailMessage> | MessageSender<SmsMessage>> = [];

  let idp: EmbeddedIdentityProvider | undefined;
  let shop: ShopClientSettings | undefined;
  let trusted: ExternalIssuer;
  if (options.externalIssuer !== undefined) {
    trusted = options.externalIssuer;
  } else {
    trusted = { issuer: `${url}/oidc`, audience: `${url}/api` };
    const users = await UserStore.seed();
    shop = {
      issuer: trusted.issuer,
      clientId: SHOP_CLIENT_ID,
      clientSecret: randomBytes(32).toString('base64url'),
      redirectUri: `${url}/shop/callback`,
      scope: 'openid read:balance',
    };
    const provider = createIdentityProvider({ issuer: trusted.issuer, audience: trusted.audience, users, shop });
    const mailer =
      options.mailer ?? (options.smtpUrl ? smtpMailer(options.smtpUrl, DEMO_MAIL_FROM) : new ConsoleOutbox<EmailMessage>('email'));
    const sms = options.sms ?? new ConsoleOutbox<SmsMessage>('sms');
    senders.push(mailer, sms);
    web.use('/oidc', provider.callback());
    web.use(interactionRouter({ provider, users, mailer, sms, baseUrl: url, unenrolledMfaPolicy: options.unenrolledMfaPolicy ?? 'FORCE_ENROLL' }));
    web.get('/callback', (req, res) => {
      res.set({ 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" });
      res.type('html').send(callbackPage(req.query, { tokenEndpoint: `${trusted.issuer}/token`, redirectUri: `${url}/callback` }));
    });
    idp = { provider, users };
  }
  // Requests are served from here on: the embedded provider must answer discovery while the API starts.
  server.on('request', web);

  const { issuer, audience } = trusted;
  const stepUpOptions = async (): Promise<StepUpModuleOptions> => ({
    issuer,
    audience,
    jwksUri: trusted.jwksUri ?? (await discoverJwksUri(issuer)),
    // The embedded provider's acr values, weakest first; an external issuer's ranking is not known.
    ...(idp && { acrRanking: [ACR_SINGLE_FACTOR, ACR_MFA], tokenType: 'at+jwt', reauthenticateUrl: REAUTHENTICATE_PATH }),
    // The sample serves everything over plain http, its own key set included: on a HOST other than
    // loopback (a container's 0.0.0.0) the library must be told that this is deliberate.
    ...(idp && !LOOPBACK_HOST.test(host) && { allowInsecureJwksUri: true }),
  });
  let app: INestApplication;
  try {
    app = await NestFactory.create(BankModule.forRoot(stepUpOptions, shop), new ExpressAdapter(web), {
      logger: options.logger ?? ['log', 'warn', 'error'],
      abortOnError: false,
    });
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
    await app.init();
  } catch (error) {
    await closeServer(server);
    throw error;
  }

  return {
    app,
    url,
    issuer,
    audience,
    ...(idp && { idp }),
    async close() {
      await app.close();
      for (const sender of senders) sender.close?.();
      await closeServer(server);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}
