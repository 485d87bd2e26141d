/** The loaded policy with its decision engine: what every boundary holds. */
import { loadShellParser } from './bash/index.js';
import { PolicyEngine } from './engine.js';
import { loadPolicy, type LoadedPolicy, type LoadOptions } from './load.js';
import { parseSubject } from './subject.js';
import type { Decision, Subject } from './types.js';

export class Policy {
  readonly loaded: LoadedPolicy;
  readonly engine: PolicyEngine;

  constructor(loaded: LoadedPolicy) {
    this.loaded = loaded;
    this.engine = new PolicyEngine(loaded.matchers, loaded.context);
  }

  static load(options: LoadOptions): Policy {
    return new Policy(loadPolicy(options));
  }

  decide(subject: Subject): Decision {
    return this.engine.decide(subject);
  }

  /** Parses a subject string (`Bash(git status)`) and decides it. */
  async explain(subjectText: string): Promise<Decision> {
    if (subjectText.startsWith('Bash(')) await loadShellParser();
    return this.decide(await parseSubject(subjectText, this.loaded.context));
  }
}
