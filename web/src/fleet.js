// #/fleet : the fleet view. CAs (status, auto-registration, device count); every device (thing,
// certificate, status, connected, last seen) in a virtualised list paged by the server: only the
// rows in view (plus a margin) exist in the DOM, and only the pages they fall in are fetched, so
// 10,000 devices cost what 50 do; a device's provisioning timeline (JITR: first connect refused →
// registration event → rule → function → thing, policy, ACTIVE → connected; JITP, fleet
// provisioning and template steps likewise, each badged with its path) with a link to its
// device page; the rule/function invocation log with a failed-only filter. The fleet-wide SSE
// stream (lifecycle, shadow) refreshes the rows in view and the open timeline.
import { api, el, stream } from './common.js';

const ROW_HEIGHT = 30; // px; fixed, so a row's position is its index × ROW_HEIGHT
const PAGE = 100; // devices per server page
const OVERSCAN = 10; // rows rendered above and below the viewport
const INVOCATIONS_PAGE = 20;

// Timeline kinds → a short label, a tone for the badge and the provisioning path it belongs to
// (shown as a second badge, so a device's story reads by path: JITR, JITP, fleet provisioning).
// Recorded by the registry's triggers, the data plane (cloud/events/recorder.hpp), the
// provisioning templates' engine, fleet provisioning and JITP.
const KINDS = {
  'connect-refused': ['connect refused', 'bad'],
  'certificate-registered': ['certificate registered', ''],
  'registration-event': ['registration event', ''],
  'rule-matched': ['rule matched', '', 'JITR'],
  'function-invoked': ['function invoked', '', 'JITR'],
  'function-succeeded': ['function succeeded', 'ok', 'JITR'],
  'function-failed': ['function failed', 'bad', 'JITR'],
  'jitp-provisioned': ['provisioned by the CA\'s template', 'ok', 'JITP'],
  'jitp-failed': ['template failed', 'bad', 'JITP'],
  'ownership-token-issued': ['ownership token issued', '', 'fleet'],
  'ownership-token-consumed': ['ownership token consumed', '', 'fleet'],
  'register-thing-accepted': ['RegisterThing accepted', 'ok', 'fleet'],
  'register-thing-rejected': ['RegisterThing rejected', 'bad', 'fleet'],
  'provisioning-template-evaluated': ['template evaluated', '', 'template'],
  'provisioning-hook-answered': ['pre-provisioning hook answered', '', 'template'],
  'provisioning-failed': ['provisioning failed', 'bad', 'template'],
  'thing-created': ['thing created', ''],
  'thing-deleted': ['thing deleted', 'bad'],
  'policy-attached': ['policy attached', ''],
  'policy-detached': ['policy detached', ''],
  'principal-attached': ['certificate attached to thing', ''],
  'principal-detached': ['certificate detached from thing', ''],
  'certificate-active': ['certificate ACTIVE', 'ok'],
  'certificate-deleted': ['certificate deleted', 'bad'],
  connected: ['connected', 'ok'],
  disconnected: ['disconnected', ''],
  subscribed: ['subscribed', ''],
};

// A kind the table does not name still reads: certificate-<status> (the registry's trigger for
// any status change) as the status, job-execution-<status> as the job's, others as words.
function describeKind(kind) {
  if (KINDS[kind]) return KINDS[kind];
  let match = /^certificate-(.+)$/.exec(kind);
  if (match) return ['certificate ' + match[1].replace(/-/g, '_').toUpperCase(), /revoked|inactive/.test(match[1]) ? 'bad' : ''];
  match = /^job-execution-(.+)$/.exec(kind);
  if (match) return ['job execution ' + match[1].replace(/-/g, '_').toUpperCase(), /failed|rejected|timed/.test(match[1]) ? 'bad' : '', 'jobs'];
  return [kind.replace(/-/g, ' '), ''];
}

function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { hour12: false }) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

