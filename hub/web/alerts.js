// Alerts: filtered by severity, category, device, group and state (kept in the page's address,
// so a filtered view can be linked); one alert's evidence as tables; acknowledge, resolve and
// suppress for admin tokens.

import {ApiError, enc, get, post, query} from './api.js';
import {clear, el, facts, fill, formatNumber, jsonView, link, notice, SEVERITIES, severityBadge, stateBadge, table, timeCell} from './dom.js';

const CATEGORIES = [
    'malicious_ip',
    'port_scan_inbound',
    'scan_outbound',
    'flood',
    'allowlist_violation',
    'new_listening_port',
    'exfiltration',
    'beaconing',
    'device_silence',
    'baseline_deviation',
    'threshold',
    'agent_health',
];
const STATES = ['open', 'acknowledged', 'resolved'];
const FILTERS = ['severity', 'category', 'device', 'group', 'state'];
const PAGE_SIZE = 50;

export async function render(session, _, params) {
    const filters = Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || '']));
    const listBox = el('div', {id: 'alerts-list'});
    const detailBox = el('div', {id: 'alert-detail'});
    const node =
        el('div', {class: 'page alerts'}, el('h1', {text: 'Alerts'}), filterForm(filters),
           detailBox, listBox);

    // Pages backwards in time: each page's before cursor is kept to go forward again.
    const cursors = [''];
    let page = 0;
    async function showList() {
        const answer =
            await get(`/api/alerts${query({...filters, limit: PAGE_SIZE, before: cursors[page]})}`);
        cursors[page + 1] = answer.alerts.length === PAGE_SIZE ? answer.next_before : undefined;
        fill(
            listBox,
            table(
                [
                    {title: 'Severity', cell: (a) => severityBadge(a.severity)},
                    {
                        title: 'Alert',
                        cell: (a) => el('a', {
                            href: '#',
                            class: 'alert-title',
                            text: a.title || a.type,
                            onclick: (e) => (e.preventDefault(), showDetail(a.id))
                        })
                    },
                    {
                        title: 'Device',
                        cell: (a) => link(`/devices/${enc(a.device_id)}`, a.device_id)
                    },
                    {title: 'Category', cell: (a) => a.category},
                    {
                        title: 'State',
                        cell: (a) =>
                            [stateBadge(a.state),
                             a.suppressed_by ?
                                 el('span', {class: 'muted small', text: ' suppressed'}) :
                                 null]
                    },
                    {title: 'Count', class: 'num', cell: (a) => formatNumber(a.count)},
                    {title: 'Last raised', cell: (a) => timeCell(a.last_raised_ms)},
                    {title: '', cell: (a) => actionButtons(session, a, afterAction)},
                ],
                answer.alerts.map(
                    (a) => ({...a, __rowProps: {dataset: {alertId: a.id, state: a.state}}})),
                anyFilter(filters) ?
                    'No alerts match these filters.' :
                    'No alerts yet. When detection finds a scan, a flood, a new listening port or traffic to a listed address, the alert appears here at once.',
                {class: 'alerts-table'},
                ),
            el(
                'div',
                {class: 'pager'},
                el('button', {
                    type: 'button',
                    text: 'Newer',
                    disabled: page === 0,
                    onclick: () => ((page -= 1), showList())
                }),
                el('span', {class: 'muted', text: `Page ${page + 1}`}),
                el('button', {
                    type: 'button',
                    text: 'Older',
                    disabled: !cursors[page + 1],
                    onclick: () => ((page += 1), showList())
                }),
                ),
        );
    }

    let shown = null;
    async function showDetail(id) {
        shown = id;
        fill(detailBox, el('p', {class: 'muted', text: 'Loading...'}));
        try {
            const alert = await get(`/api/alerts/${enc(id)}`);
            fill(
                detailBox,
                alertDetail(session, alert, afterAction, () => ((shown = null), clear(detailBox))));
            detailBox.scrollIntoView({block: 'nearest'});
        } catch (error) {
            fill(detailBox, notice('error', error.message));
        }
    }
    async function afterAction(refreshDetail = true) {
        await showList();
        if (refreshDetail && shown !== null) {
            await showDetail(shown);
        }
    }

    await showList();
    if (params.get('open')) {
        await showDetail(params.get('open'));
    }

    let pending = null;
    function onEvent(type, data) {
        if (!['opened', 'repeated', 'acknowledged', 'resolved'].includes(type)) {
            return;
        }
        clearTimeout(pending);
        pending = setTimeout(() => {
            if (page === 0) {
                showList().catch(() => {});
            }
            if (shown !== null && Number(shown) === data.id) {
                showDetail(shown);
            }
        }, 300);
    }
    return {node, title: 'Alerts', onEvent};
}

function anyFilter(filters) { return Object.values(filters).some((v) => v); }

