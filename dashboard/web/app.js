// The bitsweep dashboard: a handful of views over the dashboard's JSON API.
// Everything that comes from the coordinator (names, specs, errors) is put
// on the page as text nodes, never as HTML.
'use strict';

// ------------------------------------------------------------ helpers

// el('td', {class: 'num'}, 'text', childNode, ...): strings become text.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'onclick') node.addEventListener('click', value);
    else if (key === 'onchange') node.addEventListener('change', value);
    else if (key === 'oninput') node.addEventListener('input', value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path) {
  const response = await fetch(path);
  const body = await response.json().catch(() => ({error: `HTTP ${response.status}`}));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

const fmt = {
  num(v, digits = 2) { return v === null || v === undefined ? '' : Number(v).toFixed(digits); },
  int(v) { return v === null || v === undefined ? '' : Number(v).toLocaleString('en'); },
  bytes(v) {
    if (!v) return '';
    if (v < 1024) return `${v} B`;
    if (v < 1048576) return `${(v / 1024).toFixed(1)} KiB`;
    return `${(v / 1048576).toFixed(2)} MiB`;
  },
  duration(s) {
    if (s === null || s === undefined) return '';
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  },
  time(ms) { return ms ? new Date(ms).toLocaleString() : ''; },
  ago(ms, now) { return ms ? `${fmt.duration(Math.max(0, (now || Date.now()) - ms) / 1000)} ago` : ''; },
  params(p) {
    if (!p || typeof p !== 'object') return p ? String(p) : '';
    return Object.entries(p).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
  },
};

function stateBadge(state) { return el('span', {class: `state ${state}`}, state); }

function progressBar(jobs) {
  const total = Math.max(1, jobs.total);
  const part = (cls, n) => el('span', {class: cls, style: `width:${(100 * n / total).toFixed(2)}%`});
  return el('div', {class: 'bar', title: `${jobs.succeeded} succeeded, ${jobs.failed} failed, ` +
                                         `${jobs.running} running, ${jobs.queued} queued`},
            part('s', jobs.succeeded), part('f', jobs.failed), part('c', jobs.cancelled), part('r', jobs.running));
}

function progressText(sweep) {
  const j = sweep.jobs;
  const done = j.succeeded + j.failed + j.cancelled;
  let text = `${done}/${j.total} done`;
  if (j.running) text += ` · ${j.running} running`;
  if (j.failed) text += ` · ${j.failed} failed`;
  if (sweep.eta_seconds !== null && sweep.eta_seconds !== undefined) text += ` · about ${fmt.duration(sweep.eta_seconds)} left`;
  return text;
}

function sortableHeader(columns, sort, onSort) {
  return el('tr', {}, columns.map(([key, label, cls]) => {
    let sortedClass = '';
    if (key && sort === key) sortedClass = ' sorted-asc';
    if (key && sort === `-${key}`) sortedClass = ' sorted-desc';
    return el('th', {class: `${cls || ''}${key ? ' sortable' : ''}${sortedClass}`, 'data-col': key || null,
                     onclick: key ? () => onSort(sort === key ? `-${key}` : key) : null}, label);
  }));
}

function pager(offset, limit, matching, go) {
  const last = Math.max(0, Math.ceil(matching / limit) - 1);
  const page = Math.floor(offset / limit);
  return el('div', {class: 'pager'},
            el('button', {onclick: () => go(0), disabled: page === 0 ? 'disabled' : null}, '«'),
            el('button', {onclick: () => go(Math.max(0, offset - limit)), disabled: page === 0 ? 'disabled' : null}, '‹'),
            el('span', {class: 'muted'}, matching === 0 ? 'no rows' :
               `${fmt.int(offset + 1)}–${fmt.int(Math.min(matching, offset + limit))} of ${fmt.int(matching)}`),
            el('button', {onclick: () => go(offset + limit), disabled: page >= last ? 'disabled' : null}, '›'),
            el('button', {onclick: () => go(last * limit), disabled: page >= last ? 'disabled' : null}, '»'));
}

function showError(container, error) {
  container.replaceChildren(el('p', {class: 'error'}, String(error.message || error)));
}

// What a view leaves running (event streams, timers, charts), stopped when
// the route changes.
const running = {streams: [], timers: [], charts: []};
function stopRunning() {
  running.streams.forEach((s) => s.close());
  running.timers.forEach((t) => clearInterval(t));
  running.charts.forEach((c) => c.destroy());
  running.streams = []; running.timers = []; running.charts = [];
  document.getElementById('live').className = '';
  document.getElementById('live').textContent = '';
}

// ------------------------------------------------------------ charts

const palette = ['#0b63c5', '#d9480f', '#2e9e4f', '#7048e8', '#c2255c', '#1098ad', '#e67700', '#495057'];

// Draws each point's error bar (its data carries yMin and yMax).
const errorBarPlugin = {
  id: 'errorBars',
  afterDatasetsDraw(chart) {
    const {ctx, scales: {x, y}} = chart;
    ctx.save();
    chart.data.datasets.forEach((dataset, i) => {
      if (!chart.isDatasetVisible(i)) return;
      ctx.strokeStyle = dataset.borderColor;
      ctx.lineWidth = 1.5;
      for (const p of dataset.data) {
        if (p.yMin === undefined || p.yMax === undefined) continue;
        const px = x.getPixelForValue(p.x);
        // On a log axis a bar that reaches zero or below runs to the bottom.
        const top = y.getPixelForValue(p.yMax);
        const bottom = y.type === 'logarithmic' && !(p.yMin > 0) ? y.bottom : y.getPixelForValue(p.yMin);
        ctx.beginPath();
        ctx.moveTo(px, top); ctx.lineTo(px, bottom);
        ctx.moveTo(px - 4, top); ctx.lineTo(px + 4, top);
        ctx.moveTo(px - 4, bottom); ctx.lineTo(px + 4, bottom);
        ctx.stroke();
      }
    });
    ctx.restore();
  },
};

// `logY`: FID and KID on a log axis, where one bad configuration (a 1-bit
// point at 50x full precision) does not flatten all the others.
function qualityChart(canvas, chart, logY) {
  const datasets = chart.series.map((s, i) => ({
    label: s.label,
    borderColor: palette[i % palette.length],
    backgroundColor: palette[i % palette.length],
    // Per-layer generators: one point per allocation at its weight-averaged
    // bits, not joined (they are not a curve), drawn as triangles.
    showLine: !s.per_layer && s.points.length > 1,
    pointStyle: s.per_layer ? 'triangle' : 'circle',
    borderDash: s.label.endsWith('· ptq') ? [6, 4] : undefined,  // post-training: dashed
    pointRadius: s.per_layer ? 4 : 5,
    data: s.points.map((p) => ({x: p.bits, y: p.mean, yMin: p.err === null ? undefined : p.mean - p.err,
                                yMax: p.err === null ? undefined : p.mean + p.err, point: p})),
  }));
  const metric = chart.metric.toUpperCase();
  const yTitle = `${metric} (lower is better${logY ? ', log scale' : ''})`.replace(/IS \(lower is better/, 'IS (higher is better');
  const maxBits = Math.max(8, ...chart.series.flatMap((s) => s.points.map((p) => p.bits)));
  return new Chart(canvas, {
    type: 'scatter',
    data: {datasets},
    plugins: [errorBarPlugin],
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: {type: 'logarithmic', title: {display: true, text: chart.x === 'bits_d' ? 'D bits' : 'G bits'},
            min: 0.8, max: maxBits * 1.25,
            afterBuildTicks: (axis) => { axis.ticks = [1, 2, 4, 8, 16, 32].filter((v) => v <= maxBits).map((v) => ({value: v})); },
            ticks: {callback: (v) => String(v)}},
        y: {type: logY ? 'logarithmic' : 'linear', title: {display: true, text: yTitle}},
      },
      plugins: {
        tooltip: {callbacks: {label(item) {
          const p = item.raw.point;
          const err = p.err === null ? '' : ` ± ${fmt.num(p.err)} (${p.err_kind})`;
          const jobs = p.jobs.map((j) => `job ${j.job} (seed ${j.seed}): ${fmt.num(j.value)}`);
          const bits = p.widths ? `widths ${p.widths} (${fmt.num(p.bits)} bits per weight)` : `${p.bits} bits`;
          return [`${item.dataset.label}, ${bits}: ${metric} ${fmt.num(p.mean)}${err}, ${p.n} run(s)`, ...jobs];
        }}},
      },
      onClick(event, elements) {
        if (!elements.length) return;
        const p = datasets[elements[0].datasetIndex].data[elements[0].index].point;
        location.hash = `#/job/${p.jobs[0].job}`;
      },
    },
  });
}

