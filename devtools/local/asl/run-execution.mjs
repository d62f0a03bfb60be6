// Runs one execution of a state machine definition in aws-local-stepfunctions, a real Amazon
// States Language interpreter. Every Task state is served by a Python worker process (the bundled
// Lambda handler, or an SNS publish against the local moto server) spoken to in JSON lines. An SNS
// publish that waits for a task token (.waitForTaskToken) publishes, then waits for the decision
// sent to the local task-token endpoint (devtools/local/task_tokens.py), up to the state's timeout.
//
// usage: node --require ./promise-with-resolvers.cjs run-execution.mjs <request.json>
//   request: {definition, input, worker: [argv...], retryIntervalMs?}
// stdout: one JSON object per line: {"event": {...}} for each execution event, then
//   {"status": "SUCCEEDED", "output": ...} or {"status": "FAILED", "error": ..., "cause": ...}
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { StateMachine } from "aws-local-stepfunctions";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const emit = (record) => process.stdout.write(`${JSON.stringify(record)}\n`);

const worker = spawn(request.worker[0], request.worker.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
const replies = createInterface({ input: worker.stdout });
const pending = [];
replies.on("line", (line) => pending.shift()(JSON.parse(line)));
worker.on("exit", (code) => {
  while (pending.length) pending.shift()({ error: { type: "WorkerExited", message: `worker exited with ${code}` } });
});

function callWorker(message) {
  return new Promise((resolve) => {
    pending.push(resolve);
    worker.stdin.write(`${JSON.stringify(message)}\n`);
  });
}

function taskHandler(stateName, state) {
  const resource = JSON.stringify(state.Resource);
  const waits = resource.includes(".waitForTaskToken");
  const kind = resource.includes(":states:::sns:publish") ? (waits ? "sns_publish_wait" : "sns_publish") : "lambda";
  return async (input) => {
    const message = { kind, state: stateName, payload: input, timeoutSeconds: state.TimeoutSeconds ?? 31536000 };
    const reply = await callWorker(message);
    if (reply.error) {
      const error = new Error(reply.error.message);
      error.name = reply.error.type; // what Retry and Catch match on, as Lambda's errorType
      throw error;
    }
    return reply.result;
  };
}

const definition = request.definition;
const taskResourceLocalHandlers = Object.fromEntries(
  Object.entries(definition.States)
    .filter(([, state]) => state.Type === "Task")
    .map(([name, state]) => [name, taskHandler(name, state)]),
);
const retryIntervalOverrides =
  request.retryIntervalMs === undefined
    ? undefined
    : Object.fromEntries(
        Object.entries(definition.States)
          .filter(([, state]) => state.Retry)
          .map(([name]) => [name, request.retryIntervalMs]),
      );

const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
const execution = machine.run(request.input, {
  overrides: { taskResourceLocalHandlers, retryIntervalOverrides },
  context: request.context,
});

const logging = (async () => {
  for await (const event of execution.eventLogs) emit({ event });
})();

try {
  const output = await execution.result;
  await logging;
  emit({ status: "SUCCEEDED", output });
} catch (error) {
  await logging.catch(() => {});
  emit({ status: "FAILED", error: error.name, cause: error.cause ?? error.message });
} finally {
  worker.stdin.end();
}
