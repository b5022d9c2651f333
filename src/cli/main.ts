// The command-line program: commands, options and help. Every command returns an exit code;
// this file is the only place that turns errors into exit codes. Command modules load lazily so
// `chaoscast --version` and `--help` start fast.

import { Command, CommanderError, Option } from "commander";
import { ChaoscastError, EXIT, ExperimentError, InternalError, UsageError } from "../errors.js";
import { chaoscastVersion } from "../version.js";
import { forTerminalLines } from "../util/terminal-text.js";
import { rememberLauncher } from "./interrupts.js";

const EXIT_CODES_HELP = `
Exit codes:
  0  passed           the hypothesis held before, during and after; everything reverted
  1  deviated         the hypothesis did not hold after recovery (a weakness was found)
  2  aborted          the blast radius was breached (or the run interrupted, or a fault failed to inject); rolled back cleanly
  3  rollback-failed  something could not be reverted; the summary says what is still injected
  4  invalid/refused  bad usage, an invalid experiment file, or over the blast-radius policy
                      (.chaoscast.yaml); nothing was touched
  5  skipped          preflight (schedule, lock, targets, error budget) or the steady state
                      before failed; nothing was injected
  6  inconclusive     budget/analyze only: Prometheus gave no answer or no data
  7  unrecovered      aborted and rolled back, but the steady state did not return within
                      recovery.timeout: the system is still hurting
  70 internal error   a bug in chaoscast (after rolling back)`;

const collect = (value: string, previous: string[]) => [...previous, value];
const outputOption = (choices: string[]) =>
  new Option("-o, --output <format>", "output format").choices(choices).default("text");
const varOption = () => new Option("--var <name=value>", "set a variable (repeatable); overrides vars: and CHAOSCAST_VAR_<name>").argParser(collect).default([]);

/** How budget and analyze reach Prometheus (credentials only from the environment). */
function prometheusOptions(command: Command): Command {
  return command
    .option("--prometheus <url>", "base URL of a Prometheus-compatible API (default: CHAOSCAST_PROMETHEUS_URL)")
    .option("--timeout <duration>", "give up on each query after this long", "10s")
    .option("--header <name: value>", "extra request header, e.g. X-Scope-OrgID (repeatable)", collect, [])
    .option("--ca-file <pem>", "trust this CA for an https Prometheus")
    .option("--insecure-skip-verify", "accept any server certificate (test servers only)");
}

