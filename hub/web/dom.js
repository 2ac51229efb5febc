// Building the page from data. Everything a device, an alert or the policy says arrives as text
// and goes into the DOM through textContent or attributes, never as markup: device ids,
// versions and evidence come from the devices and may be hostile.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];

// el("td", {class: "num", text: "3", title: "..."}, child, ...). Children: nodes, strings
// (as text), arrays of either, or null (skipped).
export function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
        if (value === undefined || value === null || value === false) {
            continue;
        }
        if (key === 'text') {
            node.textContent = String(value);
        } else if (key === 'class') {
            node.className = value;
        } else if (key.startsWith('on')) {
            node.addEventListener(key.slice(2), value);
        } else if (key === 'dataset') {
            Object.assign(node.dataset, value);
        } else if (value === true) {
            node.setAttribute(key, '');
        } else {
            node.setAttribute(key, String(value));
        }
    }
    append(node, children);
    return node;
}

function append(node, children) {
    for (const child of children) {
        if (child === null || child === undefined || child === false) {
            continue;
        }
        if (Array.isArray(child)) {
            append(node, child);
        } else if (child instanceof Node) {
            node.appendChild(child);
        } else {
            node.appendChild(document.createTextNode(String(child)));
        }
    }
}

export function clear(node) {
    node.replaceChildren();
    return node;
}

// Replaces a node's children, taking what el() takes as children.
export function fill(node, ...children) {
    node.replaceChildren();
    append(node, children);
    return node;
}

// A link inside the app: href="#/..." (the hash router follows it).
export function link(route, text, props = {}) {
    return el('a', {...props, href: '#' + route, text});
}

export function severityBadge(severity) {
    const known = SEVERITIES.includes(severity) ? severity : 'info';
    return el('span', {class: `badge sev-${known}`, text: severity || 'unknown'});
}

export function stateBadge(state) {
    if (!state) {
        // A device enrolled that has not reported has said no state yet.
        return el('span', {class: 'muted', text: 'not reported'});
    }
    return el('span', {class: `badge state-${String(state).replace(/[^a-z_]/g, '')}`, text: state});
}

const UNITS = [
    ['year', 365 * 24 * 3600e3],
    ['month', 30 * 24 * 3600e3],
    ['week', 7 * 24 * 3600e3],
    ['day', 24 * 3600e3],
    ['hour', 3600e3],
    ['minute', 60e3],
    ['second', 1e3],
];
const relativeFormat = new Intl.RelativeTimeFormat(undefined, {numeric: 'auto'});

export function relativeTime(ms, now = Date.now()) {
    const delta = ms - now;
    for (const [unit, size] of UNITS) {
        if (Math.abs(delta) >= size || unit === 'second') {
            return relativeFormat.format(Math.round(delta / size), unit);
        }
    }
    return '';
}

export function absoluteTime(ms) { return new Date(ms).toLocaleString(undefined, {hour12: false}); }

// A time shown relative ("3 minutes ago") with the absolute one on hover; null or 0 as "never".
export function timeCell(ms, never = 'never') {
    if (ms === null || ms === undefined || ms === 0) {
        return el('span', {class: 'muted', text: never});
    }
    return el(
        'time',
        {datetime: new Date(ms).toISOString(), title: absoluteTime(ms), text: relativeTime(ms)});
}

export function formatBytes(bytes) {
    if (bytes === null || bytes === undefined) {
        return '';
    }
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let value = Number(bytes);
    let unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatNumber(value) {
    return value === null || value === undefined ? '' : Number(value).toLocaleString();
}

// A table: columns [{title, cell(row) -> node|string, class}], an empty state that says what
// will appear there.
export function table(columns, rows, emptyText, props = {}) {
    if (!rows || rows.length === 0) {
        return el('p', {class: 'empty', text: emptyText});
    }
    return el(
        'table',
        props,
        el('thead', {},
           el('tr', {}, columns.map((c) => el('th', {class: c.class, text: c.title})))),
        el(
            'tbody',
            {},
            rows.map(
                (row) => el(
                    'tr',
                    rowProps(row),
                    columns.map((c) => el('td', {class: c.class}, c.cell(row))),
                    ),
                ),
            ),
    );
}

function rowProps(row) { return row && row.__rowProps ? row.__rowProps : {}; }

export function section(title, ...children) {
    return el('section', {class: 'card'}, el('h2', {text: title}), children);
}

// A key/value list of a flat object's scalar fields.
export function facts(pairs) {
    return el(
        'dl',
        {class: 'facts'},
        pairs.filter(([, value]) => value !== undefined)
            .map(
                ([key, value]) =>
                    [el('dt', {text: key}),
                     el('dd', {},
                        value instanceof Node ? value :
                            value === null || value === '' ?
                                                el('span', {class: 'muted', text: 'none'}) :
                                                String(value)),
    ]),
    );
}

function scalarText(value) {
    if (value === null) {
        return 'null';
    }
    if (typeof value === 'object') {
        return JSON.stringify(value);
    }
    return String(value);
}

// Any JSON the hub embeds as is (evidence, the policy): arrays of objects become tables (the
// flows and windows of an alert's evidence), objects key/value lists, scalars text.
export function jsonView(value, depth = 0) {
    if (value === null || typeof value !== 'object') {
        return el('span', {class: 'json-scalar', text: scalarText(value)});
    }
    if (Array.isArray(value)) {
        if (value.length === 0) {
            return el('span', {class: 'muted', text: 'none'});
        }
        if (value.every(
                (item) => item !== null && typeof item === 'object' && !Array.isArray(item))) {
            const keys = [];
            for (const item of value) {
                for (const key of Object.keys(item)) {
                    if (!keys.includes(key)) {
                        keys.push(key);
                    }
                }
            }
            return el(
                'table',
                {class: 'json-table'},
                el('thead', {}, el('tr', {}, keys.map((k) => el('th', {text: k})))),
                el(
                    'tbody',
                    {},
                    value.map(
                        (item) => el(
                            'tr',
                            {},
                            keys.map(
                                (k) => el('td', {}, k in item ? jsonView(item[k], depth + 1) : '')),
                            ),
                        ),
                    ),
            );
        }
        if (value.every((item) => item === null || typeof item !== 'object')) {
            return el('span', {class: 'json-scalar', text: value.map(scalarText).join(', ')});
        }
        return el(
            'ol', {class: 'json-list'},
            value.map((item) => el('li', {}, jsonView(item, depth + 1))));
    }
    const keys = Object.keys(value);
    if (keys.length === 0) {
        return el('span', {class: 'muted', text: 'none'});
    }
    return el(
        'dl',
        {class: 'json-object'},
        keys.map((key) => [el('dt', {text: key}), el('dd', {}, jsonView(value[key], depth + 1))]),
    );
}

// A message line for errors and outcomes; kind "error" or "ok".
export function notice(kind, text) {
    return el(
        'p', {class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', text});
}
