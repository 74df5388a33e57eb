import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ACR_MFA } from 'nestjs-step-up';
import { TestIssuer } from './support/test-issuer.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
/** What an application installs beside the package: its peers, their types, and the one dependency. Not jose. */
const INSTALLED = ['@nestjs/common', '@nestjs/core', '@nestjs/platform-express', 'reflect-metadata', 'rxjs', '@types/node', 'class-validator'];

/** An application as a user writes it: ESM, strict, and the package's declaration files type-checked too. */
const CONSUMER = `import 'reflect-metadata';
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

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
console.log(await app.getUrl());
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'ES2023',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'dist',
  },
  include: ['main.ts'],
};

/**
 * The package as npm publishes it, installed into an application of its own: the `files` list, the
 * `exports` map, the declaration files and the ESM build are what users get, and the repository's
 * path mapping hides all four from the other suites.
 */
describe('the published package, installed into an application', () => {
  let work: string;
  let issuer: TestIssuer;
  let server: ChildProcess | undefined;
  let url: string;
  let packedFiles: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'step-up-package-'));
    const source = join(work, 'source');
    await mkdir(source);
    for (const file of ['package.json', 'README.md', 'SECURITY.md', 'LICENSE']) await cp(join(ROOT, file), join(source, file));
    await run(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(source, 'dist')]);
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: source });
    const [packed] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
    packedFiles = packed.files.map(({ path }) => path);

    const app = join(work, 'app');
    const installed = join(app, 'node_modules', 'nestjs-step-up');
    await mkdir(installed, { recursive: true });
    await run('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
    for (const name of INSTALLED) {
      await mkdir(join(app, 'node_modules', name, '..'), { recursive: true });
      await symlink(join(ROOT, 'node_modules', name), join(app, 'node_modules', name), 'dir');
    }
    await writeFile(join(app, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG));
    await writeFile(join(app, 'main.ts'), CONSUMER);
    await run(process.execPath, [TSC, '-p', join(app, 'tsconfig.json')]);

    issuer = await TestIssuer.start();
    server = spawn(process.execPath, [join(app, 'dist', 'main.js')], {
      cwd: app,
      env: { PATH: process.env.PATH, ISSUER: issuer.issuer, AUDIENCE: TestIssuer.audience, JWKS_URI: issuer.jwksUri },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    url = line;
  }, 120_000);

  afterAll(async () => {
    server?.kill();
    await issuer?.close();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('ships the build, its declarations and the docs, and no sources, tests or maps', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'README.md', 'SECURITY.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
    expect(packedFiles.filter((path) => !/^(dist\/.+\.(js|d\.ts)|package\.json|README\.md|SECURITY\.md|LICENSE)$/.test(path))).toEqual([]);
    expect(packedFiles.filter((path) => /\.spec\.|^lib\/|^test\//.test(path))).toEqual([]);
  });

  it('names no module the application does not install: jose and the other development tools stay out', async () => {
    const dist = join(work, 'app', 'node_modules', 'nestjs-step-up', 'dist');
    const files = (await readdir(dist, { recursive: true })).filter((path) => /\.(js|d\.ts)$/.test(path));
    const imported = new Set<string>();
    for (const file of files) {
      for (const [, specifier] of (await readFile(join(dist, file), 'utf8')).matchAll(/from '([^'.][^']*)'/g)) imported.add(specifier!);
    }
    expect([...imported].sort()).toEqual(['@nestjs/common', '@nestjs/core', 'class-validator', 'node:crypto']);
  });

  it('serves the application: public, challenged and stepped-up requests', async () => {
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);

    const bare = await fetch(`${url}/api/transfers`, { method: 'POST' });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe(`Bearer realm="${TestIssuer.audience}"`);

    const singleFactor = await issuer.sign({ scope: 'transfer:funds', acr: 'urn:example:pwd', auth_time: Math.floor(Date.now() / 1000) });
    const challenged = await fetch(`${url}/api/transfers`, { method: 'POST', headers: { authorization: `Bearer ${singleFactor}` } });
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get('www-authenticate')).toBe(
      `Bearer realm="${TestIssuer.audience}", error="insufficient_user_authentication", ` +
        `error_description="A stronger authentication context (acr) is required", acr_values="${ACR_MFA}", max_age="300"`,
    );

    const steppedUp = await issuer.sign({ scope: 'transfer:funds', acr: ACR_MFA, amr: ['mfa', 'otp'], auth_time: Math.floor(Date.now() / 1000) });
    const transfer = await fetch(`${url}/api/transfers`, { method: 'POST', headers: { authorization: `Bearer ${steppedUp}` } });
    expect(transfer.status).toBe(201);
    expect(await transfer.json()).toEqual({ id: 'tr_1', by: 'user-1' });
  });
});
