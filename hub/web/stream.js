// The hub's event stream (/api/alerts/stream): server-sent events read with fetch(), because
// EventSource cannot send the Authorization header. Reconnects with a growing delay when the
// stream ends or fails, and tells its listeners whether it is live.

import {token} from './api.js';

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 30000;

export class LiveStream {
    constructor({onEvent, onState}) {
        this.onEvent = onEvent;
        this.onState = onState;
        this.retryMs = FIRST_RETRY_MS;
        this.controller = null;
        this.timer = null;
        this.stopped = true;
    }

    start() {
        this.stopped = false;
        this.connect();
    }

    stop() {
        this.stopped = true;
        clearTimeout(this.timer);
        if (this.controller) {
            this.controller.abort();
        }
        this.onState({live: false, text: 'off'});
    }

    async connect() {
        this.controller = new AbortController();
        this.onState({live: false, text: 'connecting'});
        let why = 'ended';
        try {
            const response = await fetch('/api/alerts/stream', {
                headers: {Authorization: `Bearer ${token()}`, Accept: 'text/event-stream'},
                signal: this.controller.signal,
                cache: 'no-store',
            });
            if (!response.ok) {
                why = `refused (${response.status})`;
            } else {
                await this.read(response.body.getReader());
            }
        } catch (error) {
            why = error.name === 'AbortError' ? 'stopped' : 'unreachable';
        }
        if (this.stopped) {
            return;
        }
        const seconds = Math.round(this.retryMs / 1000);
        this.onState({live: false, text: `down (${why}), retrying in ${seconds} s`});
        this.timer = setTimeout(() => this.connect(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, LONGEST_RETRY_MS);
    }

    async read(reader) {
        const decoder = new TextDecoder();
        let buffer = '';
        let announced = false;
        for (;;) {
            const {value, done} = await reader.read();
            if (done) {
                return;
            }
            if (!announced) {
                // The first bytes (": subscribed") mean the hub accepted us.
                announced = true;
                this.retryMs = FIRST_RETRY_MS;
                this.onState({live: true, text: 'live'});
            }
            buffer += decoder.decode(value, {stream: true});
            let end;
            while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
                this.dispatch(block);
            }
        }
    }

    dispatch(block) {
        let type = 'message';
        const data = [];
        for (const line of block.split(/\r?\n/)) {
            if (line.startsWith(':')) {
                continue;
            }
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') {
                type = value;
            } else if (field === 'data') {
                data.push(value);
            }
        }
        if (data.length === 0) {
            return;
        }
        try {
            this.onEvent(type, JSON.parse(data.join('\n')));
        } catch {
            // An event that is not JSON is not one of the hub's: ignore it.
        }
    }
}
