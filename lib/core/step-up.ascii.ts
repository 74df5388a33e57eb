/**
 * Whether `value` starts with `letters` (lower-case ASCII letters only), in any case, without allocating:
 * setting bit 0x20 lower-cases an ASCII letter, and maps no other character onto one.
 */
export function startsWithLettersIgnoringCase(value: string, letters: string): boolean {
  for (let index = 0; index < letters.length; index++) {
    if ((value.charCodeAt(index) | 0x20) !== letters.charCodeAt(index)) return false;
  }
  return true;
}

/** Whether a UTF-16 code unit is visible ASCII (VCHAR, RFC 5234): neither whitespace nor a control. */
export function isVisibleAscii(code: number): boolean {
  return code > 0x20 && code < 0x7f;
}
