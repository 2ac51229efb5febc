// The dashboard's shell: the login form, the header (navigation, the live indicator, logout)
// and the hash router that shows one page at a time.

import * as alerts from './alerts.js';
import {ApiError, forgetToken, login, onUnauthorised, token} from './api.js';
import * as device from './device.js';
import {el, fill, notice} from './dom.js';
import * as overview from './overview.js';
import * as policy from './policy.js';
import * as recommendations from './recommendations.js';
import {LiveStream} from './stream.js';

const ROUTES = [
    {pattern: /^\/$/, page: overview, nav: '/'},
    {pattern: /^\/devices\/([^/]+)$/, page: device, nav: '/'},
    {pattern: /^\/alerts$/, page: alerts, nav: '/alerts'},
    {pattern: /^\/recommendations$/, page: recommendations, nav: '/recommendations'},
    {pattern: /^\/policy$/, page: policy, nav: '/policy'},
];
const NAV = [
    ['/', 'Fleet'],
    ['/alerts', 'Alerts'],
    ['/recommendations', 'Recommendations'],
    ['/policy', 'Policy'],
];
const ROLE_KEY = 'vigil.role';

const root = document.getElementById('app');
const session = {
    role: sessionStorage.getItem(ROLE_KEY),
    get canChange() { return this.role === 'admin'; },
    stream: null,
    current: null,
    // Listeners of stream events: the page shown, and the header's activity count.
    listeners: new Set(),
};

function showLogin(message) {
    if (session.stream) {
        session.stream.stop();
        session.stream = null;
    }
    const input = el('input', {
        type: 'password',
        id: 'token',
        name: 'token',
        autocomplete: 'off',
        required: true,
        placeholder: 'vigil_...',
        'aria-label': 'API token',
    });
    const status = el('div', {class: 'login-status'}, message ? notice('error', message) : null);
    const form = el(
        'form',
        {class: 'login card', id: 'login-form'},
        el('h1', {text: 'Vigil'}),
        el('p', {
            text:
                'Sign in with an API token. It is kept in this tab only and forgotten when the tab closes.'
        }),
        el('label',
           {for: 'token', text: 'API token'
           }),
        input,
        el('button', {type: 'submit', class: 'primary', text: 'Sign in'}),
        status,
        el('p', {
            class: 'muted small',
            text:
                'The hub wrote its first admin token to <data>/admin.token; "vigil tokens add NAME --role read" makes a read-only one.',
        }),
    );
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        fill(status, el('p', {class: 'muted', text: 'Checking the token...'}));
        try {
            session.role = await login(input.value.trim());
            sessionStorage.setItem(ROLE_KEY, session.role);
            start();
        } catch (error) {
            const text = error instanceof ApiError && error.status === 401 ?
                'That token is not valid (the hub answered 401 unauthorized).' :
                `The hub could not check the token: ${error.message}`;
            fill(status, notice('error', text));
            input.select();
        }
    });
    fill(root, el('main', {class: 'login-page'}, form));
    input.focus();
}

function logout() {
    forgetToken();
    sessionStorage.removeItem(ROLE_KEY);
    session.role = null;
    location.hash = '#/';
    showLogin();
}

function header() {
    const indicator =
        el('span', {class: 'live live-down', id: 'live', role: 'status', text: 'connecting'});
    const nav = el(
        'nav',
        {},
        NAV.map(([route, text]) => el('a', {href: '#' + route, text, dataset: {route}})),
    );
    return el(
        'header',
        {class: 'top'},
        el('a', {class: 'brand', href: '#/', text: 'Vigil'}),
        nav,
        el('span', {class: 'spacer'}),
        indicator,
        el('span', {
            class: `role role-${session.role}`,
            text: session.role === 'admin' ? 'admin' : 'read only',
            title: session.role === 'admin' ? 'This token may change things' :
                                              'This token can look but not change anything',
        }),
        el('button', {type: 'button', id: 'logout', text: 'Log out', onclick: logout}),
    );
}

function setLive({live, text}) {
    const indicator = document.getElementById('live');
    if (indicator) {
        indicator.textContent = text;
        indicator.className = live ? 'live live-up' : 'live live-down';
        indicator.title = live ? 'New alerts and device changes appear as they happen' :
                                 'The event stream is down: pages show what they last loaded';
    }
}

function start() {
    fill(root, header(), el('main', {id: 'page'}));
    session.stream = new LiveStream({
        onEvent: (type, data) => session.listeners.forEach((listener) => listener(type, data)),
        onState: setLive,
    });
    session.stream.start();
    route();
}

let routeSerial = 0;
async function route() {
    const page = document.getElementById('page');
    if (!page) {
        return;
    }
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path, search = ''] = hash.split('?');
    const params = new URLSearchParams(search);
    const match = ROUTES.map((r) => ({r, m: path.match(r.pattern)})).find((x) => x.m);
    for (const a of document.querySelectorAll('header nav a')) {
        a.classList.toggle('active', match && a.dataset.route === match.r.nav);
    }
    if (session.current && session.current.onEvent) {
        session.listeners.delete(session.current.onEvent);
    }
    session.current = null;
    const serial = ++routeSerial;
    fill(page, el('p', {class: 'muted loading', text: 'Loading...'}));
    if (!match) {
        fill(page, notice('error', `There is no page ${path}.`));
        return;
    }
    try {
        const view = await match.r.page.render(
            session, [...match.m].slice(1).map(decodeURIComponent), params);
        if (serial !== routeSerial) {
            return;  // Another page was asked for meanwhile.
        }
        session.current = view;
        if (view.onEvent) {
            session.listeners.add(view.onEvent);
        }
        fill(page, view.node);
        document.title = `${view.title} - Vigil`;
    } catch (error) {
        if (serial === routeSerial) {
            fill(page, notice('error', `This page could not be loaded: ${error.message}`));
        }
    }
}

onUnauthorised(() => {
    forgetToken();
    showLogin('The hub no longer accepts this token (401). Sign in again.');
});
window.addEventListener('hashchange', route);

if (token() && session.role) {
    start();
} else {
    showLogin();
}
