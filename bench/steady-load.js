// Not a benchmark (it exports no run): a child process that sends GET requests to one URL at a
// steady rate over keep-alive connections, as a service's clients would, until it is killed.
//   node bench/steady-load.js <url> <requests per second>
// Prints "ready" once its first answer came back.

import http from "node:http";

const [url, rateArg] = process.argv.slice(2);
const rate = Number(rateArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
let ready = false;
let inFlight = 0;

function send() {
  if (inFlight >= 64) return; // the server is stalled: do not pile up
  inFlight += 1;
  http
    .get(url, { agent }, (res) => {
      res.resume();
      res.on("end", () => {
        inFlight -= 1;
        if (!ready) {
          ready = true;
          process.stdout.write("ready\n");
        }
      });
    })
    .on("error", () => {
      inFlight -= 1;
    });
}

// A tick every 5 ms, sending what the rate owes since the start (no drift, no bursts after a stall).
const started = performance.now();
let sent = 0;
setInterval(() => {
  const owed = Math.floor(((performance.now() - started) * rate) / 1000) - sent;
  for (let i = 0; i < Math.min(owed, 50); i++) send();
  sent += owed;
}, 5);
