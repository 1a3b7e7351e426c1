// The dashboard's stylesheet, inlined into the page (its hash goes into the CSP). System fonts only:
// the page must work with no network. Colors come in pairs for light and dark.

export const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1d232b; --muted: #5d6773; --card: #ffffff; --line: #dde1e6;
  --up: #1a7f37; --up-bg: #dcf5e3; --down: #b42318; --down-bg: #fde4e1;
  --warn: #8a5a00; --warn-bg: #fff1cc; --accent: #2458c6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14171b; --fg: #e4e8ed; --muted: #9aa4af; --card: #1c2026; --line: #30363e;
    --up: #5fd37e; --up-bg: #173823; --down: #ff8a80; --down-bg: #45201d;
    --warn: #f2c14e; --warn-bg: #3d3113; --accent: #7ea6ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center; padding: 12px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
header .spacer { flex: 1; }
main { padding: 16px 20px; max-width: 1280px; }
h2 { font-size: 15px; margin: 24px 0 8px; }
h3 { font-size: 14px; margin: 0 0 8px; }
small, .muted { color: var(--muted); font-weight: normal; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 12px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-top: 1px solid var(--line); vertical-align: top; }
th { border-top: none; color: var(--muted); font-weight: 600; font-size: 12px; }
.badge { display: inline-block; min-width: 3.5em; text-align: center; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
.badge.up { color: var(--up); background: var(--up-bg); }
.badge.down { color: var(--down); background: var(--down-bg); }
.badge.other { color: var(--warn); background: var(--warn-bg); }
.since { white-space: nowrap; }
.override { color: var(--warn); font-weight: 600; }
.banner { padding: 10px 20px; font-weight: 600; }
.banner.error { color: var(--down); background: var(--down-bg); }
.notice { padding: 8px 12px; border-radius: 6px; margin-bottom: 12px; }
.notice.error { color: var(--down); background: var(--down-bg); }
.notice.ok { color: var(--up); background: var(--up-bg); }
.actions { display: flex; flex-wrap: wrap; gap: 4px; }
.actions input { width: 12em; }
input { font: inherit; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
button { font: inherit; font-size: 12.5px; padding: 3px 8px; border: 1px solid var(--line); border-radius: 4px; background: var(--card); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--accent); }
button:disabled { opacity: 0.5; cursor: default; }
label { color: var(--muted); }
.ds { word-break: break-all; }
[hidden] { display: none !important; }
`;
