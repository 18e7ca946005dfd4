// GenGuard compliance UI: review queue, output detail, search and export, bias reports, audit chain.
// Plain JavaScript, no build step. Every value from the server is put into the page with
// textContent or setAttribute, never as HTML, so model output cannot inject markup.
'use strict';

(function () {
  const TOKEN_KEY = 'genguard.token';
  const main = document.getElementById('main');
  let me = null;

  // ---- helpers -------------------------------------------------------------------------------

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'onclick' || key === 'onsubmit' || key === 'onchange') node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /**
   * node.replaceChildren, leaving out null, undefined and false as el does: replaceChildren shows a
   * null child as the text "null".
   */
  function replaceShown(node, ...children) {
    node.replaceChildren(...children.filter(child => child !== null && child !== undefined && child !== false));
  }

  function svg(tag, attributes, ...children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, String(value));
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** A status badge; its class is the text unless kind names another (a text with spaces). */
  function badge(text, id, kind) {
    return el('span', { class: 'badge ' + (kind || text), id: id }, text);
  }

  function show(...nodes) {
    main.replaceChildren(...nodes);
  }

  function toast(message) {
    const box = document.getElementById('toast');
    const line = el('div', { class: 'message' }, message);
    box.appendChild(line);
    setTimeout(() => line.remove(), 6000);
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return '';
    return typeof value === 'number' ? value.toFixed(digits === undefined ? 3 : digits) : String(value);
  }

  function when(iso) {
    if (!iso) return '';
    return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  class ApiError extends Error {
    // body: the error answer's JSON (null when it was none), e.g. a 409's tenants to choose among.
    constructor(status, message, body) { super(message); this.status = status; this.body = body || null; }
  }

  // Pages routed to so far. A read's answer that comes after the reader went on to another page
  // is dropped (its promise never settles), so a slow answer never draws over the page now shown.
  // Downloads and writes are not dropped: what they did happened, and their toast still shows.
  let pagesRouted = 0;

  async function api(path, options) {
    const routedAt = pagesRouted;
    const token = sessionStorage.getItem(TOKEN_KEY);
    const init = Object.assign({ headers: {} }, options || {});
    init.headers = Object.assign({ 'Accept': 'application/json' }, init.headers);
    if (token) init.headers['Authorization'] = 'Bearer ' + token;
    if (init.body && typeof init.body !== 'string') {
      init.body = JSON.stringify(init.body);
      init.headers['Content-Type'] = 'application/json';
    }
    // Writes and downloads finish whatever page is shown by then; reads for a page only.
    const reading = (!init.method || init.method === 'GET') && !init.raw;
    const superseded = () => reading && routedAt !== pagesRouted;
    const response = await fetch(path, init);
    if (superseded()) return new Promise(() => {});
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      me = null;
      location.hash = '#/login';
      throw new ApiError(401, 'Your token is no longer valid; log in again.');
    }
    if (!response.ok) {
      let message = response.status + ' ' + response.statusText;
      let body = null;
      try {
        body = await response.json();
        message = body.error || message;
      } catch (ignored) { /* not JSON */ }
      throw new ApiError(response.status, message, body);
    }
    if (init.raw) return response;
    const body = response.status === 204 ? null : await response.json();
    if (superseded()) return new Promise(() => {});
    return body;
  }

  // The query naming a review item's tenant: two tenants may use one request id, each with its own
  // item, and a global token must say whose (409 otherwise).
  function itemTenant(tenantId) {
    return tenantId ? '?tenant=' + encodeURIComponent(tenantId) : '';
  }

  // The page of a request's story, of one tenant's records where a row names it: a global token
  // opening a request id two tenants use without it gets 409 (the page then offers the tenants).
  function storyHref(requestId, tenantId) {
    return '#/requests/' + encodeURIComponent(requestId) + itemTenant(tenantId);
  }

  function may(...roles) {
    return me && (me.role === 'ADMIN' || roles.includes(me.role));
  }

  function failure(error) {
    return el('p', { class: 'error', id: 'page-error' }, error.message);
  }

  // White space, and characters that show nothing: format characters (zero-width space and
  // joiners, bidirectional controls, soft hyphen), controls, marks on their own, and the blank
  // letters some fonts draw as nothing (Hangul fillers, the blank Braille pattern).
  const INVISIBLE = '\\s\\p{Cc}\\p{Cf}\\p{Z}\\p{M}\\u115F\\u1160\\u2800\\u3164\\uFFA0';
  const ALL_INVISIBLE = new RegExp('^[' + INVISIBLE + ']*$', 'u');
  const LEADING_INVISIBLE = new RegExp('^[' + INVISIBLE + ']*', 'u');

  /** Characters as the server counts them (code points, not UTF-16 units). */
  function characters(text) {
    return Array.from(text || '').length;
  }

  /** Whether a text would show nothing on the page. */
  function blank(text) {
    return ALL_INVISIBLE.test(text || '');
  }

  /**
   * A live claim on a queue item (null when none or lapsed), and whether it is this caller's: a
   * claim belongs to the token that made it (claimedTokenId), as the service decides, never to a
   * name, which two reviewers' tokens may share. Another token of this caller's name says so.
   */
  function claimOf(item) {
    if (!item || !item.claimedBy || !item.claimExpiresAt || Date.parse(item.claimExpiresAt) <= Date.now()) return null;
    const mine = Boolean(me) && Boolean(item.claimedTokenId) && item.claimedTokenId === me.tokenId;
    const namesake = !mine && Boolean(me) && item.claimedBy === me.name;
    return { by: item.claimedBy + (namesake ? ' (another token of that name, ' + item.claimedTokenId + ')' : ''),
      until: item.claimExpiresAt, mine };
  }

  /**
   * An item's decision badge. An output held because no verdict came in time has none: no model
   * judged it, so it must not look like a moderation REVIEW.
   */
  function holdBadge(decision, holdBasis, id) {
    if (decision) return badge(decision, id);
    return badge(holdBasis === 'VERDICT_TIMEOUT' ? 'NO VERDICT (timed out)' : 'NO VERDICT', id, 'NO_VERDICT');
  }

  // ---- login ---------------------------------------------------------------------------------

  function loginPage(message) {
    document.getElementById('nav').hidden = true;
    const input = el('input', { type: 'password', id: 'token-input', autocomplete: 'off',
      placeholder: 'ggt_...', 'aria-label': 'API token' });
    const error = el('p', { class: 'error', id: 'login-error' }, message || '');
    const form = el('form', { class: 'login', id: 'login-form', onsubmit: async (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      try {
        await loadMe();
        const target = defaultRoute();
        if (location.hash === target) route(); else location.hash = target;
      } catch (e) {
        sessionStorage.removeItem(TOKEN_KEY);
        error.textContent = e.status === 401 ? 'That token is not valid (unknown, revoked or expired).' : e.message;
      }
    } },
    el('h1', {}, 'Log in'),
    el('p', { class: 'muted' }, 'Paste your GenGuard API token. An admin creates one with ',
      el('code', {}, './genguard audit token create --role reviewer --tenant TENANT --name YOU'), '.'),
    input, el('p', {}, el('button', { type: 'submit', class: 'primary', id: 'login-button' }, 'Log in')), error);
    show(form);
    input.focus();
  }

  async function loadMe() {
    me = await api('/api/v1/me');
    const nav = document.getElementById('nav');
    nav.hidden = false;
    document.getElementById('who').textContent = me.name + ' · ' + me.role.toLowerCase()
      + (me.tenantId ? ' · tenant ' + me.tenantId : ' · all tenants');
    document.getElementById('nav-queue').hidden = !may('REVIEWER');
    document.getElementById('nav-search').hidden = !may('REVIEWER', 'COMPLIANCE');
    document.getElementById('nav-bias').hidden = !may('COMPLIANCE');
    document.getElementById('nav-audit').hidden = !may('COMPLIANCE');
  }

  function defaultRoute() {
    if (may('REVIEWER')) return '#/queue';
    if (may('COMPLIANCE')) return '#/search';
    return '#/search';
  }

  // ---- review queue --------------------------------------------------------------------------

  /** Items a queue page asks for. */
  const QUEUE_PAGE = 100;

  async function queuePage() {
    const table = el('table', { id: 'queue-table' },
      el('thead', {}, el('tr', {}, ['Held', 'Tenant', 'Decision', 'Unsafe', 'Output', 'Groups', 'Note', ''].map(h => el('th', {}, h)))));
    const body = el('tbody');
    table.appendChild(body);
    const status = el('p', { class: 'muted', id: 'queue-status' }, 'Loading...');
    const more = el('button', { type: 'button', id: 'queue-more', hidden: true }, 'More');
    const moreError = el('p', { class: 'error', id: 'queue-more-error' });
    show(el('h1', {}, 'Review queue'), status,
      el('p', { class: 'muted' }, 'A row shows the start of its output only: open it to read the whole text and approve it.'
        + ' Rejecting from a row quarantines the output without opening it; it never releases anything.'),
      table, el('div', { class: 'row-actions' }, more), moreError);
    // The queue a page at a time, oldest first; the status says how many are shown and whether
    // more are waiting, never a page's size as the queue's.
    let shown = 0;
    let next = null;
    const load = async () => {
      more.disabled = true;
      try {
        const page = await api('/api/v1/reviews?limit=' + QUEUE_PAGE + (next ? '&cursor=' + encodeURIComponent(next) : ''));
        for (const item of page.items) body.appendChild(queueRow(item));
        shown += page.items.length;
        next = page.nextCursor;
        status.textContent = shown === 0 ? 'Nothing is waiting for review.'
          : next ? shown + ' shown, oldest first; more are waiting (More shows the next ' + QUEUE_PAGE + ').'
          : shown + ' output(s) waiting for review, oldest first; all are shown.';
        more.hidden = !next;
        moreError.textContent = '';
      } catch (e) {
        if (shown === 0 && !next) status.replaceWith(failure(e));
        else moreError.textContent = e.message;
      } finally {
        more.disabled = false;
      }
    };
    more.addEventListener('click', load);
    await load();
  }

  /**
   * The start of an item's output as a link to the whole of it: a cut excerpt ends in "…" and says
   * how much is not shown, and one that would show nothing says so. The start is what whoever wrote
   * the prompt controls, so it is never enough to approve on.
   */
  function excerptLink(item) {
    const href = storyHref(item.requestId, item.tenantId);
    if (item.excerpt === null || item.excerpt === undefined) {
      return [el('a', { href, class: 'detail-link' }, '(no text on record)')];
    }
    const hidden = item.textLength === null || item.textLength === undefined ? 0
      : Math.max(0, item.textLength - characters(item.excerpt));
    const empty = item.textLength === 0;
    const link = empty ? el('a', { href, class: 'detail-link' }, '(empty output)')
      : blank(item.excerpt) ? el('a', { href, class: 'detail-link blank-start' }, '(blank start \u2014 open it)')
      : el('a', { href, class: 'detail-link' }, item.excerpt + (hidden ? '\u2026' : ''));
    return [link, hidden ? el('div', { class: 'muted cut' }, hidden.toLocaleString('en') + ' more character(s) not shown') : null];
  }

  function queueRow(item) {
    const note = el('input', { type: 'text', placeholder: 'note (optional)', class: 'note', maxlength: 2000 });
    const state = el('span', { class: 'row-state' });
    const claim = claimOf(item);
    const others = claim && !claim.mine;
    // Rejecting quarantines: nothing is published, so it may be done from the row; approving
    // releases, so it is done on the output's page, under the whole text.
    const reject = el('button', { type: 'button', class: 'reject', 'data-request-id': item.requestId, disabled: others,
      title: others ? 'claimed by ' + claim.by + ': only they can decide it until ' + when(claim.until)
        : 'Quarantine it without opening it; rejecting never releases anything',
      onclick: async () => {
        reject.disabled = true;
        try {
          // The verdict the row shows: a decision made before a late verdict reached the item is refused.
          // The row's tenant: two tenants may use one request id, each with its own item.
          await api('/api/v1/reviews/' + encodeURIComponent(item.requestId) + '/reject'
            + itemTenant(item.tenantId),
            { method: 'POST', body: { note: note.value, verdictId: item.verdictId } });
          state.replaceChildren(badge('DECIDED'), ' rejected');
          open.textContent = 'Open';
          toast('Rejected ' + item.requestId);
        } catch (e) {
          reject.disabled = false;
          toast(e.message);
        }
      } }, 'Reject');
    const open = el('a', { href: storyHref(item.requestId, item.tenantId), class: 'decide-link' },
      others ? 'Open' : 'Read all to approve');
    const claimed = claim ? el('div', { class: 'muted claim' }, claim.mine
      ? 'claimed by you until ' + when(claim.until)
      : 'claimed by ' + claim.by + ' until ' + when(claim.until)) : null;
    // With a review deadline (GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS) the service rejects the item then.
    const deadline = item.expiresAt
      ? el('div', { class: 'muted deadline' }, 'rejected unreviewed after ' + when(item.expiresAt)) : null;
    return el('tr', { 'data-request-id': item.requestId },
      el('td', {}, when(item.heldAt), deadline),
      el('td', {}, item.tenantId),
      el('td', { class: 'decision' }, holdBadge(item.decision, item.holdBasis)),
      el('td', {}, item.decision ? fmt(item.unsafeScore) : '\u2014'),
      el('td', { class: 'excerpt' }, excerptLink(item), claimed),
      el('td', {}, (item.groups || []).join(', ')),
      el('td', {}, note),
      el('td', {}, el('div', { class: 'row-actions' }, open, reject, state)));
  }

  // ---- output detail -------------------------------------------------------------------------

  async function detailPage(requestId, tenant) {
    show(el('p', {}, 'Loading ' + requestId + '...'));
    let story;
    try {
      story = await api('/api/v1/requests/' + encodeURIComponent(requestId) + itemTenant(tenant));
    } catch (e) {
      show(...[el('h1', {}, 'Request ' + requestId), failure(e), tenantChoices(requestId, e)].filter(Boolean));
      return;
    }
    // A held output's queue item says by when the service rejects it unreviewed (and its claim as
    // the queue reads it now); the page is drawn without it if it cannot be read.
    let queued = null;
    let queueError = null;
    if (story.reviewItem && story.reviewItem.state === 'PENDING' && may('REVIEWER')) {
      try {
        queued = await api('/api/v1/reviews/' + encodeURIComponent(requestId) + itemTenant(story.tenantId));
      } catch (e) {
        queueError = e;
      }
    }
    renderDetail(story, { queued, queueError });
  }

  /**
   * Where two tenants use the request id and the token named none, the 409 lists them: each is a
   * link to that tenant's story (null for any other failure).
   */
  function tenantChoices(requestId, error) {
    const tenants = error.status === 409 && error.body && Array.isArray(error.body.tenants) ? error.body.tenants : [];
    if (!tenants.length) return null;
    return el('div', { id: 'tenant-choices' }, el('p', {}, 'Open the story of tenant:'),
      el('ul', {}, tenants.map(t => el('li', {}, el('a', { href: storyHref(requestId, t), 'data-tenant': t }, t)))));
  }

  /**
   * Draws a request's page. context: queued (its queue item, for a reviewer of a held output),
   * queueError (why that could not be read), notice (what became of a decision just made).
   */
  function renderDetail(story, context) {
    const { queued, queueError, notice } = context || {};
    const item = story.reviewItem;
    // A held request's page shows the output its item holds, the one an approval releases.
    const output = (item && story.outputs.find(o => o.outputId === item.outputId))
      || story.outputs[story.outputs.length - 1] || null;
    const verdict = story.verdicts[story.verdicts.length - 1] || null;
    const page = [el('h1', {}, 'Request ', el('code', {}, story.requestId), ' ', badge(story.status, 'status'))];
    if (notice) page.push(el('p', { class: 'notice', id: 'gate-notice' }, notice));
    const reviewing = item && item.state === 'PENDING' && may('REVIEWER');
    if (item && item.state !== 'PENDING') {
      page.push(el('section', { id: 'review-state' }, 'Review: ', badge(item.state), ' ',
        (item.action || '') + (item.decidedBy ? ' by ' + item.decidedBy : '') + (item.note ? ': ' + item.note : '')));
    }
    if ((story.unfinished || []).length) {
      page.push(el('section', { id: 'unfinished' }, el('h2', {}, 'Left without an answer'),
        el('ul', {}, story.unfinished.map(f => el('li', { 'data-kind': f.kind },
          (f.kind === 'NO_ANSWER' ? 'No output or failure' : 'No release-gate outcome')
            + ' within the deadline: found ' + when(f.foundAt)
            + (f.resentCount > 0 ? '; sent again ' + (f.resentCount > 1 ? f.resentCount + ' times, last ' : '')
              + when(f.resentAt) : '')
            + (f.answeredAt ? '; it came late, ' + when(f.answeredAt)
              : f.dismissedAt ? '; dismissed by ' + f.dismissedBy + ' ' + when(f.dismissedAt)
              : '; still missing'))))));
    }
    if ((story.removals || []).length) {
      page.push(el('section', { id: 'removals' }, el('h2', {}, 'Content removed'),
        el('ul', {}, story.removals.map(r => el('li', {}, when(r.recordedAt) + ': ' + (r.removal.scope === 'REQUEST'
          ? 'erased' + (r.removal.by ? ' by ' + r.removal.by : '') + ' (' + r.removal.reason + ')'
          : 'retention (' + (r.removal.scope === 'TENANT' ? 'tenant ' + r.removal.tenantId : 'default') + ', '
            + r.removal.retentionDays + ' days)') + ', record seq ' + r.seq)))));
    }
    if (story.request) {
      page.push(el('section', {}, el('h2', {}, 'Request'),
        el('div', { class: 'grid' },
          el('span', { class: 'muted' }, 'Tenant'), el('span', {}, story.tenantId),
          el('span', { class: 'muted' }, 'Submitted'), el('span', {}, when(story.request.submittedAt)),
          el('span', { class: 'muted' }, 'Prompt'), el('div', { class: 'text', id: 'prompt-text' }, story.request.prompt))));
    }
    if (output) {
      page.push(el('section', {}, el('h2', {}, 'Output'), outputLength(output.text),
        el('div', { class: 'text', id: 'output-text' }, output.text),
        el('p', { class: 'muted' }, 'Model ', output.modelName + ' ' + output.modelVersion, ' via ', output.backend,
          ' · generated ', when(output.generatedAt))));
    }
    // The decision comes after the whole text, never before it.
    if (reviewing) {
      page.push(reviewPanel(story, output && output.outputId === item.outputId ? output : null,
        queued, queueError));
    }
    if (!verdict && output) {
      page.push(el('section', { id: 'no-verdict' }, el('h2', {}, 'Verdict'),
        el('p', {}, holdBadge(null, holdBasis(story, queued), 'no-verdict-badge'),
          ' No moderation verdict is on record for this output.')));
    }
    if (verdict) {
      page.push(el('section', { id: 'verdict' }, el('h2', {}, 'Verdict'),
        el('div', { class: 'grid' },
          el('span', { class: 'muted' }, 'Decision'), el('span', {}, badge(verdict.decision, 'verdict-decision')),
          el('span', { class: 'muted' }, 'Unsafe score'), el('span', { id: 'unsafe-score' }, fmt(verdict.unsafeScore)),
          el('span', { class: 'muted' }, 'Policy'), el('span', { id: 'policy-version' },
            verdict.policyId + ' version ' + verdict.policyVersion),
          el('span', { class: 'muted' }, 'Policy file SHA-256'), el('span', {},
            el('code', { id: 'policy-sha256' }, verdict.policySha256 || 'not recorded (verdicts before 2026-12-04)'),
            verdict.policySha256 && me && !me.tenantId && may('COMPLIANCE')
              ? policyPanel(verdict.policySha256) : null),
          el('span', { class: 'muted' }, 'Scorers'), el('span', {}, Object.entries(verdict.scorerVersions || {})
            .map(([k, v]) => k + ' ' + v).join(', ')),
          el('span', { class: 'muted' }, 'Decided'), el('span', {}, when(verdict.decidedAt))),
        el('h2', {}, 'Category scores'), categoryScores(verdict),
        el('h2', {}, 'Reasons'), el('ul', { id: 'reasons' }, (verdict.reasons || []).map(reason =>
          el('li', {}, badge(reason.decision), ' ', el('code', {}, reason.code), ' ', reason.message))),
        verdict.decision !== 'RELEASE' && may('REVIEWER', 'COMPLIANCE') ? explanationPanel(story.requestId, story.tenantId) : null,
        el('h2', {}, 'Groups mentioned'), el('p', { id: 'groups' },
          (verdict.groups || []).length ? verdict.groups.join(', ') : 'none detected'),
        el('h2', {}, 'Provenance'), provenance(verdict, output)));
    }
    page.push(el('section', {}, el('h2', {}, 'Gate outcomes'), el('ul', { id: 'gate-outcomes' },
      story.gateOutcomes.map(g => el('li', {}, badge(g.outcome), ' on ', g.basis.toLowerCase().replace('_', ' '), ' at ', when(g.decidedAt),
        g.reasons && g.reasons.length ? ' — ' + g.reasons.join('; ') : '')))));
    if ((story.gateRestatements || []).length) {
      page.push(el('section', {}, el('h2', {}, 'Restated by the gate'), el('p', { class: 'muted' },
        'The gate\'s outcome never reached the audit store; sent the output again, the gate said what it had decided'
          + ' (from its memory of the decision: no text, verdict or reasons).'),
        el('ul', { id: 'gate-restatements' }, story.gateRestatements.map(r =>
          el('li', {}, badge(r.decision), ' output ' + r.outputId + ', decided at ' + when(r.decidedAt)
            + (r.outcomeBasis ? ' on ' + r.outcomeBasis.toLowerCase().replace('_', ' ') : '')
            + ', restated at ' + when(r.recordedAt)
            + (r.outcomeEventId ? '; its outcome event ' + r.outcomeEventId
              : '; the gate named no outcome event (it decided before it kept them)'))))));
    }
    if (story.reviews.length) {
      page.push(el('section', {}, el('h2', {}, 'Reviews'), el('ul', { id: 'reviews' }, story.reviews.map(r =>
        el('li', {}, r.action + (r.reviewer ? ' by ' + r.reviewer : '') + ' at ' + when(r.decidedAt) + (r.note ? ': ' + r.note : ''))))));
    }
    if (story.actions.length) {
      page.push(el('section', {}, el('h2', {}, 'Audit trail'), el('ul', { id: 'actions' }, story.actions.map(a =>
        el('li', {}, when(a.actedAt) + ' ' + a.action + ' by ' + (a.callerName || 'a') + ' (' + a.callerRole.toLowerCase() + ')')))));
    }
    if ((story.retractions || []).length) {
      page.push(el('section', {}, el('h2', {}, 'Taken down'), el('ul', { id: 'retractions' }, story.retractions.map(r =>
        el('li', {}, 'Output ' + r.outputId + ' retracted at ' + when(r.retractedAt)
          + (r.basis === 'ERASURE' ? ' because its content was erased' : '')
          + (r.retractedBy ? ' by ' + r.retractedBy : '') + (r.reason ? ': ' + r.reason : '')
          + '; publishers were told on content.retractions')))));
    }
    if ((story.eventIdConflicts || []).length) {
      page.push(el('section', {}, el('h2', {}, 'Event id conflicts'), el('p', { class: 'muted' },
        'Other content was read under the id of a recorded event. The record read first stays on the hash chain'
          + ' (it may be the forged one); these are not on the chain. Find out which one the producer sent.'),
        el('ul', { id: 'event-id-conflicts' }, story.eventIdConflicts.map(c =>
          // A tenant's token gets null for what names another tenant (c.withheldFields).
          el('li', {}, c.eventType + ' ' + c.eventId
            + (c.recordedSeq != null ? ' (recorded at seq ' + c.recordedSeq
              + (c.recordedRequestId && c.recordedRequestId !== story.requestId ? ', a record of request ' + c.recordedRequestId : '')
              + ')' : ' (a record of another tenant)')
            + ' read again' + (c.seenAt ? ' at ' + when(c.seenAt) : '') + ' from ' + c.sourceTopic
            + (c.sourcePartition != null ? '-' + c.sourcePartition + ' offset ' + c.sourceOffset : '')
            + (c.afterResend ? ', read after a resend of the request (an answer given or judged again, no alert)' : '')
            + (c.requestId && c.requestId !== story.requestId ? ', naming request ' + c.requestId : '')
            + (c.payloadSha256 ? ', SHA-256 ' + c.payloadSha256 : '')
            + (c.recordedPayloadSha256 ? ' (recorded ' + c.recordedPayloadSha256 + ')' : '')
            + (c.withheld ? '; ' + c.withheld : c.payload ? '' : '; its content was removed'),
          (c.withheldFields || []).length
            ? el('div', { class: 'muted withheld-fields' }, 'Not shown: ' + c.withheldFields.join(', ')) : null,
          c.payload ? el('div', { class: 'text' }, JSON.stringify(c.payload, null, 2)) : null)))));
    }
    if ((story.auditRecords || []).length) page.push(chainRecords(story));
    // A release is taken down by its outcome event: on record, or named by the gate's restatement
    // (one from before the gate named it cannot be).
    if (me && me.role === 'ADMIN' && story.status === 'RELEASED'
      && (story.gateOutcomes.some(g => g.outcome === 'RELEASED')
        || (story.gateRestatements || []).some(r => r.decision === 'RELEASED' && r.outcomeEventId))) {
      page.push(retractPanel(story.requestId, story.tenantId));
    }
    if (me && me.role === 'ADMIN') page.push(erasePanel(story.requestId));
    show(...page);
  }

  /** Where the request's records sit in the hash chain, and whether a head kept outside covers them. */
  function chainRecords(story) {
    const anchored = story.anchoredThroughSeq;
    return el('section', {}, el('h2', {}, 'Hash chain'),
      el('p', { class: 'muted', id: 'chain-anchoring' }, anchored === null || anchored === undefined
        ? 'This service keeps no anchor file (GENGUARD_AUDIT_ANCHOR_FILE): the records below are covered by the chain only.'
        : anchored === 0 ? 'No chain head anchored outside the database yet.'
          : 'Chain heads anchored outside the database cover every record up to seq ' + anchored + '.'),
      el('table', { id: 'chain-records' },
        el('thead', {}, el('tr', {}, ['Seq', 'Event', 'Recorded', 'Hash', 'Anchored'].map(h => el('th', {}, h)))),
        el('tbody', {}, story.auditRecords.map(r => el('tr', { 'data-seq': r.seq },
          el('td', {}, String(r.seq)), el('td', {}, r.eventType), el('td', {}, when(r.recordedAt)),
          el('td', {}, el('code', { title: r.hash }, r.hash.slice(0, 16) + '…')),
          el('td', {}, r.anchored === undefined ? '—' : (r.anchored ? 'yes' : 'not yet')))))),
      anchored !== null && anchored !== undefined && may('COMPLIANCE') ? evidencePanel(story.requestId, story.tenantId) : null);
  }

  /**
   * Admins: one action on the request, with a reason that stays in the chain. Its elements are named
   * after id (id-reason, id-button, id-status, id-error, id-done); call sends it and says what was done;
   * once: the button stays disabled after it succeeded.
   */
  function reasonedAction({ id, title, placeholder, note, confirm, label, once, call }) {
    const reason = el('input', { type: 'text', id: id + '-reason', maxlength: '2000', placeholder });
    const status = el('p', { class: 'muted', id: id + '-status' }, note);
    const button = el('button', { type: 'button', id: id + '-button', onclick: async () => {
      if (!reason.value.trim()) {
        status.replaceChildren(el('span', { class: 'error', id: id + '-error' }, 'Give a reason first.'));
        return;
      }
      if (!window.confirm(confirm)) return;
      button.disabled = true;
      try {
        status.replaceChildren(el('span', { id: id + '-done' }, await call(reason.value)));
        button.disabled = Boolean(once);
      } catch (error) {
        status.replaceChildren(el('span', { class: 'error', id: id + '-error' }, error.message));
        button.disabled = false;
      }
    } }, label);
    return el('section', { id }, el('h2', {}, title), reason, ' ', button, status);
  }

  /**
   * Admins: take a released output down; whoever published it is told on content.retractions. The
   * story's tenant is named: two tenants may release under one request id, and an admin of no tenant
   * who names none is refused (409) there.
   */
  function retractPanel(requestId, tenantId) {
    return reasonedAction({ id: 'retract', title: 'Take down', label: 'Take this output down', once: true,
      placeholder: 'Why it comes down: e.g. hate the moderator missed, ticket T-1182',
      note: 'Retracting tells whoever published this output, on content.retractions, to take it down; the reason stays'
        + ' in the hash chain. The content stays in the audit store (erasing it also retracts it).',
      confirm: 'Take the released output of request ' + requestId + ' down?',
      call: async (reason) => {
        const r = await api('/api/v1/requests/' + encodeURIComponent(requestId) + '/retract',
          { method: 'POST', body: { reason, ...(tenantId ? { tenantId } : {}) } });
        return 'Retracted output ' + r.outputId + ' at ' + when(r.retractedAt) + ' (action ' + r.actionId + ').';
      } });
  }

  /** Admins: remove the request's content now, keeping its records' places in the chain. */
  function erasePanel(requestId) {
    return reasonedAction({ id: 'erase', title: 'Erase content', label: 'Erase this request\'s content',
      placeholder: 'Case, not a person: e.g. data subject request DSR-2026-118',
      note: 'Erasing removes the content of every record of this request from the audit store (not from Kafka\'s topics,'
        + ' which drop their copies by the time shown once erased, nor from backups) and tells the release gate, which never releases its output afterwards (one released'
        + ' before is retracted: its publishers are told to take it down); the records keep their places in the hash chain, and the reason stays there for good.',
      confirm: 'Erase the content of request ' + requestId + '? This cannot be undone.',
      call: async (reason) => {
        const r = await api('/api/v1/requests/' + encodeURIComponent(requestId) + '/erase',
          { method: 'POST', body: { reason } });
        const copies = !r.kafkaCopies ? ''
          : r.kafkaCopies.goneBy ? ' Kafka\'s topics drop their copies by ' + r.kafkaCopies.goneBy + '.'
          : ' When Kafka\'s topics drop their copies is not known: ' + r.kafkaCopies.basis + '.';
        return (r.tombstoned
          ? 'Erased: ' + r.tombstoned + ' record(s) lost their content (erasure record seq ' + r.retentionSeq + ').'
          : 'Nothing left to erase.') + copies;
      } });
  }

  /** The request's evidence bundle: its records with what proves them to someone without the database. */
  // The story's tenant named (itemTenant), as the take-down panel does: a global token's call on a
  // request id two tenants use is answered 409 otherwise (before the fifty-first session it was).
  function evidencePanel(requestId, tenantId) {
    const status = el('p', { class: 'muted', id: 'evidence-status' },
      'Check a bundle without the database: ./genguard audit verify-evidence --in FILE --anchor-keys KEYS'
        + ' (the public keys the audit chain page downloads, kept apart from this service).');
    const button = el('button', { type: 'button', id: 'evidence-button', onclick: async () => {
      button.disabled = true;
      try {
        await download('/api/v1/requests/' + encodeURIComponent(requestId) + '/evidence' + itemTenant(tenantId),
          'evidence-' + requestId + '.json');
        status.replaceChildren(el('span', { id: 'evidence-downloaded' }, 'Downloaded evidence-' + requestId
          + '.json; issuing it was recorded in the chain. Check it: ./genguard audit verify-evidence --in FILE --anchor-keys KEYS'));
      } catch (error) {
        status.replaceChildren(el('span', { class: 'error', id: 'evidence-error' }, error.message));
      }
      button.disabled = false;
    } }, 'Download evidence bundle');
    return el('div', {}, button, status);
  }

  function categoryScores(verdict) {
    const scores = Object.entries(verdict.categoryScores || {}).sort((a, b) => b[1] - a[1]);
    const table = el('table', { id: 'category-scores' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Category'), el('th', {}, 'Score'))),
      el('tbody', {}, scores.map(([category, score]) => el('tr', { 'data-category': category },
        el('td', {}, category), el('td', {}, fmt(score))))));
    return el('div', {}, barChart('Score per category', scores.map(([label, value]) => ({ label, value }))), table);
  }

  // What a watermark finding says, and what it does not: the watermark is a statistic over word
  // pairs, so a text built from pieces of a watermarked one is detected too; only a VALID manifest
  // vouches for an exact text.
  const WATERMARK_MEANING = {
    DETECTED: 'the text contains word pairs generated under this watermark key; that does not show that'
      + ' GenGuard produced this exact text (words added to or rearranged from a watermarked text are still'
      + ' detected): only a VALID manifest attributes an exact text, and only to the request and model it'
      + ' names, and to the tenant in a genguard.provenance.v2 manifest (with backend echo the text is the'
      + ' tenant\'s own prompt, signed as it came)',
    NOT_DETECTED: 'unknown origin, not human-written',
    TOO_SHORT: 'too few distinct word pairs to tell either way: a short text, one that repeats a few words,'
      + ' or one in a script written without spaces between words (Chinese, Japanese, Thai), which the'
      + ' word-level watermark cannot score',
  };

  function provenance(verdict, output) {
    const p = verdict.provenance;
    const rows = [];
    if (p) {
      rows.push(['Watermark', p.watermark + (p.zScore !== null && p.zScore !== undefined ? ' (z = ' + fmt(p.zScore, 2)
        + ', p = ' + fmt(p.pValue, 4) + ', ' + p.tokensScored + ' tokens)' : '')]);
      if (WATERMARK_MEANING[p.watermark]) rows.push(['Watermark means', WATERMARK_MEANING[p.watermark]]);
      rows.push(['Manifest', p.manifest]);
    } else {
      rows.push(['Findings', 'not checked']);
    }
    if (output && output.watermark) rows.push(['Watermark scheme', output.watermark.scheme + ', key ' + output.watermark.keyId]);
    // The event's claim is unsigned; where it contradicts the valid manifest, moderation used the manifest's.
    if ((verdict.reasons || []).some(r => r.code === 'provenance.watermark_claim_mismatch')) {
      rows.push(['Watermark claim', 'differs from the signed manifest, which the watermark was checked with (see Reasons)']);
    }
    if (output && output.manifest) rows.push(['Manifest key', output.manifest.keyId]);
    return el('div', { class: 'grid', id: 'provenance' }, rows.flatMap(([k, v]) => [el('span', { class: 'muted' }, k), el('span', {}, v)]));
  }

  /** On request: the words each held reason's score rests on, from the output judged again. */
  function explanationPanel(requestId, tenantId) {
    const result = el('div', { id: 'explanation' });
    const button = el('button', { type: 'button', id: 'explain-button', onclick: async () => {
      button.disabled = true;
      result.replaceChildren(el('p', { class: 'muted' }, 'Judging the recorded output again...'));
      try {
        const e = await api('/api/v1/requests/' + encodeURIComponent(requestId) + '/explanation' + itemTenant(tenantId));
        const lines = e.reasons.map(r => el('li', { 'data-code': r.code },
          el('code', {}, r.category || r.code), ' ', fmt(r.score, 2), r.evidence.length
            ? [' rests on ', r.evidence.map((w, i) => [i ? ', ' : '', el('mark', {}, w.word),
              ' (' + fmt(w.scoreWithout, 2) + ' without)'])]
            : ': no single word lowers it by the margin (words that only matter together do not show)'));
        result.replaceChildren(el('p', { class: 'muted', id: 'explanation-status' }, badge(e.status), ' ', e.detail),
          lines.length ? el('ul', { id: 'explanation-reasons' }, lines)
            : e.status === 'EXPLAINED' ? el('p', { id: 'explanation-none' },
              'No category score or stereotype signal to explain: the other reasons (screening, provenance, rules) say why it was held.')
              : null);
      } catch (error) {
        result.replaceChildren(el('p', { class: 'error', id: 'explanation-error' }, error.message));
      }
      button.disabled = false;
    } }, 'Which words does it rest on?');
    return el('div', {}, button, result);
  }

  /** The recorded policy file a verdict names, shown on request (global tokens: it holds every tenant's rules). */
  function policyPanel(sha256) {
    const result = el('div', { id: 'policy-file' });
    const button = el('button', { type: 'button', id: 'policy-button', onclick: async () => {
      button.disabled = true;
      try {
        const p = await api('/api/v1/policies/' + encodeURIComponent(sha256));
        result.replaceChildren(
          el('p', { class: 'muted', id: 'policy-recorded' }, p.policyId + ' version ' + p.version
            + ', recorded ' + when(p.recordedAt) + ' by ' + p.recordedBy),
          el('pre', { id: 'policy-yaml' }, p.yaml));
      } catch (error) {
        result.replaceChildren(el('p', { class: 'error', id: 'policy-error' }, error.message));
      }
      button.disabled = false;
    } }, 'Show the policy file');
    return el('div', {}, button, result);
  }

  /** How long the output is, and whether it opens with a run of blank or invisible characters. */
  function outputLength(text) {
    const length = characters(text);
    const lead = (text || '').match(LEADING_INVISIBLE)[0];
    const breaks = (lead.match(/\n/g) || []).length;
    const hidden = characters(lead) >= 40 || breaks >= 5;
    return el('p', { class: hidden ? 'error' : 'muted', id: 'output-length' },
      length.toLocaleString('en') + ' character(s), all shown below'
        + (hidden ? '; it opens with ' + characters(lead).toLocaleString('en') + ' blank or invisible character(s)'
          + (breaks ? ' (' + breaks + ' line breaks)' : '') + ': read on below them' : '') + '.');
  }

  /** What the request's hold rests on: its queue item's, else its latest hold's basis. */
  function holdBasis(story, queued) {
    if (queued && queued.holdBasis) return queued.holdBasis;
    const holds = (story.gateOutcomes || []).filter(g => g.outcome === 'HELD_FOR_REVIEW');
    return holds.length ? holds[holds.length - 1].basis : null;
  }

  /**
   * Approve and reject for a held output, under its whole text (output: the output the item
   * holds, null when its text is not on record: then it cannot be approved here).
   */
  function reviewPanel(story, output, queued, queueError) {
    const item = story.reviewItem;
    const basis = holdBasis(story, queued);
    const verdict = story.verdicts[story.verdicts.length - 1] || null;
    const claim = claimOf(queued || item);
    const others = claim && !claim.mine;
    const note = el('textarea', { id: 'review-note', placeholder: 'Note for the audit log (optional)', maxlength: 2000 });
    const message = el('p', { class: 'muted', id: 'review-message' });
    // The verdict this page was drawn with ('' none): the service refuses the decision (409) if a
    // verdict reached the item since, and the gate does not release on an approval made on another.
    const readVerdict = queued ? queued.verdictId : item.verdictId;
    const decide = (action) => async () => {
      approve.disabled = reject.disabled = true;
      // The page the decision is made on, taken before the POST: a reviewer may move on while it
      // is on its way, and the gate is then not waited for on the page they moved to.
      const page = location.hash;
      try {
        await api('/api/v1/reviews/' + encodeURIComponent(story.requestId) + '/' + action
          + itemTenant(story.tenantId),
          { method: 'POST', body: { note: note.value, verdictId: readVerdict } });
        message.textContent = (action === 'approve' ? 'Approved' : 'Rejected') + '; waiting for the release gate...';
        awaitGate(story.requestId, story.tenantId, message, action, page);
      } catch (e) {
        approve.disabled = !output || others;
        reject.disabled = others;
        message.textContent = e.message;
      }
    };
    const approve = el('button', { type: 'button', class: 'approve', id: 'approve-button', disabled: !output || others,
      onclick: decide('approve') }, 'Approve and release');
    const reject = el('button', { type: 'button', class: 'reject', id: 'reject-button', disabled: others,
      onclick: decide('reject') }, 'Reject and quarantine');
    const timedOut = basis === 'VERDICT_TIMEOUT';
    return el('section', { id: 'review-panel' }, el('h2', {}, 'Review'),
      el('p', { id: 'hold-reason' }, timedOut
        ? [holdBadge(null, basis, 'hold-basis'), ' No moderation verdict came in time, so the release gate held this'
          + ' output for a person: no model has judged it. A verdict that reaches the gate before your decision still'
          + ' decides: a BLOCK quarantines it even if you approve, a RELEASE releases it even if you reject (the audit'
          + ' service then takes that release down), a REVIEW holds it again with the verdict and your approval is not'
          + ' acted on: the item comes back for a person to decide under the verdict\'s reasons.']
        : [holdBadge(verdict ? verdict.decision : null, basis, 'hold-basis'),
          verdict ? ' Policy held this output for a person to decide; the verdict\'s reasons are below.'
            : ' The gate held this output for a person; its verdict is not on record here.']),
      el('p', { id: 'review-claim', class: others ? 'error' : 'muted' }, !claim ? 'Not claimed: deciding claims it.'
        : claim.mine ? 'Claimed by you until ' + when(claim.until) + '.'
        : 'Claimed by ' + claim.by + ' until ' + when(claim.until) + ': only they can decide it until then; reload after that.'),
      queued && queued.expiresAt ? el('p', { id: 'review-deadline', class: 'muted' }, 'If no one decides it, the service'
        + ' rejects it unreviewed after ' + when(queued.expiresAt) + ' (GENGUARD_AUDIT_REVIEW_EXPIRE_HOURS).') : null,
      queueError ? el('p', { class: 'error', id: 'review-queue-error' }, 'The queue item could not be read: '
        + queueError.message) : null,
      output ? el('p', { class: 'muted', id: 'review-whole' }, 'The whole output is above (' + characters(output.text)
        .toLocaleString('en') + ' character(s)); approving releases exactly that text.')
        : el('p', { class: 'error', id: 'review-whole' }, 'The held output\'s text is not on record here, so it cannot'
          + ' be approved from this page; rejecting it is still possible.'),
      note, el('div', { class: 'row-actions' }, approve, reject), message);
  }

  /**
   * After a decision: poll the story until the gate's outcome is recorded, then redraw. Every
   * status but HELD_FOR_REVIEW and IN_PROGRESS is final. A release after a rejection (the gate
   * released the output on a late verdict first) is taken down by the audit service as it records
   * it, so the page waits a little longer for RETRACTED before saying it stayed released.
   */
  async function awaitGate(requestId, tenantId, message, action, page) {
    // page: the one the decision was made on (with its ?tenant= where it had one), as it was
    // before the decision was sent: once another page is shown, polling stops.
    let deadline = Date.now() + 120000;
    let releasedAfterReject = false;
    let last = null;
    while (Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 1000));
      if (location.hash !== page) return;
      let story;
      try {
        story = await api('/api/v1/requests/' + encodeURIComponent(requestId) + itemTenant(tenantId));
      } catch (e) {
        message.textContent = e.message;
        continue;
      }
      // api() already leaves a read unanswered once another page was routed; this also covers a
      // page changed whose route has not run yet.
      if (location.hash !== page) return;
      if (story.reviewItem && story.reviewItem.state === 'PENDING') {
        // The gate did not act on the approval: a verdict reached it first and holds the output.
        renderDetail(story, { notice: 'A moderation verdict reached the release gate before your decision, so'
          + ' the gate did not act on it and holds the output on that verdict: read its reasons and decide again.' });
        toast('Request ' + requestId + ' is held again on a verdict');
        return;
      }
      if (story.status === 'HELD_FOR_REVIEW' || story.status === 'IN_PROGRESS') continue;
      if (story.status === 'RELEASED' && action === 'reject') {
        if (!releasedAfterReject) {
          releasedAfterReject = true;
          deadline = Date.now() + 30000;
          renderDetail(story, { notice: 'The gate released this output on a late verdict before your rejection'
            + ' reached it; the audit service takes such a release down. Waiting for the takedown...' });
        }
        last = story;
        continue;
      }
      renderDetail(story, { notice: decisionNotice(action, story.status) });
      toast('Request ' + requestId + ' is ' + story.status.toLowerCase());
      return;
    }
    if (releasedAfterReject) {
      renderDetail(last, { notice: 'The gate released this output on a late verdict before your rejection reached it,'
        + ' and it has not been taken down yet: reload later; an admin can take it down from this page.' });
      toast('Request ' + requestId + ' is released, against your rejection');
      return;
    }
    message.textContent = 'The gate has not acted yet; reload later.';
  }

  /** What became of a decision, once the request's status is final. */
  function decisionNotice(action, status) {
    if (action === 'approve') {
      return status === 'RELEASED' ? 'Approved and released.'
        : 'Approved, but not released: the request is ' + status + ' (a verdict, an erasure or a takedown reached'
          + ' the gate or the audit store before your approval; see its gate outcomes below).';
    }
    if (status === 'QUARANTINED') return 'Rejected and quarantined.';
    if (status === 'RETRACTED') {
      return 'Rejected, but the gate had released it on a late verdict before your rejection reached it; the release'
        + ' was taken down (RETRACTED) and its publishers told on content.retractions.';
    }
    return 'Rejected; the request is now ' + status + '.';
  }

  // ---- search and export ---------------------------------------------------------------------

  function searchPage() {
    const params = new URLSearchParams(location.hash.split('?')[1] || '');
    const field = (name, label, input) => el('label', {}, label, input);
    const text = (name, placeholder) => el('input', { name, placeholder, value: params.get(name) || '' });
    const choice = (name, values) => {
      const select = el('select', { name }, el('option', { value: '' }, 'any'), values.map(v => el('option', { value: v }, v)));
      select.value = params.get(name) || '';
      return select;
    };
    // Requests with other content read under a recorded event's id (their story lists it); those
    // no resend explains are the possible forgeries, which raise GenGuardEventIdConflict.
    const conflictChoice = () => {
      const select = el('select', { name: 'eventIdConflict', id: 'search-event-id-conflict' },
        el('option', { value: '' }, 'any'), el('option', { value: 'true' }, 'with a conflict'),
        el('option', { value: 'unexplained' }, 'only conflicts no resend explains'));
      select.value = params.get('eventIdConflict') || '';
      if (select.selectedIndex < 0) select.value = '';
      return select;
    };
    const form = el('form', { id: 'search-form' },
      me && !me.tenantId ? field('tenant', 'Tenant', text('tenant', 'all')) : null,
      field('decision', 'Decision', choice('decision', ['RELEASE', 'REVIEW', 'BLOCK'])),
      field('outcome', 'Now', choice('outcome', ['RELEASED', 'QUARANTINED', 'HELD_FOR_REVIEW', 'PENDING', 'RETRACTED'])),
      field('category', 'Flagged category', text('category', 'e.g. hate')),
      field('minScore', 'Min. category score', text('minScore', '0..1')),
      field('group', 'Group', text('group', 'e.g. religion:muslim')),
      field('from', 'From (UTC)', text('from', '2026-01-01T00:00:00Z')),
      field('to', 'To (UTC)', text('to', '')),
      field('attribute', 'Request attribute', text('attribute', 'e.g. userId:u-123 (a data subject)')),
      field('eventIdConflict', 'Event id conflict', conflictChoice()),
      el('div', { class: 'row-actions' }, el('button', { type: 'submit', class: 'primary', id: 'search-button' }, 'Search'),
        may('COMPLIANCE') ? el('button', { type: 'button', id: 'export-csv', onclick: () => exportSearch(form, 'csv') }, 'Export CSV') : null,
        may('COMPLIANCE') ? el('button', { type: 'button', id: 'export-json', onclick: () => exportSearch(form, 'json') }, 'Export JSON') : null));
    const results = el('div', { id: 'search-results' });
    // Said while the form differs from the query of the results shown, which is what an export is of.
    const pending = el('p', { class: 'muted', id: 'search-pending', hidden: true },
      'The form has changed since these results: press Search to apply it. Exports are of the results shown.');
    const differs = () => { pending.hidden = !searchShown || query(form).toString() === searchShown.toString(); };
    form.addEventListener('input', differs);
    form.addEventListener('change', differs);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      runSearch(query(form), results, null, null).then(differs);
    });
    searchShown = null;
    show(el('h1', {}, 'Search outputs'), el('section', {}, form, pending), results);
    runSearch(query(form), results, null, null).then(differs);
  }

  function query(form, extra) {
    const params = new URLSearchParams();
    for (const element of form.elements) {
      if (element.name && element.value.trim()) params.set(element.name, element.value.trim());
    }
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    return params;
  }

  /** The search whose results are on screen; an answer to an older one is dropped. */
  let searchRun = 0;

  /** The query of the results on screen (null while none are): what an export is of. */
  let searchShown = null;

  /**
   * Runs a search (cursor null) or fetches its next page (more: the button that asked). params are
   * the query as it ran, frozen: fields changed since then take effect with the next Search.
   */
  /**
   * A search row's event id conflict flags: whether other content was read under the id of one of
   * its request's records, and whether a resend explains every such content (eventIdConflict and
   * eventIdConflictUnexplained, as the filter's true and unexplained keep the rows).
   */
  function conflictBadge(item) {
    if (!item.eventIdConflict) return '';
    return item.eventIdConflictUnexplained
      ? el('span', { class: 'badge BLOCK', title: 'Other content was read under the id of one of the request\'s'
        + ' records, not after a resend of the request: a possible forgery, see its story' }, 'conflict, unexplained')
      : el('span', { class: 'badge PARTIAL', title: 'Other content was read under the id of one of the request\'s'
        + ' records, each after a resend of the request (an answer given again, a verdict judged again):'
        + ' see its story' }, 'conflict, after a resend');
  }

  async function runSearch(params, results, cursor, more) {
    const run = cursor ? searchRun : ++searchRun;
    const asked = new URLSearchParams(params);
    if (cursor) asked.set('cursor', cursor);
    if (more) {
      more.disabled = true;
      more.textContent = 'Loading...';
    } else {
      searchShown = null;
      results.replaceChildren(el('p', { class: 'muted' }, 'Searching...'));
    }
    try {
      const page = await api('/api/v1/outputs?' + asked.toString());
      if (run !== searchRun || !results.isConnected) return;
      if (!cursor) searchShown = new URLSearchParams(params);
      const rows = page.items.map(item => el('tr', { 'data-request-id': item.requestId },
        el('td', {}, when(item.decidedAt)), el('td', {}, item.tenantId), el('td', {}, badge(item.decision)),
        el('td', {}, badge(item.retractedAt ? 'RETRACTED' : item.outcome || 'PENDING')), el('td', {}, fmt(item.unsafeScore)),
        el('td', {}, (item.groups || []).join(', ')),
        el('td', { class: 'event-id-conflict' }, conflictBadge(item)),
        el('td', {}, el('a', { href: storyHref(item.requestId, item.tenantId) },
          (item.text || '').slice(0, 160) || '(no text)'))));
      let table = results.querySelector('table');
      if (!cursor || !table) {
        table = el('table', { id: 'search-table' }, el('thead', {}, el('tr', {},
          ['Decided', 'Tenant', 'Decision', 'Now', 'Unsafe', 'Groups', 'Event id', 'Output'].map(h => el('th', {}, h)))), el('tbody'));
        results.replaceChildren(table);
      }
      rows.forEach(row => table.tBodies[0].appendChild(row));
      for (const old of results.querySelectorAll('#next-page, #search-more-error')) old.remove();
      if (page.nextCursor) {
        const next = el('button', { type: 'button', id: 'next-page',
          onclick: () => runSearch(params, results, page.nextCursor, next) }, 'More');
        results.appendChild(next);
      } else if (!table.tBodies[0].rows.length) {
        results.appendChild(el('p', { class: 'muted', id: 'no-results' }, 'No outputs match.'));
      }
    } catch (e) {
      if (run !== searchRun || !results.isConnected) return;
      if (more) {
        // The rows shown stay; the same page can be asked for again.
        more.disabled = false;
        more.textContent = 'More';
        for (const old of results.querySelectorAll('#search-more-error')) old.remove();
        results.appendChild(el('p', { class: 'error', id: 'search-more-error' }, e.message));
      } else {
        results.replaceChildren(failure(e));
      }
    }
  }

  async function download(path, filename) {
    const response = await api(path, { raw: true, headers: { 'Accept': '*/*' } });
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el('a', { href: url, download: filename });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  /**
   * Exports what the results shown were searched with, not the form's fields, which may have been
   * changed since without a Search: an export is of the results on screen. Refused while none are.
   */
  async function exportSearch(form, format) {
    if (!searchShown) {
      toast('No search results are shown: press Search first; an export is of the results shown.');
      return;
    }
    const params = new URLSearchParams(searchShown);
    params.set('format', format);
    const changed = query(form).toString() !== searchShown.toString();
    try {
      await download('/api/v1/outputs/export?' + params.toString(), 'genguard-outputs.' + format);
      toast('Export downloaded (' + format.toUpperCase() + ')' + (changed
        ? ' of the results shown; the form\'s changes are not searched yet: press Search, then export, for them' : ''));
    } catch (e) {
      toast(e.message);
    }
  }

  // ---- bias reports --------------------------------------------------------------------------

  async function biasPage() {
    const list = el('div', { id: 'bias-reports' }, el('p', { class: 'muted' }, 'Loading...'));
    const live = el('div', { id: 'bias-live' });
    show(el('h1', {}, 'Bias reports'), el('section', {}, list), el('section', {}, el('h2', {}, 'Live per-group monitoring'), live));
    // Newest first, a page at a time: More fetches the older ones.
    const body = el('tbody');
    const table = el('table', { id: 'bias-table' }, el('thead', {}, el('tr', {},
      ['Created', 'Title', 'Status', 'Kind', 'Campaign', 'Model'].map(h => el('th', {}, h)))), body);
    const more = el('button', { type: 'button', id: 'bias-more', hidden: true }, 'More (older reports)');
    const moreError = el('p', { class: 'error', id: 'bias-more-error' });
    let next = null;
    const load = async () => {
      more.disabled = true;
      try {
        const page = await api('/api/v1/bias/reports?limit=50' + (next ? '&cursor=' + encodeURIComponent(next) : ''));
        if (!next && !page.items.length) {
          list.replaceChildren(el('p', { class: 'muted' }, 'No bias reports yet. A bias-audit campaign writes one when it completes.'));
          return;
        }
        if (!next) list.replaceChildren(table, el('div', { class: 'row-actions' }, more), moreError);
        for (const r of page.items) {
          body.appendChild(el('tr', { 'data-report-id': r.reportId },
            el('td', {}, when(r.createdAt)),
            el('td', {}, el('a', { href: '#/bias/' + encodeURIComponent(r.reportId) }, r.title)),
            el('td', { class: 'report-status' }, r.summary && typeof r.summary.status === 'string'
              ? statusBadge(r.summary.status, null)
              : el('span', { class: 'muted', title: 'Stored without its status in the list: open the report' }, '—')),
            el('td', {}, r.kind), el('td', {}, r.campaignId || ''), el('td', {}, r.model || '')));
        }
        next = page.nextCursor;
        more.hidden = !next;
        moreError.textContent = '';
      } catch (e) {
        if (!next) list.replaceChildren(failure(e));
        else moreError.textContent = e.message;
      } finally {
        more.disabled = false;
      }
    };
    more.addEventListener('click', load);
    await load();
    if (me && !me.tenantId) {
      try {
        const metrics = await api('/api/v1/bias/metrics?scope=LIVE');
        live.replaceChildren(metrics.groups.length ? groupCharts(metrics.groups)
          : el('p', { class: 'muted' }, 'No live bias metrics yet.'));
      } catch (e) {
        live.replaceChildren(failure(e));
      }
    } else {
      live.replaceChildren(el('p', { class: 'muted' }, 'Live metrics cover all tenants; a global compliance token sees them.'));
    }
  }

  async function reportPage(reportId) {
    show(el('p', {}, 'Loading report...'));
    try {
      const report = await api('/api/v1/bias/reports/' + encodeURIComponent(reportId));
      const body = report.report || {};
      const downloads = el('div', { class: 'row-actions' }, ['json', 'csv', 'html'].map(format =>
        el('button', { type: 'button', id: 'download-' + format, onclick: () =>
          download('/api/v1/bias/reports/' + encodeURIComponent(reportId) + '?format=' + format,
            'bias-report-' + reportId + '.' + format).catch(e => toast(e.message)) }, 'Download ' + format.toUpperCase())));
      const summary = Object.entries(report.summary || {});
      const headline = body.headline || report.summary || {};
      const limits = Array.isArray(body.limits) ? body.limits.filter(l => typeof l === 'string') : [];
      show(el('h1', { id: 'report-title' }, report.title),
        el('p', { class: 'muted' }, report.kind + (report.campaignId ? ' · campaign ' + report.campaignId : '')
          + (report.model ? ' · model ' + report.model : '') + ' · created ' + when(report.createdAt) + ' by ' + report.createdBy),
        typeof body.status === 'string' ? reportStatus(body) : null,
        downloads,
        typeof headline.summary === 'string' ? reportVerdict(headline, body.groups) : null,
        limits.length ? el('section', { id: 'report-limits' }, el('h2', {}, 'Limits'),
          el('p', { class: 'muted' }, 'What the figures do not say.'), el('ul', {}, limits.map(l => el('li', {}, l)))) : null,
        summary.length ? el('section', {}, el('h2', {}, 'Summary'), el('div', { class: 'grid', id: 'report-summary' },
          summary.flatMap(([k, v]) => [el('span', { class: 'muted' }, k), el('span', {}, typeof v === 'object' ? JSON.stringify(v) : fmt(v))]))) : null,
        body.method ? el('section', {}, el('h2', {}, 'Method'), el('p', {}, String(body.method))) : null,
        el('section', { id: 'report-charts' }, Array.isArray(body.groups) && body.groups.length ? groupCharts(body.groups)
          : el('p', { class: 'muted' }, 'This report has no per-group figures to chart.')));
    } catch (e) {
      show(el('h1', {}, 'Bias report'), failure(e));
    }
  }

  /** COMPLETE in green; PARTIAL (or anything else) in amber. */
  function statusBadge(status, id) {
    return badge(status, id, status === 'COMPLETE' ? 'ok' : 'PARTIAL');
  }

  /**
   * A report's status and how many of the planned samples it analysed, and what became of the
   * others (its limits say why that matters).
   */
  function reportStatus(body) {
    const sizes = body.sampleSizes || {};
    const parts = [];
    if (typeof sizes.analysed === 'number' && typeof sizes.planned === 'number') {
      parts.push(sizes.analysed + ' of ' + sizes.planned + ' planned samples analysed');
    }
    if (Array.isArray(body.missing) && body.missing.length) {
      const states = {};
      body.missing.forEach(m => { states[m.state] = (states[m.state] || 0) + 1; });
      parts.push(body.missing.length + ' without a verdict ('
        + Object.entries(states).map(([state, n]) => n + ' ' + String(state).toLowerCase()).join(', ') + ')');
    }
    return el('p', { id: 'report-status' }, statusBadge(body.status, 'report-status-badge'),
      parts.length ? ' ' + parts.join(' · ') : null);
  }

  /**
   * A bias report's answer: red when a disparity was detected, amber when some group had no judged
   * output to compare (notCompared says why), green only when every group was compared and none
   * differed significantly.
   */
  function reportVerdict(headline, groups) {
    let kind = 'calm', title = 'No significant disparity';
    if (headline.disparityDetected) {
      kind = 'alert'; title = 'Disparity detected';
    } else if (headline.notCompared) {
      const withOutputs = Array.isArray(groups) ? groups.filter(g => g.n > 0).length : 0;
      kind = 'neutral'; title = withOutputs < 2 ? 'No comparison possible' : 'Not every group compared';
    }
    return el('section', { id: 'report-verdict', class: 'verdict ' + kind },
      el('h2', {}, title), el('p', {}, headline.summary));
  }

  /**
   * Per-group rate charts. A group without outputs (n = 0, its rates null) has no rate: it is
   * written as "no outputs", never drawn as a 0% bar.
   */
  function groupCharts(groups) {
    const rate = (key) => groups.map(g => {
      const label = g.group + ' (n=' + g.n + ')';
      if (!(g.n > 0)) return { label, empty: 'no outputs' };
      if (typeof g[key] !== 'number') return { label, empty: 'no data' };
      return { label, value: g[key],
        lo: key === 'unsafeRate' && g.unsafeRateInterval ? g.unsafeRateInterval[0] : undefined,
        hi: key === 'unsafeRate' && g.unsafeRateInterval ? g.unsafeRateInterval[1] : undefined };
    });
    return el('div', {},
      barChart('Unsafe rate per group (95% interval)', rate('unsafeRate')),
      barChart('Block rate per group', rate('blockRate')),
      barChart('Review rate per group', rate('reviewRate')));
  }

  /**
   * A horizontal bar chart of values in 0..1 as SVG, with optional interval whiskers; a row with
   * empty set has no value and shows that text instead of a bar.
   */
  function barChart(title, rows) {
    const labelWidth = 220, barWidth = 420, rowHeight = 22, top = 24;
    const height = top + rows.length * rowHeight + 8;
    const chart = svg('svg', { class: 'chart', width: labelWidth + barWidth + 70, height, role: 'img', 'aria-label': title });
    chart.appendChild(svg('text', { x: 0, y: 14, 'font-weight': 600 }, title));
    rows.forEach((row, i) => {
      const y = top + i * rowHeight;
      const value = Math.max(0, Math.min(1, Number(row.value) || 0));
      chart.appendChild(svg('text', { x: 0, y: y + 14 }, row.label.length > 34 ? row.label.slice(0, 33) + '…' : row.label));
      if (row.empty) {
        chart.appendChild(svg('text', { class: 'no-data', x: labelWidth + 4, y: y + 14 }, row.empty));
        return;
      }
      chart.appendChild(svg('rect', { class: 'bar', x: labelWidth, y: y + 3, width: Math.max(1, value * barWidth), height: rowHeight - 8 }));
      if (row.lo !== undefined && row.hi !== undefined) {
        const yMid = y + rowHeight / 2 - 1;
        chart.appendChild(svg('line', { class: 'whisker', x1: labelWidth + row.lo * barWidth, x2: labelWidth + row.hi * barWidth, y1: yMid, y2: yMid }));
      }
      chart.appendChild(svg('text', { x: labelWidth + barWidth + 6, y: y + 14 }, fmt(value)));
    });
    chart.appendChild(svg('line', { class: 'axis', x1: labelWidth, x2: labelWidth, y1: top, y2: height - 4 }));
    return chart;
  }

  // ---- audit chain ---------------------------------------------------------------------------

  async function auditPage() {
    const result = el('div', { id: 'chain-result' }, el('p', { class: 'muted' }, 'Not verified in this session yet.'));
    // The head of the last whole verification that held, kept in this browser (outside the database):
    // the next check can walk only the records after it.
    const headKey = 'genguard.verifiedHead';
    const keptHead = () => { try { return JSON.parse(localStorage.getItem(headKey)); } catch (e) { return null; } };
    const verify = async (from) => {
      button.disabled = true;
      sinceButton.disabled = true;
      result.replaceChildren(el('p', { class: 'muted' }, from ? 'Walking the records from seq ' + from.seq + '...' : 'Recomputing the chain...'));
      try {
        const v = await api('/api/v1/audit/verify' + (from
          ? '?fromSeq=' + encodeURIComponent(from.seq) + '&fromHash=' + encodeURIComponent(from.hash) : ''));
        if (v.valid) {
          localStorage.setItem(headKey, JSON.stringify({ seq: v.headSeq, hash: v.headHash }));
        }
        replaceShown(result,
          el('p', {}, el('span', { class: 'badge ' + (v.valid ? 'ok' : 'broken'), id: 'chain-status' }, v.valid ? 'VERIFIED' : 'BROKEN'),
            ' ', el('span', { id: 'chain-summary' }, v.summary)),
          el('p', { class: 'muted' }, v.records + ' records in ' + v.millis + ' ms · head seq ' + v.headSeq + ' · ' + v.headHash),
          from ? el('p', { class: 'muted', id: 'chain-since' }, 'Only the records from seq ' + v.fromSeq + ' on were walked; the'
            + ' records before it are re-checked only by verifying the whole chain.') : null,
          el('p', { class: 'muted', id: 'chain-anchors' }, v.anchorsChecked
            ? v.anchorsMatched + ' of ' + v.anchorsChecked + ' heads anchored outside the database still match'
            : 'No heads anchored outside the database yet (GENGUARD_AUDIT_ANCHOR_FILE is not set, or the first'
              + ' anchor is still to come): a chain rebuilt by someone who can write the database would verify.'),
          v.anchorSignatures ? el('p', { class: v.anchorSignatures.problems.length ? 'error' : 'muted', id: 'chain-signatures' },
            v.anchorSignatures.problems.length
              ? 'The anchor file\'s signatures do not hold: ' + v.anchorSignatures.problems.join('; ')
              : v.anchorSignatures.signed + ' anchor line(s) signed by this service, each following the one before'
                + (v.anchorSignatures.unsignedBefore ? ' (' + v.anchorSignatures.unsignedBefore + ' unsigned before signing was turned on)' : ''))
            : null,
          v.firstBreak ? el('p', { class: 'error', id: 'chain-break' }, 'First broken link: seq ' + v.firstBreak.seq + ', '
            + v.firstBreak.problem + ': ' + v.firstBreak.detail) : null);
      } catch (e) {
        result.replaceChildren(failure(e));
      } finally {
        button.disabled = false;
        const head = keptHead();
        sinceButton.disabled = !head;
        sinceButton.textContent = head ? 'Verify records since seq ' + head.seq : 'Verify new records';
      }
    };
    const button = el('button', { type: 'button', class: 'primary', id: 'verify-button', onclick: () => verify(null) }, 'Verify chain now');
    const sinceButton = el('button', { type: 'button', id: 'verify-since-button', onclick: () => verify(keptHead()),
      title: 'Walk only the records after the head the last verification in this browser ended at' },
      keptHead() ? 'Verify records since seq ' + keptHead().seq : 'Verify new records');
    sinceButton.disabled = !keptHead();
    // A download whose failure is shown where the verification result goes.
    const downloadButton = (id, path, filename, label) => el('button', { type: 'button', id, onclick: async () => {
      try {
        await download(path, filename);
      } catch (e) {
        result.replaceChildren(failure(e));
      }
    } }, label);
    const keepAnchors = downloadButton('anchors-button', '/api/v1/audit/anchors', 'audit-anchors.jsonl',
      'Download anchored heads');
    const keepAnchorKeys = downloadButton('anchor-keys-button', '/api/v1/audit/anchors/keys', 'audit-anchors.jsonl.keys',
      'Download anchor signing keys (public)');
    const actions = el('div', { id: 'recent-actions' }, el('p', { class: 'muted' }, 'Loading...'));
    // Requests without an answer and outputs without a gate outcome past their deadline; admins close
    // one whose answer will never come, with a reason recorded in the chain.
    const unfinished = el('div', { id: 'unfinished-flows' }, el('p', { class: 'muted' }, 'Loading...'));
    const dismissReason = el('input', { type: 'text', id: 'dismiss-reason', size: 60, maxlength: 1000,
      placeholder: 'Why it will get no answer: e.g. lost to retention in the outage, sent again' });
    // After an outage: every open flow of a kind recorded before an instant (of one tenant, or all)
    // sent again or dismissed in one audited action.
    const bulkKind = el('select', { id: 'bulk-kind', 'aria-label': 'Which flows' },
      el('option', { value: 'NO_ANSWER' }, 'requests without an answer'),
      el('option', { value: 'NO_GATE_OUTCOME' }, 'outputs without a gate outcome'));
    const bulkBefore = el('input', { type: 'datetime-local', id: 'bulk-before', 'aria-label': 'Recorded before' });
    const bulkTenant = el('input', { type: 'text', id: 'bulk-tenant', placeholder: 'Tenant (all)',
      'aria-label': 'Only this tenant' });
    const bulkSelection = () => {
      if (!bulkBefore.value) throw new Error('Say before when they were recorded first.');
      return { kind: bulkKind.value, recordedBefore: new Date(bulkBefore.value).toISOString(),
        ...(bulkTenant.value.trim() ? { tenantId: bulkTenant.value.trim() } : {}) };
    };
    const bulk = (label, id, call) => el('button', { type: 'button', id, onclick: async () => {
      try {
        await loadUnfinished(await call(bulkSelection()));
      } catch (e) {
        unfinished.prepend(el('p', { class: 'error', id: 'dismiss-error' }, e.message));
      }
    } }, label);
    const bulkResend = bulk('Send all again', 'bulk-resend', async (selection) => {
      const r = await api('/api/v1/audit/unfinished/resend', { method: 'POST', body: selection });
      const skipped = r.skippedContentRemoved + r.skippedErased + r.skippedSentBefore + r.skippedForgottenByGate;
      return 'Sent ' + r.sent + ' again' + (skipped === 0 ? '.' : '; skipped ' + skipped + ' (content removed: '
        + r.skippedContentRemoved + ', erased: ' + r.skippedErased + ', sent before: ' + r.skippedSentBefore + ', older than the gate remembers: '
        + r.skippedForgottenByGate + ').');
    });
    const bulkDismiss = bulk('Dismiss all', 'bulk-dismiss', async (selection) => {
      if (!dismissReason.value.trim()) throw new Error('Give a reason first.');
      const r = await api('/api/v1/audit/unfinished/dismiss', { method: 'POST',
        body: { ...selection, reason: dismissReason.value } });
      dismissReason.value = '';
      return 'Dismissed ' + r.dismissed + '.';
    });
    // Open flows a page at a time, oldest first: the cursors of the pages shown so far (the first
    // page's is empty), the last one the page on screen; an action reloads that page.
    const pageSize = el('input', { type: 'number', id: 'unfinished-limit', min: 1, max: 1000, value: 100,
      'aria-label': 'Flows a page' });
    const flowKind = el('select', { id: 'flows-kind', 'aria-label': 'Which kind' },
      el('option', { value: '' }, 'both kinds'),
      el('option', { value: 'NO_ANSWER' }, 'requests without an answer'),
      el('option', { value: 'NO_GATE_OUTCOME' }, 'outputs without a gate outcome'));
    const flowTenant = el('input', { type: 'text', id: 'flows-tenant', placeholder: 'Tenant (all)',
      'aria-label': 'Only this tenant\'s flows' });
    let pages = [''];
    // Loads asked for so far: only the latest one's answer is drawn, so a slow answer to an earlier
    // filter never replaces a later one's rows (labelled with the later filter).
    let unfinishedLoads = 0;
    for (const input of [pageSize, flowKind, flowTenant]) {
      input.onchange = () => {
        pages = [''];
        loadUnfinished();
      };
    }
    const openCount = (u) => u.open.NO_ANSWER + u.open.NO_GATE_OUTCOME;
    const loadUnfinished = async (note) => {
      const asked = ++unfinishedLoads;
      try {
        const limit = Math.min(1000, Math.max(1, Math.floor(Number(pageSize.value)) || 100));
        const cursor = pages[pages.length - 1];
        // The filters as asked: the summary names these, not what the fields hold by the answer.
        const kind = flowKind.value;
        const kindText = kind ? flowKind.options[flowKind.selectedIndex].text : 'both kinds';
        const tenant = flowTenant.value.trim();
        const u = await api('/api/v1/audit/unfinished?limit=' + limit
          + (kind ? '&kind=' + kind : '')
          + (tenant ? '&tenant=' + encodeURIComponent(tenant) : '')
          + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
        if (asked !== unfinishedLoads) return;
        // The counts are of every kind (of the tenant chosen); the rows of the kind chosen.
        const shown = kind ? u.open[kind] : openCount(u);
        const open = openCount(u);
        const turn = (id, label, change) => el('button', { type: 'button', id, onclick: async () => {
          change();
          await loadUnfinished();
        } }, label);
        const paging = [
          pages.length > 1 ? turn('unfinished-first', 'Back to the oldest', () => { pages = ['']; }) : null, ' ',
          u.nextCursor ? turn('unfinished-next', 'Next ' + limit, () => pages.push(u.nextCursor)) : null];
        // Where this page starts: the service counts the flows before it now, so flows closed
        // since the pages before it were read do not shift it.
        const from = u.before + 1;
        const dismiss = (f) => el('button', { type: 'button', class: 'dismiss-flow', onclick: async () => {
          if (!dismissReason.value.trim()) {
            unfinished.prepend(el('p', { class: 'error', id: 'dismiss-error' }, 'Give a reason first.'));
            return;
          }
          try {
            await api('/api/v1/audit/unfinished/' + encodeURIComponent(f.requestId) + '/dismiss',
              { method: 'POST', body: { kind: f.kind, reason: dismissReason.value } });
            dismissReason.value = '';
            await loadUnfinished('Dismissed ' + f.requestId + '.');
          } catch (e) {
            unfinished.prepend(el('p', { class: 'error', id: 'dismiss-error' }, e.message));
          }
        } }, 'Dismiss');
        // A request goes to the generators again, an output to the moderation job and the gate.
        const resend = (f) => el('button', { type: 'button', class: 'resend-flow', title: f.kind === 'NO_ANSWER'
          ? 'Send the request to the generators again, exactly as recorded; its answer closes this'
          : 'Send the output to the moderation job and the release gate again, exactly as recorded; its gate'
            + ' outcome closes this', onclick: async () => {
          try {
            await api('/api/v1/audit/unfinished/' + encodeURIComponent(f.requestId) + '/resend',
              { method: 'POST', body: { kind: f.kind } });
            await loadUnfinished('Sent ' + f.requestId + ' again.');
          } catch (e) {
            unfinished.prepend(el('p', { class: 'error', id: 'dismiss-error' }, e.message));
          }
        } }, 'Send again');
        replaceShown(unfinished,
          note ? el('p', { id: 'dismiss-done' }, note) : null,
          el('p', { id: 'unfinished-summary' }, open === 0 ? 'None open.'
            : u.open.NO_ANSWER + ' request(s) without an output or failure, ' + u.open.NO_GATE_OUTCOME
              + ' output(s) without a release-gate outcome.'
              + (kind || tenant ? ' Shown: ' + kindText
                + (tenant ? ' of tenant ' + tenant : '') + '.' : '')
              + (u.items.length < shown ? ' Listed: ' + (u.items.length === 0 ? 'none on this page'
                : 'the ' + from + (u.items.length > 1 ? '-' + (from + u.items.length - 1) : '')
                  + (from === 1 ? ' oldest' : ' oldest on')) + '; the bulk actions below'
                + ' reach them all, and GET /api/v1/audit/unfinished lists by tenant and kind.' : '')),
          u.items.length === 0 ? null : el('table', {}, el('thead', {}, el('tr', {},
            ['Request', 'Tenant', 'Missing', 'Recorded', 'Found', 'Sent again', ''].map(h => el('th', {}, h)))),
            el('tbody', {}, u.items.map(f => el('tr', { 'data-request': f.requestId, 'data-kind': f.kind },
              el('td', {}, el('a', { href: storyHref(f.requestId, f.tenantId) }, f.requestId)),
              el('td', {}, f.tenantId || ''),
              el('td', {}, f.kind === 'NO_ANSWER' ? 'an output or failure' : 'a release-gate outcome'),
              el('td', {}, when(f.recordedAt)), el('td', {}, when(f.foundAt)),
              el('td', { class: 'resent' }, f.resentCount > 0 ? (f.resentCount > 1 ? f.resentCount + '×, last ' : '')
                + when(f.resentAt) : ''),
              el('td', {}, may('ADMIN') ? [resend(f), ' ', dismiss(f)] : ''))))),
          open > 0 || pages.length > 1 || flowKind.value || flowTenant.value.trim()
            ? el('div', { class: 'row-actions', id: 'unfinished-paging' }, flowKind, ' ', flowTenant, ' ',
              el('label', {}, 'flows a page ', pageSize), ' ', ...paging) : null,
          u.items.length > 0 && may('ADMIN') ? el('div', { class: 'row-actions' }, dismissReason) : null,
          open > 0 && may('ADMIN') ? el('div', { class: 'row-actions', id: 'bulk-actions' }, 'All ', bulkKind,
            ' recorded before ', bulkBefore, ' ', bulkTenant, ' ', bulkResend, ' ', bulkDismiss) : null);
      } catch (e) {
        if (asked === unfinishedLoads) unfinished.replaceChildren(failure(e));
      }
    };
    // Admins after an incident: every released output of a window (of a tenant, under a policy file)
    // listed, then taken down, each with its own action.
    const takedownFrom = el('input', { type: 'datetime-local', id: 'takedown-from', 'aria-label': 'Released from' });
    const takedownBefore = el('input', { type: 'datetime-local', id: 'takedown-before', 'aria-label': 'Released before' });
    const takedownTenant = el('input', { type: 'text', id: 'takedown-tenant', placeholder: 'Tenant (all)',
      'aria-label': 'Only this tenant' });
    const takedownPolicy = el('input', { type: 'text', id: 'takedown-policy', size: 20, maxlength: 64,
      placeholder: 'Policy file SHA-256 (any)', 'aria-label': 'Only under this policy file' });
    const takedownReviewed = el('input', { type: 'checkbox', id: 'takedown-reviewed' });
    const takedownReason = el('input', { type: 'text', id: 'takedown-reason', size: 50, maxlength: 2000,
      placeholder: 'Why they come down: e.g. policy 2026.12-3 released slurs, incident I-41' });
    const takedownResult = el('div', { id: 'takedown-result' });
    const takedown = (dryRun) => async () => {
      try {
        if (!takedownFrom.value || !takedownBefore.value) throw new Error('Say when they were released first.');
        if (!dryRun && !takedownReason.value.trim()) throw new Error('Give a reason first.');
        if (!dryRun && !window.confirm('Take these released outputs down? Publishers are told at once.')) return;
        const r = await api('/api/v1/retractions', { method: 'POST', body: {
          decidedFrom: utc(takedownFrom), decidedBefore: utc(takedownBefore), dryRun,
          includeReviewed: takedownReviewed.checked,
          ...(takedownTenant.value.trim() ? { tenantId: takedownTenant.value.trim() } : {}),
          ...(takedownPolicy.value.trim() ? { policySha256: takedownPolicy.value.trim() } : {}),
          ...(dryRun ? {} : { reason: takedownReason.value }) } });
        const ids = dryRun ? r.requestIds : r.retracted.map(t => t.requestId);
        replaceShown(takedownResult,
          el('p', { id: 'takedown-summary' }, (dryRun ? ids.length + ' released output(s) would come down'
            : ids.length + ' taken down' + (r.skippedReleases.length ? ', ' + r.skippedReleases.length
              + ' skipped (taken down or erased meanwhile)' : ''))
            + (r.more ? '; more match: call again for the rest.' : '.')),
          ids.length ? el('ul', {}, ids.map(id => el('li', {},
            el('a', { href: '#/requests/' + encodeURIComponent(id) }, id)))) : null);
      } catch (e) {
        takedownResult.replaceChildren(el('p', { class: 'error', id: 'takedown-error' }, e.message));
      }
    };
    // Policy files hold every tenant's rules: global compliance and admin tokens only.
    const readsPolicies = me && !me.tenantId && may('COMPLIANCE');
    const policies = readsPolicies ? el('div', { id: 'policies-in-use' }, el('p', { class: 'muted' }, 'Loading...')) : null;
    // A candidate policy tried on recorded traffic (the same global tokens; the service needs the models).
    const whatIfYaml = el('textarea', { id: 'what-if-yaml', rows: 8, placeholder: 'Paste a candidate policy file (YAML)' });
    const whatIfLimit = el('input', { type: 'number', id: 'what-if-limit', min: 1, max: 500, value: 100,
      'aria-label': 'Recorded verdicts to judge' });
    const whatIfTenant = el('input', { type: 'text', id: 'what-if-tenant', placeholder: 'Tenant (all)',
      'aria-label': 'Only this tenant\'s verdicts' });
    const whatIfSpread = el('input', { type: 'checkbox', id: 'what-if-spread' });
    // Decision times, entered in the browser's time zone and sent as UTC instants.
    const whatIfSince = el('input', { type: 'datetime-local', id: 'what-if-since', 'aria-label': 'Decided at or after' });
    const whatIfUntil = el('input', { type: 'datetime-local', id: 'what-if-until', 'aria-label': 'Decided before' });
    const utc = (input) => input.value ? new Date(input.value).toISOString() : undefined;
    const whatIfResult = el('div', { id: 'what-if-result' });
    const whatIfButton = el('button', { type: 'button', id: 'what-if-button', onclick: async () => {
      whatIfButton.disabled = true;
      whatIfResult.replaceChildren(el('p', { class: 'muted' }, 'Judging recorded outputs under the candidate...'));
      try {
        const r = await api('/api/v1/policies/what-if', { method: 'POST',
          body: { yaml: whatIfYaml.value, limit: Number(whatIfLimit.value), spread: whatIfSpread.checked,
            ...(whatIfTenant.value.trim() ? { tenantId: whatIfTenant.value.trim() } : {}),
            ...(whatIfSince.value ? { since: utc(whatIfSince) } : {}),
            ...(whatIfUntil.value ? { until: utc(whatIfUntil) } : {}) } });
        const moves = Object.entries(r.transitions).map(([move, n]) => move + ': ' + n).join(', ');
        whatIfResult.replaceChildren(
          el('p', { id: 'what-if-summary' }, r.policy.policyId + ' ' + r.policy.version + ' on ' + r.verdicts
            + ' recorded verdicts: ' + r.same + ' the same, ' + r.changed + ' changed' + (moves ? ' (' + moves + ')' : '')
            + ', ' + r.notComparable + ' not comparable'),
          r.items.length === 0 ? null : el('table', {}, el('thead', {}, el('tr', {}, ['Request', 'Tenant', 'Recorded', 'Candidate', 'Why']
            .map(h => el('th', {}, h)))), el('tbody', {}, r.items.map(i => el('tr', { 'data-request': i.requestId },
            el('td', {}, el('a', { href: storyHref(i.requestId, i.tenantId) }, i.requestId)),
            el('td', {}, i.tenantId), el('td', {}, i.recorded), el('td', {}, i.candidate || 'not comparable'),
            el('td', {}, i.detail || ''))))));
        // Released on a verdict the candidate would hold: admins take them down from here.
        const wouldHold = r.items.filter(i => i.outcome === 'CHANGED' && i.recorded === 'RELEASE'
          && (i.candidate === 'REVIEW' || i.candidate === 'BLOCK'))
          // Each with its tenant: two tenants may use one request id, and the item is one tenant's.
          .map(i => ({ requestId: i.requestId, tenantId: i.tenantId }));
        if (wouldHold.length && may('ADMIN')) {
          whatIfResult.append(reasonedAction({ id: 'what-if-takedown', title: 'Take down what the candidate would hold',
            label: 'Take ' + wouldHold.length + ' released output(s) down', once: true,
            placeholder: 'Why they come down: e.g. ' + r.policy.policyId + ' ' + r.policy.version + ' would hold them, incident I-41',
            note: wouldHold.length + ' output(s) released on a verdict the candidate would hold. Each comes down with its own'
              + ' action and this reason, and its publishers are told on content.retractions; one not released after all'
              + ' (erased, or held at the gate) is skipped.',
            confirm: 'Take the ' + wouldHold.length + ' released output(s) down? Publishers are told at once.',
            call: async (reason) => {
              const t = await api('/api/v1/retractions', { method: 'POST', body: { releases: wouldHold, reason } });
              const skipped = t.skippedReleases.length;
              return t.retracted.length + ' taken down' + (skipped ? ', ' + skipped + ' skipped: '
                + t.skippedReleases.map(s => s.requestId + ' of ' + s.tenantId + ' (' + s.reason + ')').join('; ') : '') + '.';
            } }));
        }
      } catch (e) {
        whatIfResult.replaceChildren(el('p', { class: 'error', id: 'what-if-error' }, e.message));
      } finally {
        whatIfButton.disabled = false;
      }
    } }, 'Try on recorded traffic');
    show(el('h1', {}, 'Audit chain'),
      el('section', {}, el('p', {}, 'Every record is hash-chained to the one before it; verification recomputes every link'
        + ' and reports the first one that does not hold, and checks that every chain head the service anchored'
        + ' outside the database is still in the chain. Keep a copy of the anchored heads somewhere the database'
        + ' administrators cannot write; ./genguard audit verify --anchors FILE checks the chain against it later,'
        + ' and with --anchor-keys KEYS (the public signing keys, kept once) also that the file was written by this service.'),
        el('div', { class: 'row-actions' }, button, sinceButton, keepAnchors, keepAnchorKeys), result),
      readsPolicies ? el('section', {}, el('h2', {}, 'Policy files that decided verdicts'),
        el('p', { class: 'muted' }, 'Every file a verdict names by its SHA-256, and whether the policy archive holds it;'
          + ' a file it lacks cannot be shown beside its verdicts until an admin records it (POST /api/v1/policies).'),
        policies) : null,
      readsPolicies ? el('section', {}, el('h2', {}, 'Try a policy file before deploying it'),
        el('p', { class: 'muted' }, 'The newest recorded outputs (of one tenant, decided in a window, or spread over the'
          + ' whole selection) are judged again under the candidate, with the models their verdicts name, and compared with what was decided.'
          + ' Nothing is written but a record of the try.'),
        whatIfYaml, el('div', { class: 'row-actions' }, whatIfLimit, whatIfTenant,
          el('label', {}, 'decided from ', whatIfSince), el('label', {}, ' before ', whatIfUntil),
          el('label', {}, whatIfSpread, ' spread over the selection'), whatIfButton), whatIfResult) : null,
      el('section', {}, el('h2', {}, 'Requests and outputs left without an answer'),
        el('p', { class: 'muted' }, 'Every request is owed an output or a failure, and every output a release-gate outcome;'
          + ' those without one past their deadline are recorded in the audit chain and listed here, oldest first.'
          + ' An answer that comes late closes one; an admin closes one whose answer will never come, with the reason.'),
        unfinished),
      may('ADMIN') ? el('section', { id: 'takedown' }, el('h2', {}, 'Take released outputs down'),
        el('p', { class: 'muted' }, 'After an incident: the outputs released in a window (of one tenant, on verdicts'
          + ' decided under one policy file, and if asked also those a person approved) that are not taken down yet,'
          + ' at most 1,000 at a time. List them first; taking them down tells every publisher on content.retractions'
          + ' and records the reason with each request.'),
        el('div', { class: 'row-actions' }, el('label', {}, 'released from ', takedownFrom),
          el('label', {}, ' before ', takedownBefore), ' ', takedownTenant, ' ', takedownPolicy,
          el('label', {}, takedownReviewed, ' also those approved in review')),
        el('div', { class: 'row-actions' }, el('button', { type: 'button', id: 'takedown-list', onclick: takedown(true) },
          'List them'), ' ', takedownReason, ' ', el('button', { type: 'button', id: 'takedown-do', onclick: takedown(false) },
          'Take them down')), takedownResult) : null,
      el('section', {}, el('h2', {}, 'Recent state-changing calls'), actions));
    await loadUnfinished();
    if (readsPolicies) {
      await loadPolicies(policies, 100);
    }
    try {
      const page = await api('/api/v1/audit/actions?limit=50');
      actions.replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, ['When', 'Action', 'Caller', 'Role', 'Tenant', 'Target']
        .map(h => el('th', {}, h)))), el('tbody', {}, page.items.map(a => el('tr', {},
        el('td', {}, when(a.actedAt)), el('td', {}, a.action), el('td', {}, a.callerName), el('td', {}, a.callerRole),
        el('td', {}, a.tenantId || ''), el('td', {}, a.target || ''))))));
    } catch (e) {
      actions.replaceChildren(failure(e));
    }
  }

  /**
   * The policy files verdicts name, at most shown of them (those the archive lacks first, then by
   * their latest verdict). The API has no cursor and lists at most 1,000: one more is asked for to
   * tell whether more exist, and a button shows up to 1,000.
   */
  async function loadPolicies(policies, shown) {
    try {
      const inUse = await api('/api/v1/policies/in-use?limit=' + Math.min(1000, shown + 1));
      const listed = inUse.items.slice(0, shown);
      const more = inUse.items.length > shown;
      const atMost = shown >= 1000 && inUse.items.length >= 1000;
      policies.replaceChildren(inUse.items.length === 0
        ? el('p', { class: 'muted' }, 'No verdict names a policy file yet.')
        : el('table', {}, el('thead', {}, el('tr', {}, ['Policy', 'Version', 'SHA-256', 'Verdicts', 'First', 'Last', 'Archive']
          .map(h => el('th', {}, h)))), el('tbody', {}, listed.map(p => el('tr', { 'data-sha256': p.sha256 },
          el('td', {}, p.policyId), el('td', {}, p.version), el('td', { title: p.sha256 }, p.sha256.slice(0, 12) + '…'),
          el('td', {}, String(p.verdicts)), el('td', {}, when(p.firstDecidedAt)), el('td', {}, when(p.lastDecidedAt)),
          el('td', {}, el('span', { class: 'badge ' + (p.archived ? 'ok' : 'broken') }, p.archived ? 'ARCHIVED' : 'NOT ARCHIVED')))))),
        inUse.items.length === 0 ? null : el('p', { class: 'muted', id: 'policies-summary' },
          listed.length + ' file(s) listed' + (more ? '; more files decided verdicts (those whose latest verdict is oldest are left out)'
            : atMost ? '; the service lists at most 1,000, so older ones may be missing' : '')
          + '. ' + inUse.unarchived + ' file(s) in use are not in the archive.'),
        more ? el('button', { type: 'button', id: 'policies-more',
          onclick: () => loadPolicies(policies, 1000) }, 'List up to 1,000') : null);
    } catch (e) {
      policies.replaceChildren(failure(e));
    }
  }

  // ---- routing -------------------------------------------------------------------------------

  async function route() {
    pagesRouted++;
    const hash = location.hash || '#/';
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      loginPage();
      return;
    }
    if (!me) {
      try {
        await loadMe();
      } catch (e) {
        loginPage(e.message);
        return;
      }
    }
    for (const link of document.querySelectorAll('nav a')) {
      link.classList.toggle('active', hash.startsWith(link.getAttribute('href')));
    }
    const path = hash.slice(1).split('?')[0];
    let parts;
    try {
      parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch (e) {
      // A malformed %-escape: say so rather than leave the previous page under this address.
      show(el('h1', {}, 'Not a page'), el('p', { class: 'error', id: 'page-error' }, 'The address ' + hash
        + ' is not valid: a % in it does not start an escape such as %20 (' + e.message + ').'),
        el('p', {}, el('a', { href: defaultRoute() }, 'Go to the start page')));
      return;
    }
    if (parts[0] === 'login') loginPage();
    else if (parts[0] === 'queue') await queuePage();
    else if (parts[0] === 'requests' && parts[1]) {
      await detailPage(parts[1], new URLSearchParams(hash.split('?')[1] || '').get('tenant'));
    }
    else if (parts[0] === 'search') searchPage();
    else if (parts[0] === 'bias' && parts[1]) await reportPage(parts[1]);
    else if (parts[0] === 'bias') await biasPage();
    else if (parts[0] === 'audit') await auditPage();
    else location.hash = defaultRoute();
  }

  document.getElementById('logout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    location.hash = '#/login';
    loginPage('Logged out.');
  });
  window.addEventListener('hashchange', route);
  route();
})();
