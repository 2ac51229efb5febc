import {chromium} from 'playwright-core';
const [base, token, out, hash, height] = process.argv.slice(2);
const browser = await chromium.launch({executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage']});
const page = await browser.newPage({viewport: {width: 1280, height: Number(height || 1000)}});
await page.goto(`${base}/`);
await page.fill('#token', token);
await page.click('#login-form button[type=submit]');
await page.waitForSelector('header.top');
if (hash) { await page.evaluate((h) => (location.hash = h), hash); }
await page.waitForTimeout(4000);
await page.screenshot({path: out, fullPage: false});
await browser.close();
