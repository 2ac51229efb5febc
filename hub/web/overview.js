// The fleet at a glance: devices by state, versions, open alerts and recommendations by
// severity, the alerts' timeline, what the stream brings, and every device in pages.

import {enc, get, query} from './api.js';
import {alertTimeline} from './charts.js';
import {el, fill, formatNumber, link, section, stateBadge, table, timeCell} from './dom.js';
import {liveFeed} from './live_feed.js';

const PAGE_SIZE = 25;
const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low'];

export async function render(session) {
    const summary = el('div', {class: 'summary'});
    const devices = el('div', {id: 'devices'});
    const feed =
        liveFeed('Alerts and device changes appear here as they happen, while this page is open.');
    const fleetLine = el('p', {
        class: 'muted',
        id: 'fleet-line',
        text: 'Waiting for the fleet\'s first reports on the stream.'
    });
    const node = el(
        'div',
        {class: 'page overview'},
        el('h1', {text: 'Fleet'}),
        summary,
        el('div', {class: 'columns'}, section('Live activity', fleetLine, feed.node)),
        section('Devices', devices),
    );

    async function refreshSummary() {
        const overview = await get('/api/overview');
        fill(summary, summaryCards(overview));
    }

    // The device table, paged forwards with the API's after cursor; the cursors of the pages
    // seen are kept to go back.
    const cursors = [''];
    async function showDevices(page) {
        const answer = await get(`/api/devices${query({limit: PAGE_SIZE, after: cursors[page]})}`);
        if (answer.next_after && answer.devices.length === PAGE_SIZE) {
            cursors[page + 1] = answer.next_after;
        } else {
            cursors.length = page + 1;
        }
        fill(
            devices,
            table(
                [
                    {title: 'Device', cell: (d) => link(`/devices/${enc(d.id)}`, d.id)},
                    {title: 'State', cell: (d) => stateBadge(d.state)},
                    {title: 'Enrolment', cell: (d) => d.enrolment},
                    {title: 'Agent', cell: (d) => d.agent_version || ''},
                    {title: 'Format', cell: (d) => d.format || ''},
                    {title: 'Last seen', cell: (d) => timeCell(d.last_seen_ms)},
                    {title: 'Messages', class: 'num', cell: (d) => formatNumber(d.messages)},
                    {
                        title: 'Config (desired / applied)',
                        cell: (d) => `${d.desired_config_version ?? '-'} / ${
                            d.applied_config_version ?? '-'}`
                    },
                ],
                answer.devices,
                'No devices yet. They appear here when they are enrolled (vigil devices add) or first report.',
                {class: 'devices-table'},
                ),
            el(
                'div',
                {class: 'pager'},
                el('button', {
                    type: 'button',
                    text: 'Previous',
                    disabled: page === 0,
                    onclick: () => showDevices(page - 1)
                }),
                el('span', {class: 'muted', text: `Page ${page + 1}`}),
                el('button', {
                    type: 'button',
                    id: 'devices-next',
                    text: 'Next',
                    disabled: !cursors[page + 1],
                    onclick: () => showDevices(page + 1)
                }),
                ),
        );
        devicePage = page;
    }
    let devicePage = 0;

    await Promise.all([refreshSummary(), showDevices(0)]);

    let pending = null;
    function later(work) {
        clearTimeout(pending);
        pending = setTimeout(() => work().catch(() => {}), 1500);
    }
    function onEvent(type, data) {
        if (type === 'fleet') {
            fleetLine.textContent =
                `${formatNumber(data.reported)} reports stored lately; the latest `;
            fleetLine.append(timeCell(data.last_report_ms));
            return;
        }
        feed.add(type, data);
        later(
            () => Promise.all(
                [refreshSummary(), type === 'device' ? showDevices(devicePage) : null]));
    }
    return {node, title: 'Fleet', onEvent};
}

