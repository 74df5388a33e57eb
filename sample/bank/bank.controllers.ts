import { Body, Controller, Get, Param, Patch, Post, Put, Query, UnprocessableEntityException } from '@nestjs/common';
import { ACR_MFA, Public, RequireScope, RequireStepUp, StepUpClaims, type AccessTokenClaims } from 'nestjs-step-up';
import { BankLedger, type AuditContext } from './bank.ledger.js';
import { AuditQuery, BeneficiaryDto, IdParams, PermissionsDto, TransferDto } from './bank.dto.js';

/** Who acted and how they authenticated, as the audit log records it. */
function auditContext(claims: AccessTokenClaims): AuditContext {
  return {
    actor: String(claims.sub),
    ...(typeof claims.acr === 'string' && { acr: claims.acr }),
    ...(Array.isArray(claims.amr) && { amr: claims.amr.map(String) }),
  };
}

@Controller('api/health')
export class HealthController {
  @Public()
  @Get()
  health() {
    return { status: 'ok' };
  }
}

@Controller('api/accounts')
export class AccountsController {
  constructor(private readonly ledger: BankLedger) {}

  @RequireScope('read:balance')
  @Get('balance')
  balance(@StepUpClaims('sub') sub: string) {
    return this.ledger.balanceOf(sub);
  }
}

@Controller('api/transfers')
export class TransfersController {
  constructor(private readonly ledger: BankLedger) {}

  @RequireScope('transfer:funds')
  @RequireStepUp({ acr: ACR_MFA, maxAge: 300 })
  @Post()
  create(@StepUpClaims() claims: AccessTokenClaims, @Body() order: TransferDto) {
    const transfer = this.ledger.transfer(auditContext(claims), order);
    if (transfer === undefined) throw new UnprocessableEntityException('amount exceeds the available balance');
    return { ...transfer, status: 'completed' };
  }
}

@Controller('api/beneficiaries')
export class BeneficiariesController {
  constructor(private readonly ledger: BankLedger) {}

  @RequireStepUp({ acr: ACR_MFA, maxAge: 60 })
  @Put(':id')
  save(@StepUpClaims() claims: AccessTokenClaims, @Param() { id }: IdParams, @Body() beneficiary: BeneficiaryDto) {
    return this.ledger.saveBeneficiary(auditContext(claims), id, beneficiary);
  }
}

@Controller('api/admin')
export class AdminController {
  constructor(private readonly ledger: BankLedger) {}

  @RequireScope('admin:audit')
  @RequireStepUp({ acr: ACR_MFA })
  @Get('audit-logs')
  auditLogs(@Query() { limit = 50 }: AuditQuery) {
    return { entries: this.ledger.auditLog(limit) };
  }

  @RequireScope('admin:users')
  @RequireStepUp({ acr: ACR_MFA, maxAge: 300 })
  @Patch('users/:id/permissions')
  setPermissions(@StepUpClaims() claims: AccessTokenClaims, @Param() { id }: IdParams, @Body() { permissions }: PermissionsDto) {
    return this.ledger.setPermissions(auditContext(claims), id, permissions);
  }
}
