import { Logger } from '@nestjs/common';
import { createTransport } from 'nodemailer';

export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface SmsMessage {
  readonly to: string;
  readonly text: string;
}

/** Delivers one kind of message. Plug in a real SMS gateway or mail service by implementing this. */
export interface MessageSender<M> {
  send(message: M): Promise<void>;
  close?(): void;
}

const KEPT_MESSAGES = 50;

/**
 * The demo delivery channel: writes each message, codes included, to the console and keeps the
 * latest ones in memory for tests. It exists so the sample runs without a mail server or SMS gateway;
 * printing codes is its purpose, so never use it outside a demo.
 */
export class ConsoleOutbox<M extends SmsMessage> implements MessageSender<M> {
  private readonly messages: M[] = [];
  private readonly logger: Logger;

  constructor(channel: string) {
    this.logger = new Logger(`Outbox:${channel}`);
  }

  async send(message: M): Promise<void> {
    this.messages.push(message);
    if (this.messages.length > KEPT_MESSAGES) this.messages.shift();
    this.logger.log(`to ${message.to}: ${message.text}`);
  }

  /** The latest message sent to `to`. */
  latestTo(to: string): M | undefined {
    return this.messages.findLast((message) => message.to === to);
  }
}

/** Sends email through the SMTP server at `url` (e.g. `smtp://127.0.0.1:1025`). */
export function smtpMailer(url: string, from: string): MessageSender<EmailMessage> {
  const transport = createTransport(url);
  return {
    async send({ to, subject, text }) {
      await transport.sendMail({ from, to, subject, text });
    },
    close: () => transport.close(),
  };
}