export function buildProgram(): Command {
  const program = new Command("chaoscast")
    .description("Chaos engineering for OTT video streaming stacks: declarative experiments, continuous steady-state checks, automatic abort and rollback.")
    .version(chaoscastVersion(), "-V, --version")
    .option("--no-color", "disable colours (NO_COLOR is honoured too)")
    .option("--debug", "show stack traces for errors")
    .showSuggestionAfterError(true)
    .exitOverride()
    // Commander quotes unknown options and arguments as typed: escape them like any outside text.
    .configureOutput({ outputError: (text, write) => write(forTerminalLines(text.replace(/^error: /, "chaoscast: "))) })
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast demo                              the game day against the embedded OTT stack
  $ chaoscast init my-experiment.yaml           write a starting experiment
  $ chaoscast validate experiments/             check every file, touch nothing
  $ chaoscast plan my-experiment.yaml           show targets and the fault timeline
  $ chaoscast run my-experiment.yaml --yes      run it (asks first on a terminal unless --yes)
  $ chaoscast list                              every action and probe with its parameters
  $ chaoscast proxy --config proxies.yaml       run the fault proxy (Toxiproxy-compatible API)
  $ chaoscast rollback                          undo what a crashed run left behind
  $ chaoscast report runs/ --html report.html   render reports and trends from journals
  $ chaoscast halt                              stop all chaos now: every run rolls back
${EXIT_CODES_HELP}`,
    );

  program
    .command("run")
    .description("run experiments: check steady state, inject faults, watch, roll back, report")
    .argument("<paths...>", "experiment files or directories (*.yaml, *.yml, *.json)")
    .option("--dry-run", "resolve targets and check the steady state, but inject nothing")
    .option("-y, --yes", "do not ask for confirmation before injecting")
    .option("--seed <seed>", "seed for target selection (recorded in the journal; reuse it to repeat a choice)")
    .addOption(varOption())
    .option("--journal <path>", "where to write the journal (a directory when running several files)")
    .option("--wait-lock [duration]", "wait (default 10m) for another run holding the experiment's lock instead of skipping")
    .option("--respect-schedule", "skip (exit 5) outside the experiment's schedule windows or on a blackout day")
    .option("--watchdog <duration|off>", "how long the run may stop responding before its watchdog ends it and rolls back (default 3s, at least 1s)")
    .option("--fail-fast", "stop the suite after the first experiment that deviates, aborts, does not recover or fails to roll back")
    .option("--junit <file>", "also write a JUnit XML report: a testcase per experiment")
    .option("--junit-probes", "with --junit, a testcase per steady-state probe too")
    .option("--report <file.html>", "also write a self-contained HTML report with the timeline")
    .option("--summary <file.md>", "also write a Markdown summary (appended to $GITHUB_STEP_SUMMARY under GitHub Actions anyway)")
    .option("--notify <url>", "post to a Slack-compatible webhook when each run starts, aborts and ends (default: CHAOSCAST_NOTIFY_URL)")
    .addOption(outputOption(["text", "json", "jsonl"]))
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast run my-experiment.yaml
  $ chaoscast run experiments/ --yes --output jsonl > events.jsonl
  $ chaoscast run exp.yaml --var api_port=8080 --journal reports/run.json
  $ CI=1 chaoscast run exp.yaml      (no prompt, no spinners)
  $ chaoscast run exp.yaml --wait-lock 30m   (queue behind a run of the same lock scope)
  $ chaoscast run experiments/ --yes --fail-fast --junit chaos.xml --report chaos.html
      (a suite: one experiment after another, a table at the end, the worst outcome as exit code)

Ctrl-C (SIGINT), SIGTERM, SIGHUP or SIGQUIT at any time rolls back every injected fault before
exiting. Each run also starts a watchdog process: if chaoscast is killed outright (kill -9), or
stops responding for longer than --watchdog (a frozen event loop, Ctrl-Z), the watchdog ends it,
rolls back from the state file and writes the journal, with no one at the keyboard.
\`chaoscast rollback\` undoes whatever even the watchdog could not.
${EXIT_CODES_HELP}`,
    )
    .action(async (paths: string[], options) => {
      const { runCommand } = await import("./commands/run.js");
      exitCode = await runCommand(paths, { ...program.opts(), ...options });
    });

  program
    .command("halt")
    .description("stop all chaos now: every run here rolls back at once, and none starts until --clear")
    .option("--reason <text>", "why, recorded in the halt file and shown by the runs it stops")
    .option("--clear", "lift the halt: runs may start again")
    .option("--context <name>", "also revert every fault runs recorded in this Kubernetes context, live runs' included, from any machine")
    .option("--region <region>", "also revert every fault runs recorded in the tags of this AWS region's EC2 instances, live runs' included")
    .addOption(outputOption(["text", "json"]))
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast halt --reason "incident INC-123"   from any terminal: every run rolls back now
  $ chaoscast halt --clear                       after the incident
  $ chaoscast halt --context prod-eu --region eu-west-1
                                                 also undo every fault recorded in that cluster and
                                                 that region, whichever machine's run made it

