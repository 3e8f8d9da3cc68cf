#!/usr/bin/env node
// Renders a convstats report.html in headless Chromium and checks it.
//
//   node check-report.mjs REPORT.html SCREENSHOT.png [--max-bytes N] [--max-render-ms N]
//
// Chromium: env CHROMIUM, else /usr/bin/chromium (Debian's package; this
// script never downloads a browser). The page is opened from file:// in a
// 1366x768 viewport with every other request blocked: the report must need
// no network.
//
// The charts' contract (the report's side of it is in src/report.rs): every
// chart is `<figure class="chart" data-view="VIEW" data-colors="#rrggbb,...">`
// holding one inline <svg>; data-colors lists the colours of the series that
// have data. A drawn mark is a rect, circle, path, polyline or line inside that
// svg whose fill or stroke attribute (compared lower-cased) is one of those
// colours and whose getBBox() has a non-zero width or height.
//
// Checks (any failing one makes the exit code 1, with its reason):
//   - the file is at most --max-bytes bytes (when given);
//   - the page has at least one chart;
//   - every chart has exactly one top-level svg, of non-zero size, lists at
//     least one well-formed colour, and has at least one mark per colour;
//   - no console message of type error, no uncaught page error, no failed
//     request, and no request other than the report file itself;
//   - render time is at most --max-render-ms (when given). Render time is read
//     from the page's own performance timeline, from navigation start: the
//     later of the load event's end and the first paint.
// A screenshot of the whole page is written to SCREENSHOT.png either way.
//
// Prints a human summary, then one JSON line (the last line of stdout).
// Exit codes: 0 all checks passed, 1 a check failed, 2 bad usage or the
// browser could not be run.

import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const USAGE =
  'usage: node check-report.mjs REPORT.html SCREENSHOT.png [--max-bytes N] [--max-render-ms N]';
const MARK_ELEMENTS = ['rect', 'circle', 'path', 'polyline', 'line'];
const NAV_TIMEOUT_MS = 120_000;
const PAINT_WAIT_MS = 10_000;

function usage(message) {
  if (message) console.error(`check-report: ${message}`);
  console.error(USAGE);
  process.exit(2);
}

