import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');

/** The README's pictures are what a reader of the repository sees first: none may be missing, none left unshown. */
describe('README screenshots', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const shown = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+\.png)\)/g)].map((m) => m[1]!);

  it('every picture the README shows is in the repository', () => {
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
  });

  it('every screenshot in docs/screenshots is shown in the README', () => {
    const files = readdirSync(SCREENSHOTS).filter((f) => f.endsWith('.png'));
    expect(files.filter((f) => !shown.includes(`docs/screenshots/${f}`))).toEqual([]);
  });
});