export const fleetPage = {
  nav: 'Fleet',
  render(root, args, query) {
    const view = buildView();
    root.append(view.node);
    const state = {
      q: query.get('q') || '',
      status: query.get('status') || '',
      total: 0,
      pages: new Map(), // page index → items (or a pending Promise)
      generation: 0, // bumped when the filter changes: late answers for an old filter are dropped
      selected: args[0] || null,
      invocationsOffset: 0,
      failedOnly: false,
    };
    view.search.value = state.q;
    view.status.value = state.status;
    let closed = false;

    async function loadCas() {
      try {
        view.showCas((await api('GET', '/console/api/cas')).items);
      } catch (e) {
        if (e.status !== 401) view.error(e.message);
      }
    }

    function params(offset, limit) {
      const p = new URLSearchParams({ offset, limit });
      if (state.q) p.set('q', state.q);
      if (state.status) p.set('status', state.status);
      return p.toString();
    }

    async function fetchPage(index) {
      if (state.pages.has(index)) return;
      const generation = state.generation;
      const pending = api('GET', '/console/api/devices?' + params(index * PAGE, PAGE));
      state.pages.set(index, pending);
      try {
        const page = await pending;
        if (generation !== state.generation || closed) return;
        state.pages.set(index, page.items);
        if (page.total !== state.total) {
          state.total = page.total;
          view.setTotal(state.total);
        }
        renderRows();
      } catch (e) {
        state.pages.delete(index);
        if (e.status !== 401) view.error(e.message);
      }
    }

    // The rows in view: render those whose page is loaded, fetch the others.
    function renderRows() {
      const { first, last } = view.visibleRange(state.total);
      const rows = [];
      for (let i = first; i <= last; i++) {
        const page = state.pages.get(Math.floor(i / PAGE));
        if (!Array.isArray(page)) continue;
        const device = page[i % PAGE];
        if (device) rows.push([i, device]);
      }
      view.showRows(rows, state.selected);
      for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) fetchPage(p);
    }

    // Re-query everything in view (filter change, live events, periodic refresh).
    function reload() {
      state.generation++;
      state.pages = new Map();
      const { first } = view.visibleRange(state.total);
      fetchPage(Math.floor(first / PAGE)).then(() => renderRows());
    }

    async function loadTimeline() {
      if (!state.selected) {
        view.showTimeline(null);
        return;
      }
      try {
        const timeline = await api('GET', '/console/api/devices/' + encodeURIComponent(state.selected) + '/timeline');
        if (!closed) view.showTimeline(state.selected, timeline);
      } catch (e) {
        if (e.status !== 401) view.showTimeline(state.selected, null, e.message);
      }
    }

    async function loadInvocations() {
      const p = new URLSearchParams({ offset: state.invocationsOffset, limit: INVOCATIONS_PAGE });
      if (state.failedOnly) p.set('failed', '1');
      try {
        const page = await api('GET', '/console/api/invocations?' + p);
        if (!closed) view.showInvocations(page);
      } catch (e) {
        if (e.status !== 401) view.error(e.message);
      }
    }

    view.onScroll = () => renderRows();
    let searchTimer = null;
    view.onFilter = () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(() => {
        state.q = view.search.value.trim();
        state.status = view.status.value;
        view.scrollToTop();
        reload();
      }, 250);
    };
    view.onSelect = (device) => {
      state.selected = device.thingName || device.certificateId;
      renderRows();
      loadTimeline();
    };
    view.onInvocations = (offset, failedOnly) => {
      state.invocationsOffset = Math.max(0, offset);
      state.failedOnly = failedOnly;
      loadInvocations();
    };

    // Live: lifecycle and shadow events of any thing refresh what is on screen (debounced: a
    // fleet connecting at once is one refresh, not a thousand).
    let liveTimer = null;
    function soon() {
      clearTimeout(liveTimer);
      liveTimer = setTimeout(() => {
        reload();
        loadTimeline();
        loadCas();
        loadInvocations();
      }, 400);
    }
    const source = stream('', {
      open: () => { view.live(true); soon(); },
      error: () => view.live(false),
      lifecycle: soon,
    });
    // Registrations and function runs do not pass through the stream: a slow periodic refresh.
    const periodic = setInterval(soon, 10000);

    loadCas();
    reload();
    loadTimeline();
    loadInvocations();
    return () => {
      closed = true;
      source.close();
      clearInterval(periodic);
      clearTimeout(liveTimer);
      clearTimeout(searchTimer);
    };
  },
};

