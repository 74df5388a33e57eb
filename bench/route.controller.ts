/** The one route every variant serves; variants differ only in the decorators on its handler. */
import { applyDecorators, Controller, Get, type Type } from '@nestjs/common';
import { RESPONSE_BODY, ROUTE } from './scenario.shared.js';

export function transferController(...protection: Parameters<typeof applyDecorators>): Type {
  @Controller()
  class TransferController {
    @Get(ROUTE)
    @applyDecorators(...protection)
    transfer(): typeof RESPONSE_BODY {
      return RESPONSE_BODY;
    }
  }
  return TransferController;
}
