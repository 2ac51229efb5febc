// The detection policy in force, read only, as /api/policy gives it (groups, rules,
// allow-lists, feeds, the policy file's errors), and the suppressions.

import {get} from './api.js';
import {el, jsonView, notice, section, table, timeCell} from './dom.js';

export async function render() {
    const [answer, suppressions] =
        await Promise.all([get('/api/policy'), get('/api/suppressions')]);
    const policy = answer.policy || {};
    const errors = answer.errors || [];
    const sections = Object.entries(policy)
                         .filter(([key]) => key !== 'source')
                         .map(
                             ([key, value]) => section(
                                 TITLES[key] || key.replace(/_/g, ' '),
                                 isEmpty(value) ? el('p', {class: 'empty', text: emptyText(key)}) :
                                                  jsonView(value)));
    const node = el(
        'div',
        {class: 'page policy'},
        el('h1', {text: 'Policy'}),
        el('p', {class: 'muted'}, 'Read only: the policy is the hub\'s policy file',
           policy.source ? [' ', el('code', {text: policy.source})] : null,
           '. Edit that file and the hub reloads it.'),
        errors.length ?
            section(
                'Errors in the policy file',
                errors.map((e) => notice('error', typeof e === 'string' ? e : JSON.stringify(e)))) :
            null,
        Object.entries(answer)
            .filter(([key]) => key !== 'policy' && key !== 'errors')
            .map(([key, value]) => section(key.replace(/_/g, ' '), jsonView(value))),
        sections,
        section('Suppressions in force', suppressionsTable(suppressions.suppressions || [])),
    );
    return {node, title: 'Policy'};
}

const TITLES = {
    defaults: 'Defaults (every device)',
    devices: 'Per-device rules',
    groups: 'Groups',
    outputs: 'Outputs',
    feeds: 'Feeds',
    suppressions: 'Suppressions in the policy file',
};

function isEmpty(value) {
    return value === null || (Array.isArray(value) && value.length === 0) ||
        (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
}

function emptyText(key) {
    const texts = {
        groups:
            'No groups: groups of devices with their own rules appear here when the policy file defines them.',
        devices: 'No per-device rules in the policy file.',
        outputs:
            'No outputs: webhooks, syslog and MQTT outputs for alerts appear here when configured.',
        suppressions: 'The policy file suppresses nothing.',
        feeds: 'No threat feeds loaded.',
    };
    return texts[key] || 'Nothing set.';
}

function suppressionsTable(rows) {
    return table(
        [
            {title: 'Name', cell: (s) => s.name},
            {title: 'Source', cell: (s) => s.source},
            {title: 'Device', cell: (s) => s.device_id || (s.group ? '' : 'every device')},
            {title: 'Group', cell: (s) => s.group},
            {title: 'Type', cell: (s) => s.type || 'any'},
            {title: 'Subject', cell: (s) => el('code', {text: s.subject_pattern})},
            {title: 'Expires', cell: (s) => timeCell(s.expires_ms, 'never')},
            {title: 'Reason', cell: (s) => s.reason},
            {title: 'By', cell: (s) => s.created_by},
            {title: 'Suppressed', class: 'num', cell: (s) => String(s.suppressed)},
            {title: 'Active', cell: (s) => (s.active === false ? 'no' : 'yes')},
        ],
        rows,
        'No suppressions. Suppressing an alert\'s finding (from the Alerts page) or the policy file\'s suppressions appear here.',
    );
}