halt writes the halt file ($CHAOSCAST_DIR/halt): no run starts while it exists (skipped, exit 5),
and a running one sees it within 200 ms and aborts as on a breach. It also sends SIGTERM to every
run of this state directory alive on this host, so each rolls back at once, and waits until they
have. For runs on other hosts or of other users, put a shared guard in the policy (a file, an
HTTP URL that must answer 2xx, a Prometheus alert that must not fire): see docs/safety.md.
Exit 0 when every run it found has ended, 3 when one is still running after 60 s.`,
    )
    .action(async (options) => {
      const { haltCommand } = await import("./commands/halt.js");
      exitCode = await haltCommand({ ...program.opts(), ...options });
    });

  program
    .command("report")
    .description("render reports from journals, and compare runs of the same experiment over time")
    .argument("<journals...>", "journal files, or directories of them (run writes one per run)")
    .option("--html <file.html>", "write the self-contained HTML report with each run's timeline")
    .option("--junit <file>", "write a JUnit XML report: a testcase per run")
    .option("--junit-probes", "with --junit, a testcase per steady-state probe too")
    .option("--summary <file.md>", "write a Markdown summary")
    .addOption(outputOption(["text", "json"]))
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast report ~/.local/state/chaoscast/runs/         every run so far, with trends
  $ chaoscast report runs/*.json --html gameday.html        the game day's report, to share
  $ chaoscast report reports/ --junit chaos.xml --output json

Runs of the same experiment (same file and title) are compared over time: outcome, abort latency,
time to recovery and resilience score, oldest first. Exit 0 once rendered, 4 when a journal is
unreadable or not a chaoscast journal (each one named, nothing written).`,
    )
    .action(async (paths: string[], options) => {
      const { reportCommand } = await import("./commands/report.js");
      exitCode = await reportCommand(paths, { ...program.opts(), ...options });
    });

  program
    .command("validate")
    .description("validate experiment files; report every problem with file:line:col")
    .argument("<paths...>", "experiment files or directories")
    .addOption(varOption())
    .addOption(outputOption(["text", "json"]))
    .addHelpText("after", "\nExamples:\n  $ chaoscast validate experiments/\n  $ chaoscast validate exp.yaml --output json\n\nExit 0 when every file is valid, 4 otherwise.")
    .action(async (paths: string[], options) => {
      const { validateCommand } = await import("./commands/validate.js");
      exitCode = await validateCommand(paths, { ...program.opts(), ...options });
    });

  program
    .command("plan")
    .description("resolve targets and show exactly what a run would do; inject nothing")
    .argument("<paths...>", "experiment files or directories")
    .option("--seed <seed>", "seed for target selection")
    .addOption(varOption())
    .addOption(outputOption(["text", "json"]))
    .addHelpText("after", "\nExamples:\n  $ chaoscast plan exp.yaml\n  $ chaoscast plan exp.yaml --seed 42 --output json\n\nExit 0 when every target resolves within the blast-radius policy, 5 when one does not resolve, 4 for invalid files or a run the policy refuses.")
    .action(async (paths: string[], options) => {
      const { planCommand } = await import("./commands/plan.js");
      exitCode = await planCommand(paths, { ...program.opts(), ...options });
    });

  prometheusOptions(program.command("budget"))
    .description("the error-budget gate: measure SLOs in Prometheus and say whether releases (and chaos runs) may go on")
    .argument("<slo-files...>", "OpenSLO v1 or short-form SLO files (FILE#name picks one SLO of several)")
    .option("--min-remaining <percent>", "halt when less than this share of an error budget remains", "0%")
    .option("--exclude-chaos [journals-dir]", "leave out the windows of chaos runs whose experiments chose chaosWindow: excluded (journals in the runs directory, or this one)")
    .option("--junit <file>", "also write a JUnit report: one testcase per SLO")
    .addOption(outputOption(["text", "json"]))
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast budget slos/playback.yaml --prometheus http://127.0.0.1:9090
  $ chaoscast budget slos/ --prometheus $PROM_URL --min-remaining 25% --junit budget.xml
  $ chaoscast budget slos/api.yaml#availability --prometheus $PROM_URL --output json

Credentials come from the environment only: CHAOSCAST_PROMETHEUS_TOKEN (bearer), or
CHAOSCAST_PROMETHEUS_USER and CHAOSCAST_PROMETHEUS_PASSWORD (basic).

