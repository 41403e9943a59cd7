import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BundleFormatError, decodeBase64 } from './bundle.ts';

const decode = (s: string) => Buffer.from(decodeBase64(s, 'field')).toString('hex');

describe('decodeBase64', () => {
  it('decodes standard and URL-safe base64, padded or not', () => {
    expect(decode('')).toBe('');
    expect(decode('QQ==')).toBe('41');
    expect(decode('QQ')).toBe('41');
    expect(decode('QUJD')).toBe('414243');
    expect(decode('-_8=')).toBe('fbff');
    expect(decode('+/8=')).toBe('fbff');
  });
  it.each([
    ['a stray character', 'QU*JD', 'is not valid base64'],
    ['white space', 'QUJD\n', 'is not valid base64'],
    ['padding in the middle', 'QQ==QUJD', 'is not valid base64'],
    ['three padding characters', 'QQ===', 'is not valid base64'],
    ['a lone last character', 'QUJDR', 'is not valid base64'],
    ['mixed alphabets', '+_8=', 'is not canonical base64'],
    ['non-zero trailing bits', 'QR==', 'is not canonical base64'],
  ])('refuses %s', (_, input, message) => {
    expect(() => decodeBase64(input, 'dsseEnvelope.payload')).toThrow(BundleFormatError);
    expect(() => decodeBase64(input, 'dsseEnvelope.payload')).toThrow(`dsseEnvelope.payload ${message}`);
  });
  it('gives back any bytes from either encoding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const hex = Buffer.from(bytes).toString('hex');
        expect(decode(Buffer.from(bytes).toString('base64'))).toBe(hex);
        expect(decode(Buffer.from(bytes).toString('base64url'))).toBe(hex);
      }),
    );
  });
  it('accepts a string only when it is the canonical encoding of what it decodes to', () => {
    const alphabet = fc.constantFrom(...'AQgw+/-_=*. \nZz09'.split(''));
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 12 }).map((a) => a.join('')),
        (s) => {
          let bytes: Uint8Array;
          try {
            bytes = decodeBase64(s, 'field');
          } catch (err) {
            expect(err).toBeInstanceOf(BundleFormatError);
            return;
          }
          const bare = s.replace(/=+$/, '');
          const again = [
            Buffer.from(bytes).toString('base64').replace(/=+$/, ''),
            Buffer.from(bytes).toString('base64url'),
          ];
          expect(again).toContain(bare);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