function buildView() {
  const errors = el('p', { class: 'error', role: 'alert', id: 'fleet-error' });
  const live = el('span', { class: 'pill muted', id: 'fleet-live' }, 'connecting…');
  const casBody = el('tbody', { id: 'cas' });
  const search = el('input', { id: 'fleet-search', type: 'search', placeholder: 'thing name or certificate id', autocomplete: 'off' });
  const status = el(
    'select',
    { id: 'fleet-status' },
    ['', 'ACTIVE', 'PENDING_ACTIVATION', 'INACTIVE', 'REVOKED'].map((s) => el('option', { value: s }, s || 'any status')),
  );
  const total = el('span', { id: 'fleet-total', class: 'muted' }, '…');
  const spacer = el('div', { class: 'vspacer', id: 'fleet-spacer' });
  const rowsLayer = el('div', { class: 'vrows', id: 'fleet-rows' });
  const viewport = el('div', { class: 'vlist', id: 'fleet-list', tabindex: '0' }, spacer, rowsLayer);
  const timeline = el('section', { class: 'card', id: 'timeline-card' }, el('h2', {}, 'Provisioning timeline'), el('p', { class: 'muted' }, 'Select a device.'));
  const invocationsBody = el('tbody', { id: 'invocations' });
  const failedBox = el('input', { type: 'checkbox', id: 'failed-only' });
  const invocationsInfo = el('span', { class: 'muted', id: 'invocations-total' }, '');
  const prev = el('button', { type: 'button', class: 'small' }, '‹ newer');
  const next = el('button', { type: 'button', class: 'small' }, 'older ›');

  const header = el('div', { class: 'vrow vhead' }, ...['Thing', 'Certificate', 'Status', 'Connected', 'Last seen'].map((h) => el('span', {}, h)));
  const node = el(
    'div',
    { class: 'fleet' },
    el('section', { class: 'card head' }, el('h1', {}, 'Fleet ', live), errors),
    el(
      'section',
      { class: 'card' },
      el('h2', {}, 'Certificate authorities'),
      el('table', { class: 'table' }, el('thead', {}, el('tr', {}, ...['CA certificate', 'Status', 'Auto-registration', 'Registered', 'Devices'].map((h) => el('th', {}, h)))), casBody),
    ),
    el(
      'div',
      { class: 'fleet-main' },
      el('section', { class: 'card devices' }, el('h2', {}, 'Devices ', total), el('div', { class: 'filters' }, search, status), header, viewport),
      timeline,
    ),
    el(
      'section',
      { class: 'card' },
      el('h2', {}, 'Rule and function invocations ', invocationsInfo),
      el('label', { class: 'inline' }, failedBox, ' failed only'),
      ' ',
      prev,
      next,
      el('table', { class: 'table' }, el('thead', {}, el('tr', {}, ...['Started', 'Rule', 'Function', 'Device', 'Attempt', 'Result', 'Detail'].map((h) => el('th', {}, h)))), invocationsBody),
    ),
  );

  const view = {
    node,
    search,
    status,
    onScroll: () => {},
    onFilter: () => {},
    onSelect: () => {},
    onInvocations: () => {},
    invocationsOffset: 0,
    error(message) {
      errors.textContent = message;
    },
    live(on) {
      live.textContent = on ? 'live' : 'reconnecting…';
      live.className = 'pill ' + (on ? 'ok' : 'muted');
    },
    setTotal(n) {
      total.textContent = `${n.toLocaleString()} device${n === 1 ? '' : 's'}`;
      spacer.style.height = n * ROW_HEIGHT + 'px';
    },
    scrollToTop() {
      viewport.scrollTop = 0;
    },
    visibleRange(count) {
      const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
      const shown = Math.ceil((viewport.clientHeight || 600) / ROW_HEIGHT);
      const last = Math.max(0, Math.min(count - 1, first + shown + 2 * OVERSCAN));
      return { first, last };
    },
    showRows(rows, selected) {
      rowsLayer.replaceChildren(
        ...rows.map(([index, d]) => {
          const key = d.thingName || d.certificateId;
          const row = el(
            'div',
            {
              class: 'vrow' + (key === selected ? ' selected' : ''),
              dataset: { testid: 'fleet-row', index: String(index), thing: d.thingName || '', certificate: d.certificateId },
              onclick: () => view.onSelect(d),
            },
            el('span', { class: 'mono' }, d.thingName || '(no thing yet)'),
            el('span', { class: 'mono', title: d.certificateId }, d.certificateId.slice(0, 12) + '…'),
            el('span', {}, el('span', { class: 'pill ' + (d.status === 'ACTIVE' ? 'ok' : d.status === 'PENDING_ACTIVATION' ? '' : 'bad') }, d.status)),
            el('span', { dataset: { connected: String(d.connected) } }, d.connected ? '● yes' : '○ no'),
            el('span', { class: 'muted' }, when(d.lastSeen)),
          );
          // CSSOM, not a style attribute: the console's CSP forbids inline styles.
          row.style.top = index * ROW_HEIGHT + 'px';
          return row;
        }),
      );
    },
    showCas(items) {
      casBody.replaceChildren(
        ...items.map((ca) =>
          el(
            'tr',
            { dataset: { testid: 'ca-row' } },
            el('td', { class: 'mono', title: ca.certificateId }, ca.certificateId.slice(0, 16) + '…'),
            el('td', {}, el('span', { class: 'pill ' + (ca.status === 'ACTIVE' ? 'ok' : 'bad') }, ca.status)),
            el('td', {}, ca.autoRegistration),
            el('td', {}, when(new Date(ca.creationDate * 1000).toISOString())),
            el('td', { dataset: { testid: 'ca-devices' } }, String(ca.devices)),
          ),
        ),
      );
      if (items.length === 0) casBody.append(el('tr', {}, el('td', { colspan: '5', class: 'muted' }, 'No CA registered (ztp ca register).')));
    },
    showTimeline(key, timeline, message) {
      if (!key) return;
      const things = timeline ? timeline.thingNames : [];
      const link = things.length ? el('a', { href: '#/device/' + encodeURIComponent(things[0]), id: 'device-link' }, 'open the device page →') : el('span', { class: 'muted' }, 'no thing yet');
      const list = el('ol', { class: 'timeline', id: 'timeline' });
      if (timeline) {
        if (timeline.truncated) list.append(el('li', { class: 'muted' }, '(older events not shown)'));
        for (const event of timeline.items) {
          const [label, tone, path] = describeKind(event.kind);
          list.append(
            el(
              'li',
              { dataset: { kind: event.kind } },
              el('time', {}, when(event.time)),
              ' ',
              el('span', { class: 'pill ' + tone }, label),
              ' ',
              path ? el('span', { class: 'pill path', title: 'provisioning path' }, path) : null,
              path ? ' ' : null,
              el('span', { class: 'detail' }, event.detail),
            ),
          );
        }
      }
      timeline = timeline || { certificateIds: [] };
      const certificates = (timeline.certificateIds || []).map((c) => el('div', { class: 'mono small' }, 'certificate ' + c));
      const body = [el('h2', {}, 'Provisioning timeline'), el('div', { class: 'mono', id: 'timeline-device' }, key), ...certificates, link];
      if (message) body.push(el('p', { class: 'error' }, message));
      body.push(list);
      timelineCard().replaceChildren(...body);
    },
    showInvocations(page) {
      view.invocationsOffset = page.offset;
      invocationsInfo.textContent = `${page.total} attempt${page.total === 1 ? '' : 's'}${page.total ? `, ${page.offset + 1}–${page.offset + page.items.length}` : ''}`;
      prev.disabled = page.offset === 0;
      next.disabled = page.offset + page.items.length >= page.total;
      invocationsBody.replaceChildren(
        ...page.items.map((i) =>
          el(
            'tr',
            { dataset: { testid: 'invocation-row', status: i.status } },
            el('td', {}, when(i.started)),
            el('td', {}, i.ruleName || '—'),
            el('td', {}, i.functionName),
            el('td', { class: 'mono' }, i.thingName ? el('a', { href: '#/fleet/' + encodeURIComponent(i.thingName) }, i.thingName) : i.certificateId ? i.certificateId.slice(0, 12) + '…' : '—'),
            el('td', {}, `${i.attempt}${i.final ? '' : ' (retrying)'}`),
            el('td', {}, el('span', { class: 'pill ' + (i.status === 'succeeded' ? 'ok' : 'bad') }, i.status)),
            el('td', { class: 'detail' }, i.detail),
          ),
        ),
      );
    },
  };
  const timelineCard = () => timeline;
  viewport.addEventListener('scroll', () => view.onScroll(), { passive: true });
  search.addEventListener('input', () => view.onFilter());
  status.addEventListener('change', () => view.onFilter());
  failedBox.addEventListener('change', () => view.onInvocations(0, failedBox.checked));
  prev.addEventListener('click', () => view.onInvocations(view.invocationsOffset - INVOCATIONS_PAGE, failedBox.checked));
  next.addEventListener('click', () => view.onInvocations(view.invocationsOffset + INVOCATIONS_PAGE, failedBox.checked));
  return view;
}
