/**
 * Builds an error without capturing a stack trace. Refusing a token is an expected outcome, not a fault:
 * its stack would say nothing, and capturing one costs more than the rest of the refusal path.
 */
export function withoutStackTrace<T>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return create();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
