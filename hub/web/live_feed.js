// What the event stream brought while a page was open, newest first: alerts opened and
// changed, recommendations, device changes. Shared by the pages that show it.

import {el, link, severityBadge, timeCell} from './dom.js';

const MAX_ITEMS = 30;

export function liveFeed(emptyText) {
    const list = el('ol', {class: 'feed', 'aria-live': 'polite'});
    const empty = el('p', {class: 'empty', text: emptyText});
    const node = el('div', {class: 'feed-box'}, empty, list);

    function add(type, data) {
        const item = describe(type, data);
        if (!item) {
            return;
        }
        empty.remove();
        list.prepend(el('li', {class: 'feed-item', dataset: {event: type}}, item));
        while (list.children.length > MAX_ITEMS) {
            list.lastElementChild.remove();
        }
    }
    return {node, add};
}

function describe(type, data) {
    if (['opened', 'repeated', 'acknowledged', 'resolved'].includes(type)) {
        return [
            timeCell(data.last_raised_ms || data.raised_ms || Date.now()),
            severityBadge(data.severity),
            el('span', {class: 'feed-what', text: `alert ${type}`}),
            link(`/devices/${encodeURIComponent(data.device_id)}`, data.device_id),
            link(`/alerts?device=${encodeURIComponent(data.device_id)}`, data.title || data.type),
        ];
    }
    if (type.startsWith('recommendation.')) {
        return [
            timeCell(data.updated_ms || Date.now()),
            severityBadge(data.severity),
            el('span', {
                class: 'feed-what',
                text: `recommendation ${type.slice('recommendation.'.length)}`
            }),
            link(`/devices/${encodeURIComponent(data.device_id)}`, data.device_id),
            el('span', {text: data.title || data.kind}),
        ];
    }
    if (type === 'device') {
        return [
            timeCell(data.at_ms || Date.now()),
            el('span', {class: 'badge sev-info', text: 'device'}),
            el('span', {class: 'feed-what', text: String(data.change).replace(/_/g, ' ')}),
            link(`/devices/${encodeURIComponent(data.device_id)}`, data.device_id),
        ];
    }
    return null;
}