function lineChart(canvas, series, xLabel, yLabel) {
  return new Chart(canvas, {
    type: 'line',
    data: {datasets: series.map((s, i) => ({label: s.label, data: s.data, borderColor: palette[i % palette.length],
                                            backgroundColor: palette[i % palette.length], pointRadius: 2,
                                            borderWidth: 1.5}))},
    options: {animation: false, maintainAspectRatio: false, parsing: true,
              scales: {x: {type: 'linear', title: {display: true, text: xLabel}},
                       y: {title: {display: true, text: yLabel}}}},
  });
}

// ------------------------------------------------------------ views

async function sweepsView(main) {
  const table = el('table', {id: 'sweeps'});
  main.replaceChildren(el('h1', {}, 'Sweeps'), table);
  async function refresh() {
    const {sweeps} = await api('/api/sweeps');
    table.replaceChildren(
        el('tr', {}, ['id', 'name', 'strategy', 'state', 'progress', 'slot-hours', 'created']
            .map((h) => el('th', {class: h === 'slot-hours' || h === 'id' ? 'num' : ''}, h))),
        ...sweeps.slice().reverse().map((s) => el('tr', {'data-sweep': s.id},
            el('td', {class: 'num'}, s.id),
            el('td', {}, el('a', {href: `#/sweep/${s.id}`, class: 'sweep-name'}, s.name)),
            el('td', {}, s.strategy),
            el('td', {}, stateBadge(s.state)),
            el('td', {}, el('div', {class: 'progress-cell'}, progressBar(s.jobs), progressText(s))),
            el('td', {class: 'num'}, fmt.num(s.slot_hours, 2)),
            el('td', {}, fmt.time(s.created_ms)))));
    if (!sweeps.length) table.replaceChildren(el('tr', {}, el('td', {class: 'muted'}, 'No sweeps yet: bitsweep submit --spec …')));
  }
  await refresh();
  // Counts of every sweep: one call per refresh (each sweep's own page is
  // live through its event stream).
  running.timers.push(setInterval(() => refresh().catch(() => {}), 5000));
}

function outcomeSection(outcome) {
  if (!outcome || typeof outcome !== 'object' || !outcome.configs) return null;
  const box = el('div', {id: 'outcome'});
  box.append(el('h2', {}, 'Search outcome'));
  const base = outcome.baseline || {};
  const rule = outcome.confidence ? `at ${Math.round(outcome.confidence * 100)}% confidence over seeds and sampling`
                                  : 'on the mean over seeds (no interval)';
  box.append(el('p', {class: 'note'},
      `Requirement ${outcome.requirement || '?'} (bound ${fmt.num(outcome.threshold, 1)}), judged ${rule}. ` +
      `Full precision: ${fmt.num(base.value)} ± ${fmt.num(base.std)} (std over ${base.n || 0} seed(s)).`));
  if (outcome.methods) {
    const by = {ptq: 'post-training quantization', qat: 'fine-tuning', '': ''};
    box.append(el('table', {id: 'chosen'},
        el('tr', {}, ['method', 'G bits', 'G decided by', 'D bits'].map((h) => el('th', {}, h))),
        ...Object.entries(outcome.methods).map(([m, r]) => el('tr', {},
            el('td', {}, m), el('td', {}, r.g && r.g.bits !== undefined ? r.g.bits : (r.g && r.g.status) || '?'),
            el('td', {}, r.g && r.g.by ? by[r.g.by] || r.g.by : ''),
            el('td', {}, r.d && r.d.bits !== undefined ? r.d.bits : (r.d && r.d.status) || '?')))));
  }
  const table = el('table', {id: 'configs'},
      el('tr', {}, ['G', 'D', 'how', 'value', '± std', 'seeds', 'ratio to full precision (interval)', 'verdict']
          .map((h) => el('th', {}, h))),
      ...outcome.configs.map((c) => {
        const vb = c.vs_bound;
        return el('tr', {},
            el('td', {}, (c.g || []).join('-')), el('td', {}, (c.d || []).join('-')),
            el('td', {}, c.ptq ? 'post-training' : (c.verdict === 'baseline' ? '' : 'trained')),
            el('td', {class: 'num'}, fmt.num(c.value)), el('td', {class: 'num'}, fmt.num(c.std)),
            el('td', {class: 'num'}, c.n),
            el('td', {}, vb ? `${fmt.num(vb.estimate, 3)} (${fmt.num(vb.low, 3)}–${fmt.num(vb.high, 3)})` : ''),
            el('td', {class: `verdict-${c.verdict}`}, c.verdict || ''));
      }));
  box.append(el('details', {}, el('summary', {}, `Every configuration tried (${outcome.configs.length})`), table));
  return box;
}

// ------------------------------------------------------------ layer allocation

// A layer_allocation search's outcome (docs/searches.md): per method its
// predicted front, the measured points, the uniform widths, the bound's
// answer and the uniform width that answers the same bound.
function isAllocation(outcome) {
  return !!(outcome && typeof outcome === 'object' && !outcome.configs && outcome.methods &&
            Object.values(outcome.methods).some((m) => m && (m.front || m.sensitivities)));
}

const kib = (bytes) => bytes / 1024;
const kibText = (bytes) => `${fmt.num(kib(bytes), 1)} KiB`;
const bitsText = (b) => `${b} ${b === 1 ? 'bit' : 'bits'}`;

// "1.52× full precision, 1.45–1.60" from a judged point's ratio to the bound.
function ratioText(c, r, first) {
  if (!c || !c.vs_bound || !r) return '';
  const v = c.vs_bound;
  return `${fmt.num(r * v.estimate)}×${first ? ' full precision' : ''}, ${fmt.num(r * v.low)}–${fmt.num(r * v.high)}`;
}

