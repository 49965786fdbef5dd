// The rustlb status page: polls status.json every second, keeps the last minutes in
// memory and draws them with uPlot. Served by rustlb itself under a strict
// Content-Security-Policy: no inline script, no other origin. Text from the server is only
// ever set as textContent.
/* global uPlot */
(() => {
  const POLL_MS = 1000;
  /** How much history the charts keep. */
  const HISTORY_S = 300;
  /** p50 and p99 are over this window. */
  const QUANTILE_WINDOW_S = 10;
  const COLORS = { rate: '#2563eb', e4: '#d97706', e5: '#dc2626', conn: '#2563eb', p50: '#0d9488', p99: '#7c3aed' };

  /** Every measurement kept: { t: seconds, d: status.json }. */
  const samples = [];
  /** Chart series by key: { t: [], ...name: [] }. */
  const series = new Map();
  /** uPlot charts by key: { plot, el, names }. */
  const charts = new Map();
  let latest = null;

  // ---- helpers --------------------------------------------------------------------------

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k.startsWith('data-')) e.dataset[k.slice(5).replace(/-(\w)/g, (_m, c) => c.toUpperCase())] = v;
        else if (k === 'onclick') e.addEventListener('click', v);
        else e.setAttribute(k, v);
      }
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
    let s = Math.max(0, Math.round(seconds));
    const d = Math.floor(s / 86400);
    s -= d * 86400;
    const h = Math.floor(s / 3600);
    s -= h * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    if (d > 0) return `${d}d ${h}h`;
    if (h > 0) return `${h}h ${m}m`;
    if (m > 0) return `${m}m ${s}s`;
    return `${s}s`;
  }

  function ago(ms, now) {
    return ms === null || ms === undefined ? '–' : `${duration((now - ms) / 1000)} ago`;
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString();
  }

  function num(x, digits = 1) {
    if (x === null || x === undefined || !Number.isFinite(x)) return '–';
    return x >= 100 ? String(Math.round(x)) : x.toFixed(digits).replace(/\.0+$/, '');
  }

  function bytes(n) {
    if (n === null || n === undefined) return '–';
    return `${num(n / 1048576)} MiB`;
  }

  function ms(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    if (seconds === 0) return '0';
    return seconds < 0.001 ? `${num(seconds * 1e6, 0)} µs` : `${num(seconds * 1000)} ms`;
  }

  /** Change per second of a counter between two samples; null across a reset. */
  function rate(now, before, pick) {
    if (before === null) return null;
    const a = pick(before.d);
    const b = pick(now.d);
    const dt = now.t - before.t;
    if (a === undefined || b === undefined || a === null || b === null || dt <= 0 || b < a) return null;
    return (b - a) / dt;
  }

  /** The quantile `q` of the requests observed between two cumulative histograms (as Prometheus' histogram_quantile). */
  function quantile(q, now, then) {
    if (!now) return null;
    const bounds = now.bounds;
    const base = new Map();
    if (then) {
      for (let i = 0; i < then.bounds.length; i++) base.set(then.bounds[i], then.counts[i]);
    }
    const delta = now.counts.map((c, i) => c - (i < bounds.length ? (base.get(bounds[i]) ?? 0) : then ? then.count : 0));
    const total = delta[delta.length - 1];
    if (!(total > 0)) return null;
    const rank = q * total;
    let previous = 0;
    for (let i = 0; i < bounds.length; i++) {
      if (delta[i] >= rank) {
        const lower = i === 0 ? 0 : bounds[i - 1];
        const inBucket = delta[i] - previous;
        return inBucket <= 0 ? bounds[i] : lower + ((bounds[i] - lower) * (rank - previous)) / inBucket;
      }
      previous = delta[i];
    }
    return bounds.length > 0 ? bounds[bounds.length - 1] : null;
  }

  function byName(list, name) {
    return list.find((x) => x.name === name);
  }

  // ---- history --------------------------------------------------------------------------

  function seriesFor(key, names) {
    let s = series.get(key);
    if (s === undefined) {
      s = { t: [] };
      for (const n of names) s[n] = [];
      series.set(key, s);
    }
    return s;
  }

  function append(key, t, values) {
    const s = seriesFor(key, Object.keys(values));
    s.t.push(t);
    for (const [n, v] of Object.entries(values)) s[n].push(v);
    while (s.t.length > 0 && s.t[0] < t - HISTORY_S) {
      s.t.shift();
      for (const n of Object.keys(values)) s[n].shift();
    }
  }

  /** The oldest sample within the quantile window. */
  function windowStart(t) {
    for (const s of samples) if (s.t >= t - QUANTILE_WINDOW_S - 0.5) return s;
    return null;
  }

  function record(d) {
    const now = { t: d.time / 1000, d };
    const before = samples.length > 0 ? samples[samples.length - 1] : null;
    samples.push(now);
    while (samples.length > 0 && samples[0].t < now.t - HISTORY_S) samples.shift();
    const start = windowStart(now.t);
    for (const f of d.frontends) {
      const pick = (k) => (x) => {
        const g = byName(x.frontends, f.name);
        return g === undefined ? undefined : k === 'requests' ? g.requests : g.responses[k];
      };
      const connections = (x) => byName(x.frontends, f.name)?.connections;
      append(`fe:${f.name}`, now.t, {
        rate: rate(now, before, pick('requests')),
        e4: rate(now, before, pick('4xx')),
        e5: rate(now, before, pick('5xx')),
        conn: rate(now, before, connections),
      });
    }
    for (const b of d.backends) {
      const pick = (k) => (x) => {
        const g = byName(x.backends, b.name);
        return g === undefined ? undefined : k === 'requests' ? g.requests : g.responses[k];
      };
      const then = start === null || start === now ? null : byName(start.d.backends, b.name);
      const hasThen = then !== undefined && then !== null;
      append(`be:${b.name}`, now.t, { rate: rate(now, before, pick('requests')), e4: rate(now, before, pick('4xx')), e5: rate(now, before, pick('5xx')) });
      append(`lat:${b.name}`, now.t, {
        p50: hasThen ? quantile(0.5, b.duration, then.duration) : null,
        p99: hasThen ? quantile(0.99, b.duration, then.duration) : null,
      });
      // Per server: the same figures from rustlb_server_requests_total and its duration histogram.
      for (const v of b.servers) {
        const server = (x) => byName(x.backends, b.name)?.servers.find((y) => y.server === v.server);
        const spick = (k) => (x) => {
          const g = server(x);
          return g === undefined ? undefined : k === 'requests' ? g.requests : g.responses[k];
        };
        const sthen = hasThen ? then.servers.find((y) => y.server === v.server) : undefined;
        append(`sv:${v.server}`, now.t, {
          rate: rate(now, before, spick('requests')),
          e4: rate(now, before, spick('4xx')),
          e5: rate(now, before, spick('5xx')),
        });
        append(`svlat:${v.server}`, now.t, {
          p50: sthen === undefined ? null : quantile(0.5, v.duration, sthen.duration),
          p99: sthen === undefined ? null : quantile(0.99, v.duration, sthen.duration),
        });
      }
    }
    latest = { now, before };
  }

  // ---- charts ---------------------------------------------------------------------------

  const LABELS = { rate: 'req/s', e4: '4xx/s', e5: '5xx/s', conn: 'conn/s', p50: 'p50', p99: 'p99' };

  function chartWidth(container) {
    return Math.max(200, Math.floor(container.clientWidth || 300));
  }

  /** A server's charts: a fixed small size (they sit in its table, which scrolls on a phone). */
  const SMALL = { width: 260, height: 80 };

  function chart(key, container, names, unit, small = false) {
    let c = charts.get(key);
    if (c?.el.isConnected) return c;
    container.replaceChildren();
    const fmt = unit === 's' ? (_u, v) => (v === null ? '–' : ms(v)) : (_u, v) => (v === null ? '–' : num(v, 2));
    const plot = new uPlot(
      {
        width: small ? SMALL.width : chartWidth(container),
        height: small ? SMALL.height : 150,
        cursor: { drag: { x: false, y: false } },
        // At least the last minute, so a new chart does not stretch its first points over the width.
        scales: {
          x: {
            time: true,
            range: (_u, min, max) => (max === null || min === null ? [Date.now() / 1000 - 60, Date.now() / 1000] : [Math.min(min, max - 60), max]),
          },
          // Empty: 0 to 1 per second, or to 10 ms.
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : unit === 's' ? 0.01 : 1] },
        },
        // Series names only: the values are in the facts above the chart.
        legend: { live: false },
        axes: [
          small ? { show: false } : { stroke: '#667085', size: 30 },
          { stroke: '#667085', size: 56, space: small ? 16 : 30, values: (u, vals) => vals.map((v) => fmt(u, v)) },
        ],
        series: [{}, ...names.map((n) => ({ label: LABELS[n], stroke: COLORS[n], width: 1.5, value: fmt, spanGaps: false }))],
      },
      [[], ...names.map(() => [])],
      container,
    );
    c = { plot, el: container, names, small };
    charts.set(key, c);
    return c;
  }

  function draw(key, container, names, unit, small = false) {
    const c = chart(key, container, names, unit, small);
    const s = series.get(key);
    if (s === undefined) return;
    c.plot.setData([s.t.slice(), ...names.map((n) => s[n].slice())]);
    const last = s[names[0]][s[names[0]].length - 1];
    container.dataset.points = String(s.t.length);
    container.dataset.last = last === null || last === undefined ? '' : String(last);
  }

  function resize() {
    for (const c of charts.values()) {
      if (!c.el.isConnected || c.small) continue;
      const w = chartWidth(c.el);
      if (w !== c.plot.width) c.plot.setSize({ width: w, height: 150 });
    }
  }

  // ---- rendering ------------------------------------------------------------------------

  function facts(dl, pairs) {
    dl.replaceChildren(...pairs.map(([k, v, cls]) => el('div', null, el('dt', { text: k }), el('dd', { text: v, class: cls }))));
  }

  function renderProcess(d) {
    const p = d.process;
    facts(document.getElementById('process'), [
      ['version', p.version],
      ['pid', String(p.pid)],
      ['uptime', duration(p.uptimeSeconds)],
      ['config', p.configFile],
      ['generation', String(p.generation)],
      ['ready', p.draining ? 'draining' : p.ready ? 'yes' : 'no', p.ready && !p.draining ? '' : 'badge down'],
      ...(p.metricsEnabled ? [] : [['metrics', 'off (global.metrics.enabled: false): no request figures', 'badge warn']]),
    ]);
    document.getElementById('process').dataset.generation = String(p.generation);
    const box = document.getElementById('reload');
    const r = p.lastReload;
    if (r === null) {
      box.replaceChildren(el('span', { class: 'muted', text: `No reload since the start (${clock(p.startedAt)}).` }));
      return;
    }
    const result = r.accepted ? el('span', { class: 'badge up', text: 'accepted' }) : el('span', { class: 'badge down', text: 'rejected' });
    const line = el(
      'div',
      null,
      'Last reload ',
      result,
      ` at ${clock(r.at)} (${ago(r.at, d.time)}, ${r.trigger}); generation ${r.generation}${r.accepted ? '' : ' stays in force'}.`,
    );
    const problems = [...r.errors, ...r.warnings.map((w) => `warning: ${w}`)];
    if (problems.length > 0) box.replaceChildren(line, el('ul', { class: 'errors' }, ...problems.map((e) => el('li', { text: e }))));
    else box.replaceChildren(line);
    box.dataset.result = r.accepted ? 'accepted' : 'rejected';
  }

  function renderWorkers(d) {
    const tbody = document.querySelector('#workers tbody');
    const before = latest.before;
    const rows = d.workers.map((w) => {
      const prev = before === null ? undefined : before.d.workers.find((x) => x.slot === w.slot && x.pid === w.pid);
      const rps = prev === undefined || w.requests === null || prev.requests === null ? null : (w.requests - prev.requests) / ((d.time - before.d.time) / 1000);
      const stateClass = w.state === 'ready' ? 'badge up' : w.state === 'respawning' || w.crashLoop ? 'badge down' : 'badge warn';
      const crash = w.lastExit === null ? '–' : `${w.lastExit}, ${ago(w.lastCrashAt, d.time)}`;
      return el(
        'tr',
        { 'data-slot': String(w.slot) },
        el('td', { text: String(w.slot) }),
        el('td', { text: w.pid ? String(w.pid) : '–' }),
        el('td', null, el('span', { class: stateClass, text: w.crashLoop ? `${w.state} (crash loop)` : w.state })),
        el('td', { text: String(w.generation) }),
        el('td', { text: w.cpuPercent === null ? '–' : `${num(w.cpuPercent)}%` }),
        el('td', { text: bytes(w.rssBytes) }),
        el('td', { text: w.activeConnections === null ? '–' : String(w.activeConnections) }),
        el('td', { text: num(rps) }),
        el('td', { text: String(w.restarts) }),
        el('td', { text: crash }),
        el('td', { text: w.state === 'respawning' ? `respawn in ${duration((w.respawnInMs ?? 0) / 1000)}` : duration(w.uptimeSeconds) }),
      );
    });
    tbody.replaceChildren(...rows);
  }

  function last(key, name) {
    const s = series.get(key);
    if (s === undefined || s[name].length === 0) return null;
    return s[name][s[name].length - 1];
  }

  /** A card per name, kept across updates (its charts live in it); cards of removed names go. */
  function cards(container, list, prefix, build) {
    const keep = new Set(list.map((x) => `${prefix}${x.name}`));
    for (const child of [...container.children]) if (!keep.has(child.dataset.key)) child.remove();
    return list.map((x) => {
      const key = `${prefix}${x.name}`;
      let card = [...container.children].find((c) => c.dataset.key === key);
      if (card === undefined) {
        card = build(x);
        card.dataset.key = key;
        container.append(card);
      }
      return card;
    });
  }

  function renderFrontends(d) {
    const container = document.getElementById('frontends');
    const list = cards(container, d.frontends, 'fe:', (f) =>
      el('article', { class: 'card', 'data-frontend': f.name }, el('h3'), el('dl', { class: 'facts' }), el('div', { class: 'chart', 'data-chart': 'rate' })),
    );
    d.frontends.forEach((f, i) => {
      const card = list[i];
      const key = `fe:${f.name}`;
      const scheme = f.tls ? (f.protocol === 'http' ? 'https' : 'tls') : f.protocol;
      card.querySelector('h3').textContent = `${f.name} · ${scheme}://${f.listen} → ${f.backend}`;
      const tcp = f.protocol === 'tcp';
      facts(card.querySelector('dl'), [
        ['open', String(f.activeConnections)],
        ['connections', String(f.connections)],
        ...(tcp
          ? [['conn/s', num(last(key, 'conn'))]]
          : [
              ['requests', String(f.requests)],
              ['req/s', num(last(key, 'rate'))],
              ['4xx/s', num(last(key, 'e4'))],
              ['5xx/s', num(last(key, 'e5'))],
            ]),
      ]);
      draw(key, card.querySelector('.chart'), tcp ? ['conn'] : ['rate', 'e4', 'e5'], '/s');
    });
  }

  async function act(action, server) {
    const out = document.getElementById('action-result');
    const token = document.getElementById('token').value;
    if (token === '') {
      out.textContent = 'Enter the token (global.admin.token) first.';
      return;
    }
    if (!window.confirm(`${action} ${server}?`)) return;
    out.textContent = `${action} ${server}…`;
    try {
      const r = await fetch('status/actions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Rustlb-Token': token },
        body: JSON.stringify({ action, server }),
        cache: 'no-store',
      });
      const body = await r.json().catch(() => ({}));
      out.textContent = r.ok ? `${server}: ${body.result?.state ?? action} (done)` : `${action} ${server} refused: ${body.error ?? r.status}`;
    } catch (e) {
      out.textContent = `${action} ${server} failed: ${e.message}`;
    }
  }

  /** A server's row, new at every update; its charts (the row after it) stay. */
  function serverRow(v, now, actions) {
    const health = v.healthy ? el('span', { class: 'badge up', text: 'up' }) : el('span', { class: 'badge down', text: 'down' });
    const check =
      v.lastCheck === null
        ? 'no check yet'
        : v.lastCheck.ok
          ? `ok, ${ago(v.lastCheck.at, now)}`
          : `${v.lastCheck.reason ?? 'failed'}, ${ago(v.lastCheck.at, now)}`;
    const stateClass = v.state === 'enabled' ? 'muted' : 'badge warn';
    const buttons = actions
      ? el(
          'td',
          null,
          ...['drain', 'disable', 'enable'].map((a) =>
            el('button', {
              type: 'button',
              text: a,
              'data-action': a,
              disabled: (a === 'enable' ? v.state === 'enabled' : v.state === (a === 'drain' ? 'drain' : 'disabled')) ? '' : null,
              onclick: () => act(a, v.server),
            }),
          ),
        )
      : null;
    const key = `sv:${v.server}`;
    const lat = `svlat:${v.server}`;
    return el(
      'tr',
      { 'data-server': v.server, 'data-health': v.healthy ? 'up' : 'down', 'data-state': v.state },
      el('td', { text: v.address }),
      el('td', null, health, ` ${duration((now - v.since) / 1000)}`),
      el('td', { class: 'reason', text: check }),
      el('td', null, el('span', { class: stateClass, text: v.state })),
      el('td', { text: String(v.weight) }),
      el('td', { text: String(v.inFlight) }),
      el('td', { 'data-figure': 'rate', text: num(last(key, 'rate')) }),
      el('td', { 'data-figure': 'e4', text: num(last(key, 'e4')) }),
      el('td', { 'data-figure': 'e5', text: num(last(key, 'e5')) }),
      el('td', { 'data-figure': 'p50', text: ms(last(lat, 'p50')) }),
      el('td', { 'data-figure': 'p99', text: ms(last(lat, 'p99')) }),
      el('td', { text: `${v.checks.success} / ${v.checks.failure}` }),
      buttons,
    );
  }

  /** The row under a server's: its request/error rate and p50/p99 charts. */
  function serverCharts(v, cols) {
    const cell = el(
      'td',
      { class: 'server-charts', colspan: String(cols) },
      el(
        'div',
        { class: 'mini-charts' },
        el('div', { class: 'chart mini', 'data-chart': 'server-rate' }),
        el('div', { class: 'chart mini', 'data-chart': 'server-latency' }),
      ),
    );
    return el('tr', { class: 'server-charts', 'data-server-charts': v.server }, cell);
  }

  function renderServers(tbody, b, d, cols) {
    const existing = new Map([...tbody.querySelectorAll('tr.server-charts')].map((tr) => [tr.dataset.serverCharts, tr]));
    const rows = [];
    for (const v of b.servers) {
      let chartsRow = existing.get(v.server);
      if (chartsRow === undefined) chartsRow = serverCharts(v, cols);
      chartsRow.firstChild.setAttribute('colspan', String(cols));
      rows.push(serverRow(v, d.time, d.actions), chartsRow);
    }
    tbody.replaceChildren(...rows);
    for (const v of b.servers) {
      const chartsRow = tbody.querySelector(`tr.server-charts[data-server-charts="${CSS.escape(v.server)}"]`);
      draw(`sv:${v.server}`, chartsRow.querySelector('[data-chart="server-rate"]'), ['rate', 'e4', 'e5'], '/s', true);
      draw(`svlat:${v.server}`, chartsRow.querySelector('[data-chart="server-latency"]'), ['p50', 'p99'], 's', true);
    }
  }

  function renderBackends(d) {
    const container = document.getElementById('backends');
    document.getElementById('actions').hidden = !d.actions;
    const list = cards(container, d.backends, 'be:', (b) =>
      el(
        'article',
        { class: 'card', 'data-backend': b.name },
        el('h3'),
        el('dl', { class: 'facts' }),
        el('div', { class: 'charts' }, el('div', { class: 'chart', 'data-chart': 'rate' }), el('div', { class: 'chart', 'data-chart': 'latency' })),
        el('div', { class: 'scroll' }, el('table', { class: 'servers' }, el('thead'), el('tbody'))),
      ),
    );
    d.backends.forEach((b, i) => {
      const card = list[i];
      const key = `be:${b.name}`;
      const up = b.servers.filter((v) => v.healthy).length;
      card.querySelector('h3').textContent = `${b.name} · ${up} of ${b.servers.length} up`;
      const e4 = last(key, 'e4');
      const e5 = last(key, 'e5');
      facts(card.querySelector('dl'), [
        ['requests', String(b.requests)],
        ['req/s', num(last(key, 'rate'))],
        ['errors/s', e4 === null && e5 === null ? '–' : num((e4 ?? 0) + (e5 ?? 0))],
        ['p50', ms(last(`lat:${b.name}`, 'p50'))],
        ['p99', ms(last(`lat:${b.name}`, 'p99'))],
      ]);
      const head = [
        'server',
        'health',
        'last check',
        'state',
        'weight',
        'in flight',
        'req/s',
        '4xx/s',
        '5xx/s',
        'p50',
        'p99',
        'checks ok / failed',
        ...(d.actions ? ['action'] : []),
      ];
      const thead = card.querySelector('table.servers > thead');
      if (thead.dataset.cols !== head.join('|')) {
        thead.replaceChildren(el('tr', null, ...head.map((h) => el('th', { text: h }))));
        thead.dataset.cols = head.join('|');
      }
      renderServers(card.querySelector('table.servers > tbody'), b, d, head.length);
      draw(key, card.querySelector('[data-chart="rate"]'), ['rate', 'e4', 'e5'], '/s');
      draw(`lat:${b.name}`, card.querySelector('[data-chart="latency"]'), ['p50', 'p99'], 's');
    });
  }

  /** Days a certificate has left below which its row warns (cert-manager renews at 30 days left by default). */
  const CERT_WARN_DAYS = 14;

  function renderCertificates(d) {
    document.getElementById('certificates-section').hidden = d.certificates.length === 0;
    const rows = d.certificates.map((c) => {
      const left = (Date.parse(c.notAfter) - d.time) / 86_400_000;
      const cls = left <= 0 ? 'badge down' : left < CERT_WARN_DAYS ? 'badge warn' : 'badge up';
      const when = left <= 0 ? `expired ${duration(-left * 86_400)} ago` : `in ${duration(left * 86_400)}`;
      return el(
        'tr',
        { 'data-frontend': c.frontend },
        el('td', { text: c.frontend }),
        el('td', { text: c.names.join(', ') || '–' }),
        el('td', null, el('span', { class: cls, text: when }), ` ${c.notAfter.slice(0, 10)}`),
        el('td', { class: 'mono', text: c.fingerprint, title: c.fingerprint }),
        el('td', { text: c.file }),
      );
    });
    document.querySelector('#certificates tbody').replaceChildren(...rows);
  }

  function render(d) {
    renderProcess(d);
    renderWorkers(d);
    renderFrontends(d);
    renderBackends(d);
    renderCertificates(d);
    for (const key of [...charts.keys()]) if (!charts.get(key).el.isConnected) charts.delete(key);
    document.getElementById('updated').textContent = `updated ${clock(d.time)}`;
  }

  function connection(ok, why) {
    const badge = document.getElementById('conn');
    badge.className = ok ? 'badge up' : 'badge down';
    badge.textContent = ok ? 'live' : `disconnected: ${why}`;
    document.body.dataset.live = ok ? 'yes' : 'no';
  }

  async function poll() {
    try {
      const r = await fetch('status.json', { cache: 'no-store' });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      const d = await r.json();
      record(d);
      render(d);
      connection(true);
      document.body.dataset.updates = String(Number(document.body.dataset.updates ?? '0') + 1);
    } catch (e) {
      connection(false, e.message);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // The arithmetic, for the browser test (and a curious operator's console).
  window.rustlbStatus = Object.freeze({ quantile, rate });
  window.addEventListener('resize', resize);
  poll();
})();
