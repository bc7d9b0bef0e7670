// Writes a tiny PDF with a real text layer (Helvetica, WinAnsi), so tests need no committed binary.
/* eslint-disable */
export function tinyPdf(pages: Array<Array<{ text: string; size?: number; gap?: number }>>): Buffer {
  const objs: Array<string | null> = [];
  const add = (s: string | null) => {
    objs.push(s);
    return objs.length;
  };
  const catalog = add(null),
    pagesObj = add(null);
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const fontB = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  const kids: number[] = [];
  for (const lines of pages) {
    let y = 760;
    let ops = '';
    for (const l of lines) {
      const size = l.size ?? 11;
      if (l.gap) y -= l.gap;
      const esc = l.text.replace(/[\\()]/g, (c: string) => `\\${c}`);
      ops += `BT /${size > 12 ? 'F2' : 'F1'} ${size} Tf 72 ${y} Td (${esc}) Tj ET\n`;
      y -= size * 1.3;
    }
    const content = add(`<< /Length ${Buffer.byteLength(ops, 'latin1')} >>\nstream\n${ops}endstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R /F2 ${fontB} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objs[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objs[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out +=
    `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer\n<< /Size ${objs.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
