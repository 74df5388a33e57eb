import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  readonly to: readonly string[];
  readonly raw: string;
  /** Body with quoted-printable soft breaks and escapes undone. */
  readonly text: string;
}

const decodeQuotedPrintable = (raw: string) =>
  raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** A real SMTP server on 127.0.0.1 (ephemeral port) that keeps what the sample sends. */
export class SmtpCapture {
  private readonly mails: CapturedMail[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly url: string,
  ) {}

  static async start(): Promise<SmtpCapture> {
    let capture: SmtpCapture | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          capture!.receive({ to: session.envelope.rcptTo.map(({ address }) => address), raw, text: decodeQuotedPrintable(raw) });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    capture = new SmtpCapture(server, `smtp://127.0.0.1:${port}`);
    return capture;
  }

  /**
   * The latest mail to `to`, which is then forgotten so a later call cannot read the same code.
   * The sample sends codes before it answers, so the mail is already here.
   */
  takeMail(to: string): CapturedMail {
    const index = this.mails.findLastIndex((mail) => mail.to.includes(to));
    if (index === -1) throw new Error(`no mail to ${to}`);
    return this.mails.splice(index, 1)[0]!;
  }

  /** As {@link takeMail}, for mail the sample sends without waiting for it (sign-in links): waits for it to arrive. */
  async awaitMail(to: string, timeoutMs = 5000): Promise<CapturedMail> {
    const deadline = Date.now() + timeoutMs;
    while (!this.mails.some((mail) => mail.to.includes(to))) {
      if (Date.now() > deadline) throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.takeMail(to);
  }

  /** The 6-digit code in the latest mail to `to`. */
  takeCode(to: string): string {
    const code = /\bcode (?:is )?(\d{6})\b/.exec(this.takeMail(to).text)?.[1];
    if (code === undefined) throw new Error(`no code in the latest mail to ${to}`);
    return code;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(mail: CapturedMail): void {
    this.mails.push(mail);
  }
}
