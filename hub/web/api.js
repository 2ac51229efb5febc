// The hub's HTTP API, as the command line uses it: a bearer token on every request. The token
// lives in this browser tab's sessionStorage only, so closing the tab forgets it.

const TOKEN_KEY = 'vigil.token';

export class ApiError extends Error {
    constructor(status, code, detail) {
        super(detail ? `${status} ${code}: ${detail}` : `${status} ${code}`);
        this.status = status;
        this.code = code;
        this.detail = detail;
    }
}

export function token() { return sessionStorage.getItem(TOKEN_KEY); }

export function forgetToken() { sessionStorage.removeItem(TOKEN_KEY); }

function headers(extra = {}, bearer = token()) {
    return {Authorization: `Bearer ${bearer}`, ...extra};
}

async function errorOf(response) {
    let code = `http_${response.status}`;
    let detail = response.statusText;
    try {
        const body = await response.json();
        code = body.error || code;
        detail = body.detail || detail;
    } catch {
        // Not JSON (a proxy's page): the status says enough.
    }
    return new ApiError(response.status, code, detail);
}

// Listeners told when the API answers 401: the token was revoked or is wrong.
const unauthorisedListeners = [];
export function onUnauthorised(listener) { unauthorisedListeners.push(listener); }

export async function request(method, path, body, bearer) {
    const init = {method, headers: headers({}, bearer || token())};
    if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) {
        const error = await errorOf(response);
        if (response.status === 401 && !bearer) {
            unauthorisedListeners.forEach((listener) => listener(error));
        }
        throw error;
    }
    if (response.status === 204) {
        return null;
    }
    return response.json();
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);

// Checks a token and learns its role: /api/tokens answers an admin token only, a read token
// gets 403 there, and a wrong one 401. Keeps the token when it is valid.
export async function login(candidate) {
    try {
        await request('GET', '/api/tokens', undefined, candidate);
        sessionStorage.setItem(TOKEN_KEY, candidate);
        return 'admin';
    } catch (error) {
        if (error instanceof ApiError && error.status === 403) {
            sessionStorage.setItem(TOKEN_KEY, candidate);
            return 'read';
        }
        throw error;
    }
}

export function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
        if (value !== undefined && value !== null && value !== '') {
            search.set(key, value);
        }
    }
    const text = search.toString();
    return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;
