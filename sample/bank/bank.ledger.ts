import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

export interface Transfer {
  readonly id: string;
  readonly from: string;
  readonly toIban: string;
  readonly amount: number;
  readonly currency: string;
  readonly reference?: string;
  readonly createdAt: string;
}

export interface Beneficiary {
  readonly id: string;
  readonly owner: string;
  readonly name: string;
  readonly iban: string;
  readonly updatedAt: string;
}

export interface AuditEntry {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  /** How the actor authenticated for this action. */
  readonly acr?: string;
  readonly amr?: readonly string[];
}

export type AuditContext = Pick<AuditEntry, 'actor' | 'acr' | 'amr'>;

const OPENING_BALANCE_CENTS = 250_000;
const KEPT_AUDIT_ENTRIES = 200;

/** An in-memory bank: enough state for the sample's routes to do something visible. */
@Injectable()
export class BankLedger {
  private readonly balances = new Map<string, number>();
  private readonly beneficiaries = new Map<string, Beneficiary>();
  private readonly permissions = new Map<string, readonly string[]>();
  private readonly audit: AuditEntry[] = [];

  balanceOf(owner: string): { owner: string; currency: string; balance: number } {
    return { owner, currency: 'EUR', balance: this.centsOf(owner) / 100 };
  }

  transfer(context: AuditContext, order: Omit<Transfer, 'id' | 'from' | 'createdAt'>): Transfer | undefined {
    const cents = Math.round(order.amount * 100);
    const balance = this.centsOf(context.actor);
    if (cents > balance) return undefined;
    this.balances.set(context.actor, balance - cents);
    const transfer: Transfer = { id: randomUUID(), from: context.actor, createdAt: new Date().toISOString(), ...order };
    this.record(context, 'transfer', `${transfer.id} ${order.amount} ${order.currency} to ${order.toIban}`);
    return transfer;
  }

  saveBeneficiary(context: AuditContext, id: string, details: Pick<Beneficiary, 'name' | 'iban'>): Beneficiary {
    const key = `${context.actor}/${id}`;
    const beneficiary: Beneficiary = { id, owner: context.actor, ...details, updatedAt: new Date().toISOString() };
    this.beneficiaries.set(key, beneficiary);
    this.record(context, 'beneficiary.saved', `${id} ${details.iban}`);
    return beneficiary;
  }

  setPermissions(context: AuditContext, userId: string, permissions: readonly string[]): { id: string; permissions: readonly string[] } {
    this.permissions.set(userId, permissions);
    this.record(context, 'permissions.changed', `${userId}: ${permissions.join(' ') || '(none)'}`);
    return { id: userId, permissions };
  }

  auditLog(limit: number): readonly AuditEntry[] {
    return this.audit.slice(-limit).reverse();
  }

  private centsOf(owner: string): number {
    return this.balances.get(owner) ?? OPENING_BALANCE_CENTS;
  }

  private record(context: AuditContext, action: string, target: string): void {
    this.audit.push({ at: new Date().toISOString(), action, target, ...context });
    if (this.audit.length > KEPT_AUDIT_ENTRIES) this.audit.shift();
  }
}
