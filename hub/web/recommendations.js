// Recommendations grouped by kind: per kind its severity, how many devices it affects,
// rationale and remediation, and the affected devices, each dismissable with a reason by an
// admin token.

import {enc, get, post, query} from './api.js';
import {clear, el, fill, formatNumber, jsonView, link, notice, SEVERITIES, severityBadge, stateBadge, table, timeCell} from './dom.js';

const STATES = ['open', 'dismissed', 'closed'];

export async function render(session, _, params) {
    const state = STATES.includes(params.get('state')) ? params.get('state') : 'open';
    const body = el('div', {id: 'recommendation-kinds'});
    const node = el(
        'div',
        {class: 'page recommendations'},
        el('h1', {text: 'Recommendations'}),
        el('p', {
            class: 'muted',
            text:
                'What the hygiene checks found about the devices: weak firmware, exposed or cleartext services. Each stays open until the device\'s reports show it fixed, or someone dismisses it with a reason.'
        }),
        el('p', {class: 'tabs'}, STATES.map((s) => link(`/recommendations?state=${s}`, s, {
                                                class: s === state ? 'active' : ''
                                            }))),
        body,
    );

    async function load() {
        const [summary, list] = await Promise.all([
            get('/api/recommendations/summary'),
            get(`/api/recommendations${query({state, limit: 1000})}`)
        ]);
        const byKind = new Map();
        for (const r of list.recommendations) {
            if (!byKind.has(r.kind)) {
                byKind.set(r.kind, []);
            }
            byKind.get(r.kind).push(r);
        }
        const kinds = summary.kinds.filter((k) => byKind.has(k.kind));
        kinds.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
        fill(
            body,
            kinds.length === 0 ? el('p', {
                class: 'empty',
                text: state === 'open' ?
                    'Nothing to fix: when a device runs vulnerable firmware or exposes a risky service, the recommendation appears here, grouped by kind.' :
                    `No ${state} recommendations.`
            }) :
                                 kinds.map(
                                     (kind) =>
                                         kindCard(session, kind, byKind.get(kind.kind), load)),
        );
    }
    await load();

    let pending = null;
    function onEvent(type) {
        if (type.startsWith('recommendation.')) {
            clearTimeout(pending);
            pending = setTimeout(() => load().catch(() => {}), 500);
        }
    }
    return {node, title: 'Recommendations', onEvent};
}

function kindCard(session, kind, items, reload) {
    const first = items[0];
    return el(
        'section',
        {class: 'card kind', dataset: {kind: kind.kind}},
        el('h2', {}, severityBadge(kind.severity === 'info' ? first.severity : kind.severity), ' ',
           el('span', {text: kind.title || kind.kind})),
        el('p', {class: 'muted small'}, el('code', {text: kind.kind}),
           ` - devices: ${formatNumber(kind.open_devices)} open, ${
               formatNumber(kind.dismissed_devices)} dismissed, ${
               formatNumber(kind.closed_devices)} closed`),
        first.rationale ? el('p', {}, el('strong', {text: 'Why: '}), first.rationale) : null,
        el('p', {class: 'remediation'}, el('strong', {text: 'What to do: '}),
           kind.remediation || first.remediation),
        table(
            [
                {title: 'Device', cell: (r) => link(`/devices/${enc(r.device_id)}`, r.device_id)},
                {title: 'Subject', cell: (r) => el('code', {text: r.subject})},
                {title: 'Finding', cell: (r) => r.title},
                {
                    title: 'State',
                    cell: (r) =>
                        [stateBadge(r.state),
                         r.dismissed_reason ? el('span', {
                             class: 'muted small',
                             text: ` "${r.dismissed_reason}" (${r.dismissed_by})`
                         }) :
                                              null]
                },
                {title: 'Last observed', cell: (r) => timeCell(r.last_observed_ms)},
                {
                    title: 'Evidence',
                    cell: (r) =>
                        el('details', {}, el('summary', {text: 'show'}), jsonView(r.evidence))
                },
                {
                    title: '',
                    cell: (r) =>
                        (session.canChange && r.state !== 'closed' ? dismissForm(r, reload) : null)
                },
            ],
            items,
            'No devices.',
            ),
    );
}

function dismissForm(recommendation, reload) {
    const reason = el('input', {
        name: 'reason',
        required: true,
        maxlength: 1000,
        placeholder: 'reason',
        'aria-label': 'reason for dismissing'
    });
    const outcome = el('span', {class: 'outcome'});
    const form =
        el('form', {class: 'dismiss-form inline', dataset: {recommendationId: recommendation.id}},
           reason, el('button', {type: 'submit', class: 'action action-dismiss', text: 'Dismiss'}),
           outcome);
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        clear(outcome);
        try {
            await post(
                `/api/recommendations/${enc(recommendation.id)}/dismiss`, {reason: reason.value});
            await reload();
        } catch (error) {
            outcome.append(notice('error', error.message));
        }
    });
    return form;
}