function verb(c) {
  const v = (c && c.verdict) || 'not measured';
  return v === 'meets' || v === 'fails' ? v : `is ${v}`;
}

function qatText(c, r) {
  if (!c || !c.qat) return '';
  if (c.qat.failed || c.qat.fid === undefined) return 'failed';
  return `FID ${fmt.num(c.qat.fid, 1)} ± ${fmt.num(c.qat.fid_se, 1)}` +
         (c.qat.vs_bound !== undefined && r ? ` (${fmt.num(r * c.qat.vs_bound)}×)` : '');
}

// The answer in words, as bitsweep report says it.
function allocationWords(outcome, m) {
  const r = outcome.bound_ratio;
  const bound = r ? `${r}×` : 'the bound';
  const lines = [];
  const b = m.bound;
  if (b && b.status === 'searching') lines.push(`Still searching for the fewest bytes that meet ${bound}.`);
  else if (b) {
    const u = b.uniform_answer;
    let line = '';
    if (u) {
      line = `Uniform ${bitsText(u.bits)} meets ${bound} at ${kibText(u.bytes)}`;
      const t = ratioText(u, r, true);
      if (t) line += ` (${t})`;
    } else {
      const widest = (m.uniform || [])[(m.uniform || []).length - 1];
      line = `No uniform width tried meets ${bound}`;
      if (widest) line += ` (${bitsText(widest.bits)} ${verb(widest)}${ratioText(widest, r) ? ', ' + ratioText(widest, r) : ''})`;
    }
    if (b.status === 'found') {
      const a = b.answer;
      line += `; per layer ${a.widths} meets ${u ? 'it' : bound} at ${kibText(a.bytes)}`;
      const t = ratioText(a, r, !u);
      if (t) line += ` (${t})`;
      if (b.saving !== undefined) line += `: ${Math.round(100 * Math.abs(b.saving))}% ${b.saving >= 0 ? 'fewer' : 'more'} bytes`;
    } else {
      line += '; no allocation of the front meets it';
    }
    lines.push(`${line}.`);
    if (b.cheaper_neighbour) {
      const n = b.cheaper_neighbour;
      const t = ratioText(n, r);
      lines.push(`The next cheaper allocation on the front, ${n.widths} at ${kibText(n.bytes)}, ${verb(n)}${t ? ` (${t})` : ''}.`);
    }
    const qa = b.status === 'found' ? qatText(b.answer, r) : '';
    const qu = u ? qatText(u, r) : '';
    if (qa || qu) lines.push(`As warm-started QAT: ${[qu && `uniform ${qu}`, qa && `per layer ${qa}`].filter(Boolean).join(', ')}.`);
  }
  if (m.budget) {
    const bb = m.budget;
    lines.push(bb.status === 'found'
      ? `Budget ${kibText(bb.bytes)}: best measured ${bb.answer.widths} at ${kibText(bb.answer.bytes)}, FID ${fmt.num(bb.answer.fid, 1)} ± ${fmt.num(bb.answer.fid_se, 1)}.`
      : `Budget ${kibText(bb.bytes)}: ${bb.status}.`);
  }
  return lines;
}

// The chart's datasets for one method: bytes (KiB) against FID.
function frontDatasets(outcome, m) {
  const point = (c) => ({x: kib(c.bytes), y: c.fid, yMin: c.fid - (c.fid_se || 0), yMax: c.fid + (c.fid_se || 0), c});
  const measured = (list) => (list || []).filter((c) => c.fid !== undefined);
  const front = m.front || [];
  const xs = [...front, ...(m.uniform || [])].map((c) => kib(c.bytes));
  const xMin = xs.length ? Math.min(...xs) : 0, xMax = xs.length ? Math.max(...xs) : 1;
  const sets = [
    {label: 'predicted front (damage model)', kind: 'predicted', showLine: true, borderColor: '#adb5bd', backgroundColor: '#adb5bd',
     borderDash: [4, 3], pointRadius: 2, borderWidth: 1.5,
     data: front.filter((c) => c.predicted_fid !== undefined).map((c) => ({x: kib(c.bytes), y: c.predicted_fid, c}))},
    {label: 'allocations measured (post-training)', kind: 'measured', borderColor: palette[0], backgroundColor: palette[0],
     pointStyle: 'circle', pointRadius: 4, data: measured(front).map(point)},
    {label: 'uniform widths', kind: 'uniform', showLine: true, borderColor: palette[1], backgroundColor: palette[1],
     pointStyle: 'rect', pointRadius: 6, borderWidth: 1.5, data: measured(m.uniform).map(point)},
  ];
  if (outcome.reference && outcome.reference.mean_fid) {
    sets.push({label: `full precision (FID ${fmt.num(outcome.reference.mean_fid, 1)}, ${kibText(outcome.reference.bytes)})`,
               kind: 'reference', showLine: true, pointRadius: 0, borderColor: '#495057', borderDash: [2, 3], borderWidth: 1,
               data: [{x: xMin, y: outcome.reference.mean_fid}, {x: xMax, y: outcome.reference.mean_fid}]});
  }
  if (outcome.bound_fid) {
    sets.push({label: `bound: ${outcome.requirement || ''}`, kind: 'bound', showLine: true, pointRadius: 0,
               borderColor: '#cf3a3a', borderDash: [7, 4], borderWidth: 2,
               data: [{x: xMin, y: outcome.bound_fid}, {x: xMax, y: outcome.bound_fid}]});
  }
  const b = m.bound || {};
  if (b.uniform_answer && b.uniform_answer.fid !== undefined) {
    sets.push({label: `uniform answer: ${bitsText(b.uniform_answer.bits)}`, kind: 'uniform-answer', pointStyle: 'rectRot',
               pointRadius: 11, borderWidth: 2.5, borderColor: '#e67700', backgroundColor: 'rgba(230,119,0,0.15)',
               data: [point(b.uniform_answer)]});
  }
  if (b.status === 'found' && b.answer.fid !== undefined) {
    sets.push({label: `answer: per layer ${b.answer.widths}`, kind: 'answer', pointStyle: 'star', pointRadius: 13,
               borderWidth: 2.5, borderColor: '#2e9e4f', backgroundColor: 'rgba(46,158,79,0.2)', data: [point(b.answer)]});
  }
  return sets;
}

function frontChart(canvas, outcome, m) {
  const datasets = frontDatasets(outcome, m);
  return new Chart(canvas, {
    type: 'scatter',
    data: {datasets},
    plugins: [errorBarPlugin],
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: {
        x: {type: 'linear', title: {display: true, text: 'packed generator payload (KiB)'}},
        y: {type: 'logarithmic', title: {display: true, text: 'FID (lower is better, log scale)'}},
      },
      plugins: {
        legend: {labels: {usePointStyle: true}},
        tooltip: {filter: (item) => !!item.raw.c, callbacks: {label(item) {
          const c = item.raw.c;
          const what = item.dataset.kind === 'predicted' ? `predicted FID ${fmt.num(c.predicted_fid)}`
              : `FID ${fmt.num(c.fid)} ± ${fmt.num(c.fid_se)} (${c.n} seed${c.n === 1 ? '' : 's'})` +
                (c.predicted_fid !== undefined ? `, predicted ${fmt.num(c.predicted_fid)}` : '');
          const r = ratioText(c, outcome.bound_ratio, true);
          return [`${c.bits !== undefined ? `uniform ${bitsText(c.bits)}` : c.widths} at ${kibText(c.bytes)} ` +
                  `(${fmt.num(c.mean_bits)} bits per weight): ${what}`, ...(r ? [`${r}${c.verdict ? ': ' + c.verdict : ''}`] : [])];
        }}},
      },
    },
  });
}

