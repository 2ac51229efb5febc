// The dashboard in a real browser: the system's chromium, headless, driven by playwright-core,
// against a running vigil-hub with a simulated fleet (check_web.py starts both and passes what
// this needs in the environment). Prints one "ok" or "FAIL" line per check and exits 1 when any
// failed. Saves a screenshot of each page into VIGIL_WEB_ARTIFACTS.

import {spawn} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {chromium} from 'playwright-core';

const env = process.env;
const BASE = env.VIGIL_WEB_URL;
const ADMIN = env.VIGIL_WEB_ADMIN_TOKEN;
const READ = env.VIGIL_WEB_READ_TOKEN;
const ARTIFACTS = env.VIGIL_WEB_ARTIFACTS;
const DEVICE = env.VIGIL_WEB_DEVICE;  // a device with traffic and an alert
const LIVE_COMMAND = JSON.parse(env.VIGIL_WEB_LIVE_COMMAND || '[]');  // raises a new alert
const LIVE_DEVICE = env.VIGIL_WEB_LIVE_DEVICE;                        // the device it raises it on
const STEP_MS = 15000;

const failures = [];
function check(condition, what) {
    console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
    if (!condition) {
        failures.push(what);
    }
    return condition;
}

async function api(method, route, token, body) {
    const headers = {Authorization: `Bearer ${token}`};
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(
        BASE + route,
        {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
    return {status: response.status, body: await response.json().catch(() => null)};
}

// Console errors, uncaught exceptions and Content-Security-Policy violations, per page name.
function watch(page, problems) {
    page.on('console', (message) => {
        if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) {
            problems.push(`console: ${message.text()}`);
        }
    });
    page.on('pageerror', (error) => problems.push(`exception: ${error.message}`));
}

async function shot(page, name) {
    const file = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({path: file, fullPage: true});
    return file;
}

async function login(page, token) {
    await page.goto(`${BASE}/`);
    await page.fill('#token', token);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('header.top', {timeout: STEP_MS});
}

// Shows a page and waits for what proves it loaded; checks it raised no errors meanwhile.
async function visit(page, problems, name, hash, ready) {
    problems.length = 0;
    await page.evaluate((h) => (location.hash = h), hash);
    try {
        await page.waitForSelector(ready, {timeout: STEP_MS});
        await page.waitForFunction(
            () => !document.querySelector('#page .loading'), null, {timeout: STEP_MS});
    } catch (error) {
        check(false, `${name}: ${ready} shown (${error.message.split('\n')[0]})`);
    }
    // Let the charts draw (they wait for a frame) and late requests finish.
    await page.waitForTimeout(300);
    const errors =
        await page.$$eval('#page .notice-error', (nodes) => nodes.map((n) => n.textContent));
    check(errors.length === 0, `${name}: no error shown on the page ${JSON.stringify(errors)}`);
    check(
        problems.length === 0,
        `${name}: no console errors or CSP violations ${JSON.stringify(problems)}`);
    return shot(page, name);
}

async function chartPoints(page, selector) {
    return page.$eval(selector, (node) => {
        const chart = node.chart;
        if (!chart) {
            return {points: 0, painted: 0};
        }
        const values = chart.data.slice(1).flat();
        const canvas = node.querySelector('canvas');
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) {
            painted += pixels[i] > 0 ? 1 : 0;
        }
        return {points: values.filter((v) => v > 0).length, painted};
    });
}

function run(argv) {
    return new Promise((resolve) => {
        const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'ignore', 'pipe']});
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.on('exit', (code) => resolve({code, stderr}));
    });
}

