import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { WebAuthnCredential } from '@simplewebauthn/server';
import type { MfaMethod } from 'nestjs-step-up';

const scryptAsync = promisify(scrypt) as (password: string, salt: Uint8Array, length: number) => Promise<Buffer>;

export const CUSTOMER_SCOPES = ['read:balance', 'transfer:funds'] as const;
export const ADMIN_SCOPES = ['admin:audit', 'admin:users'] as const;
export const API_SCOPES = [...CUSTOMER_SCOPES, ...ADMIN_SCOPES] as const;

/** Authenticator-app secret of the TOTP demo user. Public on purpose: it is printed at start-up. */
export const DEMO_TOTP_SECRET = 'KVKFKRCPNZQUYMLXOVYDSQKJKZDTSRLD';

export interface DemoUserSeed {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  /** Absent for users who sign in by magic link or magic code only. */
  readonly password?: string;
  readonly enrolled: readonly MfaMethod[];
  readonly totpSecret?: string;
  readonly phone?: string;
  readonly scopes: readonly string[];
  readonly description: string;
}

/** Demo accounts. The passwords are public: this is a sample, never reuse them. */
export const DEMO_USERS: readonly DemoUserSeed[] = [
  {
    id: 'alice',
    email: 'alice@bank.example',
    name: 'Alice Example',
    password: 'alice-password',
    enrolled: [],
    scopes: CUSTOMER_SCOPES,
    description: 'no MFA enrolled: steps up with an email code',
  },
  {
    id: 'bob',
    email: 'bob@bank.example',
    name: 'Bob Example',
    password: 'bob-password',
    enrolled: ['authenticator_app'],
    totpSecret: DEMO_TOTP_SECRET,
    scopes: [...CUSTOMER_SCOPES, ...ADMIN_SCOPES],
    description: 'authenticator app (TOTP), bank administrator',
  },
  {
    id: 'carol',
    email: 'carol@bank.example',
    name: 'Carol Example',
    password: 'carol-password',
    enrolled: ['sms'],
    phone: '+15550100',
    scopes: CUSTOMER_SCOPES,
    description: 'SMS codes to +15550100',
  },
  {
    id: 'dave',
    email: 'dave@bank.example',
    name: 'Dave Example',
    enrolled: [],
    scopes: CUSTOMER_SCOPES,
    description: 'signs in by magic link or magic code, no MFA enrolled',
  },
];

export interface User extends Omit<DemoUserSeed, 'password'> {
  readonly passwordHash?: PasswordHash;
}

const HASH_LENGTH = 32;

interface PasswordHash {
  readonly salt: Uint8Array;
  readonly hash: Uint8Array;
}

async function hashPassword(password: string, salt: Uint8Array = randomBytes(16)): Promise<PasswordHash> {
  return { salt, hash: await scryptAsync(password, salt, HASH_LENGTH) };
}

export class UserStore {
  /** Compared against when the email is unknown, so both cases take the same time. */
  private decoy?: PasswordHash;
  /** Last accepted TOTP time step per user: a code is accepted once (replay block). */
  private readonly lastTotpStep = new Map<string, number>();
  /** Security keys (WebAuthn) each user added: in memory, like the rest of the sample's state. */
  private readonly securityKeys = new Map<string, WebAuthnCredential[]>();

  private constructor(private readonly users: ReadonlyMap<string, User>) {}

  static async seed(seeds: readonly DemoUserSeed[] = DEMO_USERS): Promise<UserStore> {
    const users = await Promise.all(
      seeds.map(async ({ password, ...user }): Promise<User> =>
        password === undefined ? user : { ...user, passwordHash: await hashPassword(password) },
      ),
    );
    const store = new UserStore(new Map(users.map((user) => [user.id, user])));
    store.decoy = await hashPassword(randomBytes(16).toString('hex'));
    return store;
  }

  findById(id: string): User | undefined {
    return this.users.get(id);
  }

  findByEmail(email: string): User | undefined {
    const wanted = email.trim().toLowerCase();
    return [...this.users.values()].find((user) => user.email === wanted);
  }

  /** The user if the email and password match, else undefined (same work either way). */
  async verifyPassword(email: string, password: string): Promise<User | undefined> {
    const user = this.findByEmail(email);
    const stored = user?.passwordHash ?? this.decoy!;
    const { hash } = await hashPassword(password, stored.salt);
    return timingSafeEqual(hash, stored.hash) && user?.passwordHash !== undefined ? user : undefined;
  }

  /** The second factors a user can step up with: the seeded ones, and a security key once added. */
  enrolledMethods(user: User): MfaMethod[] {
    return this.securityKeysOf(user.id).length > 0 ? [...user.enrolled, 'webauthn'] : [...user.enrolled];
  }

  securityKeysOf(userId: string): readonly WebAuthnCredential[] {
    return this.securityKeys.get(userId) ?? [];
  }

  addSecurityKey(userId: string, credential: WebAuthnCredential): void {
    this.securityKeys.set(userId, [...this.securityKeysOf(userId), credential]);
  }

  /** Records a key's signature counter after it signed, so a cloned key's lower counter is refused. */
  updateSecurityKeyCounter(userId: string, id: string, counter: number): void {
    for (const key of this.securityKeysOf(userId)) if (key.id === id) key.counter = counter;
  }

  lastAcceptedTotpStep(userId: string): number | undefined {
    return this.lastTotpStep.get(userId);
  }

  acceptTotpStep(userId: string, timeStep: number): void {
    this.lastTotpStep.set(userId, timeStep);
  }
}