function filterForm(filters) {
    const choice = (name, values) => el(
        'label',
        {},
        name,
        el(
            'select',
            {name, id: `filter-${name}`},
            el('option', {value: '', text: 'any'}),
            values.map(
                (v) =>
                    el('option',
                       {value: v, text: v.replace(/_/g, ' '), selected: filters[name] === v})),
            ),
    );
    const text = (name, placeholder) => el(
        'label', {}, name,
        el('input',
           {name, id: `filter-${name}`, value: filters[name], placeholder, autocomplete: 'off'}));
    const form = el(
        'form',
        {class: 'filters', id: 'alert-filters'},
        choice('severity', SEVERITIES),
        choice('category', CATEGORIES),
        text('device', 'device id'),
        text('group', 'group'),
        choice('state', STATES),
        el('button', {type: 'submit', text: 'Filter'}),
        el('a', {href: '#/alerts', text: 'clear'}),
    );
    form.addEventListener('submit', (event) => {
        event.preventDefault();
        const data = new FormData(form);
        location.hash = `#/alerts${
            query(Object.fromEntries(FILTERS.map((n) => [n, String(data.get(n) || '').trim()])))}`;
    });
    form.addEventListener('change', (event) => {
        if (event.target.tagName === 'SELECT') {
            form.requestSubmit();
        }
    });
    return form;
}

function actionButtons(session, alert, after) {
    if (!session.canChange || alert.state === 'resolved') {
        return null;
    }
    const outcome = el('span', {class: 'outcome'});
    const act = (what, label) => el('button', {
        type: 'button',
        class: `action action-${what}`,
        text: label,
        onclick: async () => {
            clear(outcome);
            try {
                await post(`/api/alerts/${enc(alert.id)}/${what}`);
                await after();
            } catch (error) {
                outcome.append(notice('error', error.message));
            }
        },
    });
    return el(
        'span', {class: 'actions'}, alert.state === 'open' ? act('ack', 'Acknowledge') : null,
        act('resolve', 'Resolve'), outcome);
}

function alertDetail(session, alert, after, close) {
    return el(
        'section',
        {class: 'card detail', dataset: {alertId: alert.id}},
        el('button', {type: 'button', class: 'close', text: 'Close', onclick: close}),
        el('h2', {}, severityBadge(alert.severity), ' ',
           el('span', {text: alert.title || alert.type})),
        el('p', {text: alert.description}),
        alert.remediation ? el('p', {class: 'remediation'}, el('strong', {text: 'What to do: '}),
                               alert.remediation) :
                            null,
        facts([
            ['device', link(`/devices/${enc(alert.device_id)}`, alert.device_id)],
            ['type', alert.type],
            ['subject', alert.subject],
            ['state', stateBadge(alert.state)],
            ['technique', alert.technique],
            ['count', formatNumber(alert.count)],
            ['first observed (device time)', timeCell(alert.first_observed_ms)],
            ['last observed (device time)', timeCell(alert.last_observed_ms)],
            ['raised', timeCell(alert.raised_ms)],
            [
                'changed',
                alert.changed_ms ?
                    el('span', {}, timeCell(alert.changed_ms), ` by ${alert.changed_by}`) :
                    null
            ],
            [
                'suppressed by',
                alert.suppressed_by === null ? undefined : String(alert.suppressed_by)
            ],
        ]),
        el('h3', {text: 'Evidence'}),
        el('div', {class: 'evidence'},
           alert.evidence ?
               jsonView(alert.evidence) :
               el('p', {class: 'empty', text: 'Detection recorded no evidence for this alert.'})),
        session.canChange ?
            [
                el('h3', {text: 'Act'}), actionButtons(session, alert, after),
                suppressForm(alert, after)
            ] :
            el('p', {
                class: 'muted',
                text:
                    'Acknowledging, resolving and suppressing need an admin token; this one is read only.'
            }),
    );
}

function suppressForm(alert, after) {
    const outcome = el('div', {class: 'outcome'});
    const form = el(
        'form',
        {class: 'suppress-form'},
        el('label', {}, 'for',
           el('select', {name: 'duration_s'},
              [['3600', '1 hour'], ['86400', '1 day'], ['604800', '1 week'], ['', 'until removed']]
                  .map(([v, t]) => el('option', {value: v, text: t})))),
        el('label', {}, 'scope',
           el('select', {name: 'scope'}, el('option', {value: 'device', text: 'this device'}),
              el('option', {value: 'group', text: 'its group'}))),
        el('label', {class: 'grow'}, 'reason',
           el('input', {name: 'reason', maxlength: 1000, placeholder: 'why this is expected'})),
        el('button', {type: 'submit', class: 'action action-suppress', text: 'Suppress'}),
        outcome,
    );
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const body = {scope: data.get('scope')};
        if (data.get('duration_s')) {
            body.duration_s = Number(data.get('duration_s'));
        }
        if (data.get('reason')) {
            body.reason = data.get('reason');
        }
        clear(outcome);
        try {
            const made = await post(`/api/alerts/${enc(alert.id)}/suppress`, body);
            outcome.append(notice(
                'ok',
                `Suppression ${
                    made.name} made: new alerts of this finding are kept but sent nowhere.`));
            await after(false);
        } catch (error) {
            outcome.append(
                notice('error', error instanceof ApiError ? error.message : String(error)));
        }
    });
    return form;
}