async function adminSession(browser) {
    const context = await browser.newContext({viewport: {width: 1280, height: 900}});
    const page = await context.newPage();
    const problems = [];
    watch(page, problems);

    // Login: a wrong token is refused and says so.
    await page.goto(`${BASE}/`);
    await page.waitForSelector('#login-form');
    await shot(page, 'login');
    await page.fill('#token', 'vigil_not-a-token');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('.login-status .notice-error', {timeout: STEP_MS});
    const refusal = await page.textContent('.login-status');
    check(/not valid/.test(refusal), `a wrong token is refused with a message: ${refusal}`);
    problems.length = 0;  // the 401 of that attempt is logged by the browser, as it should be

    // The stream refused at first: the indicator says it is down, then live once it reconnects.
    await page.route('**/api/alerts/stream', (route) => route.abort());
    await login(page, ADMIN);
    const down =
        await page.waitForSelector('#live.live-down >> text=/retrying/', {timeout: STEP_MS})
            .then((n) => n.textContent())
            .catch(() => '');
    check(
        /down.*retrying in \d+ s/.test(down),
        `the live indicator says the stream is down: ${down}`);
    await page.unroute('**/api/alerts/stream');
    check((await page.textContent('.role')) === 'admin', 'an admin token is shown as admin');
    await page.waitForSelector('#live.live-up', {timeout: STEP_MS}).catch(() => {});
    check(
        (await page.textContent('#live')) === 'live',
        `the live indicator says live: ${await page.textContent('#live')}`);

    await visit(page, problems, 'overview', '#/', '.devices-table');
    const timeline = await chartPoints(page, '[data-chart=alerts]');
    check(
        timeline.points > 0 && timeline.painted > 0,
        `the alert timeline has data points (${JSON.stringify(timeline)})`);
    const rows = await page.$$eval('.devices-table tbody tr', (r) => r.length);
    check(rows > 0, `the device table lists devices (${rows})`);

    await visit(
        page, problems, 'device', `#/devices/${encodeURIComponent(DEVICE)}`,
        '[data-chart=bytes] canvas');
    for (const field of ['bytes', 'packets', 'connections']) {
        const drawn = await chartPoints(page, `[data-chart=${field}]`);
        check(
            drawn.points > 0 && drawn.painted > 0,
            `the ${field} chart has data points (${JSON.stringify(drawn)})`);
    }
    // A config the hub refuses: its error is shown as the API gave it.
    await page.fill('#config-text', '{"intervals": {"high": 0, "medium": 30, "low": 60}}');
    await page.click('#config-form button[type=submit]');
    await page.waitForSelector('#config-form .notice', {timeout: STEP_MS});
    const refused = await page.textContent('#config-form .notice');
    check(/400 bad_config/.test(refused), `a bad config shows the API's error: ${refused}`);
    problems.length = 0;  // the browser logs the 400

    await visit(page, problems, 'recommendations', '#/recommendations', 'section.kind');
    // Dismiss one with a reason; the API shows it dismissed with that reason.
    const recommendationId =
        await page.$eval('.dismiss-form', (form) => form.dataset.recommendationId)
            .catch(() => null);
    if (check(recommendationId !== null, 'an open recommendation offers a dismiss form')) {
        const form = `.dismiss-form[data-recommendation-id="${recommendationId}"]`;
        await page.fill(`${form} input`, 'accepted risk: lab device');
        await page.click(`${form} button`);
        await page.waitForSelector(form, {state: 'detached', timeout: STEP_MS}).catch(() => {});
        const {body} = await api('GET', `/api/recommendations/${recommendationId}`, ADMIN);
        check(
            body && body.state === 'dismissed' &&
                body.dismissed_reason === 'accepted risk: lab device',
            `the API shows recommendation ${recommendationId} dismissed with its reason (${
                body && body.state}, ${body && body.dismissed_reason})`);
    }
    await visit(page, problems, 'policy', '#/policy', 'section.card');

    // Acknowledge an open alert from the page; the API shows it acknowledged.
    await visit(
        page, problems, 'alerts', `#/alerts?state=open&device=${encodeURIComponent(DEVICE)}`,
        '.alerts-table');
    const alertId =
        await page.$eval('.alerts-table tbody tr[data-state=open]', (row) => row.dataset.alertId)
            .catch(() => null);
    if (check(alertId !== null, `an open alert of ${DEVICE} is listed`)) {
        await page.click(`.alerts-table tr[data-alert-id="${alertId}"] .alert-title`);
        await page.waitForSelector('#alert-detail .evidence', {timeout: STEP_MS});
        const cells = await page.$$eval(
            '#alert-detail .evidence dd, #alert-detail .evidence td', (n) => n.length);
        check(cells > 0, `the alert's evidence is shown (${cells} cells)`);
        await shot(page, 'alert-detail');
        await page.click(`.alerts-table tr[data-alert-id="${alertId}"] .action-ack`);
        await page
            .waitForSelector(
                `.alerts-table tr[data-alert-id="${alertId}"][data-state=acknowledged]`,
                {timeout: STEP_MS})
            .catch(() => {});
        const {body} = await api('GET', `/api/alerts/${alertId}`, ADMIN);
        check(
            body && body.state === 'acknowledged',
            `the API shows alert ${alertId} acknowledged (${body && body.state})`);
    }

    // A new alert appears on the alerts page without a reload.
    await visit(page, problems, 'alerts-all', '#/alerts', '.alerts-table');
    await page.evaluate(() => (window.notReloaded = true));
    const before =
        await page.$$eval(`.alerts-table a[href="#/devices/${LIVE_DEVICE}"]`, (n) => n.length);
    check(before === 0, `${LIVE_DEVICE} has no alert before the live step (${before})`);
    const raised = await run(LIVE_COMMAND);
    check(
        raised.code === 0,
        `the live step's fleet run exits 0 (${raised.code}) ${raised.stderr.slice(-300)}`);
    const arrived =
        await page
            .waitForSelector(`.alerts-table a[href="#/devices/${LIVE_DEVICE}"]`, {timeout: STEP_MS})
            .then(() => true)
            .catch(() => false);
    check(arrived, `a new alert of ${LIVE_DEVICE} appeared live`);
    check(await page.evaluate(() => window.notReloaded === true), 'the page was not reloaded');
    await shot(page, 'alerts-live');

    // A device enrolled meanwhile appears on the fleet page without a reload.
    await visit(page, problems, 'overview-live', '#/', '.devices-table');
    await page.evaluate(() => (window.notReloaded = true));
    const enrolled = await api('POST', '/api/devices', ADMIN, {id: 'web-new-device'});
    check(enrolled.status === 201, `a device is enrolled through the API (${enrolled.status})`);
    const shown =
        await page
            .waitForSelector(
                '.feed-item[data-event=device] >> text=web-new-device', {timeout: STEP_MS})
            .then(() => true)
            .catch(() => false);
    check(shown, 'its enrolment appears in the live activity');
    const listed = await page
                       .waitForSelector(
                           '.devices-table a[href="#/devices/web-new-device"]', {timeout: STEP_MS})
                       .then(() => true)
                       .catch(() => false);
    check(
        listed && await page.evaluate(() => window.notReloaded === true),
        'and in the device table, without a reload');
    await shot(page, 'overview-live');

    // Data from devices is hostile: markup in it stays text.
    const hostile = await page.evaluate(async () => {
        const dom = await import('/web/dom.js');
        const markup = '<img src=x onerror="window.pwned=1">';
        const node = dom.jsonView({flows: [{remote: markup}], note: markup});
        const cell = dom.table([{title: 'id', cell: (row) => row.id}], [{id: markup}], 'none');
        return {
            elements: node.querySelectorAll('img').length + cell.querySelectorAll('img').length,
            text: node.textContent.includes(markup) && cell.textContent.includes(markup),
        };
    });
    check(
        hostile.elements === 0 && hostile.text,
        `markup in evidence and ids is shown as text (${JSON.stringify(hostile)})`);

    await page.click('#logout');
    await page.waitForSelector('#login-form');
    check(
        await page.evaluate(() => sessionStorage.getItem('vigil.token') === null),
        'logging out forgets the token');
    await context.close();
}

