// TaskRouter assignment callback for the failover call queues.
// Rendered by infra/render/functions.py from infra/templates/assignment.js: edit the
// template, not a rendered copy. Values below come from lines.yaml and the deployment.
//
// TaskRouter POSTs here when it reserves an agent (worker) for a queued call. The answer is
// a `dequeue` instruction: Twilio dials the agent's own phone (`contact_uri`) and bridges
// the waiting caller. The caller ID is the line's own Twilio number, so agents see which
// line the call came in on; afterwards the agent is put back On Duty.
'use strict';

// Twilio number of every line that has a call queue, by line id (task attribute `line`).
const LINE_NUMBERS = {
  "support": "+14155550103"
};

// The "On Duty" activity (available): where the agent goes after the call.
const ON_DUTY_ACTIVITY_SID = "${taskrouter.on_duty_activity_sid}";

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
  if (!from || !worker.contact_uri) {
    // Not one of ours (unknown line) or an agent without a phone: let TaskRouter try
    // another agent. The caller still leaves the queue after the bounded hold.
    console.error('cannot dequeue task', event.TaskSid, 'line', task.line, 'worker', event.WorkerSid);
    return callback(null, { instruction: 'reject' });
  }
  return callback(null, {
    instruction: 'dequeue',
    to: worker.contact_uri,
    from: from,
    post_work_activity_sid: ON_DUTY_ACTIVITY_SID,
  });
};
