// Headless-browser check of the built mdBook.
//
//   node check.mjs [BUILT_BOOK_DIR] [--search-word WORD]
//
// BUILT_BOOK_DIR defaults to book/book (mdBook's output, next to this folder).
// Serves it on 127.0.0.1 with node's own http module, opens it in Debian's
// /usr/bin/chromium through playwright-core (never a downloaded browser) and checks:
//   load    every page linked from the sidebar loads: HTTP 200, no console
//           errors, no uncaught page errors, no failed request to 127.0.0.1
//   diff    every ```diff block is highlighted with hljs-addition and/or
//           hljs-deletion spans, and some page has both kinds
//   links   every internal link (a page of the book, or a #anchor in it)
//           resolves: the page exists and the anchor's id is on it
//   search  the search box, offline, finds at least one result for a word
//           that is in the book, and none for a word that is not
//   picture every image on every page loads with a non-zero rendered size
//           and is not blank (its pixels, drawn on a canvas, are not all one
//           colour), and every experiment chapter (expN-*.html) shows a
//           timeline (generated/pictures/*-timeline.svg) and a component map
//           (*-map.svg) at least
//   quiz    every experiment chapter has an mdbook-quiz widget; the check
//           starts it, answers question 1 right and every other question
//           wrong (MultipleChoice: it picks the radio button whose value is
//           the answer, or one that is not), and the review must say
//           "1/N" with question 1 marked correct and the others incorrect;
//           asked for the correct answers, it shows each one's context
// One line per check, then "book-check: N passed, N failed"; exit 1 on any
// failure, 2 when the whole run overruns its time limit.

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const TOTAL_MS = 5 * 60_000; // the whole run
const LAUNCH_MS = 30_000; // starting the browser
const NAV_MS = 20_000; // loading one page
const STEP_MS = 10_000; // any other single wait
const SETTLE_MS = 3_000; // after load: late requests and errors

// ---- arguments --------------------------------------------------------------

let bookDir = path.resolve(HERE, '..', 'book');
let searchWord = process.env.BOOK_SEARCH_WORD || 'Waker';
{
    const args = process.argv.slice(2);
    for (let i = 0; i < args.length; i++) {
        if (args[i] === '--search-word' && i + 1 < args.length) searchWord = args[++i];
        else if (args[i].startsWith('--')) usage(`unknown option ${args[i]}`);
        else bookDir = path.resolve(args[i]);
    }
}
function usage(msg) {
    console.error(`check.mjs: ${msg}\nusage: node check.mjs [BUILT_BOOK_DIR] [--search-word WORD]`);
    process.exit(2);
}

// ---- reporting ---------------------------------------------------------------

