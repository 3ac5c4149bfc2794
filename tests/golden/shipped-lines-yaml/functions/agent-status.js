// Status callback of the agent leg that a queue's `call` instruction rang.
// Rendered by infra/render/functions.py from infra/templates/agent-status.js: edit the
// template, not a rendered copy.
//
// Twilio POSTs here once the agent's call ends (the /assignment Function puts this URL,
// with the workspace, task and reservation SIDs, in the call's `status_callback_url`).
// Voice status callbacks are signed, so this Function stays `protected`.
// https://www.twilio.com/docs/voice/api/call-resource#statuscallback (final `CallStatus`:
// completed, busy, no-answer, failed, canceled)
//
// The agent leg being `completed` only says the phone answered (maybe its voicemail, which
// never presses 1 in the whisper), so the reservation decides (GET …/Reservations/{WR},
// Twilio's OpenAPI `reservation_status`):
// - `accepted`/`wrapping`/`completed` (the agent pressed 1 and talked): complete the task.
//   In a multitasking workspace nothing else does, and until then the agent's voice
//   capacity stays used and they get no other caller.
//   https://www.twilio.com/docs/taskrouter/lifecycle-task-state ("After a Task has been
//   assigned, it will only terminate at completed"); Twilio's OpenAPI, Task update
//   `AssignmentStatus=completed` with `Reason`.
// - `pending` (missed ring, busy, voicemail, no or another key): reject the reservation, so
//   the caller is offered to the next agent at once instead of after the reservation
//   timeout; the caller keeps holding meanwhile (the hold is bounded by /queue-wait). The agent
//   stays On Duty (no `WorkerActivitySid`) and gets the next caller; TaskRouter does not
//   offer a task again to a worker who rejected it.
//   https://www.twilio.com/docs/taskrouter/api/reservations (`ReservationStatus=rejected`)
// - `canceled`/`rescinded`/`timeout`/`rejected` (the caller left, the reservation ended):
//   nothing to do.
// Both requests are idempotent from the caller's point of view: a task or reservation that
// already moved on answers an error, which is logged and ignored.
'use strict';

const API = 'https://taskrouter.twilio.com/v1/Workspaces/';
function isSid(value) {
  return typeof value === 'string' && value.length === 34 && /^[A-Z]{2}[0-9a-f]{32}/.test(value);
}

async function post(context, path, form) {
  // https://www.twilio.com/docs/serverless/functions-assets/functions (context.ACCOUNT_SID
  // and context.AUTH_TOKEN when the Service includes credentials, its default)
  const auth = Buffer.from(context.ACCOUNT_SID + ':' + context.AUTH_TOKEN).toString('base64');
  try {
    const response = await fetch(API + path, {
      method: 'POST',
      headers: {
        Authorization: 'Basic ' + auth,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) {
      console.error('taskrouter', path, response.status);
    }
  } catch (err) {
    console.error('taskrouter', path, String(err));
  }
}

// The reservation's status, or null when it cannot be read.
async function reservationStatus(context, path) {
  const auth = Buffer.from(context.ACCOUNT_SID + ':' + context.AUTH_TOKEN).toString('base64');
  try {
    const response = await fetch(API + path, {
      headers: { Authorization: 'Basic ' + auth },
      signal: AbortSignal.timeout(3000),
    });
    if (!response.ok) {
      console.error('taskrouter', path, response.status);
      return null;
    }
    return (await response.json()).reservation_status || null;
  } catch (err) {
    console.error('taskrouter', path, String(err));
    return null;
  }
}

exports.handler = async (context, event, callback) => {
  const { workspace, task, reservation } = event;
  if (![workspace, task, reservation].every(isSid)) {
    return callback(null, { ok: false });
  }
  const path = workspace + '/Tasks/' + task + '/Reservations/' + reservation;
  // Unreadable: both, in this order; TaskRouter refuses the one that does not apply (a task
  // that is not assigned cannot be completed, a reservation no longer pending not rejected).
  const status = await reservationStatus(context, path);
  if (status === null || ['accepted', 'wrapping', 'completed'].includes(status)) {
    await post(context, workspace + '/Tasks/' + task, {
      AssignmentStatus: 'completed',
      Reason: 'agent call ended',
    });
  }
  if (status === null || status === 'pending') {
    await post(context, path, { ReservationStatus: 'rejected' });
  }
  return callback(null, { ok: true });
};