// Every measured generator of one method, by bytes.
function frontTable(outcome, method, m) {
  const r = outcome.bound_ratio;
  const b = m.bound || {};
  const rows = [...(m.front || []).filter((c) => c.fid !== undefined),
                ...(m.uniform || []).filter((c) => c.fid !== undefined)];
  const seen = new Set();
  const unique = rows.filter((c) => !seen.has(c.widths) && seen.add(c.widths)).sort((x, y) => x.bytes - y.bytes);
  return el('table', {id: `front-table-${method}`},
      el('tr', {}, ['widths', 'KiB', 'bits per weight', 'FID', '± se', 'seeds', 'predicted', '× full precision (interval)', 'verdict']
          .map((h) => el('th', {}, h))),
      unique.map((c) => el('tr', {'data-widths': c.widths,
                                  class: b.answer && c.widths === b.answer.widths ? 'answer'
                                       : b.uniform_answer && c.widths === b.uniform_answer.widths ? 'uniform-answer' : null},
          el('td', {}, c.bits !== undefined ? `${c.widths} (uniform)` : c.widths),
          el('td', {class: 'num'}, fmt.num(kib(c.bytes), 1)), el('td', {class: 'num'}, fmt.num(c.mean_bits)),
          el('td', {class: 'num'}, fmt.num(c.fid)), el('td', {class: 'num'}, fmt.num(c.fid_se)),
          el('td', {class: 'num'}, c.n), el('td', {class: 'num'}, fmt.num(c.predicted_fid)),
          el('td', {}, ratioText(c, r)), el('td', {class: `verdict-${c.verdict}`}, c.verdict || ''))));
}

// The section and what draws its charts once it is on the page.
function allocationSection(outcome) {
  if (!isAllocation(outcome)) return null;
  const box = el('div', {id: 'allocation'});
  box.append(el('h2', {}, 'Layer allocation: packed bytes against FID'));
  const ref = outcome.reference;
  const rule = outcome.confidence ? `each verdict ${Math.round(outcome.confidence * 100)}% sure, intervals ` +
      `${Math.round((2 * outcome.confidence - 1) * 100)}%` : 'judged on the mean over seeds (no interval)';
  box.append(el('p', {class: 'note'},
      `${outcome.requirement ? `Bound: ${outcome.requirement}, ${rule}. ` : ''}` +
      (ref ? `Full precision through the same post-training pipeline: FID ${fmt.num(ref.mean_fid)} ± ${fmt.num(ref.fid_se)} ` +
             `at ${kibText(ref.bytes)}. ` : '') +
      'Points are post-training quantization on the sweep\'s latents, bars their standard error; the grey line is the ' +
      'front the damage model predicts from each layer\'s sensitivity; squares are uniform widths on the same axes. ' +
      (outcome.sampling_only ? 'One seed: the intervals cover the evaluation\'s sampling error only, not training noise.' : '')));
  const draws = [];
  for (const [method, m] of Object.entries(outcome.methods)) {
    const part = el('div', {class: 'allocation-method', 'data-method': method});
    part.append(el('h3', {}, method));
    if (!m.front) {
      part.append(el('p', {class: 'muted'}, m.error ? `No front: ${m.error}` : (m.status || 'measuring sensitivities')));
      box.append(part);
      continue;
    }
    part.append(el('div', {class: 'allocation-words', id: `allocation-words-${method}`},
                   allocationWords(outcome, m).map((line) => el('p', {}, line))));
    const canvas = el('canvas', {id: `front-chart-${method}`});
    part.append(el('div', {class: 'chart-box'}, canvas));
    const extra = [];
    if (m.additivity) {
      extra.push(`measured against predicted (log FID ratio, ${m.additivity.points} points): mean |error| ` +
                 `${fmt.num(m.additivity.mean_abs_log_error, 3)}, max ${fmt.num(m.additivity.max_abs_log_error, 3)}`);
    }
    if (m.proxy) extra.push(`output-distortion proxy against FID: Kendall τ ${fmt.num(m.proxy.kendall_tau)} over ${m.proxy.pairs}`);
    if (extra.length) part.append(el('p', {class: 'note'}, `${extra.join('; ')}.`));
    part.append(el('details', {}, el('summary', {}, 'Every generator measured, by bytes'), frontTable(outcome, method, m)));
    box.append(part);
    draws.push(() => frontChart(canvas, outcome, m));
  }
  if (outcome.jobs !== undefined) {
    box.append(el('p', {class: 'note'}, `${outcome.jobs} jobs (${outcome.ptq_jobs} post-training), ${outcome.cached} ` +
        `answered from the store; post-training quantization of every allocation would take ${fmt.int(outcome.brute_force_jobs)}.`));
  }
  return {box, draw: () => draws.map((d) => d())};
}

async function utilisationSection(sweepId) {
  const rows = await api(`/api/sweeps/${sweepId}/utilisation`);
  if (!rows.cells.length) return null;
  // layers × configurations, mean over the configuration's jobs.
  const configs = [...new Set(rows.cells.map((c) => c.config))];
  const layers = [...new Set(rows.cells.map((c) => c.layer))];
  const value = new Map(rows.cells.map((c) => [`${c.layer}|${c.config}`, c]));
  const table = el('table', {class: 'heat', id: 'utilisation'},
      el('tr', {}, el('th', {}, 'layer'), configs.map((c) => el('th', {}, c))),
      layers.map((layer) => el('tr', {}, el('th', {}, layer), configs.map((config) => {
        const c = value.get(`${layer}|${config}`);
        if (!c) return el('td', {class: 'cell muted'}, '');
        const u = c.utilisation;
        // Red where levels go unused (the paper's under-represented levels).
        const cell = el('td', {class: 'cell', title: `MSE ${c.mse.toExponential(2)}, ${c.jobs} job(s)`}, fmt.num(u, 2));
        cell.style.background = `hsl(${Math.round(120 * u)}, 65%, ${88 - 18 * (1 - u)}%)`;
        return cell;
      }))));
  return el('div', {}, el('h2', {}, 'Level utilisation per layer'),
            el('p', {class: 'note'}, 'Share of the 2^bits levels that weights use (entropy of level use / bits), mean over ' +
               'the configuration\'s finished jobs; hover for the quantization MSE.'), table);
}

