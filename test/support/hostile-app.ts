import { Controller, Get, type Type } from '@nestjs/common';
import { ACR_MFA, RequireStepUp } from 'nestjs-step-up';
import type { Platform } from './test-app.js';

export const catchAll = { calls: 0 };

/**
 * Every other GET path needs step-up, so that hostile request targets (`//evil.com`, `/\evil.com`,
 * absolute-form) reach the guard and the filter instead of the router's 404. Express 5 names its
 * wildcard (`*path`); Fastify's router takes a bare `*`.
 */
@Controller()
class ExpressCatchAllController {
  @Get('*path')
  @RequireStepUp({ acr: ACR_MFA, maxAge: 300 })
  anything() {
    catchAll.calls++;
    return { reached: true };
  }
}

@Controller()
class FastifyCatchAllController {
  @Get('*')
  @RequireStepUp({ acr: ACR_MFA, maxAge: 300 })
  anything() {
    catchAll.calls++;
    return { reached: true };
  }
}

export function catchAllController(platform: Platform): Type {
  return platform === 'fastify' ? FastifyCatchAllController : ExpressCatchAllController;
}
