/**
 * Server processes, driven over an IPC channel. They start on any core (startup is CPU-heavy and
 * the machine is otherwise idle then) and are pinned to {@link SERVER_CORE}, every thread, once ready.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type OrchestratorMessage, SERVER_SPEC_ENV, type ServerMessage, type ServerSpec } from './scenario.shared.js';

const SERVER_ENTRY = fileURLToPath(new URL('./server.main.js', import.meta.url));
const STOP_GRACE_MS = 3000;

/** Servers (and the micro-benchmark) run on this core; the orchestrator and autocannon on {@link ORCHESTRATOR_CORE}. */
export const SERVER_CORE = 1;
const ORCHESTRATOR_CORE = 0;

/** Pins this process, every thread, to the orchestrator's core; the servers it starts widen their own mask. */
export function pinOrchestrator(): void {
  execFileSync('taskset', ['-a', '-pc', String(ORCHESTRATOR_CORE), String(process.pid)], { stdio: 'ignore' });
}

export interface ServerOptions {
  /** A command that runs Node, e.g. valgrind with its options. */
  readonly launcher?: readonly string[];
  /** Options for Node itself, e.g. `--expose-gc` for a server that forces a GC before a memory probe. */
  readonly nodeOptions?: readonly string[];
  /** Pin the server to {@link SERVER_CORE} once ready (default true). */
  readonly pinned?: boolean;
}

export class RunningServer {
  private constructor(
    readonly spec: ServerSpec,
    readonly pid: number,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {}

  static async start(spec: ServerSpec, options: ServerOptions): Promise<RunningServer> {
    // The orchestrator has pinned itself (and so its children) to one core: widen the child's mask for startup.
    const node = [...(options.launcher ?? []), process.execPath, ...(options.nodeOptions ?? []), SERVER_ENTRY];
    const child = spawn('taskset', ['-c', `0-${availableParallelism() - 1}`, ...node], {
      env: { ...process.env, NODE_ENV: 'production', [SERVER_SPEC_ENV]: JSON.stringify(spec) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${spec.variant}/${spec.adapter}/${spec.alg} exited with ${code}`)));
      child.on('message', (message: ServerMessage) => {
        if (message.type === 'ready') resolve(message.port);
      });
    });
    const port = await ready;
    if (child.pid === undefined) throw new Error('server process has no pid');
    if (options.pinned ?? true) execFileSync('taskset', ['-a', '-pc', String(SERVER_CORE), String(child.pid)], { stdio: 'ignore' });
    return new RunningServer(spec, child.pid, port, child);
  }

  /** Starts every server at once; if any fails, stops the others and throws its error. */
  static async startAll(specs: readonly ServerSpec[], options: ServerOptions): Promise<RunningServer[]> {
    const started = await Promise.allSettled(specs.map((spec) => RunningServer.start(spec, options)));
    const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) {
      await RunningServer.stopAll(servers);
      throw failure.reason;
    }
    return servers;
  }

  static async stopAll(servers: readonly RunningServer[]): Promise<void> {
    await Promise.all(servers.map((server) => server.stop()));
  }

  async memory(): Promise<NodeJS.MemoryUsage> {
    const reply = new Promise<NodeJS.MemoryUsage>((resolve) => {
      const listener = (message: ServerMessage): void => {
        if (message.type !== 'memory') return;
        this.child.off('message', listener);
        resolve(message.usage);
      };
      this.child.on('message', listener);
    });
    this.child.send({ type: 'memory' } satisfies OrchestratorMessage);
    return reply;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
}