async function sweepView(main, sweepId) {
  const header = el('div', {id: 'sweep-header'});
  const outcomeBox = el('div');
  const chartBox = el('div', {class: 'chart-box'}, el('canvas', {id: 'quality-chart'}));
  const chartNote = el('p', {class: 'note'});
  const chartControls = el('div', {class: 'controls'});
  const chartBoxD = el('div', {class: 'chart-box'}, el('canvas', {id: 'quality-chart-d'}));
  const chartD = el('div', {id: 'd-chart', hidden: 'hidden'},
                    el('h2', {}, 'Quality against the discriminator\'s bits'), chartBoxD);
  const resultsBox = el('div', {id: 'results'});
  const jobsBox = el('div', {id: 'jobs'});
  const heatBox = el('div');
  main.replaceChildren(header, outcomeBox,
                       el('h2', {}, 'Quality against bits'), chartNote, chartControls, chartBox, chartD,
                       el('h2', {}, 'Results'), resultsBox, heatBox, el('h2', {}, 'Jobs'), jobsBox);

  // Every section loads at once and shows as soon as its data is in: the
  // job table of a 100,000-job sweep does not wait for its results.
  const sweepLoaded = api(`/api/sweeps/${sweepId}`);
  function renderHeader(s) {
    header.replaceChildren(
        el('h1', {}, el('span', {id: 'sweep-name'}, s.name), ' ', el('span', {class: 'muted'}, `sweep ${s.id} · ${s.strategy}`)),
        el('div', {class: 'cards'},
           el('div', {class: 'card'}, el('div', {class: 'k'}, 'state'), el('div', {class: 'v', id: 'sweep-state'}, stateBadge(s.state))),
           el('div', {class: 'card'}, el('div', {class: 'k'}, 'progress'),
              el('div', {class: 'progress-cell', id: 'sweep-progress'}, progressBar(s.jobs), progressText(s))),
           el('div', {class: 'card'}, el('div', {class: 'k'}, 'slot-hours'), el('div', {class: 'v'}, fmt.num(s.slot_hours, 2)))));
  }

  // Results: filter, Pareto, sort and page on the server.
  const results = {where: '', sort: '', offset: 0, limit: 20, pareto: false};
  const resultsQuery = (format) => {
    const q = new URLSearchParams();
    results.where.split(/[\s,]+/).filter(Boolean).forEach((w) => q.append('where', w));
    if (results.sort) q.set('sort', results.sort);
    if (results.pareto) q.set('pareto', '1');
    if (format) q.set('format', format); else { q.set('offset', results.offset); q.set('limit', results.limit); }
    return `/api/sweeps/${sweepId}/results?${q}`;
  };
  const whereInput = el('input', {type: 'text', id: 'where', placeholder: 'filter, e.g. method_g=em bits_g<=4 fid<200'});
  const csvLink = el('a', {id: 'csv', href: resultsQuery('csv'), download: `sweep-${sweepId}-results.csv`}, 'Download CSV');
  const resultsTable = el('table', {id: 'results-table'});
  const resultsPager = el('div');
  const resultsError = el('div', {class: 'error'});
  async function loadResults() {
    csvLink.setAttribute('href', resultsQuery('csv'));
    try {
      const page = await api(resultsQuery());
      resultsError.textContent = '';
      const numeric = new Set(page.columns.filter((c, i) => page.rows.some((r) => r[i].n !== null)));
      resultsTable.replaceChildren(
          sortableHeader(page.columns.map((c) => [c, c, numeric.has(c) ? 'num' : '']), results.sort,
                         (s) => { results.sort = s; results.offset = 0; loadResults(); }),
          ...page.rows.map((row) => el('tr', {}, row.map((cell, i) => {
            const column = page.columns[i];
            if (column === 'job' && cell.n !== null) return el('td', {class: 'num'}, el('a', {href: `#/job/${cell.n}`}, cell.t));
            return el('td', {class: cell.n !== null ? 'num' : ''}, cell.t);
          }))));
      resultsPager.replaceChildren(pager(results.offset, results.limit, page.matching,
                                         (o) => { results.offset = o; loadResults(); }));
    } catch (e) {
      resultsError.textContent = e.message;
    }
  }
  whereInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') { results.where = whereInput.value; results.offset = 0; loadResults(); } });
  resultsBox.replaceChildren(
      el('div', {class: 'controls'}, whereInput,
         el('button', {id: 'apply-filter', onclick: () => { results.where = whereInput.value; results.offset = 0; loadResults(); }}, 'Filter'),
         el('label', {}, el('input', {type: 'checkbox', id: 'pareto', onchange: (e) => { results.pareto = e.target.checked; results.offset = 0; loadResults(); }}),
            ' Pareto front of size against FID'),
         csvLink),
      el('p', {class: 'note'}, 'Conditions as in bitsweep results --where: column=value, !=, <, <=, >, >=. ' +
         'Each metric comes with its sampling standard error (_se).'),
      resultsError, el('div', {class: 'scroll'}, resultsTable), resultsPager);

  const charts = {g: null, d: null};
  const chartData = {g: null, d: null};
  // FID on a log axis by default: one 1-bit point at 50x full precision
  // would otherwise flatten every other.
  const logScale = el('input', {type: 'checkbox', id: 'log-scale', checked: 'checked',
                                onchange: () => ['g', 'd'].forEach((side) => chartData[side] && drawChart(side, chartData[side]))});
  chartControls.replaceChildren(el('label', {}, logScale, ' FID on a log scale'));
  function drawChart(side, data) {
    chartData[side] = data;
    if (charts[side]) { charts[side].destroy(); running.charts = running.charts.filter((c) => c !== charts[side]); }
    charts[side] = qualityChart(document.getElementById(side === 'g' ? 'quality-chart' : 'quality-chart-d'), data,
                                logScale.checked);
    running.charts.push(charts[side]);
  }
  async function loadChart() {
    const [g, d] = await Promise.all([api(`/api/sweeps/${sweepId}/chart?metric=fid&side=g`),
                                      api(`/api/sweeps/${sweepId}/chart?metric=fid&side=d`)]);
    const count = (data) => data.series.reduce((n, s) => n + s.points.length, 0);
    const quantizedD = d.series.filter((s) => s.label !== 'full precision' && !s.label.startsWith('full precision ·'));
    const perLayer = g.series.some((x) => x.per_layer);
    chartNote.textContent = count(g) + count(d) ? `Points are means over seeds; bars are the standard ` +
        'deviation over seeds, or the sampling standard error where a configuration has one run. Hover for the jobs; click to open one.' +
        (perLayer ? ' Triangles: generators whose layers have widths of their own, at their bits per weight averaged over ' +
                    'the layers (hover for the widths).' : '')
        : 'No finished configuration yet.';
    drawChart('g', g);
    if (quantizedD.length) {
      chartD.hidden = false;
      drawChart('d', d);
    }
    window.bitsweepChart = g;  // for scripts and tests
  }

  // Jobs: a page of the live copy the dashboard keeps; rows update in place
  // from the event stream.
  const jobs = {state: '', sort: 'id', offset: 0, limit: 25, version: 0};
  const jobsTable = el('table', {id: 'jobs-table'});
  const jobsPager = el('div');
  const jobColumns = [['id', 'job', 'num'], ['state', 'state'], [null, 'params'], ['attempts', 'attempt', 'num'],
                      ['worker', 'worker'], ['progress', 'progress'], ['wall', 'wall', 'num'], [null, 'error']];
  function jobRow(j) {
    const pct = j.state === 'SUCCEEDED' ? 100 : (j.total > 0 ? Math.round(100 * j.step / j.total) : 0);
    return el('tr', {'data-job': j.id, 'data-state': j.state},
        el('td', {class: 'num'}, el('a', {href: `#/job/${j.id}`}, j.id)),
        el('td', {}, stateBadge(j.state)),
        el('td', {class: 'params', title: fmt.params(j.params)}, fmt.params(j.params)),
        el('td', {class: 'num'}, `${j.attempts}/${j.max_attempts}`),
        el('td', {}, j.worker),
        el('td', {}, j.state === 'RUNNING' || j.state === 'SUCCEEDED' ? `${pct}%` : ''),
        el('td', {class: 'num'}, j.wall_seconds ? fmt.duration(j.wall_seconds) : ''),
        el('td', {class: 'err'}, j.error));
  }
  async function loadJobs() {
    const q = new URLSearchParams({offset: jobs.offset, limit: jobs.limit, sort: jobs.sort});
    if (jobs.state) q.set('state', jobs.state);
    const page = await api(`/api/sweeps/${sweepId}/jobs?${q}`);
    jobs.version = Math.max(jobs.version, page.version);
    jobsTable.replaceChildren(sortableHeader(jobColumns, jobs.sort, (s) => { jobs.sort = s; jobs.offset = 0; loadJobs(); }),
                              ...page.jobs.map(jobRow));
    const unplanned = jobs.state ? 0 : page.sweep.jobs.total - page.matching;
    jobsPager.replaceChildren(pager(jobs.offset, jobs.limit, page.matching, (o) => { jobs.offset = o; loadJobs(); }),
        unplanned > 0 ? el('p', {class: 'note'}, `The other ${fmt.int(unplanned)} points of this grid become jobs as it runs.`) : '');
  }
  const stateSelect = el('select', {id: 'state-filter', onchange: (e) => { jobs.state = e.target.value; jobs.offset = 0; loadJobs(); }},
      ['', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'].map((s) => el('option', {value: s}, s || 'every state')));
  jobsBox.replaceChildren(el('div', {class: 'controls'}, stateSelect), jobsTable, jobsPager);

  chartNote.textContent = 'Loading…';
  resultsTable.replaceChildren(el('tr', {}, el('td', {class: 'muted'}, 'Loading the results…')));
  const sections = Promise.all([loadJobs(), loadResults(), loadChart()]);
  sections.catch(() => {});  // an unknown sweep is reported once, below
  // The search's outcome: a table of configurations, or a layer
  // allocation's front with its charts (redrawn when the sweep ends).
  let frontCharts = [];
  function renderOutcome(outcome) {
    frontCharts.forEach((c) => { c.destroy(); running.charts = running.charts.filter((x) => x !== c); });
    frontCharts = [];
    const allocation = allocationSection(outcome);
    outcomeBox.replaceChildren(outcomeSection(outcome) || (allocation ? allocation.box : ''));
    if (allocation) {
      frontCharts = allocation.draw();
      running.charts.push(...frontCharts);
      window.bitsweepFront = outcome;  // for scripts and tests
    }
  }
  const sweep = await sweepLoaded;
  renderHeader(sweep);
  renderOutcome(sweep.outcome);
  await sections;
  utilisationSection(sweepId).then((s) => heatBox.replaceChildren(s || '')).catch(() => {});

  // Live: the sweep's event stream from the dashboard (fed by one
  // WatchSweep stream per sweep, whoever watches). A finished sweep has
  // nothing more to say.
  if (sweep.state !== 'RUNNING') return;
  let finishedSeen = sweep.jobs.succeeded + sweep.jobs.failed;
  // Results and charts follow finished jobs, one refresh at a time and
  // spaced by twice what the last one took: a big sweep's results take a
  // second to fetch, and jobs finish faster than that.
  let resultsRefresh = null, resultsStale = false, lastRefreshMs = 0;
  const refreshResults = () => {
    if (resultsRefresh) { resultsStale = true; return; }
    resultsRefresh = setTimeout(async () => {
      const t0 = performance.now();
      await Promise.all([loadResults(), loadChart()]).catch(() => {});
      lastRefreshMs = performance.now() - t0;
      resultsRefresh = null;
      if (resultsStale) { resultsStale = false; refreshResults(); }
    }, Math.max(300, 2 * lastRefreshMs));
  };
  let refetchTimer = null;
  const refetchSoon = (what) => {
    if (refetchTimer) return;
    refetchTimer = setTimeout(() => { refetchTimer = null; what(); }, 1000);
  };
  const stream = new EventSource(`/api/sweeps/${sweepId}/events?since=${jobs.version}`);
  running.streams.push(stream);
  const live = document.getElementById('live');
  stream.onopen = () => { live.className = 'on'; live.textContent = 'live'; };
  stream.onerror = () => { if (live.textContent === 'live') { live.className = ''; live.textContent = 'reconnecting…'; } };
  stream.addEventListener('change', (event) => {
    const change = JSON.parse(event.data);
    renderHeader(change.sweep);
    let needPage = false;
    for (const j of change.jobs) {
      const row = jobsTable.querySelector(`tr[data-job="${j.id}"]`);
      if (row && (!jobs.state || jobs.state === j.state) && (jobs.sort === 'id' || jobs.sort === '-id')) row.replaceWith(jobRow(j));
      else needPage = true;
    }
    if (needPage) refetchSoon(loadJobs);
    const finished = change.sweep.jobs.succeeded + change.sweep.jobs.failed;
    if (finished !== finishedSeen) {
      finishedSeen = finished;
      refreshResults();
    }
  });
  stream.addEventListener('reload', () => loadJobs());
  stream.addEventListener('end', async () => {
    stream.close();
    live.className = ''; live.textContent = 'sweep finished';
    const s = await api(`/api/sweeps/${sweepId}`);
    renderHeader(s);
    renderOutcome(s.outcome);
    loadJobs(); loadResults(); loadChart();
    utilisationSection(sweepId).then((x) => heatBox.replaceChildren(x || '')).catch(() => {});
  });
}

function kv(pairs) {
  return el('table', {class: 'kv'}, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v))));
}

