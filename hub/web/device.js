// One device: its traffic over time, peers, listening ports, system information, alerts,
// recommendations and config, with a form to push a new config.

import {ApiError, enc, get, put, query} from './api.js';
import {inOutChart} from './charts.js';
import {clear, el, facts, fill, formatBytes, formatNumber, jsonView, link, notice, section, severityBadge, stateBadge, table, timeCell} from './dom.js';

const RANGES = [
    ['1h', 3600e3],
    ['6h', 6 * 3600e3],
    ['24h', 24 * 3600e3],
    ['7d', 7 * 24 * 3600e3],
];
const POINTS = 120;
// Devices' clocks may run ahead of the hub's (their reports carry device time): the traffic
// asked for reaches this far past now, and the points after the last one with data are cut.
const AHEAD_MS = 15 * 60e3;
const DAY_MS = 24 * 3600e3;

export async function render(session, [id], params) {
    const [detail, config] = await Promise.all([
        // The summary's last day reaches past now by as much as the charts do.
        get(`/api/devices/${enc(id)}${
            query({from: Date.now() - DAY_MS, to: Date.now() + AHEAD_MS})}`),
        get(`/api/devices/${enc(id)}/config`).catch((error) => ({error})),
    ]);
    const device = detail.device;
    const range = RANGES.find(([name]) => name === params.get('range')) || RANGES[0];
    const alertsBox = el('div', {}, el('p', {class: 'muted', text: 'Loading...'}));
    const recommendationsBox = el('div', {}, el('p', {class: 'muted', text: 'Loading...'}));
    const configBox = el('div', {}, configView(session, id, config));
    const chartsBox = el('div', {class: 'charts'}, el('p', {class: 'muted', text: 'Loading...'}));

    const node = el(
        'div',
        {class: 'page device'},
        el('p', {class: 'crumbs'}, link('/', 'Fleet'), ' / '),
        el('h1', {}, el('span', {class: 'device-id', text: device.id}), ' ',
           stateBadge(device.state)),
        facts([
            ['enrolment', device.enrolment],
            ['format', device.format],
            ['agent', device.agent_version],
            ['first seen', timeCell(device.first_seen_ms)],
            ['last seen', timeCell(device.last_seen_ms)],
            ['messages', formatNumber(device.messages)],
        ]),
        section(
            'Traffic',
            el(
                'div',
                {class: 'range'},
                el('span', {class: 'muted', text: 'Period: '}),
                RANGES.map(([name]) => link(`/devices/${enc(id)}?range=${name}`, name, {
                               class: name === range[0] ? 'active' : ''
                           })),
                ),
            chartsBox,
            ),
        el(
            'div',
            {class: 'columns'},
            section('Top remote endpoints', remotesTable(detail.traffic)),
            section(
                'Listening ports', portsTable(detail.listening_ports, detail.ports_received_ms)),
            ),
        el('div', {class: 'columns'}, section('System', systemFacts(detail)),
           section('Agent status', statusFacts(detail))),
        section('Alerts', alertsBox),
        section('Recommendations', recommendationsBox),
        section('Config', configBox),
    );

    async function loadTraffic() {
        const to = Math.max(Date.now(), device.last_seen_ms || 0) + AHEAD_MS;
        const from = to - range[1] - AHEAD_MS;
        const step = Math.max(10e3, Math.round((to - from) / POINTS / 1000) * 1000);
        const answer = await get(`/api/devices/${enc(id)}/traffic${query({from, to, step})}`);
        const points = trimFuture(answer.points || []);
        const any = points.some((p) => p.bytes_in || p.bytes_out || p.packets_in || p.packets_out);
        fill(
            chartsBox,
            any ? null : el('p', {
                class: 'empty',
                text:
                    'No traffic reported in this period: the charts fill in as the device reports.'
            }),
            inOutChart('Bytes', points, 'bytes'),
            inOutChart('Packets', points, 'packets'),
            inOutChart('Connections', points, 'connections'),
        );
    }
    async function loadAlerts() {
        const answer = await get(`/api/alerts${query({device: id, limit: 50})}`);
        fill(
            alertsBox,
            table(
                [
                    {title: 'Severity', cell: (a) => severityBadge(a.severity)},
                    {
                        title: 'Alert',
                        cell: (a) =>
                            link(`/alerts?device=${enc(id)}&open=${a.id}`, a.title || a.type)
                    },
                    {title: 'State', cell: (a) => stateBadge(a.state)},
                    {title: 'Count', class: 'num', cell: (a) => formatNumber(a.count)},
                    {title: 'Last raised', cell: (a) => timeCell(a.last_raised_ms)},
                ],
                answer.alerts,
                'No alerts for this device. Whatever detection finds in its reports appears here.',
                ),
        );
    }
    async function loadRecommendations() {
        const answer = await get(`/api/recommendations${query({device: id, limit: 100})}`);
        fill(
            recommendationsBox,
            table(
                [
                    {title: 'Severity', cell: (r) => severityBadge(r.severity)},
                    {title: 'Recommendation', cell: (r) => r.title || r.kind},
                    {title: 'State', cell: (r) => stateBadge(r.state)},
                    {title: 'Remediation', cell: (r) => r.remediation},
                    {title: 'Updated', cell: (r) => timeCell(r.updated_ms)},
                ],
                answer.recommendations,
                'No recommendations for this device: hygiene findings (firmware, exposed services) appear here.',
                ),
        );
    }
    const failed = (box) => (error) => fill(box, notice('error', error.message));
    await Promise.all([
        loadTraffic().catch(failed(chartsBox)),
        loadAlerts().catch(failed(alertsBox)),
        loadRecommendations().catch(failed(recommendationsBox)),
    ]);

    function onEvent(type, data) {
        if (data.device_id !== id) {
            return;
        }
        if (type === 'device' && data.change === 'config_applied') {
            // The applied version moved: show it, unless a config is being written.
            if (!configBox.contains(document.activeElement)) {
                get(`/api/devices/${enc(id)}/config`)
                    .then((fresh) => fill(configBox, configView(session, id, fresh)))
                    .catch(failed(configBox));
            }
        } else if (['opened', 'repeated', 'acknowledged', 'resolved'].includes(type)) {
            loadAlerts().catch(failed(alertsBox));
        } else if (type.startsWith('recommendation.')) {
            loadRecommendations().catch(failed(recommendationsBox));
        }
    }
    return {node, title: device.id, onEvent};
}

