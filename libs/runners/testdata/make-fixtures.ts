// Renders the OCR test pages (committed next to this file, so tests need no fonts):
//   npm run toolchain -- tsx libs/runners/testdata/make-fixtures.ts
import sharp from 'sharp';

const dir = new URL('.', import.meta.url).pathname;
const page = (lines: string[]) =>
  sharp({
    text: {
      text: `<span foreground="black" background="white">${lines.join('\n')}</span>`,
      font: 'DejaVu Sans',
      dpi: 220,
      rgba: true,
      spacing: 18,
    },
  })
    .flatten({ background: '#ffffff' })
    .extend({ top: 40, bottom: 40, left: 40, right: 40, background: '#ffffff' });

await page(['Invoice 2048 paid in full', 'GPU jobs run on warm workers']).png().toFile(`${dir}/page.png`);
await page(['Queue depth is 42', 'Hello world']).jpeg({ quality: 90 }).toFile(`${dir}/page.jpg`);
console.log('fixtures written to', dir);
