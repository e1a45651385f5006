import { csvField } from '../../src/dashboard/csv';

describe('CSV fields', () => {
  it.each([
    ['plain', 'plain'],
    ['Contoso, Ltd', '"Contoso, Ltd"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+1 555', "'+1 555"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    [undefined, ''],
  ])('%j is written as %j, never as a formula a spreadsheet would run', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});
