import { Module, type DynamicModule } from '@nestjs/common';
import { StepUpModule, type StepUpModuleOptions } from 'nestjs-step-up';
import {
  AccountsController,
  AdminController,
  BeneficiariesController,
  HealthController,
  TransfersController,
} from './bank.controllers.js';
import { BankLedger } from './bank.ledger.js';

/** The bank API. Every route needs a valid access token unless marked @Public(). */
@Module({})
export class BankModule {
  static forRoot(stepUpOptions: () => Promise<StepUpModuleOptions>): DynamicModule {
    return {
      module: BankModule,
      imports: [StepUpModule.forRootAsync({ useFactory: stepUpOptions })],
      controllers: [HealthController, AccountsController, TransfersController, BeneficiariesController, AdminController],
      providers: [BankLedger],
    };
  }
}
