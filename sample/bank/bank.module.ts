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
import type { ShopClientSettings } from '../shop/shop.client.js';
import { ShopModule } from '../shop/shop.module.js';

/**
 * The bank API. Every route needs a valid access token unless marked @Public(). With `shop`, the web
 * shop is served too, and its guard (the library's, reading the shop's session too) replaces the default one.
 */
@Module({})
export class BankModule {
  static forRoot(stepUpOptions: () => Promise<StepUpModuleOptions>, shop?: ShopClientSettings): DynamicModule {
    return {
      module: BankModule,
      imports: [
        StepUpModule.forRootAsync({ useFactory: stepUpOptions, globalGuard: shop === undefined }),
        ...(shop === undefined ? [] : [ShopModule.forRoot(shop)]),
      ],
      controllers: [HealthController, AccountsController, TransfersController, BeneficiariesController, AdminController],
      providers: [BankLedger],
    };
  }
}