let passed = 0;
let failed = 0;
function report(ok, check, subject, details = []) {
    if (ok) passed++;
    else failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${check.padEnd(7)} ${subject}`);
    for (const d of new Set(details)) console.log(`       - ${d}`);
}
function summary() {
    console.log(`book-check: ${passed} passed, ${failed} failed`);
}

// Nothing may hang: past TOTAL_MS the run fails whatever it was doing.
const watchdog = setTimeout(() => {
    report(false, 'time', `the browser check overran ${TOTAL_MS / 1000} s`);
    summary();
    process.exit(2);
}, TOTAL_MS);
watchdog.unref();

// ---- a tiny static server ----------------------------------------------------

const TYPES = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.mjs': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.json': 'application/json',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.gif': 'image/gif',
    '.ico': 'image/x-icon',
    '.woff': 'font/woff',
    '.woff2': 'font/woff2',
    '.ttf': 'font/ttf',
    '.otf': 'font/otf',
    '.txt': 'text/plain; charset=utf-8',
    '.diff': 'text/plain; charset=utf-8',
};

// The file a URL path names inside the book, or null.
function fileFor(urlPath) {
    let rel;
    try {
        rel = decodeURIComponent(urlPath);
    } catch {
        return null;
    }
    const file = path.join(bookDir, rel);
    if (file !== bookDir && !file.startsWith(bookDir + path.sep)) return null;
    try {
        const st = fs.statSync(file);
        if (st.isFile()) return file;
        if (st.isDirectory()) {
            const index = path.join(file, 'index.html');
            if (fs.statSync(index, { throwIfNoEntry: false })?.isFile()) return index;
        }
    } catch {
        // missing
    }
    return null;
}

function serve() {
    const server = http.createServer((req, res) => {
        const file = fileFor(new URL(req.url, 'http://127.0.0.1').pathname);
        if (!file) {
            res.writeHead(404, { 'Content-Type': 'text/plain' });
            res.end('not found');
            return;
        }
        res.writeHead(200, {
            'Content-Type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
            'Cache-Control': 'no-store',
        });
        fs.createReadStream(file).pipe(res);
    });
    server.keepAliveTimeout = 1000;
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
    });
}

// ---- visiting pages ----------------------------------------------------------

let origin; // http://127.0.0.1:PORT
let context;
const external = new Set(); // requests that tried to leave 127.0.0.1 (all blocked)

function isLocal(u) {
    try {
        return new URL(u).origin === origin;
    } catch {
        return false;
    }
}
function short(u) {
    return isLocal(u) ? u.slice(origin.length + 1) || '/' : u;
}

// Opens a page with listeners for everything that counts as a load problem.
async function openPage() {
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    page.setDefaultNavigationTimeout(NAV_MS);
    const problems = [];
    page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const where = msg.location()?.url;
        let hint = '';
        if (/Failed to load resource/.test(msg.text()) && where && !isLocal(where)) {
            hint = where.includes('play.rust-lang.org')
                ? ' (the Rust playground: set [output.html.playground] runnable = false in book.toml)'
                : ' (a request outside the book)';
        }
        problems.push(`console error: ${msg.text()}${where ? ` [${short(where)}]` : ''}${hint}`);
    });
    page.on('pageerror', (err) => problems.push(`uncaught page error: ${err.message.split('\n')[0]}`));
    page.on('requestfailed', (req) => {
        if (isLocal(req.url())) problems.push(`request failed: ${short(req.url())} (${req.failure()?.errorText})`);
    });
    page.on('response', (res) => {
        if (isLocal(res.url()) && res.status() >= 400) problems.push(`HTTP ${res.status()} for ${short(res.url())}`);
    });
    return { page, problems };
}

// What the checks need from a loaded page, read from its live DOM.
function readPage() {
    const ids = [];
    for (const el of document.querySelectorAll('[id]')) ids.push(el.id);
    for (const el of document.querySelectorAll('a[name]')) ids.push(el.getAttribute('name'));
    const links = [];
    for (const a of document.querySelectorAll('a[href]')) {
        const text = a.textContent.trim() || a.getAttribute('aria-label') || a.getAttribute('title') || '';
        links.push({ href: a.getAttribute('href'), abs: a.href, text: text.replace(/\s+/g, ' ').slice(0, 40) });
    }
    const sidebar = [...document.querySelectorAll('#mdbook-sidebar a[href], nav.sidebar a[href]')].map((a) => a.href);
    const diffs = [...document.querySelectorAll('pre > code.language-diff')].map((code) => ({
        highlighted: code.classList.contains('hljs'),
        additions: code.querySelectorAll('.hljs-addition').length,
        deletions: code.querySelectorAll('.hljs-deletion').length,
        firstLine: code.textContent.split('\n').find((l) => l.trim() !== '')?.slice(0, 50) ?? '',
    }));
    return { ids, links, sidebar, diffs };
}

// Every image of a loaded page: its source, sizes, and how many of its
// pixels differ from its first one, drawn on a canvas at its natural size.
function readImages() {
    return [...document.querySelectorAll('img')].map((img) => {
        const rect = img.getBoundingClientRect();
        const info = {
            src: img.getAttribute('src') || '',
            alt: img.getAttribute('alt') || '',
            loaded: img.complete && img.naturalWidth > 0,
            width: rect.width,
            height: rect.height,
            natural: [img.naturalWidth, img.naturalHeight],
            differing: -1,
            pixels: 0,
            error: null,
        };
        if (!info.loaded) return info;
        try {
            const w = Math.max(1, Math.round(img.naturalWidth));
            const h = Math.max(1, Math.round(img.naturalHeight));
            const canvas = document.createElement('canvas');
            canvas.width = w;
            canvas.height = h;
            const ctx = canvas.getContext('2d');
            ctx.drawImage(img, 0, 0, w, h);
            const data = ctx.getImageData(0, 0, w, h).data;
            const first = [data[0], data[1], data[2], data[3]];
            let differing = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (Math.abs(data[i] - first[0]) + Math.abs(data[i + 1] - first[1]) + Math.abs(data[i + 2] - first[2]) + Math.abs(data[i + 3] - first[3]) > 24) differing++;
            }
            info.differing = differing;
            info.pixels = w * h;
        } catch (err) {
            info.error = String(err);
        }
        return info;
    });
}

async function visit(url) {
    const { page, problems } = await openPage();
    try {
        const res = await page.goto(url, { waitUntil: 'load' });
        if (!res) problems.push('no response');
        else if (res.status() !== 200) {
            problems.push(`HTTP ${res.status()}`);
            return { ok: false, loaded: false, problems, ids: [], links: [], sidebar: [], diffs: [], images: [] };
        }
        // Late scripts (highlighting, the sidebar, playground fetches) get a moment to finish.
        await page.waitForLoadState('networkidle', { timeout: SETTLE_MS }).catch(() => {});
        await page
            .waitForFunction(() => [...document.querySelectorAll('pre > code.language-diff')].every((c) => c.classList.contains('hljs')), null, { timeout: SETTLE_MS })
            .catch(() => {});
        // Images get a moment to load and decode before they are measured.
        await page
            .waitForFunction(() => [...document.images].every((img) => img.complete), null, { timeout: STEP_MS })
            .catch(() => {});
        const data = await page.evaluate(readPage);
        const images = await page.evaluate(readImages);
        return { ok: problems.length === 0, loaded: true, problems, images, ...data };
    } catch (err) {
        problems.push(`could not load: ${err.message.split('\n')[0]}`);
        return { ok: false, loaded: false, problems, ids: [], links: [], sidebar: [], diffs: [], images: [] };
    } finally {
        await page.close().catch(() => {});
    }
}

// Pages that no sidebar entry names (print.html, a linked text file) are only
// read from disk: is it there, and which ids does its HTML have.
function idsFromDisk(file) {
    const html = fs.readFileSync(file, 'utf8');
    const ids = [];
    for (const m of html.matchAll(/\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/g)) ids.push(m[1] ?? m[2] ?? m[3]);
    return ids;
}

function pageKey(u) {
    const url = new URL(u);
    let p = url.pathname;
    if (p.endsWith('/')) p += 'index.html';
    return p;
}

// ---- the checks --------------------------------------------------------------

async function main() {
    if (!fileFor('/index.html')) {
        report(false, 'book', `no index.html in ${bookDir}: build the book first`);
        return;
    }
    if (!fs.existsSync(CHROMIUM)) {
        report(false, 'setup', `${CHROMIUM} is missing (apt-get install chromium)`);
        return;
    }
    const server = await serve();
    origin = `http://127.0.0.1:${server.address().port}`;
    console.log(`serving ${bookDir} at ${origin}/`);
    let browser;
    try {
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            timeout: LAUNCH_MS,
            args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        });
        context = await browser.newContext();
        // Nothing leaves the machine: requests off 127.0.0.1 are refused and noted.
        await context.route('**/*', (route) => {
            const u = route.request().url();
            if (isLocal(u) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
            external.add(u);
            return route.abort('blockedbyclient');
        });
        await runChecks();
    } finally {
        if (browser) await browser.close().catch(() => {});
        server.closeAllConnections?.();
        server.close();
    }
}

