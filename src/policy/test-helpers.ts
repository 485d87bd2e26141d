/** Helpers for policy tests: write a policy to a temporary workspace and load only it. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Policy } from './policy.js';

export interface TempPolicy {
  readonly policy: Policy;
  readonly workspace: string;
  readonly home: string;
}

export function tempDirs(): { root: string; workspace: string; home: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-policy-'));
  const workspace = path.join(root, 'ws');
  const home = path.join(root, 'home');
  mkdirSync(workspace);
  mkdirSync(home);
  return { root, workspace, home };
}

/** Loads `yaml` as the only policy file (no managed, user or project scope). */
export function policyFrom(yaml: string, name = 'policy.yaml'): TempPolicy {
  const { root, workspace, home } = tempDirs();
  const file = path.join(root, name);
  writeFileSync(file, yaml);
  const policy = Policy.load({ workspace, home, managedFile: null, userFile: null, projectFile: null, files: [file] });
  return { policy, workspace, home };
}

/** A policy from rule lists, without the default profile. */
export function rulesPolicy(rules: { deny?: string[]; ask?: string[]; allow?: string[] }, extendsDefault = false): TempPolicy {
  const list = (k: 'deny' | 'ask' | 'allow'): string => (rules[k] ?? []).map((r) => `    - ${JSON.stringify(r)}`).join('\n');
  return policyFrom(`version: 1\nextends: ${extendsDefault ? '[default]' : '[]'}\npermissions:\n  deny:\n${list('deny') || '    []'}\n  ask:\n${list('ask') || '    []'}\n  allow:\n${list('allow') || '    []'}\n`
    .replace(/:\n {4}\[\]/g, ': []'));
}