Exit 0: releases may go on. 1: halt (a budget under --min-remaining, or spent, or a page-level
burn rate firing). 6: inconclusive (Prometheus unreachable, no data): neither go nor halt.
4: invalid SLO files or options. See docs/slo.md.`,
    )
    .action(async (files: string[], options) => {
      const { budgetCommand } = await import("./commands/budget.js");
      exitCode = await budgetCommand(files, { ...program.opts(), ...options });
    });

  prometheusOptions(program.command("analyze"))
    .description("canary analysis with Argo Rollouts' semantics: measure a canary's SLI (against its baseline) until a verdict")
    .requiredOption("--canary <promql>", "the canary's SLI, one number (e.g. its error ratio)")
    .option("--baseline <promql>", "the same SLI for the rest of the fleet; conditions then judge canary/baseline (or canary − baseline)")
    .option("--compare <how>", "ratio (canary / baseline) or difference (canary − baseline)", "ratio")
    .option("--success <condition>", 'a measurement succeeds when the value meets this, e.g. "<= 1.2"')
    .option("--failure <condition>", 'a measurement fails when the value meets this, e.g. "> 2"')
    .option("--interval <duration>", "time between measurements (needed with --count above 1)")
    .option("--count <n>", "measurements to take", "1")
    .option("--initial-delay <duration>", "wait this long before the first measurement")
    .option("--failure-limit <n>", "failed measurements tolerated (-1: any number)", "0")
    .option("--inconclusive-limit <n>", "inconclusive measurements tolerated", "0")
    .option("--consecutive-error-limit <n>", "errors (no answer, no data) in a row tolerated", "4")
    .option("--junit <file>", "also write a JUnit report")
    .addOption(outputOption(["text", "json"]))
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast analyze --prometheus $PROM_URL \\
      --canary   'sum(rate(http_requests_total{track="canary",code=~"5.."}[5m])) / sum(rate(http_requests_total{track="canary"}[5m]))' \\
      --baseline 'sum(rate(http_requests_total{track="stable",code=~"5.."}[5m])) / sum(rate(http_requests_total{track="stable"}[5m]))' \\
      --success "<= 1.5" --failure "> 3" --interval 1m --count 10 --failure-limit 1

A measurement is Failed when --failure holds (checked first), Successful when --success holds,
Inconclusive when both are given and neither holds, Error when a query gives no answer or no data.
The analysis fails when failures exceed --failure-limit, is inconclusive past --inconclusive-limit
or --consecutive-error-limit, and succeeds after --count measurements within the limits.

Exit 0 successful, 1 failed, 6 inconclusive or errors, 4 invalid options. See docs/slo.md.`,
    )
    .action(async (options) => {
      const { analyzeCommand } = await import("./commands/analyze.js");
      exitCode = await analyzeCommand({ ...program.opts(), ...options });
    });

  program
    .command("rollback")
    .description("undo the faults a crashed or failed run left behind (reads the state directory)")
    .option("--run <id>", "only this run")
    .option("--all", "also runs whose chaoscast process is still alive (a hung run): it is ended with SIGKILL first, then what it left is reverted")
    .option("--dry-run", "show what each run left and whether it is still in effect; change nothing")
    .option("--forget", "with --run: drop that run's record without reverting anything (faults you undid by hand, or that can no longer be undone)")
    .option("--context <name>", "also look in this Kubernetes context for faults runs recorded there (from any machine or state directory) and undo those whose run is gone")
    .option("--region <region>", "also look at the EC2 instances of this AWS region for faults runs recorded in their tags, and undo those whose run is gone")
    .addOption(outputOption(["text", "json"]))
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast rollback                 revert what every dead run left behind
  $ chaoscast rollback --dry-run       list it, with each fault checked against its target
  $ chaoscast rollback --run 20261124T101500Z-edge-latency-1a2b
  $ chaoscast rollback --run 20261124T101500Z-edge-latency-1a2b --forget   after undoing it by hand
  $ chaoscast rollback --context prod-eu   also what runs recorded in that cluster (another
                                       laptop's, a CronJob's) and left when they died
  $ chaoscast rollback --region us-east-1  also what runs recorded in the tags of that region's
                                       EC2 instances