function countsCard(title, counts, order, emptyText, linkFor) {
    const entries = order ? order.map((k) => [k, counts[k] || 0]) : Object.entries(counts || {});
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    return el(
        'section',
        {class: 'card stat'},
        el('h2', {text: title}),
        el('p', {class: 'big', text: formatNumber(total)}),
        total === 0 && emptyText ?
            el('p', {class: 'muted small', text: emptyText}) :
            el(
                'ul',
                {class: 'counts'},
                entries.map(
                    ([key, n]) => el(
                        'li',
                        {class: order ? `sev-line sev-${key}` : ''},
                        linkFor && n > 0 ? link(linkFor(key), key) : el('span', {text: key}),
                        el('span', {class: 'num', text: formatNumber(n)}),
                        ),
                    ),
                ),
    );
}

function versionsCard(versions) {
    const agent = versions.agent || [];
    const firmware = versions.firmware || [];
    return el(
        'section',
        {class: 'card versions'},
        el('h2', {text: 'Versions'}),
        table(
            [
                {title: 'Agent', cell: (v) => v.version || 'unknown'},
                {title: 'Devices', class: 'num', cell: (v) => formatNumber(v.devices)},
            ],
            agent,
            'No agent has reported its version yet.',
            ),
        table(
            [
                {title: 'OS', cell: (v) => v.os || 'unknown'},
                {title: 'Firmware', cell: (v) => v.version || ''},
                {title: 'Devices', class: 'num', cell: (v) => formatNumber(v.devices)},
            ],
            firmware,
            'No device has reported its system information yet.',
            ),
    );
}

function summaryCards(overview) {
    const devices = overview.devices || {};
    const seen = devices.seen_since || {};
    const alerts = overview.alerts || {};
    const timeline = overview.alert_timeline || {buckets: []};
    const raised =
        (timeline.buckets ||
         []).reduce((sum, b) => sum + SEVERITY_ORDER.reduce((s, k) => s + (b[k] || 0), 0), 0);
    return [
        el(
            'div',
            {class: 'cards'},
            el(
                'section',
                {class: 'card stat'},
                el('h2', {text: 'Devices'}),
                el('p', {class: 'big', text: formatNumber(devices.total || 0)}),
                el(
                    'ul',
                    {class: 'counts'},
                    Object.entries(devices.by_state || {})
                        .map(
                            ([state, n]) =>
                                el('li', {}, stateBadge(state),
                                   el('span', {class: 'num', text: formatNumber(n)}))),
                    el('li', {}, el('span', {text: 'seen in the last hour'}),
                       el('span', {class: 'num', text: formatNumber(seen.hour || 0)})),
                    el('li', {}, el('span', {text: 'seen in the last day'}),
                       el('span', {class: 'num', text: formatNumber(seen.day || 0)})),
                    Object.entries(devices.by_enrolment || {})
                        .map(
                            ([state, n]) =>
                                el('li', {}, el('span', {text: `enrolment ${state}`}),
                                   el('span', {class: 'num', text: formatNumber(n)}))),
                    ),
                ),
            countsCard(
                'Open alerts',
                alerts.open_by_severity || {},
                SEVERITY_ORDER,
                'Nothing open: alerts appear here when detection finds something.',
                (severity) => `/alerts?state=open&severity=${severity}`,
                ),
            countsCard(
                'Open recommendations',
                (overview.recommendations || {}).open_by_severity || {},
                SEVERITY_ORDER,
                'Nothing to fix: hygiene findings appear here as devices report.',
                () => '/recommendations',
                ),
            versionsCard(overview.versions || {}),
            ),
        el(
            'section',
            {class: 'card timeline'},
            el('h2', {text: 'Alerts raised'}),
            el('p', {
                class: 'muted small',
                text: `${formatNumber(raised)} alerts raised, ${
                    formatNumber(alerts.acknowledged || 0)} acknowledged and still unresolved.`
            }),
            raised === 0 ? el('p', {
                class: 'empty',
                text:
                    'No alert was raised in this period; the chart shows them by severity when there are.'
            }) :
                           null,
            alertTimeline(timeline),
            ),
    ];
}
