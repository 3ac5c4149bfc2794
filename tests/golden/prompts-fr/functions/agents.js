// The agents' failover page: one agent's state, On Duty / Off Duty buttons, callers waiting.
// Rendered by infra/render/functions.py from infra/templates/agents.js: edit the template,
// not a rendered copy. Values below come from lines.yaml.
//
// Opened by the agent's phone browser through their personal link
// `/agents?a=<agent id>&t=<token>` (`failover agents links` prints them), so the Function is
// `public` (a browser sends no X-Twilio-Signature;
// https://www.twilio.com/docs/serverless/functions-assets/visibility) and checks the link
// itself: token = base64url(HMAC-SHA256(AGENT_LINK_SECRET, "agent-link:" + agent id)), the
// same as infra/agent_links.py, compared in constant time. AGENT_LINK_SECRET is a Serverless
// environment variable, read from `context`; a changed value applies to the next request
// without a deploy, so rotating `failover:agentLinkSecret` revokes every link at once
// (https://www.twilio.com/docs/serverless/functions-assets/functions/variables). Unknown
// agent, missing secret or wrong token: 403 and nothing read.
//
// GET: reads the workspace (by name), the agent's worker (by FriendlyName = agent id) and the
// pending/reserved tasks of the workspace (Twilio's OpenAPI: Workers list `FriendlyName`,
// Tasks list `AssignmentStatus`, Task `task_queue_friendly_name` = the line id), and shows
// `activity_name`, `date_status_changed` and, per line the agent serves, the callers waiting.
// POST with action=on|off: sets the worker's `ActivitySid` to On Duty / Off Duty; going Off
// Duty also sends `RejectPendingReservations=true` (Twilio's OpenAPI, Worker update: "only
// valid if the Worker's new Activity resource has its `availability` property set to
// `False`") so a call ringing now goes to the next agent. Then 303 back to the page (a reload
// never repeats the change). Twilio's REST API is reached with context.ACCOUNT_SID /
// context.AUTH_TOKEN, present when the Service includes credentials (same page as above).
// Assumed (undocumented): Off Duty is accepted while the agent is on a call (multitasking);
// if not, the page shows "could not change" and the agent retries after the call.
'use strict';

const crypto = require('crypto');

// Agent id -> display name and the queued lines (id -> display name) they serve.
const AGENTS = {
  "alice": {
    "lines": {
      "paris": "Support Paris"
    },
    "name": "Alice Ng"
  }
};
const WORKSPACE_NAME = "acme-failover";
const ON_DUTY = "On Duty";
const OFF_DUTY = "Off Duty";
const SECRET_VARIABLE = "AGENT_LINK_SECRET";
const API = 'https://taskrouter.twilio.com/v1/Workspaces';

function token(secret, agentId) {
  return crypto.createHmac('sha256', secret).update('agent-link:' + agentId).digest('base64url');
}

function validLink(context, agentId, given) {
  const secret = context[SECRET_VARIABLE];
  if (!secret || !Object.prototype.hasOwnProperty.call(AGENTS, agentId)) {
    return false;
  }
  const wanted = Buffer.from(token(secret, agentId));
  const got = Buffer.from(String(given || ''));
  return got.length === wanted.length && crypto.timingSafeEqual(got, wanted);
}

function auth(context) {
  return 'Basic ' + Buffer.from(context.ACCOUNT_SID + ':' + context.AUTH_TOKEN).toString('base64');
}

async function get(context, url) {
  const response = await fetch(url, {
    headers: { Authorization: auth(context) },
    signal: AbortSignal.timeout(3000),
  });
  if (!response.ok) {
    throw new Error('taskrouter ' + response.status);
  }
  return response.json();
}

async function post(context, url, form) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { Authorization: auth(context), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    signal: AbortSignal.timeout(3000),
  });
  if (!response.ok) {
    throw new Error('taskrouter ' + response.status);
  }
}

async function workerOf(context, agentId) {
  const spaces = await get(context, API + '?FriendlyName=' + encodeURIComponent(WORKSPACE_NAME));
  const workspace = (spaces.workspaces || [])[0];
  if (!workspace) {
    throw new Error('no workspace');
  }
  const base = API + '/' + workspace.sid;
  const page = await get(context, base + '/Workers?FriendlyName=' + encodeURIComponent(agentId));
  const worker = (page.workers || [])[0];
  if (!worker) {
    throw new Error('no worker');
  }
  return { base, worker };
}

async function waiting(context, base, lines) {
  const page = await get(context, base + '/Tasks?AssignmentStatus=pending&AssignmentStatus=reserved&PageSize=1000');
  const counts = {};
  for (const id of Object.keys(lines)) {
    counts[id] = 0;
  }
  for (const task of page.tasks || []) {
    if (Object.prototype.hasOwnProperty.call(counts, task.task_queue_friendly_name)) {
      counts[task.task_queue_friendly_name] += 1;
    }
  }
  return counts;
}

async function setDuty(context, base, worker, on) {
  const page = await get(context, base + '/Activities?PageSize=100');
  const wanted = on ? ON_DUTY : OFF_DUTY;
  const activity = (page.activities || []).find((a) => a.friendly_name === wanted);
  if (!activity) {
    throw new Error('no activity ' + wanted);
  }
  const form = { ActivitySid: activity.sid };
  if (!on) {
    form.RejectPendingReservations = 'true';
  }
  await post(context, base + '/Workers/' + worker.sid, form);
}

