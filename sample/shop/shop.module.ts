import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ShopClient, type ShopClientSettings } from './shop.client.js';
import { ShopController } from './shop.controller.js';
import { SessionStepUpGuard } from './shop.guard.js';
import { ShopSessions } from './shop.sessions.js';

/**
 * The web shop. It brings its own global guard, the library's guard reading the shop's session, so the
 * StepUpModule beside it is registered with `globalGuard: false`.
 */
@Module({})
export class ShopModule {
  static forRoot(settings: ShopClientSettings): DynamicModule {
    return {
      module: ShopModule,
      controllers: [ShopController],
      providers: [ShopSessions, { provide: ShopClient, useValue: new ShopClient(settings) }, { provide: APP_GUARD, useClass: SessionStepUpGuard }],
    };
  }
}