function trimFuture(points) {
    const now = Date.now();
    let last = -1;
    points.forEach((p, i) => {
        if (p.t_ms <= now || p.bytes_in || p.bytes_out || p.packets_in || p.packets_out) {
            last = i;
        }
    });
    return points.slice(0, last + 1);
}

function remotesTable(traffic) {
    const period = traffic ?
        el('p', {class: 'muted small'},
           `In the last day: ${formatNumber(traffic.flows)} flows, ${
               formatBytes(traffic.bytes_in)} in, ${formatBytes(traffic.bytes_out)} out.`) :
        null;
    return [
        period,
        table(
            [
                {title: 'Remote', cell: (r) => el('code', {text: r.remote})},
                {title: 'In', class: 'num', cell: (r) => formatBytes(r.bytes_in)},
                {title: 'Out', class: 'num', cell: (r) => formatBytes(r.bytes_out)},
                {title: 'Flows', class: 'num', cell: (r) => formatNumber(r.flows)},
            ],
            (traffic && traffic.top_remotes) || [],
            'No remote endpoints in the last day: the peers it talks to most appear here.',
            ),
    ];
}

function portsTable(ports, receivedMs) {
    return [
        receivedMs ? el('p', {class: 'muted small'}, 'As reported ', timeCell(receivedMs), '.') :
                     null,
        table(
            [
                {title: 'Port', cell: (p) => el('code', {text: `${p.protocol}/${p.port}`})},
                {title: 'Address', cell: (p) => p.address || 'any'},
            ],
            ports || [],
            'No listening ports reported: the device\'s open ports appear here once it reports them.',
            ),
    ];
}