function escapeHtml(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = 'body{font-family:system-ui,sans-serif;margin:0;padding:1rem;max-width:30rem}'
  + 'h1{font-size:1.3rem}.state{font-size:1.6rem;font-weight:bold;margin:.5rem 0}'
  + '.on{color:#0a6b2d}.off{color:#9b1c1c}'
  + 'button{display:block;width:100%;font-size:1.3rem;padding:1rem;margin:.6rem 0;border-radius:.6rem;border:2px solid #333}'
  + 'button.current{background:#333;color:#fff}ul{padding-left:1.2rem}.note{color:#555}';

// Formats the UTC "since" time in the phone's own time zone (the page works without it).
const SCRIPT = "document.querySelectorAll('time').forEach(function(t){var d=new Date(t.dateTime);"
  + "if(!isNaN(d)){t.textContent=d.toLocaleString([], {weekday:'short',hour:'2-digit',minute:'2-digit'});}});"
  // A second tap while the first is on its way is dropped. (Disabling the buttons instead
  // would drop the pressed button's value from the form: found by the browser test.)
  + "document.querySelectorAll('form').forEach(function(f){f.addEventListener('submit',function(e){"
  + "if(f.dataset.sent){e.preventDefault();}f.dataset.sent='1';});});";

function page(title, body, status) {
  const response = new Twilio.Response();
  response.setStatusCode(status || 200);
  response.appendHeader('Content-Type', 'text/html; charset=utf-8');
  response.appendHeader('Cache-Control', 'no-store');
  response.appendHeader('Referrer-Policy', 'no-referrer');
  response.setBody('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
    + '<meta name="viewport" content="width=device-width, initial-scale=1">'
    + '<meta name="robots" content="noindex"><title>' + escapeHtml(title) + '</title>'
    + '<style>' + STYLE + '</style></head><body>' + body
    + '<script>' + SCRIPT + '</script></body></html>');
  return response;
}

function agentPage(agentId, link, worker, counts, notice) {
  const agent = AGENTS[agentId];
  const on = worker.activity_name === ON_DUTY;
  const since = worker.date_status_changed
    ? ' since <time datetime="' + escapeHtml(worker.date_status_changed) + '">'
      + escapeHtml(worker.date_status_changed) + '</time>'
    : '';
  const lines = Object.keys(agent.lines).map((id) => {
    const n = counts[id];
    const word = n === 1 ? 'caller' : 'callers';
    return '<li id="waiting-' + escapeHtml(id) + '">' + escapeHtml(agent.lines[id]) + ': <b>'
      + n + '</b> ' + word + ' waiting</li>';
  }).join('');
  const button = (action, label, current) => '<button type="submit" name="action" value="'
    + action + '"' + (current ? ' class="current" aria-pressed="true"' : '') + '>' + label + '</button>';
  const hidden = '<input type="hidden" name="a" value="' + escapeHtml(agentId) + '">'
    + '<input type="hidden" name="t" value="' + escapeHtml(link) + '">';
  return page(agent.name + ': ' + (on ? ON_DUTY : worker.activity_name),
    '<h1>' + escapeHtml(agent.name) + '</h1>'
    + (notice ? '<p class="note" role="alert">' + escapeHtml(notice) + '</p>' : '')
    + '<p class="state ' + (on ? 'on' : 'off') + '" id="state">'
    + escapeHtml(worker.activity_name || 'unknown') + '</p><p class="note">' + since + '</p>'
    + '<form method="post" action="?">' + hidden
    + button('on', 'On Duty', on) + button('off', 'Off Duty', !on) + '</form>'
    + '<h2>Waiting now</h2><ul>' + lines + '</ul>'
    + '<p class="note"><a href="?a=' + encodeURIComponent(agentId) + '&amp;t='
    + encodeURIComponent(link) + '">Refresh</a></p>');
}

exports.handler = async (context, event, callback) => {
  const agentId = String(event.a || '');
  if (!validLink(context, agentId, event.t)) {
    return callback(null, page('Link not valid',
      '<h1>This link is not valid</h1><p>Ask your administrator for your current link.</p>', 403));
  }
  const action = event.action;
  try {
    const { base, worker } = await workerOf(context, agentId);
    if (action === 'on' || action === 'off') {
      try {
        await setDuty(context, base, worker, action === 'on');
      } catch (err) {
        console.error('agents: could not change duty', String(err));
        const counts = await waiting(context, base, AGENTS[agentId].lines);
        return callback(null, agentPage(agentId, event.t, worker, counts,
          'Could not change your status; try again in a moment.'));
      }
      const response = new Twilio.Response();
      response.setStatusCode(303);
      response.appendHeader('Location', '?a=' + encodeURIComponent(agentId) + '&t='
        + encodeURIComponent(event.t));
      return callback(null, response);
    }
    const counts = await waiting(context, base, AGENTS[agentId].lines);
    return callback(null, agentPage(agentId, event.t, worker, counts, ''));
  } catch (err) {
    console.error('agents: cannot read TaskRouter', String(err));
    return callback(null, page('Try again',
      '<h1>Cannot show your status right now</h1><p>Try again in a minute.</p>', 503));
  }
};
