// A throw-away single-node SLURM cluster for tests: munged, slurmctld and slurmd run in the
// foreground as child processes, with a generated munge key and slurm.conf, all state in one
// temporary folder and private ports, so it touches nothing of a SLURM the machine may already run.
// It needs root (slurmd starts the jobs) and Debian's slurm-wlm and munge packages.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';

export const SLURM_INSTALL_COMMAND = 'sudo apt-get install -y --no-install-recommends slurm-wlm munge';

const DAEMONS = ['munged', 'slurmctld', 'slurmd'] as const;
const CLIENTS = ['sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'] as const;

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the cluster cannot be started here, or undefined when it can. */
export function slurmUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'the SLURM test runs on Linux only';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'slurmd must run as root to start jobs; run the tests as root';
  const missing = [...DAEMONS, ...CLIENTS].filter((command) => !onPath(command));
  if (missing.length > 0) return `${missing.join(', ')} not found; install them with: ${SLURM_INSTALL_COMMAND}`;
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP port for the test cluster');
  return address.port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `slurmd -C`'s description of this machine (CPUs, sockets, cores, memory) under our node name. */
function nodeHardware(): string {
  const line = execFileSync('slurmd', ['-C'], { encoding: 'utf8' }).split('\n').find((text) => text.startsWith('NodeName='));
  if (line === undefined) throw new Error('slurmd -C printed no NodeName line');
  return line.replace(/^NodeName=\S+\s*/, '');
}

export class SlurmCluster {
  readonly env: NodeJS.ProcessEnv;
  private readonly daemons: { name: string; child: ChildProcess; exited: Promise<void> }[] = [];

  private constructor(readonly root: string) {
    this.env = { ...process.env, SLURM_CONF: path.join(root, 'slurm.conf') };
  }

  /** Starts munged, slurmctld and slurmd, and waits until the node accepts jobs. */
  static async start(): Promise<SlurmCluster> {
    const cluster = new SlurmCluster(mkdtempSync(path.join(tmpdir(), 'tenas-slurm-')));
    try {
      await cluster.boot();
    } catch (error) {
      const logs = cluster.logs();
      await cluster.stop();
      throw new Error(`${(error as Error).message}\n${logs}`);
    }
    return cluster;
  }

  private async boot(): Promise<void> {
    const dir = (name: string, mode = 0o755) => {
      const folder = path.join(this.root, name);
      mkdirSync(folder, { recursive: true });
      chmodSync(folder, mode);
      return folder;
    };
    const mungeKeys = dir('munge-key', 0o700);
    const mungeRun = dir('munge-run');
    const state = dir('state');
    const spool = dir('spool');
    const logs = dir('log');
    const key = path.join(mungeKeys, 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    const socket = path.join(mungeRun, 'munge.socket');
    this.spawnDaemon('munged', [
      '--foreground', '--force', `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${path.join(mungeRun, 'munged.pid')}`,
      `--seed-file=${path.join(mungeKeys, 'munged.seed')}`, `--log-file=${path.join(logs, 'munged.log')}`,
    ]);
    await this.waitFor('the munge socket', () => existsSync(socket), 10_000);

    const node = hostname().split('.')[0];
    const controllerPort = await freePort();
    let nodePort = await freePort();
    while (nodePort === controllerPort) nodePort = await freePort();
    const conf = path.join(this.root, 'slurm.conf');
    writeFileSync(
      conf,
      [
        'ClusterName=tenastest',
        `SlurmctldHost=${node}(127.0.0.1)`,
        `SlurmctldPort=${controllerPort}`,
        `SlurmdPort=${nodePort}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${state}`,
        `SlurmdSpoolDir=${spool}`,
        `SlurmctldPidFile=${path.join(this.root, 'slurmctld.pid')}`,
        `SlurmdPidFile=${path.join(this.root, 'slurmd.pid')}`,
        `SlurmctldLogFile=${path.join(logs, 'slurmctld.log')}`,
        `SlurmdLogFile=${path.join(logs, 'slurmd.log')}`,
        // No cgroups: track job processes through /proc and bind no tasks to CPUs.
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/none',
        'MpiDefault=none',
        'SwitchType=switch/none',
        'MailProg=/bin/true',
        'SchedulerType=sched/builtin',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'ReturnToService=2',
        'KillWait=2',
        'InactiveLimit=0',
        'MinJobAge=600',
        `NodeName=${node} NodeAddr=127.0.0.1 ${nodeHardware()} State=UNKNOWN`,
        `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    this.spawnDaemon('slurmctld', ['-D', '-f', conf]);
    this.spawnDaemon('slurmd', ['-D', '-f', conf, '-N', node]);
    await this.waitFor('the node to become idle', () => this.slurm('sinfo', ['--noheader', '--format=%T']).trim() === 'idle', 30_000);
  }

  private spawnDaemon(name: string, args: string[]): void {
    // The daemons log to files in the cluster folder; their own stdout/stderr are not needed.
    const child = spawn(name, args, { env: this.env, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => undefined);
    this.daemons.push({ name, child, exited });
  }

  /** Polls `ready` until it holds; fails after `timeoutMs` or as soon as a daemon has exited. */
  async waitFor(what: string, ready: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = this.daemons.find((daemon) => daemon.child.exitCode !== null || daemon.child.signalCode !== null);
      if (dead !== undefined) throw new Error(`${dead.name} exited while waiting for ${what}`);
      let isReady = false;
      try {
        isReady = ready();
      } catch {
        // A client call fails until slurmctld listens.
      }
      if (isReady) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  /** Runs a SLURM client command against this cluster and returns its stdout. */
  slurm(command: (typeof CLIENTS)[number], args: string[]): string {
    return execFileSync(command, args, { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The state of a job (or array task `ID_K`) as `scontrol show job` reports it. */
  jobState(job: string): string {
    const match = /JobState=(\S+)/.exec(this.slurm('scontrol', ['show', 'job', job]));
    if (match === null) throw new Error(`scontrol show job ${job} printed no JobState`);
    return match[1];
  }

  /** The daemons' logs, for the message of a failed test. */
  logs(): string {
    const folder = path.join(this.root, 'log');
    return ['munged.log', 'slurmctld.log', 'slurmd.log']
      .map((name) => {
        const file = path.join(folder, name);
        const text = existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-40).join('\n') : '(none)';
        return `--- ${name} (last lines)\n${text}`;
      })
      .join('\n');
  }

  /** Cancels every job, stops the daemons and removes the cluster folder. */
  async stop(): Promise<void> {
    if (this.daemons.some((daemon) => daemon.name === 'slurmctld' && daemon.child.exitCode === null)) {
      try {
        this.slurm('scancel', ['--user=root']);
        await this.waitFor('the jobs to end', () => this.slurm('squeue', ['--noheader']).trim() === '', 15_000);
      } catch {
        // Stop the daemons regardless.
      }
    }
    for (const daemon of [...this.daemons].reverse()) {
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGTERM');
      const stopped = await Promise.race([daemon.exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!stopped) {
        daemon.child.kill('SIGKILL');
        await daemon.exited;
      }
    }
    this.daemons.length = 0;
    rmSync(this.root, { recursive: true, force: true });
  }
}
