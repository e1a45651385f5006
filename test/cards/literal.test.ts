import { literal } from '../../src/cards/format';

describe('literal: text from another party shown as typed', () => {
  it.each([
    ['See [sign in](https://x.example/a_b)', 'See \\[sign in\\](https://x.example/a\\_b)'],
    ['**bold** and _it_ and `code` and ~~gone~~', '\\*\\*bold\\*\\* and \\_it\\_ and \\`code\\` and \\~\\~gone\\~\\~'],
    ['# heading\n> quote\n- item\n+ item\n12. step\n3) step', '\\# heading\n\\> quote\n\\- item\n\\+ item\n12\\. step\n3\\) step'],
    ['C:\\temp\\[x]', 'C:\\\\temp\\\\\\[x\\]'],
  ])('%j', (input, shown) => {
    expect(literal(input)).toBe(shown);
  });

  it('leaves ordinary text, addresses and numbers as they are', () => {
    for (const text of [
      'Megan Bowen',
      'admin@contoso.com',
      'Too expensive for us (we have 25 seats). Try again in 2027.',
      'https://contoso.example/path',
    ]) {
      expect(literal(text)).toBe(text);
    }
  });
});
