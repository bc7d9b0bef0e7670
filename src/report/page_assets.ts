// The report's inline stylesheet and its one script (the conversation filters), kept apart from the markup.

export const REPORT_CSS = `
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --pass: #15803d; --fail: #b91c1c; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f8fafc; }
main { max-width: 1380px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 0 0 6px; }
.sub, .muted { color: var(--muted); }
nav a { color: var(--accent); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(630px, 1fr)); gap: 14px; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; overflow-x: auto; }
svg.chart { display: block; font-size: 12px; fill: var(--ink); }
svg.chart text.muted { fill: var(--muted); }
table.stages { border-collapse: collapse; background: #fff; font-variant-numeric: tabular-nums; }
table.stages th, table.stages td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
table.stages td.num, table.stages th.num { text-align: right; }
table.stages tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
.status-not-run { color: var(--muted); }
ul.notes { margin: 6px 0; }
.filters { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 8px; align-items: center; background: #f8fafc; padding: 8px 0; }
.filters input, .filters select { font: inherit; padding: 5px 8px; border: 1px solid #cbd5e1; border-radius: 6px; background: #fff; }
.filters input { min-width: 320px; }
ol.convs { list-style: none; padding: 0; margin: 0; }
li.conv { background: #fff; border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
li.conv summary { cursor: pointer; padding: 7px 10px; display: flex; gap: 10px; align-items: baseline; }
li.conv summary .first { color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: 1; }
[hidden] { display: none !important; }
.badge { font-size: 11px; font-weight: 700; text-transform: uppercase; padding: 1px 7px; border-radius: 10px; color: #fff; background: var(--muted); }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
.tags { white-space: nowrap; }
.body { padding: 4px 14px 12px; border-top: 1px solid var(--line); }
.judge { margin: 8px 0; padding: 8px 10px; background: #f1f5f9; border-radius: 6px; }
.judge .ok { color: var(--pass); } .judge .no { color: var(--fail); }
ol.messages { list-style: none; padding: 0; margin: 8px 0 0; }
li.msg { margin: 6px 0; padding: 6px 10px; border-radius: 6px; border-left: 4px solid var(--line); }
li.msg.system { background: #fefce8; border-color: #eab308; }
li.msg.user { background: #eff6ff; border-color: var(--accent); }
li.msg.assistant { background: #f0fdf4; border-color: var(--pass); }
li.msg .role { font-size: 11px; font-weight: 700; text-transform: uppercase; color: var(--muted); }
li.msg .content { white-space: pre-wrap; overflow-wrap: anywhere; }
li.msg.unsupported { border-color: var(--fail); background: #fef2f2; }
li.msg .role .ok, .verdicts .ok { color: var(--pass); } li.msg .role .no, .verdicts .no { color: var(--fail); }
.badge.dupe { background: #b45309; }
.badge.idle { background: var(--muted); }
.status { margin: 6px 0; font-weight: 600; }
ol.verdicts { margin: 6px 0 0; padding-left: 18px; }
.dup { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.dup .side { min-width: 0; }
.dup h4, .facts h4 { margin: 10px 0 0; font-size: 13px; }
.facts { margin-top: 10px; padding-top: 6px; border-top: 1px dashed var(--line); }
.fact { margin: 8px 0; }
.fact .context { color: var(--muted); white-space: pre-wrap; font-size: 12px; }
blockquote.fact-line { margin: 2px 0; padding: 4px 10px; border-left: 4px solid #a855f7; background: #faf5ff; white-space: pre-wrap; }
ul.pairs { margin: 4px 0; }
table.lost { border-collapse: collapse; margin-top: 6px; }
table.lost th, table.lost td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
ol.openings { margin: 4px 0; }
`;

// Plain ES5-style code: it runs from a file:// page in any browser, with no build step. Each <select> filters on the
// data- attribute of the same name (data-fails holds every failing criterion, space-separated).
export const REPORT_SCRIPT = `
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll('#conversations li.conv'));
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  var text = document.getElementById('filter-text');
  var shown = document.getElementById('filter-count');
  if (!text) return;
  var selects = ['status', 'pass', 'fails', 'emotion', 'turns', 'persona', 'style'].map(function (name) {
    return { name: name, el: document.getElementById('filter-' + name) };
  }).filter(function (s) { return s.el; });
  function matches(row, s) {
    var want = s.el.value;
    if (!want) return true;
    var have = row.getAttribute('data-' + s.name) || '';
    return s.name === 'fails' ? (' ' + have + ' ').indexOf(' ' + want + ' ') !== -1 : have === want;
  }
  function apply() {
    var words = text.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var n = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var ok = selects.every(function (s) { return matches(row, s); }) &&
        words.every(function (w) { return texts[i].indexOf(w) !== -1; });
      row.hidden = !ok;
      if (ok) n++;
    }
    shown.textContent = String(n);
  }
  text.addEventListener('input', apply);
  selects.forEach(function (s) { s.el.addEventListener('change', apply); });
  apply();
})();
`;
