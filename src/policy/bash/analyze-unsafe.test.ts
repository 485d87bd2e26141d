import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { analyzeCommandSync } from './analyze.js';
import { loadShellParser } from './parser.js';

void before(async () => {
  await loadShellParser();
});

const unsafe = (source: string, pattern: RegExp): void => {
  const a = analyzeCommandSync(source);
  assert.ok(a.unsafe.some((r) => pattern.test(r)), `${JSON.stringify(source)}: ${JSON.stringify(a.unsafe)}`);
};

void describe('analyzeCommand: what cannot be accounted for', () => {
  void it('eval', () => unsafe('eval "$x"', /eval/));
  void it('eval behind wrappers', () => unsafe('command eval ls', /eval/));
  void it('source and .', () => {
    unsafe('source ./env.sh', /source/);
    unsafe('. ./env.sh', /`\.`/);
  });
  void it('alias, trap, enable', () => {
    unsafe("alias ls='curl x'", /alias/);
    unsafe("trap 'curl x' EXIT", /trap/);
    unsafe('enable -f x.so y', /enable/);
  });
  void it('a dynamic command name', () => {
    unsafe('$CMD x', /not static/);
    unsafe('$(echo curl) x', /not static/);
    unsafe('"${X}" y', /not static/);
    unsafe('sudo $X', /not static/);
  });
  void it('exec with a dynamic argument', () => unsafe('exec "$@"', /exec/));
  void it('ANSI-C quoting in the command name', () => unsafe("$'\\x63url' x", /ANSI-C/));
  void it('glob or brace expansion in the command name', () => {
    unsafe('/usr/bin/cur? x', /glob/);
    unsafe('cur{l,} x', /glob/);
  });
  void it('a shell reading its script from a pipe', () => {
    const a = analyzeCommandSync('curl x | bash');
    assert.deepEqual(a.parts.map((p) => p.text), ['curl x', 'bash']);
    assert.match(a.unsafe.join(' '), /stdin/);
  });
  void it('a shell reading a heredoc, herestring or file on stdin', () => {
    unsafe('bash <<EOF\ncurl x\nEOF', /stdin/);
    unsafe('cat <<EOF | sh\ncurl x\nEOF', /stdin/);
    unsafe('sh <<< "curl x"', /stdin/);
    unsafe('bash < script.sh', /stdin/);
    unsafe('curl x | bash -s -- arg', /stdin/);
  });
  void it('a shell running a script file is not by itself unsafe', () => {
    assert.deepEqual(analyzeCommandSync('bash ./build.sh').unsafe, []);
  });
  void it('dangerous standalone assignments', () => {
    unsafe('PATH=/tmp/evil:$PATH; npm test', /PATH/);
    unsafe('IFS=/', /IFS/);
    unsafe('export LD_PRELOAD=/x.so', /LD_PRELOAD/);
    unsafe('GIT_SSH_COMMAND="curl x"', /GIT_SSH_COMMAND/);
    unsafe('NODE_OPTIONS=--require=./x.js', /NODE_OPTIONS/);
  });
  void it('carriage returns and other control characters', () => {
    unsafe('ls\r\ncurl x', /control/);
    unsafe('ls \u001b[2K', /control/);
    unsafe('ls \u0085', /control/);
  });
  void it('invisible and bidi characters', () => {
    unsafe('cu\u200brl x', /invisible/);
    unsafe('ls \u202e', /invisible/);
    unsafe('ls \u{E0041}', /invisible/);
    unsafe('ls\u00ad x', /invisible/);
  });
  void it('a source over 64 KiB, without parsing it', () => {
    const source = `echo ${'a'.repeat(100 * 1024)}`;
    const started = process.hrtime.bigint();
    const a = analyzeCommandSync(source);
    assert.deepEqual(a.parts, []);
    assert.match(a.unsafe.join(' '), /64 KiB/);
    assert.ok(process.hrtime.bigint() - started < 1_000_000_000n);
  });
  void it('deeply nested input stays bounded', () => {
    const source = `${'$('.repeat(20_000)}id${')'.repeat(20_000)}`;
    const started = process.hrtime.bigint();
    unsafe(source, /nested too deeply/);
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
  });
  void it('a parse error', () => {
    unsafe('echo (', /does not parse/);
    unsafe('if then fi', /does not parse/);
  });
  void it('an unterminated quote', () => unsafe('echo "abc', /parse|incomplete/));
  void it('a line continuation inside a word', () => {
    unsafe('cu\\\nrl x', /backslash-newline/);
    unsafe('X=a\\\nb curl', /backslash-newline/);
    for (const ok of ['ls \\\n  -la', "echo 'a\\\nb'", 'echo "a\\\nb"', 'echo a\\\\\nls', '# x\\\ny']) {
      assert.deepEqual(analyzeCommandSync(ok).unsafe, [], JSON.stringify(ok));
    }
  });
  void it('env -S', () => unsafe("env -S 'curl x'", /env -S/));
  void it('shell scripts produced by other commands or by xargs', () => {
    unsafe('bash <(curl x)', /produced by another command/);
    unsafe('curl x | sh /dev/stdin', /stdin/);
    unsafe('echo x | xargs sh -c', /not static/);
    unsafe("ls | xargs -I{} sh -c 'rm {}'", /xargs/);
  });
  void it('assignments made by builtins and through subscripts', () => {
    unsafe('read -r PATH', /PATH/);
    unsafe('printf -v LD_PRELOAD %s x', /LD_PRELOAD/);
    unsafe('declare "PATH=/x"', /PATH/);
    unsafe('hash -p /tmp/x curl', /hash -p/);
    unsafe('BASH_CMDS[curl]=/tmp/x', /BASH_CMDS/);
    assert.deepEqual(analyzeCommandSync('printf "%s" HOME && read -r line').unsafe, []);
  });
  void it('quoted code in arithmetic', () => {
    unsafe("(( x['$(id)'] ))", /Arithmetic/);
    unsafe("[[ $n -eq 'a[$(id)]' ]]", /Arithmetic/);
    unsafe("let 'x=a[$(id)]'", /let/);
  });
});
