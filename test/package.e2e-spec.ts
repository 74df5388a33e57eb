import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { ACR_MFA } from 'nestjs-step-up';
import { TestIssuer } from './support/test-issuer.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** An application as a user writes it; the same source compiles as ESM and as CommonJS. */
const APPLICATION = `import 'reflect-metadata';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ACR_MFA, Public, RequireScope, RequireStepUp, StepUpClaims, StepUpModule, type AccessTokenClaims } from 'nestjs-step-up';

@Controller('api')
class BankController {
  @Get('health')
  @Public()
  health() {
    return { status: 'ok' };
  }

  @Post('transfers')
  @RequireScope('transfer:funds')
  @RequireStepUp({ acr: ACR_MFA, maxAge: 300 })
  transfer(@StepUpClaims() claims: AccessTokenClaims) {
    return { id: 'tr_1', by: claims.sub };
  }
}

@Module({
  imports: [StepUpModule.forRoot({ issuer: process.env.ISSUER!, audience: process.env.AUDIENCE!, jwksUri: process.env.JWKS_URI! })],
  controllers: [BankController],
})
class AppModule {}

async function bootstrap() {
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  console.log(await app.getUrl());
}
void bootstrap();
`;

interface Packed {
  readonly tarball: string;
  readonly files: readonly string[];
}

/**
 * The package as `npm pack` makes it from a fresh build: what users download. The sources and tests are
 * there too, as in the repository, for the package's `files` to leave out.
 */
async function packLibrary(work: string): Promise<Packed> {
  const source = join(work, 'source');
  await mkdir(source);
  for (const entry of ['package.json', 'README.md', 'SECURITY.md', 'LICENSE', 'tsconfig.json', 'lib', 'test']) {
    await cp(join(ROOT, entry), join(source, entry), { recursive: true, filter: (path) => !path.includes('node_modules') });
  }
  await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(source, 'dist')]);
  // The build above stands in for the prepack script, which needs the repository's tools.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: source });
  const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  return { tarball: join(work, packed.filename), files: packed.files.map(({ path }) => path) };
}

interface Application {
  readonly directory: string;
  /** `module` for an ESM application (Nest 12's starter), `commonjs` for a NestJS 11 one. */
  readonly type: 'module' | 'commonjs';
  /** Where its NestJS packages are installed. */
  readonly nest: string;
}

/**
 * Installs the tarball and what an application installs beside it (its peers, their types and the package's
 * one dependency; not jose), then type-checks the application strictly, declaration files included.
 */
