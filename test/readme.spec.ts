import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const snippets = [...readme.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)].map(([, code], index) => ({
  file: `${root}test/readme-snippet-${index + 1}.ts`,
  code: code!,
}));

function compilerOptions(): ts.CompilerOptions {
  const { config } = ts.readConfigFile(`${root}tsconfig.json`, ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  return { ...options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false, incremental: false };
}

describe('README', () => {
  it('has TypeScript snippets', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(8);
  });

  it('has snippets that all compile against the library', () => {
    const options = compilerOptions();
    const host = ts.createCompilerHost(options);
    const virtual = new Map(snippets.map(({ file, code }) => [file, code]));
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
    host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
    host.getSourceFile = (name, language, ...rest) =>
      virtual.has(name) ? ts.createSourceFile(name, virtual.get(name)!, language, true) : getSourceFile.call(host, name, language, ...rest);

    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter(({ file }) => file !== undefined && virtual.has(file.fileName))
      .map(({ file, start, messageText }) => {
        const { line } = file!.getLineAndCharacterOfPosition(start ?? 0);
        return `${file!.fileName.replace(root, '')}:${line + 1} ${ts.flattenDiagnosticMessageText(messageText, '\n')}`;
      });
    expect(problems).toEqual([]);
  });
});