async function runChecks() {
    // The sidebar is built by mdBook's toc.js, so it is read from the live first page.
    const first = await visit(`${origin}/index.html`);
    const sidebarPages = [...new Set(first.sidebar.filter(isLocal).map(pageKey))];
    if (sidebarPages.length === 0) {
        report(false, 'load', 'index.html: no pages linked from the sidebar', first.problems);
        return;
    }

    // load: every page linked from the sidebar.
    const visited = new Map(); // path -> visit result
    for (const p of ['/index.html', ...sidebarPages]) {
        if (visited.has(p)) continue;
        const v = p === '/index.html' ? first : await visit(origin + p);
        visited.set(p, v);
        report(v.ok, 'load', p.slice(1), v.problems);
    }
    if (external.size > 0) {
        const hint = [...external].some((u) => u.includes('play.rust-lang.org'))
            ? ' (play.rust-lang.org: set [output.html.playground] runnable = false in book.toml)'
            : '';
        console.log(`note: blocked ${external.size} request(s) outside the book${hint}:`);
        for (const u of external) console.log(`       - ${u}`);
    }

    // diff: highlighting of every diff block.
    let bothOn = null;
    let diffPages = 0;
    for (const [p, v] of visited) {
        if (v.diffs.length === 0) continue;
        diffPages++;
        const bad = [];
        let additions = 0;
        let deletions = 0;
        v.diffs.forEach((d, i) => {
            additions += d.additions;
            deletions += d.deletions;
            if (!d.highlighted) bad.push(`block ${i + 1} ("${d.firstLine}") was not highlighted at all`);
            else if (d.additions + d.deletions === 0) bad.push(`block ${i + 1} ("${d.firstLine}") has no hljs-addition or hljs-deletion span`);
        });
        if (additions > 0 && deletions > 0 && !bothOn) bothOn = p.slice(1);
        report(bad.length === 0, 'diff', `${p.slice(1)}: ${v.diffs.length} diff block(s), ${additions} addition and ${deletions} deletion span(s)`, bad);
    }
    report(bothOn !== null, 'diff', bothOn ? `some page has both additions and deletions (${bothOn})` : `no page has both hljs-addition and hljs-deletion spans (${diffPages} page(s) with diff blocks)`);

    // links: every internal link on every visited page.
    const targets = new Map(); // path -> ids, or null when missing
    const targetIds = (p) => {
        if (!targets.has(p)) {
            if (visited.has(p) && visited.get(p).ok) targets.set(p, new Set(visited.get(p).ids));
            else {
                const file = fileFor(p);
                targets.set(p, file ? new Set(file.endsWith('.html') ? idsFromDisk(file) : []) : null);
            }
        }
        return targets.get(p);
    };
    for (const [p, v] of visited) {
        if (!v.loaded) continue; // already failed under load
        const broken = new Set();
        let count = 0;
        for (const link of v.links) {
            if (!isLocal(link.abs)) continue; // other sites, mailto:, javascript:
            const url = new URL(link.abs);
            const target = pageKey(link.abs);
            const anchor = url.hash.length > 1 ? decodeURIComponent(url.hash.slice(1)) : null;
            count++;
            const ids = targetIds(target);
            if (ids === null) broken.add(`"${link.text}" -> ${link.href}: no such page (${target.slice(1)})`);
            else if (anchor !== null && !ids.has(anchor)) broken.add(`"${link.text}" -> ${link.href}: no id "${anchor}" on ${target.slice(1)}`);
        }
        report(broken.size === 0, 'links', `${p.slice(1)}: ${count} internal link(s)${broken.size ? `, ${broken.size} broken` : ''}`, [...broken]);
    }

    // picture: every image loads, has a size and is not blank; every
    // experiment chapter has its timeline and its map.
    for (const [p, v] of visited) {
        if (!v.loaded) continue;
        const chapter = /^\/exp\d-[^/]*\.html$/.test(p);
        if (v.images.length === 0 && !chapter) continue;
        // mdBook shows each image twice, the second a zoomed copy hidden
        // until the first is clicked: each source is judged by its largest
        // rendering.
        const bySrc = new Map();
        for (const img of v.images) {
            const seen = bySrc.get(img.src);
            if (!seen || img.width * img.height > seen.width * seen.height) bySrc.set(img.src, img);
        }
        const images = [...bySrc.values()];
        const bad = [];
        for (const img of images) {
            const name = img.src || '(no src)';
            if (!img.loaded) bad.push(`${name}: did not load`);
            else if (!(img.width > 0 && img.height > 0)) bad.push(`${name}: rendered ${img.width} x ${img.height}`);
            else if (img.error) bad.push(`${name}: could not be read back (${img.error})`);
            else if (img.differing < Math.max(50, img.pixels * 0.002)) bad.push(`${name}: blank (${img.differing} of ${img.pixels} pixels differ from the first)`);
            if (!img.alt.trim()) bad.push(`${name}: no alt text`);
        }
        const pictures = images.filter((img) => img.src.includes('generated/pictures/'));
        if (chapter) {
            if (!pictures.some((img) => img.src.endsWith('-timeline.svg'))) bad.push('no timeline picture (generated/pictures/*-timeline.svg)');
            if (!pictures.some((img) => img.src.endsWith('-map.svg'))) bad.push('no component map (generated/pictures/*-map.svg)');
        }
        const sizes = images.filter((img) => img.loaded).map((img) => `${Math.round(img.width)}x${Math.round(img.height)}`);
        report(bad.length === 0, 'picture', `${p.slice(1)}: ${images.length} image(s)${sizes.length ? ` (${sizes.join(', ')})` : ''}`, bad);
    }

    // quiz: one run through each experiment chapter's quiz.
    for (const p of visited.keys()) {
        if (/^\/exp\d-[^/]*\.html$/.test(p)) await checkQuiz(p);
    }

    // search: offline, in the first page's search box.
    await checkSearch();
}

