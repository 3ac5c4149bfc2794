// Status callback of the agent leg that a queue's `dequeue` instruction rang.
// Rendered by infra/render/functions.py from infra/templates/agent-status.js: edit the
// template, not a rendered copy.
//
// Twilio POSTs here once the agent's call ends (the /assignment Function puts this URL,
// with the workspace, task and reservation SIDs, in the dequeue's `status_callback_url`).
// Voice status callbacks are signed, so this Function stays `protected`.
// https://www.twilio.com/docs/voice/api/call-resource#statuscallback (final `CallStatus`:
// completed, busy, no-answer, failed, canceled)
//
// - CallStatus `completed` (the agent answered and the call is over): complete the task.
//   In a multitasking workspace nothing else does, and until then the agent's voice
//   capacity stays used and they get no other caller.
//   https://www.twilio.com/docs/taskrouter/lifecycle-task-state ("After a Task has been
//   assigned, it will only terminate at completed"); Twilio's OpenAPI, Task update
//   `AssignmentStatus=completed` with `Reason`.
// - anything else (the agent missed the ring): reject the reservation, so the caller is
//   offered to the next agent at once instead of after the reservation timeout. The agent
//   stays On Duty (no `WorkerActivitySid`) and gets the next caller; TaskRouter does not
//   offer a task again to a worker who rejected it.
//   https://www.twilio.com/docs/taskrouter/api/reservations (`ReservationStatus=rejected`)
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

exports.handler = async (context, event, callback) => {
  const { workspace, task, reservation } = event;
  if (![workspace, task, reservation].every(isSid)) {
    return callback(null, { ok: false });
  }
  if (event.CallStatus === 'completed') {
    await post(context, workspace + '/Tasks/' + task, {
      AssignmentStatus: 'completed',
      Reason: 'agent call ended',
    });
  } else {
    await post(context, workspace + '/Tasks/' + task + '/Reservations/' + reservation, {
      ReservationStatus: 'rejected',
    });
  }
  return callback(null, { ok: true });
};