A run writes how to undo each fault to state/<run-id>.json in chaoscast's state directory
($CHAOSCAST_DIR, else $XDG_STATE_HOME/chaoscast, else ~/.local/state/chaoscast) before injecting
it, whatever the working directory, so rollback from cron or another shell finds it. Runs whose
process is still alive are left alone (unless --all); their watchdogs roll them back if they die.
Exit 0 when nothing is left injected, 3 when something could not be reverted (named in the
output and kept on record for another try), 5 when --run names a run that is still alive.
With --dry-run: 0 only when nothing is still in effect, else 3, so a CI step can gate on it.
A Kubernetes fault is also recorded in its cluster (a ConfigMap labelled
app.kubernetes.io/managed-by=chaoscast, with a lease the run renews): --context finds those. A
record whose run is alive on this host, or whose lease is fresh, is left alone.`,
    )
    .action(async (options) => {
      const { rollbackCommand } = await import("./commands/rollback.js");
      exitCode = await rollbackCommand({ ...program.opts(), ...options });
    });

  program
    .command("demo")
    .description("start the embedded OTT stack and run the flagship game day against it (nothing to install)")
    .argument("[mode]", '"up" keeps the stack running for your own experiments; "down" stops a --docker stack running elsewhere and removes its containers', "run")
    .option("--viewers <n>", "synthetic viewers (160 puts one of them in a 1% viewer cohort)", "160")
    .option("--duration <duration>", "how long each experiment holds its fault", "15s")
    .option("--docker", "run origin, edge, payment and recommendations as Docker containers (labelled ott.role=<service>) and use experiments/docker/")
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast demo                 run the game day (11 experiments, 12 with Prometheus installed), show the table, stop
  $ chaoscast demo up              keep the stack running; prints URLs and a chaoscast run line
  $ chaoscast demo --duration 30s  hold each fault longer
  $ chaoscast demo --docker        the same stack with its services in Docker containers, and the
                                   container game day (experiments/docker/); needs dockerd and
                                   fixtures/docker/build-images.sh
  $ chaoscast demo down            stop a demo up --docker running in another terminal (or left
                                   behind by a killed one) and remove its containers

With Debian's prometheus installed the demo starts one too (1 s scrapes of every service) and
runs experiments/demo/08-slo-budget.yaml, gated on an SLO's error budget; set
CHAOSCAST_DEMO_PROMETHEUS=off to leave it out, or to a path to pick the binary. docs/slo.md.

Exit 0 when every experiment ended as its file documents, 1 otherwise.`,
    )
    .action(async (mode: string, options) => {
      if (mode !== "run" && mode !== "up" && mode !== "down") throw new UsageError(`demo takes "up", "down" or nothing, found "${mode}"`);
      const { demoCommand } = await import("./commands/demo.js");
      exitCode = await demoCommand(mode, { ...program.opts(), ...options });
    });

  program
    .command("demo-service", { hidden: true })
    .description("run one service of the demo stack (used inside the containers of demo up --docker)")
    .argument("<service>", "origin, edge, payment or recommendations")
    .requiredOption("--port <port>", "TCP port on 127.0.0.1")
    .option("--upstream <url>", "the origin the edge fetches from")
    .option("--failover <url>", "a second origin (region B) the edge fails over to")
    .action(async (service: string, options) => {
      const { demoServiceCommand } = await import("./commands/demo-service.js");
      exitCode = await demoServiceCommand(service, options);
    });

  program
    .command("proxy")
    .description("run the fault proxy: a Toxiproxy-compatible API and TCP links to inject faults on")
    .option("--api <host:port>", "where the API listens (keep it on loopback)", "127.0.0.1:8474")
    .option("--config <file>", "proxies to create at start: a YAML or JSON list of { name, listen, upstream }")
    .option("--workers <n>", "processes that relay TCP links' connections: a number, 0 (all in this process) or auto (above two cores, one per core but one, up to 8)", "auto")
    .addHelpText(
      "after",
      `
Examples:
  $ chaoscast proxy
  $ chaoscast proxy --config proxies.yaml
  $ chaoscast proxy --config proxies.yaml --workers 4
  $ curl -s -XPOST 127.0.0.1:8474/proxies -d '{"name":"edge","listen":"127.0.0.1:18080","upstream":"127.0.0.1:8080"}'
  $ curl -s -XPOST 127.0.0.1:8474/proxies/edge/toxics -d '{"type":"latency","attributes":{"latency":200},"ttl":60000}'

Existing Toxiproxy clients work unchanged. A toxic with "ttl" (ms) removes itself when the ttl
passes unless refreshed. Ctrl-C or SIGTERM removes every toxic and closes every link.`,
    )
    .action(async (options) => {
      const { proxyCommand } = await import("./commands/proxy.js");
      exitCode = await proxyCommand({ ...program.opts(), ...options });
    });

  program
    .command("list")
    .description("list actions and probes with their parameters")
    .argument("[what]", "targets, actions, probes, or a name such as process.suspend")
    .addOption(outputOption(["text", "json"]))
    .addHelpText("after", "\nExamples:\n  $ chaoscast list\n  $ chaoscast list targets\n  $ chaoscast list probes\n  $ chaoscast list process.suspend")
    .action(async (what: string | undefined, options) => {
      const { listCommand } = await import("./commands/list.js");
      exitCode = await listCommand(what, { ...program.opts(), ...options });
    });

  program
    .command("init")
    .description("write a starting experiment file")
    .argument("[file]", "where to write it (default: chaoscast-experiment.yaml, or the template's own name)")
    .addOption(new Option("-t, --template <name>", "what to write").choices(["process", "proxy", "docker", "kubernetes", "github-actions", "gitlab-ci"]).default("process"))
    .option("--from <scenario>", "write a scenario of the library (experiments/scenarios/) to adapt; --from list shows them")
    .option("--force", "overwrite an existing file")
    .addHelpText(
      "after",
      `
Templates:
  process         freeze a local process while its health endpoint is watched (the default)
  proxy           CDN-edge latency on segments through the fault proxy
  docker          kill one container of a service, chosen by label
  kubernetes      delete one pod of a Deployment, readiness watched
  github-actions  a smoke-chaos workflow: .github/workflows/chaoscast.yml
  gitlab-ci       a smoke-chaos job to include: chaoscast.gitlab-ci.yml

Examples:
  $ chaoscast init
  $ chaoscast init experiments/api-freeze.yaml
  $ chaoscast init --template proxy chaos/edge-latency.yaml
  $ chaoscast init --template github-actions
  $ chaoscast init --from list                   the scenario library, with what each teaches
  $ chaoscast init --from cdn-edge-brownout chaos/brownout.yaml`,
    )
    .action(async (file: string | undefined, options) => {
      const { initCommand } = await import("./commands/init.js");
      try {
        exitCode = await initCommand(file, { ...program.opts(), ...options });
      } catch (err) {
        // A place that cannot be written (a directory, a path under a file, "", no permission) is bad usage, not a bug.
        if (!(err instanceof ChaoscastError) && typeof (err as NodeJS.ErrnoException).code === "string") {
          throw new UsageError(`cannot write ${JSON.stringify(file ?? "the template's file")}: ${(err as Error).message}`);
        }
        throw err;
      }
    });

  return program;
}