async function installApplication({ directory, type, nest }: Application, { tarball }: Packed): Promise<void> {
  const modules = join(directory, 'node_modules');
  await mkdir(join(modules, 'nestjs-step-up'), { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', join(modules, 'nestjs-step-up'), '--strip-components=1']);
  await mkdir(join(modules, '@nestjs'), { recursive: true });
  await mkdir(join(modules, '@types'), { recursive: true });
  for (const name of ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express']) await symlink(join(nest, name), join(modules, name), 'dir');
  for (const name of ['reflect-metadata', 'rxjs', 'class-validator', '@types/node']) {
    await symlink(join(ROOT, 'node_modules', name), join(modules, name), 'dir');
  }
  await writeFile(join(directory, 'package.json'), JSON.stringify({ private: true, type }));
  const compilerOptions = {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'ES2023',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: false,
    types: ['node'],
    rootDir: '.',
    outDir: 'dist',
  };
  await writeFile(join(directory, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['main.ts'] }));
  await writeFile(join(directory, 'main.ts'), APPLICATION);
  await run(process.execPath, [TSC, '-p', join(directory, 'tsconfig.json')]);
}

/** Starts the application in a process of its own; resolves with its URL, or fails as soon as it exits. */
async function startApplication({ directory }: Application, issuer: TestIssuer): Promise<{ url: string; process: ChildProcess }> {
  const server = spawn(process.execPath, [join(directory, 'dist', 'main.js')], {
    cwd: directory,
    env: { PATH: process.env.PATH, ISSUER: issuer.issuer, AUDIENCE: TestIssuer.audience, JWKS_URI: issuer.jwksUri },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = once(createInterface({ input: server.stdout! }), 'line') as Promise<[string]>;
  const exited = once(server, 'exit').then(([code]) => Promise.reject(new Error(`the application exited with code ${String(code)} before listening`)));
  exited.catch(() => undefined); // once it listens, its exit is the test's own doing
  const [url] = await Promise.race([started, exited]);
  return { url, process: server };
}

/**
 * The package as npm publishes it, installed into applications of their own: the `files` list, the
 * `exports` map, the declaration files and the ESM build are what users get, and the repository's path
 * mapping hides all four from the other suites.
 */
describe('the published package', () => {
  let work: string;
  let packed: Packed;
  let issuer: TestIssuer;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'step-up-package-'));
    [packed, issuer] = await Promise.all([packLibrary(work), TestIssuer.start()]);
  }, 60_000);

  afterAll(async () => {
    for (const server of servers) server.kill();
    await issuer?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('ships the build, its declarations, the docs and the licence, and no sources, tests or source maps', () => {
    expect(packed.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'SECURITY.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
    expect(packed.files.filter((path) => !/^(dist\/.+\.(js|d\.ts)|package\.json|README\.md|SECURITY\.md|LICENSE)$/.test(path))).toEqual([]);
  });

  it('imports no module an application does not install: jose and the other development tools stay out', async () => {
    const dist = join(work, 'source', 'dist');
    const imported = new Set<string>();
    for (const file of await readdir(dist, { recursive: true })) {
      if (!/\.(js|d\.ts)$/.test(file)) continue;
      const code = await readFile(join(dist, file), 'utf8');
      // from '…', import '…' and import('…'), however quoted: every module named, relative ones aside.
      for (const [, specifier] of code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"]([^'".][^'"]*)['"]/g)) imported.add(specifier!);
    }
    expect([...imported].sort()).toEqual(['@nestjs/common', '@nestjs/core', 'class-validator', 'node:crypto', 'node:http']);
  });

  describe.each<[string, Omit<Application, 'directory'>, { nestMajor: string; loads: RegExp }]>([
    ['in an ESM application on NestJS 12', { type: 'module', nest: join(ROOT, 'node_modules') }, { nestMajor: '12', loads: /^import .* from 'nestjs-step-up';$/m }],
    [
      'in a CommonJS application on NestJS 11, which requires the ES module',
      { type: 'commonjs', nest: join(ROOT, 'test/nest11/node_modules') },
      { nestMajor: '11', loads: /= require\("nestjs-step-up"\);$/m },
    ],
  ])('%s', (_name, setup, { nestMajor, loads }) => {
    let application: Application;
    let url: string;

    beforeAll(async () => {
      application = { ...setup, directory: join(work, setup.type) };
      await installApplication(application, packed);
      const started = await startApplication(application, issuer);
      servers.push(started.process);
      url = started.url;
    }, 60_000);

    it('is built as such an application and runs on that NestJS', async () => {
      expect(await readFile(join(application.directory, 'dist', 'main.js'), 'utf8')).toMatch(loads);
      const { version } = JSON.parse(await readFile(join(setup.nest, '@nestjs/core/package.json'), 'utf8')) as { version: string };
      expect(version.split('.')[0]).toBe(nestMajor);
    });

    it('serves a public route, the bare challenge, the step-up challenge and the stepped-up request', async () => {
      const health = await fetch(`${url}/api/health`);
      expect(health.status).toBe(200);

      const bare = await fetch(`${url}/api/transfers`, { method: 'POST' });
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toBe(`Bearer realm="${TestIssuer.audience}"`);

      const authTime = Math.floor(Date.now() / 1000);
      const singleFactor = await issuer.sign({ scope: 'transfer:funds', acr: 'urn:example:pwd', auth_time: authTime });
      const challenged = await fetch(`${url}/api/transfers`, { method: 'POST', headers: { authorization: `Bearer ${singleFactor}` } });
      expect(challenged.status).toBe(401);
      expect(challenged.headers.get('www-authenticate')).toBe(
        `Bearer realm="${TestIssuer.audience}", error="insufficient_user_authentication", ` +
          `error_description="A stronger authentication context (acr) is required", acr_values="${ACR_MFA}", max_age="300"`,
      );
      expect(challenged.headers.get('content-type')).toMatch(/^application\/problem\+json/);

      const steppedUp = await issuer.sign({ scope: 'transfer:funds', acr: ACR_MFA, amr: ['mfa', 'otp'], auth_time: authTime });
      const transfer = await fetch(`${url}/api/transfers`, { method: 'POST', headers: { authorization: `Bearer ${steppedUp}` } });
      expect(transfer.status).toBe(201);
      expect(await transfer.json()).toEqual({ id: 'tr_1', by: 'user-1' });
    });
  });
});