function metricText(metrics, name) {
  const last = metrics.filter((m) => m.name === name).pop();
  if (!last) return '';
  return last.std === null ? fmt.num(last.value) : `${fmt.num(last.value)} ± ${fmt.num(last.std)}`;
}

// Whether G's layers differ in width ("2,2,4,8"; a uniform width with the
// first and last layer kept at full precision does not count).
function perLayerWidths(widths, bits) {
  if (!widths) return false;
  const w = widths.split(',').map(Number);
  const middle = w.length >= 2 && w[0] === 32 && w[w.length - 1] === 32 && w.slice(1, -1).every((b) => b === bits);
  return !(w.every((b) => b === bits) || middle);
}

// "em-2", or for layers of their own widths "em 2,2,4,8 (2.47 bits per weight)".
function generatorText(job) {
  if (!perLayerWidths(job.widths_g, job.bits_g)) return `${job.method_g}-${job.bits_g}`;
  return `${job.method_g} ${job.widths_g} (${fmt.num(job.mean_bits_g)} bits per weight, per layer)`;
}

// Each layer of G as the packed file holds it: width and bytes
// (result.json's model_bytes.generator_layers), weights from the per-layer
// table, and the totals.
function generatorLayersSection(job, result) {
  const mb = result.model_bytes || {};
  const layers = mb.generator_layers;
  if (!Array.isArray(layers) || !layers.length) {
    // No file to read them from (a synthetic job): the widths alone.
    return perLayerWidths(job.widths_g, job.bits_g)
        ? [el('h2', {}, 'Generator layers'), el('p', {id: 'job-widths-text'}, `widths ${job.widths_g} ` +
              `(${fmt.num(job.mean_bits_g)} bits per weight averaged over the layers)`)]
        : null;
  }
  // Weights: from the per-layer table (quantized layers), or a float32
  // layer's bytes / 4.
  const weights = new Map(((result.quantization || {}).g || []).map((l) => [l.layer, l.num_weights]));
  let total = 0;
  const rows = layers.map((l) => {
    total += l.bytes || 0;
    const n = weights.get(l.layer) || (l.bits === 32 && l.bytes ? l.bytes / 4 : 0);
    return el('tr', {'data-layer': l.layer},
        el('td', {}, l.layer), el('td', {}, l.method === 'none' ? 'full precision' : l.method),
        el('td', {class: 'num'}, l.bits), el('td', {class: 'num'}, n ? fmt.int(n) : ''),
        el('td', {class: 'num', 'data-bytes': l.bytes}, fmt.int(l.bytes)));
  });
  const summary = [`${fmt.int(total)} bytes of convolution weights`];
  if (job.mean_bits_g !== null && job.mean_bits_g !== undefined) {
    summary.push(`${fmt.num(job.mean_bits_g)} bits per weight averaged over the layers`);
  }
  if (mb.generator_payload) summary.push(`${fmt.int(mb.generator_payload)} bytes of payload with the batch norms`);
  if (mb.generator_packed) summary.push(`${fmt.int(mb.generator_packed)} bytes in generator.bsg with its header`);
  return [el('h2', {}, 'Generator layers: widths and packed bytes'),
          el('table', {id: 'job-widths'},
             el('tr', {}, ['layer', 'method', 'bits', 'weights', 'packed bytes'].map((h) => el('th', {}, h))), rows),
          el('p', {class: 'note'}, `${summary.join('; ')}.`)];
}

