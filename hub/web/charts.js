// Charts drawn with uPlot (loaded by index.html as the global uPlot). Each chart's instance is
// kept on its container element (element.chart) so that the page's tests can read its data.

import {el, formatBytes, formatNumber} from './dom.js';

const COLOURS = {
    in : '#2f7ed8',
    out: '#e07b39',
    critical: '#b3261e',
    high: '#e8710a',
    medium: '#c9a227',
    low: '#5b8def',
};

// Each chart follows its container's width: a page is built before it is laid out (the first
// width is then a guess), and the window may be resized.
const resizer = new ResizeObserver((entries) => {
    for (const entry of entries) {
        const container = entry.target;
        if (!container.isConnected) {
            resizer.unobserve(container);
            continue;
        }
        const chart = container.chart;
        const width = widthOf(container);
        if (chart && chart.width !== width) {
            chart.setSize({width, height: chart.height});
        }
    }
});

function widthOf(container) { return Math.max(280, (container && container.clientWidth) || 600); }

function draw(container, options, data) {
    const chart = new uPlot(
        {width: widthOf(container), height: 200, legend: {live: false}, ...options}, data,
        container);
    container.chart = chart;
    resizer.observe(container);
    return chart;
}

// A chart of two series, in and out, over time. points: the traffic API's points; field: "bytes",
// "packets" or "connections".
export function inOutChart(title, points, field) {
    const container = el('div', {class: 'chart', dataset: {chart: field}});
    const wrapper = el('figure', {class: 'chart-box'}, el('figcaption', {text: title}), container);
    const format = field === 'bytes' ? formatBytes : formatNumber;
    const data = [
        points.map((p) => p.t_ms / 1000),
        points.map((p) => p[`${field}_in`] ?? null),
        points.map((p) => p[`${field}_out`] ?? null),
    ];
    // uPlot measures its container, so it is drawn once the wrapper is in the document.
    requestAnimationFrame(
        () => draw(
            container,
            {
                series: [
                    {},
                    {
                        label: 'in',
                        stroke: COLOURS.in,
                        width: 1.5,
                        value: (u, v) => (v === null ? '-' : format(v))
                    },
                    {
                        label: 'out',
                        stroke: COLOURS.out,
                        width: 1.5,
                        value: (u, v) => (v === null ? '-' : format(v))
                    },
                ],
                axes: [{}, {values: (u, values) => values.map(format), size: 70}],
            },
            data,
            ),
    );
    return wrapper;
}

// The overview's timeline: alerts raised per bucket, stacked by severity. Each severity's
// series holds its count plus those of the milder ones, and the series are drawn from the most
// severe (tallest) to the mildest, so each bar shows every severity's share.
export function alertTimeline(timeline) {
    const container = el('div', {class: 'chart', dataset: {chart: 'alerts'}});
    const buckets = timeline.buckets || [];
    const severities = ['critical', 'high', 'medium', 'low'];
    const stacked = (index) =>
        buckets.map((b) => severities.slice(index).reduce((sum, s) => sum + (b[s] || 0), 0));
    const data = [buckets.map((b) => b.t_ms / 1000), ...severities.map((s, i) => stacked(i))];
    const bars = uPlot.paths.bars ? uPlot.paths.bars({size: [0.8, 40]}) : undefined;
    requestAnimationFrame(
        () => draw(
            container,
            {
                height: 160,
                series: [
                    {},
                    ...severities.map((s) => ({
                                          label: s,
                                          stroke: COLOURS[s],
                                          fill: COLOURS[s],
                                          width: 1,
                                          paths: bars,
                                          points: {show: false},
                                      })),
                ],
                axes: [
                    {}, {
                        size: 40,
                        values: (u, values) => values.map((v) => (Number.isInteger(v) ? v : ''))
                    }
                ],
                scales: {y: {range: (u, min, max) => [0, Math.max(1, max)]}},
            },
            data,
            ),
    );
    return container;
}
