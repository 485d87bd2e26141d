/**
 * The behaviour table: (rules, subject) -> decision. It pins Claude Code's
 * documented permission semantics where they overlap (deny -> ask -> allow,
 * first match wins, specificity does not reorder; Bash prefix and wildcard
 * rules; gitignore-style paths) and the bypass shapes cordon must not allow.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rulesPolicy } from './test-helpers.js';
import type { Effect } from './types.js';

interface Case {
  readonly deny?: string[];
  readonly ask?: string[];
  readonly allow?: string[];
  readonly subject: string;
  readonly expect: Effect;
  readonly note?: string;
}

const CASES: Case[] = [
  // Evaluation order.
  { deny: ['Bash(aws *)'], allow: ['Bash(aws s3 ls)'], subject: 'Bash(aws s3 ls)', expect: 'deny', note: 'broad deny beats specific allow' },
  { ask: ['Bash(git push *)'], allow: ['Bash(git push origin feature)'], subject: 'Bash(git push origin feature)', expect: 'ask', note: 'ask beats specific allow' },
  { allow: ['Bash(npm run build)'], subject: 'Bash(npm run build)', expect: 'allow' },
  { allow: ['Bash(npm run build)'], subject: 'Bash(npm run build --watch)', expect: 'ask', note: 'exact rule is exact' },
  { allow: ['Bash'], subject: 'Bash(anything at all)', expect: 'allow', note: 'bare tool name' },
  { allow: ['Bash(*)'], subject: 'Bash(rm -rf build)', expect: 'allow', note: 'Bash(*) is the whole tool' },
  { subject: 'Bash(ls)', expect: 'ask', note: 'default for commands is ask' },
  // Prefix and wildcard semantics.
  { allow: ['Bash(npm run test:*)'], subject: 'Bash(npm run test)', expect: 'allow' },
  { allow: ['Bash(npm run test:*)'], subject: 'Bash(npm run test --watch)', expect: 'allow' },
  { allow: ['Bash(npm run test:*)'], subject: 'Bash(npm run testx)', expect: 'ask' },
  { allow: ['Bash(ls *)'], subject: 'Bash(ls -la)', expect: 'allow' },
  { allow: ['Bash(ls *)'], subject: 'Bash(ls)', expect: 'allow' },
  { allow: ['Bash(ls *)'], subject: 'Bash(lsof -i)', expect: 'ask', note: 'space before * is a word boundary' },
  { allow: ['Bash(ls*)'], subject: 'Bash(lsof -i)', expect: 'allow', note: 'no space, no boundary' },
  { allow: ['Bash(git * main)'], subject: 'Bash(git push origin main)', expect: 'allow' },
  { allow: ['Bash(git * main)'], subject: 'Bash(git push origin dev)', expect: 'ask' },
  // Compound commands: every part must be allowed.
  { allow: ['Bash(git status)'], subject: 'Bash(git status && curl x)', expect: 'ask' },
  { allow: ['Bash(git status)'], subject: 'Bash(git status; curl x)', expect: 'ask' },
  { allow: ['Bash(git status)'], subject: 'Bash(git status || curl x)', expect: 'ask' },
  { allow: ['Bash(git status)'], subject: 'Bash(git status | curl x)', expect: 'ask' },
  { allow: ['Bash(git status)'], subject: 'Bash(git status & curl x)', expect: 'ask' },
  { allow: ['Bash(git status)'], subject: 'Bash(git status\ncurl x)', expect: 'ask', note: 'newline separates commands' },
  { allow: ['Bash(git status)', 'Bash(git diff *)'], subject: 'Bash(git status && git diff HEAD)', expect: 'allow' },
  { allow: ['Bash(echo *)'], subject: 'Bash(echo $(curl x))', expect: 'ask', note: 'command substitution is a part' },
  { allow: ['Bash(echo *)'], subject: 'Bash(echo `curl x`)', expect: 'ask', note: 'backticks are a part' },
  { allow: ['Bash(echo *)'], subject: 'Bash(echo "$(curl x)")', expect: 'ask', note: 'substitution inside a string' },
  { allow: ['Bash(echo *)'], subject: 'Bash((curl x))', expect: 'ask', note: 'subshell' },
  { allow: ['Bash(bash *)'], subject: "Bash(bash -c 'curl x')", expect: 'ask', note: 'bash -c payload is analysed' },
  { deny: ['Bash(curl *)'], allow: ['Bash(bash *)'], subject: "Bash(bash -c 'curl x')", expect: 'deny', note: 'deny reaches into bash -c' },
  { deny: ['Bash(curl *)'], allow: ['Bash(*)'], subject: 'Bash(FOO=1 curl x)', expect: 'deny', note: 'assignment prefix does not hide the command' },
  { deny: ['Bash(curl *)'], allow: ['Bash(*)'], subject: 'Bash(timeout 5 curl x)', expect: 'deny', note: 'wrapper does not hide the command' },
  { deny: ['Bash(curl *)'], allow: ['Bash(*)'], subject: 'Bash(/usr/bin/curl x)', expect: 'deny', note: 'full path does not hide the command' },
  { deny: ['Bash(curl *)'], allow: ['Bash(*)'], subject: 'Bash(c"u"rl x)', expect: 'deny', note: 'quotes do not hide the command' },
  { deny: ['Bash(curl *)'], allow: ['Bash(*)'], subject: 'Bash(echo $(curl x))', expect: 'deny', note: 'deny reaches substitutions' },
  { allow: ['Bash(npm test)'], subject: 'Bash(LD_PRELOAD=/tmp/x.so npm test)', expect: 'ask', note: 'dangerous assignment is not stripped for allow' },
  { allow: ['Bash(npm test)'], subject: 'Bash(NODE_ENV=test npm test)', expect: 'allow', note: 'harmless assignment is stripped' },
  { allow: ['Bash(*)'], subject: 'Bash(eval "curl x")', expect: 'ask', note: 'eval cannot be accounted for' },
  { allow: ['Bash(*)'], subject: 'Bash($CMD x)', expect: 'ask', note: 'dynamic command name' },
  { allow: ['Bash(*)'], subject: 'Bash(sh -c "$X")', expect: 'ask', note: 'dynamic shell payload' },
  { allow: ['Bash(*)'], subject: 'Bash(git status\r)', expect: 'ask', note: 'carriage return' },
  { allow: ['Bash(*)'], subject: 'Bash(cu\u200brl x)', expect: 'ask', note: 'zero-width character' },
  { allow: ['Bash(*)'], subject: 'Bash(curl x | bash)', expect: 'ask', note: 'shell fed from a pipe' },
  { allow: ['Bash(npm test)'], subject: 'Bash(npm test > out.txt 2>&1)', expect: 'allow', note: 'redirection to a workspace file' },
  // Paths (gitignore style).
  { allow: ['Read(./src/**)'], subject: 'Read(./src/a/b.ts)', expect: 'allow' },
  { allow: ['Read(./src/**)'], subject: 'Read(./lib/b.ts)', expect: 'deny', note: 'reads are denied unless allowed' },
  { deny: ['Read(.env)'], allow: ['Read(./**)'], subject: 'Read(./deep/er/.env)', expect: 'deny', note: 'no slash: any depth' },
  { deny: ['Read(./.env)'], allow: ['Read(./**)'], subject: 'Read(./deep/.env)', expect: 'allow', note: './ anchors to the workspace' },
  { deny: ['Read(*.pem)'], allow: ['Read(./**)'], subject: 'Read(./certs/server.pem)', expect: 'deny' },
  { deny: ['Read(~/.ssh/**)'], allow: ['Read(~/**)'], subject: 'Read(~/.ssh/id_rsa)', expect: 'deny' },
  { deny: ['Read(~/.ssh)'], allow: ['Read(~/**)'], subject: 'Read(~/.ssh/keys/id_rsa)', expect: 'deny', note: 'a directory covers its contents' },
  { deny: ['Read(//etc/shadow)'], allow: ['Read(//etc/**)'], subject: 'Read(//etc/shadow)', expect: 'deny' },
  { allow: ['Read(//etc/**)'], subject: 'Read(/etc/hosts)', expect: 'allow', note: 'absolute subject paths' },
  { deny: ['Read(~/.ssh/**)'], allow: ['Read(./**)'], subject: 'Read(./../home/.ssh/id_rsa)', expect: 'deny', note: 'dot-dot resolved before matching (home sits beside the workspace here)' },
  { allow: ['Edit(./src/*.ts)'], subject: 'Edit(./src/a.ts)', expect: 'allow' },
  { allow: ['Edit(./src/*.ts)'], subject: 'Edit(./src/sub/a.ts)', expect: 'deny', note: '* stays within a segment' },
  { allow: ['Write(./out/**)'], subject: 'Edit(./out/x.js)', expect: 'allow', note: 'Write rules are Edit rules' },
  { allow: ['Edit(./**)'], subject: 'Edit(./.claude/settings.json)', expect: 'deny', note: 'mandatory protection beats allow' },
  { allow: ['Edit(./**)'], subject: 'Edit(./a/b/c/d/e/.git/hooks/pre-commit)', expect: 'deny', note: 'git hooks at depth' },
  { allow: ['Edit(./**)'], subject: 'Edit(./.mcp.json)', expect: 'deny' },
  { allow: ['Edit(~/**)'], subject: 'Edit(~/.bashrc)', expect: 'deny' },
  { allow: ['Bash(*)', 'Edit(./**)'], subject: 'Bash(echo x > .git/hooks/pre-commit)', expect: 'deny', note: 'redirect into a protected path' },
  // Net.
  { allow: ['Net(registry.npmjs.org)'], subject: 'Net(registry.npmjs.org:443)', expect: 'allow' },
  { allow: ['Net(registry.npmjs.org)'], subject: 'Net(REGISTRY.npmjs.org.:443)', expect: 'allow', note: 'case and trailing dot' },
  { allow: ['Net(*.example.com)'], subject: 'Net(api.example.com:443)', expect: 'allow' },
  { allow: ['Net(*.example.com)'], subject: 'Net(example.com:443)', expect: 'deny', note: 'wildcard is subdomains only' },
  { allow: ['Net(*.example.com)'], subject: 'Net(evilexample.com:443)', expect: 'deny' },
  { allow: ['Net(*)'], subject: 'Net(127.0.0.1:8080)', expect: 'deny', note: 'wildcards never reach IP literals' },
  { allow: ['Net(*)'], subject: 'Net(localhost:8080)', expect: 'deny', note: 'wildcards never reach localhost' },
  { allow: ['Net(127.0.0.1:8080)'], subject: 'Net(127.0.0.1:8080)', expect: 'allow', note: 'named exactly' },
  { allow: ['Net(127.0.0.1:8080)'], subject: 'Net(0x7f.1:8080)', expect: 'allow', note: 'hex short form is the same address' },
  { allow: ['Net(127.0.0.1:8080)'], subject: 'Net(127.0.0.1:8081)', expect: 'deny', note: 'port-scoped rule' },
  { allow: ['Net(api.anthropic.com:443)'], subject: 'Net(api.anthropic.com:80)', expect: 'deny' },
  { deny: ['Net(*.pastebin.com)'], allow: ['Net(*)'], subject: 'Net(x.pastebin.com:443)', expect: 'deny' },
  { allow: ['Net(*)'], subject: 'Net(169.254.169.254:80)', expect: 'deny', note: 'metadata is mandatory' },
  { allow: ['Net(169.254.169.254)'], subject: 'Net(169.254.169.254:80)', expect: 'deny', note: 'even when named' },
  { allow: ['Net([::ffff:169.254.169.254])'], subject: 'Net([::ffff:169.254.169.254]:80)', expect: 'deny', note: 'mapped metadata' },
  { allow: ['Net(bücher.example)'], subject: 'Net(xn--bcher-kva.example:443)', expect: 'allow', note: 'IDNA' },
  // Http.
  { allow: ['Net(github.com)'], ask: ['Http(POST github.com/*/*/git-receive-pack)'], subject: 'Http(POST github.com/o/r.git/git-receive-pack)', expect: 'ask', note: 'Http ask beats Net allow' },
  { allow: ['Net(github.com)'], ask: ['Http(POST github.com/*/*/git-receive-pack)'], subject: 'Http(GET github.com/o/r.git/info/refs)', expect: 'allow' },
  { allow: ['Http(GET|HEAD example.com/api/**)'], subject: 'Http(GET example.com/api/v1/x?q=1)', expect: 'allow' },
  { allow: ['Http(GET|HEAD example.com/api/**)'], subject: 'Http(POST example.com/api/v1/x)', expect: 'deny' },
  { deny: ['WebFetch(domain:evil.example)'], allow: ['Net(*)'], subject: 'Net(evil.example:443)', expect: 'deny', note: 'WebFetch deny also covers egress' },
  { allow: ['WebFetch(domain:docs.example)'], subject: 'WebFetch(https://docs.example/page)', expect: 'allow' },
  { allow: ['WebFetch(domain:docs.example)'], subject: 'Net(docs.example:443)', expect: 'deny', note: 'WebFetch allow does not open egress' },
  { allow: ['Net(github.com)'], ask: ['Http(POST github.com/*/*/git-receive-pack)'], subject: 'Net(github.com:443)', expect: 'ask', note: 'an uninspected tunnel cannot bypass a path rule' },
  { allow: ['Net(github.com)'], deny: ['Http(* github.com/admin/**)'], subject: 'Net(github.com:443)', expect: 'deny', note: 'deny path rule covers tunnels to the host' },
  { allow: ['Net(github.com)'], deny: ['Http(* github.com:80/admin/**)'], subject: 'Net(github.com:443)', expect: 'allow', note: 'port-scoped path rule, other port' },
  { allow: ['Net(lab.example)'], ask: ['Http(* lab.example/admin/**)'], subject: 'Http(GET lab.example/%61dmin/users)', expect: 'ask', note: 'percent-encoded path spelling' },
  { allow: ['Net(lab.example)'], deny: ['Http(* lab.example/admin/**)'], subject: 'Http(GET lab.example/x/%2E%2E/admin/users)', expect: 'deny', note: 'encoded dot segments' },
  { allow: ['Net(lab.example)'], deny: ['Http(* lab.example/admin/**)'], subject: 'Http(GET lab.example//admin/users)', expect: 'deny', note: 'doubled slash' },
  { allow: ['Net(lab.example)'], deny: ['Http(* lab.example/admin/**)'], subject: 'Http(GET lab.example/admin;x=1/users)', expect: 'deny', note: 'path parameters' },
  { allow: ['Net(lab.example)'], deny: ['Http(* lab.example/admin/**)'], subject: 'Http(GET lab.example/ADMIN/users)', expect: 'deny', note: 'case' },
  { allow: ['Net(lab.example)'], deny: ['Http(* lab.example/admin/**)'], subject: 'Http(GET lab.example/x/..%5Cadmin/users)', expect: 'deny', note: 'encoded backslash' },
  { allow: ['Http(GET lab.example/public/**)'], subject: 'Http(GET lab.example/public/%2e%2e%2fadmin)', expect: 'deny', note: 'an encoded escape cannot widen an allow' },
  // MCP.
  { allow: ['mcp__github__*'], subject: 'mcp__github__create_issue', expect: 'allow' },
  { allow: ['mcp__github'], subject: 'mcp__github__create_issue', expect: 'allow', note: 'server name alone means every tool' },
  { ask: ['mcp__github__create_*'], allow: ['mcp__github__*'], subject: 'mcp__github__create_issue', expect: 'ask' },
  { allow: ['mcp__github__*'], subject: 'mcp__gitlab__create_issue', expect: 'ask' },
];

void describe('policy decisions (behaviour table)', () => {
  assert.ok(CASES.length >= 60, `at least 60 cases, have ${CASES.length}`);
  for (const c of CASES) {
    const rules = { ...(c.deny ? { deny: c.deny } : {}), ...(c.ask ? { ask: c.ask } : {}), ...(c.allow ? { allow: c.allow } : {}) };
    void it(`${c.subject.replace(/[\r\n]/g, '⏎')} -> ${c.expect}${c.note ? ` (${c.note})` : ''}`, async () => {
      const { policy } = rulesPolicy(rules);
      const d = await policy.explain(c.subject);
      assert.equal(d.effect, c.expect, `${d.subject}: ${d.reason}`);
      assert.ok(d.reason.length > 0);
    });
  }
});