async function jobView(main, jobId) {
  const data = await api(`/api/jobs/${jobId}`);
  const job = data.job, result = data.result || {};
  const artifactNames = new Set(data.artifacts.map((a) => a.name));
  main.replaceChildren(
      el('h1', {}, `Job ${job.id} `, stateBadge(job.state), ' ',
         el('a', {href: `#/sweep/${job.sweep_id}`, class: 'muted'}, `sweep ${job.sweep_id}`)),
      el('div', {class: 'controls'},
         el('button', {id: 'add-compare', onclick: () => { addToCompare(job.id); location.hash = '#/compare'; }}, 'Compare with others')),
      kv([['task', job.task], ['G', generatorText(job)], ['D', `${job.method_d}-${job.bits_d}`],
          ['seed', job.seed], ['params', fmt.params(job.params)], ['attempts', `${job.attempts}/${job.max_attempts}`],
          ['worker', job.worker_id], ['FID', metricText(data.metrics, 'fid')], ['IS', metricText(data.metrics, 'is')],
          ['KID', metricText(data.metrics, 'kid')], ['packed generator', fmt.bytes(job.model_bytes)],
          ['wall', job.wall_seconds ? fmt.duration(job.wall_seconds) : ''],
          ['started from', result.init_from ? `${result.init_from.job ? 'job ' + result.init_from.job : result.init_from.file || ''} ` +
              `(sha256 ${String(result.init_from.sha256 || '').slice(0, 12)}…)` : ''],
          ['error', job.last_error]]));

  if (artifactNames.has('samples.png')) {
    main.append(el('h2', {}, 'Samples'),
                el('img', {class: 'samples', id: 'samples', alt: `samples of job ${job.id}`,
                           src: `/api/jobs/${job.id}/artifacts/samples.png`}));
  }
  if (artifactNames.has('generator.bsg')) main.append(...edgeSection(job.id));
  const metricNames = [...new Set(data.metrics.map((m) => m.name))];
  const steps = new Set(data.metrics.map((m) => m.step));
  if (steps.size > 1) {
    main.append(el('h2', {}, 'Metrics over training'), el('div', {class: 'chart-small'}, el('canvas', {id: 'metrics-chart'})));
    running.charts.push(lineChart(document.getElementById('metrics-chart'),
        metricNames.map((n) => ({label: n, data: data.metrics.filter((m) => m.name === n).map((m) => ({x: m.step, y: m.value}))})),
        'step', 'value'));
  }
  if (Array.isArray(result.losses) && result.losses.length) {
    main.append(el('h2', {}, 'Losses'), el('div', {class: 'chart-small'}, el('canvas', {id: 'loss-chart'})));
    running.charts.push(lineChart(document.getElementById('loss-chart'),
        [{label: 'G loss', data: result.losses.map((l) => ({x: l.step, y: l.g_loss}))},
         {label: 'D loss', data: result.losses.map((l) => ({x: l.step, y: l.d_loss}))}], 'step', 'loss'));
  }
  const widths = generatorLayersSection(job, result);
  if (widths) main.append(...widths);
  const quant = result.quantization || {};
  const layers = [...(quant.g || []).map((l) => ['G', l]), ...(quant.d || []).map((l) => ['D', l])];
  if (layers.length) {
    main.append(el('h2', {}, 'Per-layer quantization'),
        el('table', {class: 'heat', id: 'job-layers'},
           el('tr', {}, ['net', 'layer', 'method', 'bits', 'levels used', 'utilisation', 'MSE', 'weights'].map((h) => el('th', {}, h))),
           layers.map(([net, l]) => {
             const u = el('td', {class: 'cell', 'data-layer': `${net}.${l.layer}`}, fmt.num(l.utilisation, 3));
             u.style.background = `hsl(${Math.round(120 * l.utilisation)}, 65%, ${88 - 18 * (1 - l.utilisation)}%)`;
             return el('tr', {}, el('td', {}, net), el('td', {}, l.layer), el('td', {}, l.method), el('td', {class: 'num'}, l.bits),
                       el('td', {class: 'num'}, `${l.levels_used}/${2 ** l.bits}`), u,
                       el('td', {class: 'num'}, Number(l.mse).toExponential(2)), el('td', {class: 'num'}, fmt.int(l.num_weights)));
           })));
  }
  if (data.attempts.length) {
    main.append(el('h2', {}, 'Attempts'), el('table', {id: 'attempts'},
        el('tr', {}, ['attempt', 'worker', 'started', 'ended', 'outcome', 'error'].map((h) => el('th', {}, h))),
        data.attempts.map((a) => el('tr', {}, el('td', {class: 'num'}, a.attempt), el('td', {}, a.worker_id),
                                    el('td', {}, fmt.time(a.started_ms)), el('td', {}, fmt.time(a.ended_ms)),
                                    el('td', {}, a.outcome), el('td', {class: 'err'}, a.error)))));
  }
  if (data.artifacts.length) {
    main.append(el('h2', {}, 'Files'), el('ul', {id: 'artifacts'}, data.artifacts.map((a) => el('li', {},
        el('a', {href: `/api/jobs/${job.id}/artifacts/${encodeURIComponent(a.name)}`}, a.name), ` (${fmt.bytes(a.bytes)})`))));
  }
  const spec = result.spec || job.params;
  main.append(el('h2', {}, result.spec ? 'Spec it ran' : 'Parameters'), el('pre', {id: 'spec'}, JSON.stringify(spec, null, 2)));
}

