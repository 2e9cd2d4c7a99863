// The ops page: polls GET /ops/status, keeps a short history of each figure
// for the sparklines, and draws the chosen timeline with vis-timeline.
(function () {
  'use strict';

  const POLL_MS = 1500;
  /** Points kept per series: three minutes at one poll every 1.5 s. */
  const HISTORY = 120;
  const STALE_AFTER_MS = 6000;
  /** What to do when something fails: docs/runbooks.md, served by the api; one heading per alert. */
  const RUNBOOKS = '/ops/runbooks';
  const SHORT_RANGE_MS = 45 * 24 * 3600 * 1000;

  const $ = (id) => document.getElementById(id);
  const trend = { lag: [], throughput: [], relay: [], stream: [], admission: [], rebuild: [], partitions: new Map() };
  /** Per rebuild schema: [time, records applied] of the recent polls, for its rate and ETA. */
  const rebuildSamples = new Map();
  let lastUpdate = 0;

  // --- access ---------------------------------------------------------------

  // The page is served to anyone and holds no data; every figure comes from /ops/status, which needs a bearer
  // token with scope ops. It comes from the URL fragment (/ops#token=…, which the browser never sends to the
  // server), else from this tab's sessionStorage, else the operator is asked for it.
  const TOKEN_KEY = 'timeline-ops-token';
  let token = (() => {
    const given = new URLSearchParams(location.hash.slice(1)).get('token');
    if (given) {
      sessionStorage.setItem(TOKEN_KEY, given);
      // Out of the address bar and the history, so that a copied link does not carry it.
      history.replaceState(null, '', location.pathname + location.search);
      return given;
    }
    const stored = sessionStorage.getItem(TOKEN_KEY);
    if (stored) return stored;
    const asked = window.prompt('Bearer token with scope ops (and timelines:read for the timeline view); mint one with npm run token');
    if (asked) sessionStorage.setItem(TOKEN_KEY, asked.trim());
    return asked ? asked.trim() : null;
  })();

  const authorized = () => (token ? { authorization: `Bearer ${token}` } : {});

  /** A 401 or 403 said on the page, with what to do; the figures stay as they were. */
  function showAccessProblem(status) {
    const message = $('access-message');
    message.hidden = false;
    message.dataset.status = String(status);
    if (status === 401) {
      // A token that does not verify will not start to: forget it, so that a reload asks again.
      sessionStorage.removeItem(TOKEN_KEY);
      message.textContent = token
        ? 'The token was refused (401: expired, or not signed by a key this service accepts). Open /ops#token=<token> with a fresh one (npm run token -- --scope ops).'
        : 'No token (401). Open /ops#token=<token> with a token that has scope ops (npm run token -- --scope ops).';
    } else {
      message.textContent = 'The token does not allow this (403): /ops/status needs scope ops. Open /ops#token=<token> with one that has it.';
    }
  }

  const push = (series, value) => {
    series.push(value);
    if (series.length > HISTORY) series.shift();
  };

  const escapeHtml = (text) => String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

  const formatCount = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en'));

  function formatSeconds(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  /** An inline SVG sparkline of the series, scaled from 0 to its maximum. */
  function sparkline(values, color, width = 240, height = 44) {
    const points = values.length ? values : [0];
    const max = Math.max(1, ...points);
    const step = width / Math.max(1, HISTORY - 1);
    const offset = width - (points.length - 1) * step;
    const xy = points.map((v, i) => [offset + i * step, height - 2 - ((height - 4) * v) / max]);
    const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
    const area = `${xy[0][0].toFixed(1)},${height} ${line} ${xy[xy.length - 1][0].toFixed(1)},${height}`;
    const [lastX, lastY] = xy[xy.length - 1];
    return (
      `<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" aria-hidden="true">` +
      `<line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}" stroke="var(--grid)" stroke-width="1"/>` +
      `<polygon points="${area}" fill="${color}" fill-opacity="0.12"/>` +
      `<polyline points="${line}" fill="none" stroke="${color}" stroke-width="1.6" vector-effect="non-scaling-stroke" stroke-linejoin="round"/>` +
      `<circle cx="${lastX.toFixed(1)}" cy="${lastY.toFixed(1)}" r="2.2" fill="${color}"/>` +
      `</svg>`
    );
  }

  /** Colours a card by its value; a card that is not ok shows the link to its runbook (what to do). */
  function level(card, value, warnAt, badAt) {
    card.dataset.level = value >= badAt ? 'bad' : value >= warnAt ? 'warn' : 'ok';
    const runbook = card.querySelector('.runbook');
    if (runbook) runbook.hidden = card.dataset.level === 'ok';
  }

  function render(status) {
    const partitions = status.projection.partitions;
    const lagRecords = partitions ? partitions.reduce((sum, p) => sum + p.records, 0) : null;
    // A partition with records waiting and none decided yet has no time behind to show.
    const lagSeconds = partitions && partitions.every((p) => p.seconds !== null) ? Math.max(0, ...partitions.map((p) => p.seconds)) : null;

    push(trend.lag, lagRecords ?? 0);
    push(trend.throughput, status.throughput.perSecond);
    push(trend.relay, status.relay.unsentRecords);
    push(trend.stream, status.stream.connectedClients ?? 0);

    $('lag-records').textContent = formatCount(lagRecords);
    $('lag-seconds').textContent = lagRecords === 0 ? 'caught up' : `${formatSeconds(lagSeconds)} behind`;
    $('lag-partitions').textContent = partitions ? partitions.length : '–';
    level($('card-lag'), lagRecords ?? Infinity, 1, 1000);
    $('spark-lag').innerHTML = sparkline(trend.lag, 'var(--accent)');

    $('throughput').textContent = status.throughput.perSecond.toLocaleString('en', { maximumFractionDigits: 2 });
    $('throughput-count').textContent = formatCount(status.throughput.decisions);
    $('spark-throughput').innerHTML = sparkline(trend.throughput, 'var(--ok)');

    $('relay-unsent').textContent = formatCount(status.relay.unsentRecords);
    $('relay-oldest').textContent = status.relay.unsentRecords ? formatSeconds(status.relay.oldestUnsentSeconds) : '–';
    level($('card-relay'), status.relay.oldestUnsentSeconds, 5, 60);
    $('spark-relay').innerHTML = sparkline(trend.relay, 'var(--warn)');

    $('stream-clients').textContent = formatCount(status.stream.connectedClients);
    $('spark-stream').innerHTML = sparkline(trend.stream, 'var(--muted)');

    const admission = status.admission;
    push(trend.admission, admission ? admission.waitingCommands : 0);
    $('admission-waiting').textContent = formatCount(admission && admission.waitingCommands);
    $('admission-max').textContent = admission ? `of ${formatCount(admission.maxWaiting)}` : '';
    $('admission-refused').textContent = formatCount(admission && admission.refusedCommands);
    if (admission) level($('card-admission'), admission.waitingCommands / admission.maxWaiting, 0.5, 0.9);
    $('spark-admission').innerHTML = sparkline(trend.admission, 'var(--warn)');

    renderRebuild(status.rebuilds);
    renderPartitions(status.projection);
    renderDecisions(status.decisions);
    renderRejections(status.recentRejections);
    renderTimelineChoices(status.timelines);
    renderReplicas(status.readReplicas);
  }

  /** The read replicas (DATABASE_READ_URLS); the panel stays hidden when reads use the primary only. */
  function renderReplicas(replicas) {
    $('panel-replicas').hidden = replicas.length === 0;
    $('replicas').innerHTML = replicas
      .map(
        (r) =>
          `<tr data-testid="replica-row">` +
          `<td><code>${escapeHtml(r.name)}</code></td>` +
          `<td><span class="badge" data-testid="replica-rotation">${r.inRotation ? 'in rotation' : 'out of rotation'}</span></td>` +
          `<td class="num">${formatCount(r.lagBytes)}</td>` +
          `<td class="num">${r.lagSeconds === null ? '–' : formatSeconds(r.lagSeconds)}</td>` +
          `<td><code>${escapeHtml(r.replayPosition ?? '–')}</code></td>` +
          `<td title="${escapeHtml(r.lastError ?? '')}">${escapeHtml(r.lastError ?? '')}</td></tr>`,
      )
      .join('');
  }

  /** Progress of a read-model rebuild; rate and ETA from how fast `applied` grew over the last polls. */
  function renderRebuild(rebuilds) {
    const rebuild = rebuilds[rebuilds.length - 1];
    const card = $('card-rebuild');
    if (!rebuild) {
      card.dataset.state = 'idle';
      $('rebuild-progress').textContent = 'idle';
      $('rebuild-unit').textContent = '';
      $('rebuild-detail').textContent = 'no rebuild running';
      push(trend.rebuild, 0);
      $('spark-rebuild').innerHTML = sparkline(trend.rebuild, 'var(--muted)');
      return;
    }
    card.dataset.state = 'running';
    const samples = rebuildSamples.get(rebuild.schema) ?? [];
    samples.push([Date.now(), rebuild.applied]);
    while (samples.length > 8) samples.shift();
    rebuildSamples.set(rebuild.schema, samples);
    const [[firstAt, firstApplied], [lastAt, lastApplied]] = [samples[0], samples[samples.length - 1]];
    const rate = lastAt > firstAt ? ((lastApplied - firstApplied) * 1000) / (lastAt - firstAt) : null;
    const percent = rebuild.end ? Math.min(100, (100 * rebuild.applied) / rebuild.end) : null;
    const remaining = rebuild.end === null ? null : Math.max(0, rebuild.end - rebuild.applied);
    $('rebuild-progress').textContent = percent === null ? '–' : `${percent.toFixed(percent < 10 ? 1 : 0)}`;
    $('rebuild-unit').textContent = percent === null ? '' : '% replayed';
    const parts = [`${formatCount(rebuild.applied)} of ${formatCount(rebuild.end)} records`];
    if (rate !== null) parts.push(`${formatCount(Math.round(rate))} rec/s`);
    if (remaining === 0) parts.push('caught up');
    else if (rate) parts.push(`ETA ${formatSeconds(remaining / rate)}`);
    else if (rate === 0) parts.push('not advancing');
    $('rebuild-detail').textContent = parts.join(' · ');
    $('rebuild-detail').title = rebuild.schema;
    push(trend.rebuild, percent ?? 0);
    $('spark-rebuild').innerHTML = sparkline(trend.rebuild, 'var(--accent)');
  }

  function renderPartitions(projection) {
    $('topic').textContent = projection.topic;
    const error = $('projection-error');
    error.hidden = !projection.error;
    error.textContent = projection.error ?? '';
    const failing = new Map((projection.failing ?? []).map((f) => [f.partition, f]));
    const failures = $('partition-failures');
    failures.hidden = failing.size === 0;
    failures.innerHTML = [...failing.values()]
      .map(
        (f) =>
          `<li data-testid="failing-partition" data-partition="${f.partition}">partition ${f.partition} fails since ` +
          `${escapeHtml(new Date(f.since).toLocaleTimeString('en-GB'))} (${f.attempts} attempts, ${escapeHtml(f.failureClass)}): ` +
          `<code>${escapeHtml(f.error)}</code> <a class="runbook" data-testid="runbook-link" href="${RUNBOOKS}#timelinepartitionstuck">runbook</a></li>`,
      )
      .join('');
    const rows = projection.partitions ?? [];
    for (const p of rows) {
      if (!trend.partitions.has(p.partition)) trend.partitions.set(p.partition, []);
      push(trend.partitions.get(p.partition), p.records);
    }
    $('partitions').innerHTML = rows.length
      ? rows
          .map(
            (p) =>
              `<tr data-testid="partition-row" data-partition="${p.partition}" data-lag="${p.records}"` +
              `${failing.has(p.partition) ? ` class="failing" title="${escapeHtml(failing.get(p.partition).error)}"` : ''}>` +
              `<td>${p.partition}</td>` +
              `<td class="num">${formatCount(p.endOffset)}</td>` +
              `<td class="num">${formatCount(p.storedOffset)}</td>` +
              `<td class="num${p.records > 0 ? ' lagging' : ''}">${formatCount(p.records)}</td>` +
              `<td class="num">${p.records > 0 ? formatSeconds(p.seconds) : '–'}</td>` +
              `<td class="trend">${sparkline(trend.partitions.get(p.partition), 'var(--accent)', 200, 26)}</td>` +
              `</tr>`,
          )
          .join('')
      : `<tr><td class="empty" colspan="6">no partitions known</td></tr>`;
  }

  function renderDecisions(decisions) {
    $('accepted').textContent = formatCount(decisions.accepted);
    $('rejected').textContent = formatCount(decisions.rejected);
    const total = decisions.accepted + decisions.rejected;
    const ratio = $('ratio');
    ratio.querySelector('.accepted').style.width = total ? `${(100 * decisions.accepted) / total}%` : '0';
    ratio.querySelector('.rejected').style.width = total ? `${(100 * decisions.rejected) / total}%` : '0';
    const max = Math.max(1, ...decisions.rejectedByReason.map((r) => r.count));
    $('reasons').innerHTML = decisions.rejectedByReason.length
      ? decisions.rejectedByReason
          .map(
            (r) =>
              `<li><span class="reason" title="${escapeHtml(r.reason)}">${escapeHtml(r.reason)}</span>` +
              `<span class="track"><span class="fill" style="display:block;width:${(100 * r.count) / max}%"></span></span>` +
              `<span class="n">${formatCount(r.count)}</span></li>`,
          )
          .join('')
      : `<li class="none">no rejections in the last hour</li>`;
  }

  function renderRejections(rejections) {
    $('rejections').innerHTML = rejections.length
      ? rejections
          .map(
            (r) =>
              `<tr data-testid="rejection-row">` +
              `<td title="${escapeHtml(r.knownAt)}">${escapeHtml(new Date(r.knownAt).toLocaleTimeString('en-GB'))}</td>` +
              `<td><code>${escapeHtml(r.commandType)}</code></td>` +
              `<td><span class="badge">${escapeHtml(r.reason ?? 'unknown')}</span></td>` +
              `<td title="${escapeHtml(r.detail)}">${escapeHtml(r.detail ?? '')}</td>` +
              `<td>${escapeHtml(r.timelineId ?? '–')}</td>` +
              `<td class="num">${r.partition}/${r.offset}</td></tr>`,
          )
          .join('')
      : `<tr><td class="empty" colspan="6">no rejections</td></tr>`;
  }

  // --- the timeline ---------------------------------------------------------

  const select = $('timeline-select');
  let chosen = new URLSearchParams(location.search).get('timeline');
  let shownVersion = null;
  let timeline = null;
  let loading = false;
  const items = new vis.DataSet();

  function renderTimelineChoices(timelines) {
    const wanted = chosen ?? timelines.find((t) => t.eventCount > 0)?.timelineId ?? timelines[0]?.timelineId ?? null;
    const options = timelines.map((t) => `${t.timelineId}\u0000${t.title}\u0000${t.eventCount}`).join('\n');
    if (select.dataset.options !== options) {
      select.dataset.options = options;
      select.innerHTML = timelines
        .map((t) => `<option value="${escapeHtml(t.timelineId)}">${escapeHtml(t.title)} (${escapeHtml(t.timelineId)}, ${t.eventCount} events)</option>`)
        .join('');
      if (!timelines.length) select.innerHTML = '<option value="">no timelines yet</option>';
    }
    if (wanted && select.value !== wanted) select.value = wanted;
    const current = timelines.find((t) => t.timelineId === wanted);
    // A new event count means new or retracted events: draw the timeline again.
    const version = current ? `${current.timelineId}:${current.eventCount}` : null;
    if (current && version !== shownVersion && !loading) void loadTimeline(current, version);
  }

  select.addEventListener('change', () => {
    chosen = select.value;
    shownVersion = null;
    const url = new URL(location.href);
    url.searchParams.set('timeline', chosen);
    window.history.replaceState(null, '', url);
  });

  /** `2023`, `2023-07`, `2023-07-12` or a range `a/b` → the days it covers, as [start, end). */
  function validTimeRange(text) {
    const bounds = (part) => {
      const [y, m, d] = part.split('-').map(Number);
      if (d) return [new Date(Date.UTC(y, m - 1, d)), new Date(Date.UTC(y, m - 1, d + 1)), 'day'];
      if (m) return [new Date(Date.UTC(y, m - 1, 1)), new Date(Date.UTC(y, m, 1)), 'month'];
      return [new Date(Date.UTC(y, 0, 1)), new Date(Date.UTC(y + 1, 0, 1)), 'year'];
    };
    const parts = text.split('/');
    const first = bounds(parts[0]);
    const last = bounds(parts[parts.length - 1]);
    return { start: first[0], end: last[1] };
  }

  async function fetchEvents(timelineId) {
    const events = [];
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: '500' });
      if (cursor) query.set('cursor', cursor);
      const response = await fetch(`/v1/timelines/${encodeURIComponent(timelineId)}/events?${query}`, { headers: authorized() });
      if (!response.ok) throw new Error(`events of ${timelineId}: ${response.status}`);
      const page = await response.json();
      events.push(...page.events);
      cursor = page.nextCursor;
    } while (cursor);
    return events;
  }

  async function loadTimeline(summary, version) {
    loading = true;
    try {
      const events = await fetchEvents(summary.timelineId);
      items.clear();
      items.add(
        events.map((event) => {
          const range = validTimeRange(event.validTime);
          // A range too short to hold its title at a glance (a day, a month) is drawn as a box at its middle.
          const short = range.end - range.start < SHORT_RANGE_MS;
          return {
            id: event.eventId,
            content: escapeHtml(event.title),
            title:
              `<strong>${escapeHtml(event.title)}</strong><br>${escapeHtml(event.validTime)} · ${escapeHtml(event.factuality)}` +
              (event.summary ? `<br>${escapeHtml(event.summary)}` : ''),
            ...(short
              ? { type: 'box', start: new Date((range.start.getTime() + range.end.getTime()) / 2) }
              : { type: 'range', start: range.start, end: range.end }),
            className: `factuality-${event.factuality}`,
          };
        }),
      );
      if (!timeline) {
        timeline = new vis.Timeline($('timeline'), items, {
          stack: true,
          zoomable: true,
          horizontalScroll: true,
          zoomKey: 'ctrlKey',
          margin: { item: { horizontal: 4, vertical: 6 } },
          orientation: { axis: 'bottom' },
          tooltip: { followMouse: true, overflowMethod: 'cap' },
          minHeight: 260,
          maxHeight: 520,
        });
      }
      if (events.length) timeline.fit({ animation: false });
      $('timeline').dataset.timelineId = summary.timelineId;
      $('timeline').dataset.eventCount = String(events.length);
      $('timeline-info').textContent = `${events.length} events · drag to pan, ctrl + wheel to zoom`;
      shownVersion = version;
    } catch (error) {
      $('timeline-info').textContent = `could not load the events: ${error.message}`;
    } finally {
      loading = false;
    }
  }

  // --- polling --------------------------------------------------------------

  async function poll() {
    try {
      const response = await fetch('/ops/status', { cache: 'no-store', headers: authorized() });
      if (response.status === 401 || response.status === 403) {
        showAccessProblem(response.status);
        throw new Error(`access refused (${response.status})`);
      }
      if (!response.ok) throw new Error(`status ${response.status}`);
      $('access-message').hidden = true;
      render(await response.json());
      lastUpdate = Date.now();
    } catch (error) {
      $('freshness-text').textContent = `status not read: ${error.message}`;
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  setInterval(() => {
    const freshness = $('freshness');
    if (!lastUpdate) return;
    const age = Date.now() - lastUpdate;
    freshness.dataset.state = age > STALE_AFTER_MS ? 'stale' : 'live';
    if (age <= STALE_AFTER_MS)
      $('freshness-text').textContent = `live · every ${POLL_MS / 1000} s · updated ${new Date(lastUpdate).toLocaleTimeString('en-GB')}`;
    else $('freshness-text').textContent = `stale · last update ${Math.round(age / 1000)} s ago`;
  }, 500);

  void poll();
})();