function parseArgs(argv) {
  const positional = [];
  const opts = { maxBytes: null, maxRenderMs: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = a.startsWith('--') ? a.split('=')[0] : null;
    if (flag === '--max-bytes' || flag === '--max-render-ms') {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (value === undefined || !/^\d+$/.test(value)) {
        usage(`${flag} needs a non-negative integer, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
      }
      opts[flag === '--max-bytes' ? 'maxBytes' : 'maxRenderMs'] = Number(value);
    } else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) {
      usage(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 2) usage('REPORT.html and SCREENSHOT.png are required');
  return { report: path.resolve(positional[0]), screenshot: path.resolve(positional[1]), ...opts };
}

// Runs in the page: the charts and their marks as the contract defines them.
function countMarks(markElements) {
  const colourRe = /^#[0-9a-f]{6}$/;
  const charts = [...document.querySelectorAll('figure.chart')].map((fig, index) => {
    const colors = (fig.getAttribute('data-colors') || '')
      .split(',')
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c !== '');
    const svgs = [...fig.querySelectorAll('svg')].filter(
      (s) => !s.parentElement || !s.parentElement.closest('svg'),
    );
    const marks = Object.fromEntries(colors.map((c) => [c, 0]));
    let svgWidth = 0;
    let svgHeight = 0;
    if (svgs.length > 0) {
      const r = svgs[0].getBoundingClientRect();
      svgWidth = Math.round(r.width);
      svgHeight = Math.round(r.height);
    }
    for (const svg of svgs) {
      for (const el of svg.querySelectorAll(markElements.join(','))) {
        const paints = new Set(
          ['fill', 'stroke']
            .map((a) => el.getAttribute(a))
            .filter((v) => v !== null)
            .map((v) => v.trim().toLowerCase()),
        );
        const hits = colors.filter((c) => paints.has(c));
        if (hits.length === 0) continue;
        let box;
        try {
          box = el.getBBox();
        } catch {
          continue;
        }
        if (!(box.width > 0 || box.height > 0)) continue;
        for (const c of hits) marks[c] += 1;
      }
    }
    return {
      index,
      view: fig.getAttribute('data-view'),
      colors,
      bad_colors: colors.filter((c) => !colourRe.test(c)),
      svgs: svgs.length,
      svg_size: [svgWidth, svgHeight],
      marks,
    };
  });
  return {
    charts,
    tables: document.querySelectorAll('table.view').length,
    scripts: document.querySelectorAll('script').length,
    page_height: document.documentElement.scrollHeight,
  };
}

// Runs in the page: the navigation entry and the paint entries, in ms from
// navigation start.
function timings() {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = Object.fromEntries(
    performance.getEntriesByType('paint').map((e) => [e.name, e.startTime]),
  );
  return {
    dom_content_loaded_ms: nav ? nav.domContentLoadedEventEnd : null,
    load_event_end_ms: nav ? nav.loadEventEnd : null,
    first_paint_ms: paint['first-paint'] ?? null,
    first_contentful_paint_ms: paint['first-contentful-paint'] ?? null,
  };
}

function round(x) {
  return x === null || x === undefined ? null : Math.round(x * 10) / 10;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let bytes;
  try {
    const st = await stat(args.report);
    if (!st.isFile()) usage(`${args.report} is not a file`);
    bytes = st.size;
  } catch (e) {
    usage(`cannot read ${args.report}: ${e.message}`);
  }
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  try {
    await stat(executablePath);
  } catch {
    console.error(
      `check-report: Chromium not found at ${executablePath} (set CHROMIUM, or install Debian's chromium: apt-get install chromium)`,
    );
    process.exit(2);
  }

  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    console.error(
      `check-report: playwright-core is not installed (run npm ci in ${path.dirname(new URL(import.meta.url).pathname)}): ${e.message}`,
    );
    process.exit(2);
  }

  const reportUrl = pathToFileURL(args.report).href;
  const consoleErrors = [];
  const pageErrors = [];
  const failedRequests = [];
  const foreignRequests = new Set();
  const isForeign = (url) =>
    url.split('#')[0] !== reportUrl && !/^(data|blob|about):/i.test(url);

  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      chromiumSandbox: false,
      args: [
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (e) {
    console.error(`check-report: could not launch ${executablePath}: ${e.message}`);
    process.exit(2);
  }

  let marks;
  let timing;
  let screenshotMs;
  const failures = [];
  try {
    const context = await browser.newContext({
      viewport: { width: 1366, height: 768 },
      deviceScaleFactor: 1,
      javaScriptEnabled: true, // on, so that a script in the report shows up as errors, not silence
    });
    // Nothing but the report itself may be loaded: block and record the rest.
    await context.route(
      (url) => isForeign(url.href),
      (route) => {
        foreignRequests.add(route.request().url());
        return route.abort('blockedbyclient');
      },
    );
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        const loc = msg.location();
        consoleErrors.push(
          `${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber + 1})` : ''}`,
        );
      }
    });
    page.on('pageerror', (err) => pageErrors.push(String(err && err.message ? err.message : err)));
    page.on('crash', () => pageErrors.push('the page crashed'));
    page.on('request', (req) => {
      if (isForeign(req.url())) foreignRequests.add(req.url());
    });
    page.on('requestfailed', (req) => {
      const f = req.failure();
      failedRequests.push(`${req.url()}: ${f ? f.errorText : 'failed'}`);
    });

    await page.goto(reportUrl, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
    // loadEventEnd is set once the load handlers have run; paint entries once
    // a frame has been presented.
    await page.waitForFunction(
      () => {
        const nav = performance.getEntriesByType('navigation')[0];
        return nav && nav.loadEventEnd > 0;
      },
      null,
      { timeout: NAV_TIMEOUT_MS },
    );
    await page
      .waitForFunction(
        () => performance.getEntriesByType('paint').some((e) => e.name === 'first-paint'),
        null,
        { timeout: PAINT_WAIT_MS },
      )
      .catch(() => {});
    timing = await page.evaluate(timings);

    await mkdir(path.dirname(args.screenshot), { recursive: true });
    const shotStart = performance.now();
    await page.screenshot({ path: args.screenshot, fullPage: true });
    screenshotMs = performance.now() - shotStart;

    marks = await page.evaluate(countMarks, MARK_ELEMENTS);
    await context.close();
  } catch (e) {
    failures.push(`the page could not be rendered: ${e.message.split('\n')[0]}`);
  } finally {
    await browser.close().catch(() => {});
  }

  const paintMs = timing ? (timing.first_paint_ms ?? timing.first_contentful_paint_ms) : null;
  const renderMs =
    timing && timing.load_event_end_ms !== null && paintMs !== null
      ? Math.max(timing.load_event_end_ms, paintMs)
      : null;

  // The checks.
  if (args.maxBytes !== null && bytes > args.maxBytes) {
    failures.push(`the report is ${bytes} bytes, over --max-bytes ${args.maxBytes}`);
  }
  if (marks) {
    if (marks.charts.length === 0) failures.push('the page has no chart (no figure.chart)');
    for (const c of marks.charts) {
      const name = `chart ${c.index} (data-view=${JSON.stringify(c.view)})`;
      if (c.view === null || c.view === '') failures.push(`${name} has no data-view`);
      if (c.svgs !== 1) failures.push(`${name} holds ${c.svgs} top-level svg elements, not one`);
      else if (c.svg_size[0] === 0 || c.svg_size[1] === 0) {
        failures.push(`${name}: its svg renders at ${c.svg_size[0]}x${c.svg_size[1]} px`);
      }
      if (c.colors.length === 0) failures.push(`${name} lists no colour in data-colors: no series drawn`);
      for (const b of c.bad_colors) failures.push(`${name}: data-colors entry ${JSON.stringify(b)} is not #rrggbb`);
      for (const [colour, n] of Object.entries(c.marks)) {
        if (n === 0) failures.push(`${name} has no drawn mark in ${colour}`);
      }
    }
  }
  if (consoleErrors.length > 0) failures.push(`${consoleErrors.length} console error(s)`);
  if (pageErrors.length > 0) failures.push(`${pageErrors.length} uncaught page error(s)`);
  if (failedRequests.length > 0) failures.push(`${failedRequests.length} failed request(s)`);
  if (foreignRequests.size > 0) {
    failures.push(`${foreignRequests.size} request(s) other than the report itself (it must need no network)`);
  }
  if (args.maxRenderMs !== null) {
    if (renderMs === null) failures.push('render time unknown: the page recorded no load end or first paint');
    else if (renderMs > args.maxRenderMs) {
      failures.push(`render took ${Math.round(renderMs)} ms, over --max-render-ms ${args.maxRenderMs}`);
    }
  }

  // The summary.
  const out = [];
  out.push(`report:     ${args.report}`);
  out.push(`bytes:      ${bytes}${args.maxBytes !== null ? ` (max ${args.maxBytes})` : ''}`);
  if (timing) {
    out.push(
      `render:     ${renderMs === null ? 'unknown' : `${Math.round(renderMs)} ms`}` +
        `${args.maxRenderMs !== null ? ` (max ${args.maxRenderMs})` : ''}` +
        ` [load event end ${Math.round(timing.load_event_end_ms)} ms, first paint ${paintMs === null ? 'none' : `${Math.round(paintMs)} ms`}` +
        `, first contentful paint ${timing.first_contentful_paint_ms === null ? 'none' : `${Math.round(timing.first_contentful_paint_ms)} ms`}]`,
    );
  }
  if (screenshotMs !== undefined) out.push(`screenshot: ${args.screenshot} (${Math.round(screenshotMs)} ms, page height ${marks ? marks.page_height : '?'} px)`);
  if (marks) {
    out.push(`charts:     ${marks.charts.length}; tables (table.view): ${marks.tables}; scripts: ${marks.scripts}`);
    for (const c of marks.charts) {
      const per = c.colors.length === 0 ? 'no colours' : c.colors.map((col) => `${col}: ${c.marks[col]}`).join(', ');
      out.push(`  ${c.marks && Object.values(c.marks).every((n) => n > 0) && c.colors.length > 0 ? 'ok  ' : 'FAIL'} ${c.view ?? '(no data-view)'}: ${per} [svg ${c.svg_size[0]}x${c.svg_size[1]}]`);
    }
  }
  out.push(`errors:     console ${consoleErrors.length}, page ${pageErrors.length}, failed requests ${failedRequests.length}, foreign requests ${foreignRequests.size}`);
  for (const e of consoleErrors) out.push(`  console error: ${e}`);
  for (const e of pageErrors) out.push(`  page error: ${e}`);
  for (const e of failedRequests) out.push(`  failed request: ${e}`);
  for (const u of foreignRequests) out.push(`  request other than the report: ${u}`);
  if (failures.length === 0) out.push('result:     OK');
  else {
    out.push(`result:     FAILED (${failures.length})`);
    for (const f of failures) out.push(`  - ${f}`);
  }
  console.log(out.join('\n'));
  console.log(
    JSON.stringify({
      ok: failures.length === 0,
      report: args.report,
      screenshot: screenshotMs !== undefined ? args.screenshot : null,
      bytes,
      max_bytes: args.maxBytes,
      render_ms: round(renderMs),
      max_render_ms: args.maxRenderMs,
      load_event_end_ms: timing ? round(timing.load_event_end_ms) : null,
      first_paint_ms: timing ? round(timing.first_paint_ms) : null,
      first_contentful_paint_ms: timing ? round(timing.first_contentful_paint_ms) : null,
      screenshot_ms: round(screenshotMs),
      charts: marks
        ? marks.charts.map((c) => ({ view: c.view, colors: c.colors, marks: c.marks, svg_size: c.svg_size }))
        : null,
      tables: marks ? marks.tables : null,
      console_errors: consoleErrors,
      page_errors: pageErrors,
      failed_requests: failedRequests,
      foreign_requests: [...foreignRequests],
      failures,
    }),
  );
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(`check-report: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