// New samples drawn on the visitor's machine from the job's packed
// generator, by the edge runtime built to WebAssembly (edge.js): new seeds
// at every click, and how long it took. The last draw stays in
// window.bitsweepEdgeLast (seed, latents, images) for the browser tests.
function edgeSection(jobId) {
  const status = el('span', {id: 'edge-status', class: 'note'});
  const canvas = el('canvas', {id: 'edge-samples', class: 'samples'});
  let generator = null;
  const button = el('button', {id: 'edge-generate', onclick: async () => {
    button.disabled = true;
    try {
      if (!generator) {
        status.textContent = 'loading the runtime and the generator…';
        const r = await fetch(`/api/jobs/${jobId}/artifacts/generator.bsg`);
        if (!r.ok) throw new Error(`generator.bsg: HTTP ${r.status}`);
        generator = await BitsweepEdge.load(await r.arrayBuffer());
        if (!generator) {
          status.textContent = 'this dashboard was built without the WebAssembly runtime (edge.wasm)';
          return;
        }
      }
      const seed = crypto.getRandomValues(new Uint32Array(2));
      const n = 64;
      const latents = generator.drawLatents(seed[0], seed[1], n);
      const started = performance.now();
      const images = generator.generate(latents, n);
      const ms = performance.now() - started;
      BitsweepEdge.drawGrid(canvas, images, n, generator.channels, generator.size);
      const seedText = (BigInt(seed[1]) << 32n | BigInt(seed[0])).toString();
      canvas.dataset.seed = seedText;
      status.textContent = `seed ${seedText}: ${n} images in ${ms.toFixed(1)} ms (${(ms / n).toFixed(2)} ms each) ` +
          `in this browser, ${generator.kernels} kernels, ${fmt.bytes(generator.weightBytes)} of weights held`;
      window.bitsweepEdgeLast = {seed: seedText, n, latents, images, ms};
    } catch (e) {
      status.replaceChildren(el('span', {class: 'error'}, String(e.message || e)));
    } finally {
      button.disabled = false;
    }
  }}, 'New samples in this browser');
  return [el('h2', {}, 'Generate here'),
          el('p', {class: 'note'}, 'The packed generator runs on this machine (WebAssembly), its weights still packed.'),
          el('div', {class: 'controls'}, button, status), canvas];
}

async function workersView(main) {
  const table = el('table', {id: 'workers'});
  main.replaceChildren(el('h1', {}, 'Workers'), table);
  async function refresh() {
    const {workers, now_ms: now} = await api('/api/workers');
    table.replaceChildren(
        el('tr', {}, ['worker', 'host', 'devices', 'slots', 'running', 'alive', 'last heartbeat', 'version'].map((h) => el('th', {}, h))),
        ...workers.map((w) => el('tr', {'data-worker': w.id},
            el('td', {}, w.id), el('td', {}, w.host), el('td', {}, w.devices.join(', ')), el('td', {class: 'num'}, w.slots),
            el('td', {class: 'num'}, w.running), el('td', {}, el('span', {class: `state ${w.alive ? 'SUCCEEDED' : 'FAILED'}`}, w.alive ? 'alive' : 'gone')),
            el('td', {}, fmt.ago(w.last_seen_ms, now)), el('td', {}, w.version))));
  }
  await refresh();
  running.timers.push(setInterval(() => refresh().catch(() => {}), 5000));
}

function compareList() {
  try { return JSON.parse(localStorage.getItem('bitsweep.compare') || '[]'); } catch (e) { return []; }
}
function addToCompare(id) {
  const list = compareList().filter((x) => x !== id);
  list.push(id);
  localStorage.setItem('bitsweep.compare', JSON.stringify(list.slice(-6)));
}

async function compareView(main, idsText) {
  const ids = (idsText ? idsText.split(',') : compareList().map(String)).map((x) => parseInt(x, 10)).filter((x) => x > 0);
  const input = el('input', {type: 'text', id: 'compare-ids', value: ids.join(','), placeholder: 'job ids, e.g. 3,7,12'});
  const go = () => { location.hash = `#/compare/${input.value.replace(/\s+/g, '')}`; };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
  const columns = el('div', {class: 'compare', id: 'compare'});
  main.replaceChildren(el('h1', {}, 'Compare jobs'),
                       el('div', {class: 'controls'}, input, el('button', {onclick: go}, 'Compare')), columns);
  if (!ids.length) { columns.append(el('p', {class: 'muted'}, 'Give job ids, or use "Compare with others" on a job page.')); return; }
  const jobs = await Promise.all(ids.map((id) => api(`/api/jobs/${id}`).catch((e) => ({error: e.message, id}))));
  for (const data of jobs) {
    if (data.error) { columns.append(el('div', {class: 'col'}, el('p', {class: 'error'}, `job ${data.id}: ${data.error}`))); continue; }
    const j = data.job;
    const has = new Set(data.artifacts.map((a) => a.name));
    columns.append(el('div', {class: 'col', 'data-job': j.id},
        el('h2', {}, el('a', {href: `#/job/${j.id}`}, `job ${j.id}`), ' ', stateBadge(j.state)),
        has.has('samples.png') ? el('img', {class: 'samples', src: `/api/jobs/${j.id}/artifacts/samples.png`, alt: `samples of job ${j.id}`}) : '',
        kv([['G', `${j.method_g}-${j.bits_g}`], ['D', `${j.method_d}-${j.bits_d}`], ['seed', j.seed],
            ['FID', metricText(data.metrics, 'fid')], ['IS', metricText(data.metrics, 'is')],
            ['KID', metricText(data.metrics, 'kid')], ['packed generator', fmt.bytes(j.model_bytes)]])));
  }
}

// ------------------------------------------------------------ routing

async function route() {
  stopRunning();
  const main = document.getElementById('main');
  const hash = location.hash.replace(/^#\/?/, '');
  const [view, arg] = hash.split('/');
  try {
    if (view === 'sweep' && /^\d+$/.test(arg)) await sweepView(main, arg);
    else if (view === 'job' && /^\d+$/.test(arg)) await jobView(main, arg);
    else if (view === 'workers') await workersView(main);
    else if (view === 'compare') await compareView(main, arg);
    else await sweepsView(main);
  } catch (e) {
    showError(main, e);
  }
  document.body.setAttribute('data-ready', hash || 'sweeps');
}

window.addEventListener('hashchange', route);
route();
