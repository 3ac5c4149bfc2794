// TaskRouter assignment callback for the failover call queues.
// Rendered by infra/render/functions.py from infra/templates/assignment.js: edit the
// template, not a rendered copy. Values below come from lines.yaml and the deployment.
//
// TaskRouter POSTs here when it reserves an agent (worker) for a queued call. The answer is
// a `dequeue` instruction: Twilio dials the agent's own phone (`contact_uri`) and bridges
// the waiting caller. The caller ID is the line's own Twilio number, so agents see which
// line the call came in on.
// https://www.twilio.com/docs/taskrouter/handle-assignment-callbacks (dequeue: `to`,
// `from`, `timeout`, `status_callback_url`)
//
// - `timeout`: the agent's phone rings RING_TIMEOUT_S, never Twilio's 60 s default, and
//   always less than the workflow's reservation timeout (RESERVATION_TIMEOUT_S in
//   infra/render/taskrouter.py), so a ring nobody answers ends the agent leg first.
// - `status_callback_url`: when the agent leg ends, Twilio POSTs its final CallStatus to
//   /agent-status (Twilio's OpenAPI, TaskRouter Reservation `DequeueStatusCallbackUrl`:
//   "The Callback URL for completed call event when executing a Dequeue instruction."),
//   which completes the task after a call and rejects the reservation after a missed ring.
//   The workspace, task and reservation SIDs travel in its query string.
//
// Nobody can make this dial an arbitrary number: `to` is only ever the worker's own
// `contact_uri` (set from lines.yaml by the deployment) and `from` only a line number below.
'use strict';

// Twilio number of every line that has a call queue, by line id (task attribute `line`).
const LINE_NUMBERS = {
  "paris": "+33142685300"
};
// Agents' phones from lines.yaml: the only numbers a dequeue may ring.
const AGENT_PHONES = ["+14155550111"];
const RING_TIMEOUT_S = 30;
const STATUS_PATH = "/agent-status";

function parseAttributes(text) {
  try {
    return JSON.parse(text || '{}');
  } catch (err) {
    return {};
  }
}

exports.handler = (context, event, callback) => {
  const task = parseAttributes(event.TaskAttributes);
  const worker = parseAttributes(event.WorkerAttributes);
  const from = LINE_NUMBERS[task.line];
  if (!from || !AGENT_PHONES.includes(worker.contact_uri)) {
    // Not one of ours (unknown line) or an agent without a known phone: let TaskRouter try
    // another agent. The caller still leaves the queue after the bounded hold.
    console.error('cannot dequeue task', event.TaskSid, 'line', task.line, 'worker', event.WorkerSid);
    return callback(null, { instruction: 'reject' });
  }
  const query = new URLSearchParams({
    workspace: event.WorkspaceSid || '',
    task: event.TaskSid || '',
    reservation: event.ReservationSid || '',
  });
  return callback(null, {
    instruction: 'dequeue',
    to: worker.contact_uri,
    from: from,
    timeout: RING_TIMEOUT_S,
    status_callback_url: 'https://' + context.DOMAIN_NAME + STATUS_PATH + '?' + query.toString(),
  });
};