// Runs through the quiz on page `p`: question 1 answered right, the others
// wrong, then the review and the explanations.
async function checkQuiz(p) {
    const { page, problems } = await openPage();
    let subject = `${p.slice(1)}: no quiz`;
    try {
        await page.goto(origin + p, { waitUntil: 'load' });
        const widget = page.locator('.quiz-placeholder .mdbook-quiz');
        try {
            await widget.first().waitFor({ state: 'visible' });
        } catch {
            problems.push('no mdbook-quiz widget rendered (.quiz-placeholder .mdbook-quiz): is mdbook-quiz installed, and the chapter\'s {{#quiz}} line there?');
            return;
        }
        // The questions, as the preprocessor gave them to the widget.
        const quiz = JSON.parse(await page.locator('.quiz-placeholder').first().getAttribute('data-quiz-questions'));
        const questions = quiz.questions;
        subject = `${p.slice(1)}: ${questions.length} question(s)`;
        const other = questions.find((q) => q.type !== 'MultipleChoice');
        if (other) {
            problems.push(`a ${other.type} question: this check answers only MultipleChoice ones`);
            return;
        }
        await widget.locator('button.start').click();
        for (let i = 0; i < questions.length; i++) {
            const form = widget.locator('form.response');
            await widget.locator('.question .prompt h4', { hasText: `Question ${i + 1}` }).waitFor();
            const values = await form.locator('input[type=radio]').evaluateAll((inputs) => inputs.map((input) => input.value));
            const answer = questions[i].answer.answer;
            const pick = i === 0 ? values.indexOf(answer) : values.findIndex((v) => v !== answer);
            if (pick < 0) {
                problems.push(`question ${i + 1}: no choice to pick among ${values.length} radio button(s)`);
                return;
            }
            await form.locator('input[type=radio]').nth(pick).check();
            await form.locator('input[type=submit]').click();
        }
        await widget.getByRole('heading', { name: 'Answer Review' }).waitFor();
        const score = (await widget.locator('p', { hasText: 'You answered' }).first().innerText()).replace(/\s+/g, ' ');
        if (!score.includes(`1/${questions.length}`)) problems.push(`the review says "${score}", not 1/${questions.length}`);
        const answers = widget.locator('.answer-wrapper');
        const marks = await answers.evaluateAll((wrappers) =>
            wrappers.map((w) => (w.querySelector('.answer-row .correct') ? 'correct' : w.querySelector('.answer-row .incorrect') ? 'incorrect' : 'unmarked')),
        );
        const want = questions.map((_, i) => (i === 0 ? 'correct' : 'incorrect'));
        if (marks.join() !== want.join()) problems.push(`the review marks the answers ${marks.join(', ')}, not ${want.join(', ')}`);
        await widget.getByRole('button', { name: 'see the correct answers' }).first().click();
        await answers.first().locator('.context').waitFor();
        const contexts = await answers.locator('.context').count();
        if (contexts !== questions.length) problems.push(`${contexts} of ${questions.length} answers show their context`);
        subject += `, answered 1 right: the review says ${score.match(/\d+\/\d+/)?.[0] ?? '?'}, ${contexts} explanation(s)`;
    } catch (err) {
        problems.push(err.message.split('\n')[0]);
    } finally {
        report(problems.length === 0, 'quiz', subject, problems);
        await page.close().catch(() => {});
    }
}

