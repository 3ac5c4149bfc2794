// TaskRouter assignment callback for the failover call queues.
// Rendered by infra/render/functions.py from infra/templates/assignment.js: edit the
// template, not a rendered copy. Values below come from lines.yaml and the deployment.
//
// TaskRouter POSTs here when it reserves an agent (worker) for a queued call. The answer is
// a `dequeue` instruction: Twilio dials the agent's own phone (`contact_uri`) and bridges
// the waiting caller. The caller ID is the line's own Twilio number, so agents see which
// line the call came in on; afterwards the agent is put back On Duty.
//
// The "On Duty" activity SID arrives in the task attributes (`post_work_activity_sid`, set
// by the Studio flow that enqueued the call), not baked in here: the queue is created
// after this Function is deployed (TaskRouter needs its URL), so the Function cannot know
// the activity's SID without a dependency cycle.
'use strict';

// Twilio number of every line that has a call queue, by line id (task attribute `line`).
const LINE_NUMBERS = {
  "support": "+14155550103"
};

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
  const instruction = { instruction: 'dequeue', to: worker.contact_uri, from: from };
  if (task.post_work_activity_sid) {
    instruction.post_work_activity_sid = task.post_work_activity_sid;
  }
  return callback(null, instruction);
};