function systemFacts(detail) {
    const system = detail.system;
    if (!system) {
        return el('p', {
            class: 'empty',
            text:
                'No system information yet: the OS, network stack, board and firmware appear here after the device\'s first system report.'
        });
    }
    return [
        facts(Object.entries(system).map(
            ([key, value]) =>
                [key.replace(/_/g, ' '),
                 Array.isArray(value)                            ? value.join(', ') :
                     typeof value === 'object' && value !== null ? JSON.stringify(value) :
                                                                   value])),
        detail.system_received_ms ?
            el('p', {class: 'muted small'}, 'Reported ', timeCell(detail.system_received_ms), '.') :
            null,
    ];
}

function statusFacts(detail) {
    const status = detail.status;
    if (!status) {
        return el('p', {
            class: 'empty',
            text: 'No heartbeat yet: the agent\'s own counters appear here after its first one.'
        });
    }
    return [
        facts(Object.entries(status).map(
            ([key, value]) =>
                [key.replace(/_/g, ' '),
                 typeof value === 'object' && value !== null ? JSON.stringify(value) : value])),
        detail.status_received_ms ?
            el('p', {class: 'muted small'}, 'Reported ', timeCell(detail.status_received_ms), '.') :
            null,
    ];
}

const EXAMPLE_CONFIG = {
    intervals: {high: 10, medium: 30, low: 60}
};

function configView(session, id, config) {
    if (config.error) {
        return notice('error', config.error.message);
    }
    const desired = config.desired || null;
    const summary = [
        facts([
            ['group', config.group],
            ['desired version', config.desired_version],
            ['applied version', config.applied_version],
            [
                'in sync',
                config.desired_version === null || config.desired_version === undefined ?
                    'nothing pushed' :
                    config.in_sync ? 'yes' :
                                     'no: the device has not applied the desired config yet'
            ],
        ]),
        el('h3', {text: 'Desired settings'}),
        desired && desired.settings ? jsonView(desired.settings) : el('p', {
            class: 'empty',
            text: 'No config pushed to this device: it runs its built-in settings.'
        }),
    ];
    if (!session.canChange) {
        return [
            summary, el('p', {
                class: 'muted',
                text: 'Pushing a config needs an admin token; this one is read only.'
            })
        ];
    }
    const text = el(
        'textarea', {id: 'config-text', rows: 8, spellcheck: 'false', 'aria-label': 'config JSON'});
    text.value =
        JSON.stringify(desired && desired.settings ? desired.settings : EXAMPLE_CONFIG, null, 2);
    const outcome = el('div', {class: 'outcome'});
    const form = el(
        'form',
        {class: 'config-form', id: 'config-form'},
        el('h3', {text: 'Push a new config'}),
        el('p', {
            class: 'muted small',
            text:
                'JSON, any non-empty subset of intervals, collectors, unicast_only, pending_timeout_s, retry_s (docs/hub-api.md). Settings left out keep the values the agent runs.'
        }),
        text,
        el('button', {type: 'submit', class: 'primary', text: 'Push config'}),
        outcome,
    );
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        clear(outcome);
        let body;
        try {
            body = JSON.parse(text.value);
        } catch (error) {
            outcome.append(notice('error', `Not JSON: ${error.message}`));
            return;
        }
        try {
            const answer = await put(`/api/devices/${enc(id)}/config`, body);
            outcome.append(notice('ok', `Stored and published as version ${answer.version}.`));
        } catch (error) {
            outcome.append(notice(
                'error',
                error instanceof ApiError ? `The hub refused it: ${error.message}` :
                                            error.message));
        }
    });
    return [summary, form];
}