async function checkSearch() {
    const { page, problems } = await openPage();
    const nonsense = 'qzxjvkwpfh';
    try {
        await page.goto(`${origin}/index.html`, { waitUntil: 'load' });
        const toggle = page.locator('#mdbook-search-toggle');
        if ((await toggle.count()) === 0) {
            problems.push('index.html has no search button (#mdbook-search-toggle): is [output.html.search] enabled?');
            report(false, 'search', `"${searchWord}": no search box`, problems);
            return;
        }
        await toggle.click();
        const bar = page.locator('#mdbook-searchbar');
        await bar.waitFor({ state: 'visible' });
        const results = page.locator('#mdbook-searchresults > li');
        const header = page.locator('#mdbook-searchresults-header');

        await bar.pressSequentially(searchWord, { delay: 20 });
        let found = 0;
        try {
            await results.first().waitFor({ state: 'visible', timeout: STEP_MS });
            found = await results.count();
        } catch {
            problems.push(`no result shown for "${searchWord}" (header: "${(await header.innerText().catch(() => '')).trim()}")`);
        }
        // The results must come from the search: a word that is nowhere in the book finds nothing.
        await bar.fill('');
        await bar.pressSequentially(nonsense, { delay: 20 });
        await page.waitForFunction((w) => document.getElementById('mdbook-searchresults-header').innerText.includes(w), nonsense, { timeout: STEP_MS }).catch(() => {});
        const bogus = await results.count();
        if (bogus !== 0) problems.push(`${bogus} result(s) shown for "${nonsense}", a word that is not in the book`);
        report(problems.length === 0, 'search', `"${searchWord}" finds ${found} result(s) offline`, problems);
    } catch (err) {
        problems.push(err.message.split('\n')[0]);
        report(false, 'search', `"${searchWord}": the search box did not work`, problems);
    } finally {
        await page.close().catch(() => {});
    }
}

try {
    await main();
} catch (err) {
    report(false, 'error', err.stack || String(err));
}
summary();
process.exit(failed > 0 ? 1 : 0);