async function readSession(browser) {
    const context = await browser.newContext({viewport: {width: 1280, height: 900}});
    const page = await context.newPage();
    const problems = [];
    watch(page, problems);
    await login(page, READ);
    check((await page.textContent('.role')) === 'read only', 'a read token is shown as read only');

    await visit(page, problems, 'read-alerts', '#/alerts', '.alerts-table');
    const actions = await page.$$eval('#page .action, #page .suppress-form', (n) => n.length);
    check(actions === 0, `a read token sees no alert actions (${actions})`);
    const alertId =
        await page.$eval('.alerts-table tbody tr[data-state=open]', (row) => row.dataset.alertId)
            .catch(() => null);
    if (alertId !== null) {
        await page.click(`.alerts-table tr[data-alert-id="${alertId}"] .alert-title`);
        await page.waitForSelector('#alert-detail .evidence', {timeout: STEP_MS});
        check(
            (await page.$$eval('#alert-detail button.action', (n) => n.length)) === 0,
            'the alert\'s detail offers no action to a read token');
        // Forced anyway, from the page with its own token: the API answers 403 and nothing changes.
        const forced = await page.evaluate(async (id) => {
            const response = await fetch(`/api/alerts/${id}/ack`, {
                method: 'POST',
                headers: {Authorization: `Bearer ${sessionStorage.getItem('vigil.token')}`}
            });
            return response.status;
        }, alertId);
        check(forced === 403, `a forced acknowledge with the read token answers 403 (${forced})`);
        const {body} = await api('GET', `/api/alerts/${alertId}`, ADMIN);
        check(body && body.state === 'open', `the alert stayed open (${body && body.state})`);
    } else {
        check(false, 'an open alert is listed for the read token');
    }
    problems.length = 0;  // the forced 403 is logged by the browser

    await visit(
        page, problems, 'read-device', `#/devices/${encodeURIComponent(DEVICE)}`,
        '[data-chart=bytes] canvas');
    check((await page.$$('#config-form')).length === 0, 'a read token gets no config form');
    await visit(page, problems, 'read-recommendations', '#/recommendations', 'section.kind');
    check((await page.$$('.dismiss-form')).length === 0, 'a read token gets no dismiss form');
    await context.close();
}

async function main() {
    mkdirSync(ARTIFACTS, {recursive: true});
    const browser = await chromium.launch({
        executablePath: env.VIGIL_WEB_CHROMIUM || '/usr/bin/chromium',
        headless: true,
        // Root in a container: chromium's sandbox needs user namespaces it may not have.
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    try {
        await adminSession(browser);
        await readSession(browser);
    } catch (error) {
        check(false, `the browser session ran to its end: ${error.stack || error}`);
    } finally {
        await browser.close();
    }
    console.log(`screenshots in ${ARTIFACTS}`);
    console.log(failures.length ? `${failures.length} check(s) failed` : 'all checks passed');
    process.exit(failures.length ? 1 : 0);
}

main();
