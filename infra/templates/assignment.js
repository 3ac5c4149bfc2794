// TaskRouter assignment callback for the failover call queues.
// Rendered by infra/render/functions.py from infra/templates/assignment.js: edit the
// template, not a rendered copy. Values below come from lines.yaml and the deployment.
//
// TaskRouter POSTs here when it reserves an agent (worker) for a queued call. The answer is
// a `call` instruction: Twilio places a new call to the agent's own phone (`contact_uri`)
// and, once it is answered, runs the /agent-whisper Function on the agent's leg: it tells
// the agent which line and which caller, and only a key press of 1 bridges the waiting
// caller (`<Dial><Queue reservationSid>`), so an agent's own voicemail or an unattended
// phone never takes the caller. The caller ID is the line's own Twilio number, so agents
// see which line the call came in on (the caller's number is spoken in the whisper: a
// new outbound call may only show a Twilio or verified number, docs/design/queue.md D9).
// https://www.twilio.com/docs/taskrouter/handle-assignment-callbacks (call instruction);
// keys: `to` https://www.twilio.com/docs/api/errors/40110, `url`
// https://www.twilio.com/docs/api/errors/40112, `status_callback_url`
// https://www.twilio.com/docs/api/errors/40158; `from`, `accept` and `timeout` as in
// twilio-taskrouter.js `Reservation.call` (unconfirmed as JSON keys: README "Verify on a
// live account first").
//
// - `accept: false`: the reservation stays pending until the agent presses 1; `<Queue
//   reservationSid>` then accepts it ("When the dequeue succeeds, Twilio bridges the worker
//   to the queued caller and marks the pending Reservation as accepted",
//   https://www.twilio.com/docs/api/errors/14215).
// - `timeout`: the agent's phone rings the line's `queue.ring` seconds, never Twilio's 60 s
//   default, and always less than the workflow's reservation timeout
//   (RESERVATION_TIMEOUT_S in infra/render/taskrouter.py) with room for the whisper.
// - `status_callback_url`: when the agent leg ends, Twilio POSTs its final CallStatus to
//   /agent-status (Twilio's OpenAPI, TaskRouter Reservation `CallStatusCallbackUrl`: "The
//   URL to call for the completed call event when executing a Call instruction."), which
//   completes the task after an accepted call and rejects the reservation otherwise.
//   The workspace, task and reservation SIDs travel in its query string.
//
// Nobody can make this dial an arbitrary number: `to` is only ever the worker's own
// `contact_uri` (set from lines.yaml by the deployment) and `from` only a line number below.
'use strict';

// Per line that has a call queue, by line id (task attribute `line`): its Twilio number and
// how long an agent's phone rings (`queue.ring`).
const LINES = $lines;
// Agents' phones from lines.yaml: the only numbers a call instruction may ring.
const AGENT_PHONES = $agent_phones;
const STATUS_PATH = $status_path;
const WHISPER_PATH = $whisper_path;

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
  const line = LINES[task.line];
  if (!line || !AGENT_PHONES.includes(worker.contact_uri)) {
    // Not one of ours (unknown line) or an agent without a known phone: let TaskRouter try
    // another agent. The caller still leaves the queue after the bounded hold.
    console.error('cannot offer task', event.TaskSid, 'line', task.line, 'worker', event.WorkerSid);
    return callback(null, { instruction: 'reject' });
  }
  const query = new URLSearchParams({
    workspace: event.WorkspaceSid || '',
    task: event.TaskSid || '',
    reservation: event.ReservationSid || '',
  });
  // The caller's number, for the whisper: `from` is what TaskRouter puts in tasks created by
  // <Enqueue> (https://www.twilio.com/docs/taskrouter/twiml-integration); `caller` what a
  // Studio enqueue step sets.
  const whisper = new URLSearchParams({
    workspace: event.WorkspaceSid || '',
    task: event.TaskSid || '',
    reservation: event.ReservationSid || '',
    line: task.line,
    caller: String(task.from || task.caller || ''),
  });
  const base = 'https://' + context.DOMAIN_NAME;
  return callback(null, {
    instruction: 'call',
    to: worker.contact_uri,
    from: line.number,
    url: base + WHISPER_PATH + '?' + whisper.toString(),
    accept: false,
    timeout: line.ring,
    status_callback_url: base + STATUS_PATH + '?' + query.toString(),
  });
};