let exitCode = 0;

export async function main(argv: string[], launchedBy?: number): Promise<number> {
  exitCode = 0;
  if (launchedBy !== undefined) rememberLauncher(launchedBy);
  const program = buildProgram();
  const debug = argv.includes("--debug");
  // `chaoscast run … | head` closes stdout early; losing output must never crash a run mid-fault.
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount("error") === 0) stream.on("error", () => {});
  }
  if (argv.includes("--no-color")) process.env.NO_COLOR = "1";
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.passed;
    }
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help" ? EXIT.passed : EXIT.invalid;
    }
    const error = err instanceof ChaoscastError ? err : new InternalError(err instanceof Error ? err.message : String(err), { cause: err });
    // Messages are chaoscast's own lines, but they quote file names, values and what services
    // answered: each line is kept, nothing in it can drive the terminal.
    process.stderr.write(`${forTerminalLines(error.userMessage())}\n`);
    if (error instanceof ExperimentError && process.env.GITHUB_ACTIONS === "true") await annotateProblems(error);
    if (debug && !(error instanceof InternalError) && error.stack) process.stderr.write(`${forTerminalLines(error.stack)}\n`);
    return error.exitCode;
  }
}

/** Under GitHub Actions, each problem of an invalid file also becomes an annotation on its line. */
async function annotateProblems(error: ExperimentError): Promise<void> {
  const { formatAnnotation } = await import("../report/github.js");
  for (const p of error.problems) {
    const line = formatAnnotation({ level: "error", file: p.file, ...(p.line !== undefined ? { line: p.line } : {}), ...(p.col !== undefined ? { col: p.col } : {}), title: "chaoscast: invalid experiment", message: `${p.path ? `${p.path}: ` : ""}${p.message}` });
    process.stdout.write(`${forTerminalLines(line.trimEnd())}\n`);
  }
}
