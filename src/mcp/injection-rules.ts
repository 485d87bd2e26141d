/**
 * Injection rules as data (STYLE.md item 2): what the gateway looks for in
 * text a server sends towards the agent (tool descriptions and schemas,
 * results, resources, prompts, server instructions). Execution lives in
 * `injection.ts`. Each `pattern` rule names lowercase `keywords`; the regex
 * runs only in a window around each keyword (from `back` characters before it
 * to `ahead` after), so scanning stays linear in the text. Regexes use bounded
 * quantifiers only. Keywords are lowercase printable ASCII (matched without
 * regard to ASCII case); character rules list code point ranges.
 */

export type Severity = 'high' | 'medium' | 'low';

export interface PatternRule {
  readonly id: string;
  readonly kind: 'pattern';
  readonly keywords: readonly string[];
  readonly pattern: string;
  /** Regex flags besides `g` (default `iu`). */
  readonly flags?: string;
  readonly back: number;
  readonly ahead: number;
  readonly severity: Severity;
  /** One sentence, used in audit reasons and `cordon mcp scan`. */
  readonly explain: string;
}

export interface CharRule {
  readonly id: string;
  readonly kind: 'chars';
  /** Inclusive code point ranges; any one of them in a text is a finding. */
  readonly ranges: readonly (readonly [number, number])[];
  readonly severity: Severity;
  readonly explain: string;
}

export type InjectionRule = PatternRule | CharRule;

/** Points per severity; a text is flagged at `FLAG_SCORE` (one high, or a medium with anything else). */
export const SEVERITY_SCORE: Readonly<Record<Severity, number>> = { high: 3, medium: 2, low: 1 };
export const FLAG_SCORE = 3;

const SENSITIVE_PATHS =
  String.raw`(?:~\/\.ssh|\.ssh\/|\bid_(?:rsa|ed25519|ecdsa|dsa)\b|\.aws\/(?:credentials|config)|\/etc\/(?:shadow|passwd|sudoers)|\.git-credentials|\.netrc|\.npmrc|\.pgpass|\.kube\/config|\.docker\/config|\.gnupg|(?:^|[\s\/'"\x60])\.env\b|claude_desktop_config|\.mcp\.json|\.claude\/)`;

export const INJECTION_RULES: readonly InjectionRule[] = [
  {
    id: 'ignore-instructions', kind: 'pattern', severity: 'high', back: 0, ahead: 160,
    keywords: ['ignore', 'disregard', 'forget', 'override'],
    pattern: String.raw`\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+|of\s+)*(?:previous|prior|above|earlier|preceding|system|original|existing)\s+(?:instructions?|prompts?|rules|directions|guidelines|context|messages?)`,
    explain: 'tells the agent to ignore its previous instructions',
  },
  {
    id: 'instruction-tag', kind: 'pattern', severity: 'high', back: 0, ahead: 60,
    keywords: ['<important', '</important', '<system', '</system', '<instruction', '</instruction', '<admin', '<secret', '<hidden', '<critical', '<assistant', '<user_prompt', '<userprompt', '<|', '[inst]', '[/inst]'],
    pattern: String.raw`<\s*\/?\s*(?:important|system|instructions?|admin|secret|hidden|critical|assistant|user_?prompt)\b[^<>\n]{0,40}>|\[\/?inst\]|<\|(?:im_start|im_end|system|assistant)\|>`,
    explain: 'contains an <IMPORTANT>-style tag or chat-template marker addressed to the model',
  },
  {
    id: 'system-note', kind: 'pattern', severity: 'medium', back: 0, ahead: 60,
    keywords: ['system', 'note to', 'attention', 'dear ai', 'dear assistant'],
    pattern: String.raw`\bsystem\s+(?:note|message|instruction|override|prompt)\s*[:\-]|\bnote\s+to\s+(?:the\s+)?(?:ai|assistant|model|llm|agent)\b|\b(?:attention|dear)\s+(?:ai|assistant|model|llm|agent)\b`,
    explain: 'addresses the model directly as a system note',
  },
  {
    id: 'conceal-from-user', kind: 'pattern', severity: 'high', back: 40, ahead: 120,
    keywords: ['tell', 'mention', 'inform', 'reveal', 'notify', 'without', 'user'],
    pattern: String.raw`\b(?:do\s+not|don'?t|never)\s+(?:tell|mention|inform|reveal|show|notify|alert)\b[^.\n]{0,40}\b(?:user|human|them)\b|\bwithout\s+(?:telling|informing|notifying|alerting|asking)\s+(?:the\s+)?(?:user|human)\b|\buser\s+(?:must|should)\s+not\s+(?:know|see|be\s+told)\b`,
    explain: 'asks the agent to hide what it does from the user',
  },
  {
    id: 'read-sensitive-file', kind: 'pattern', severity: 'high', back: 160, ahead: 40,
    keywords: ['.ssh', 'id_rsa', 'id_ed25519', 'id_ecdsa', 'id_dsa', '.aws', '/etc/', '.git-credentials', '.netrc', '.npmrc', '.pgpass', '.kube', '.docker', '.gnupg', '.env', 'claude_desktop_config', '.mcp.json', '.claude/'],
    pattern: String.raw`\b(?:read|cat|open|include|prepend|append|attach|send|upload|pass|provide|copy|paste|contents?\s+of|load|fetch|get|print|output|share)\b[^\n]{0,120}?` + SENSITIVE_PATHS,
    explain: 'instructs the agent to read or send a credential file',
  },
  {
    id: 'contact-address', kind: 'pattern', severity: 'medium', back: 0, ahead: 400,
    keywords: ['send', 'sent', 'post', 'upload', 'forward', 'transmit', 'email', 'e-mail', 'call', 'fetch', 'curl', 'wget', 'report', 'submit', 'notify', 'contact', 'ping', 'visit', 'exfiltrate', 'deliver', 'addressed', 'bcc', 'cc '],
    pattern: String.raw`\b(?:send|sent|post|upload|forward|transmit|email|e-mail|call|fetch|curl|wget|report|submit|notify|contact|ping|visit|exfiltrate|deliver|addressed|bcc|cc)\b[^\n]{0,80}?(?:https?:\/\/[^\s)"'<>]{1,300}|[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,200}\.[A-Za-z]{2,24})`,
    explain: 'instructs the agent to send something to an address',
  },
  {
    id: 'data-in-url', kind: 'pattern', severity: 'high', back: 320, ahead: 20,
    keywords: ['$(', '${', '{{', 'user_data', '<data>', '<secret>', '<token>', '<key>', '=[data', '=[secret', '=[token', '=[key', 'env |', 'env|'],
    pattern: String.raw`https?:\/\/[^\s"'<>)]{0,300}?(?:\$\(|\$\{|\{\{|\buser_data\b|<(?:data|secret|token|key)>|=\s*\[(?:data|secret|token|key)|\benv\s*\|)`,
    explain: 'contains a URL template that carries data out (a placeholder or command substitution in the URL)',
  },
  {
    id: 'tool-override', kind: 'pattern', severity: 'high', back: 20, ahead: 80,
    keywords: ['always use', 'always call', 'must use', 'must call', 'supersede', 'preferred tool', 'only use this', 'instead of'],
    pattern: String.raw`\b(?:always|must|only)\s+(?:use|call|invoke)\s+this\s+(?:tool|function)\b[^.\n]{0,40}?\binstead\b|\bsupersedes?\b[^.\n]{0,60}\b(?:tool|capabilit|function)|\bpreferred\s+tool\b|\binstead\s+of\s+(?:the\s+|any\s+)?(?:built-?in|default|other|original|standard)\s+[\w.'"\x60-]{1,64}\s+(?:tool|function)\b`,
    explain: 'tells the agent to prefer this tool over another one',
  },
  {
    id: 'cross-tool-instruction', kind: 'pattern', severity: 'high', back: 20, ahead: 220,
    keywords: ['before', 'prior to', 'when the user', 'when you', 'whenever'],
    pattern: String.raw`\b(?:before|prior\s+to)\s+(?:using|calling|invoking|returning|running|answering|responding|sending|you\s+(?:use|call|answer|respond|return|send))\b[^.\n]{0,120}?\b(?:first|always|must)\s+(?:call|read|run|execute|invoke|use|send|include|fetch)\b|\bwhen(?:ever)?\s+(?:the\s+)?(?:user|you|assistant|agent)\s+(?:asks?|wants?|tries|uses?|calls?)\b[^.\n]{0,80}?\b(?:tool|function)\b[^.\n]{0,60}?\b(?:first|instead|also|always)\s+(?:call|use|run|invoke|send|pass)\b`,
    explain: 'tells the agent to run another action before or instead of the one it was asked for',
  },
  {
    id: 'smuggle-in-parameter', kind: 'pattern', severity: 'medium', back: 60, ahead: 200,
    keywords: ['pass', 'include', 'put', 'place', 'add', 'send', 'prepend', 'append', 'insert'],
    pattern: String.raw`\b(?:pass|include|put|place|add|send|prepend|append|insert)\b[^.\n]{0,40}?\b(?:all|full|entire|complete|its|their|whole)\b[^.\n]{0,40}?\b(?:contents?|body|text|data|conversation|history|messages?|files?|credentials?|keys?)\b[^.\n]{0,60}?\b(?:parameter|argument|field|param|query)\b`,
    explain: 'asks the agent to put whole contents (files, messages, credentials) into a tool argument',
  },
  {
    id: 'markdown-image-beacon', kind: 'pattern', severity: 'high', back: 0, ahead: 2300,
    keywords: ['![', '<img'],
    pattern: String.raw`!\[[^\]\n]{0,200}\]\(\s*<?https?:\/\/[^)\s]{0,2000}?[?#{$][^)\s]{0,2000}\)|<img\b[^>]{0,200}\bsrc\s*=\s*["']?https?:\/\/[^"'\s>]{0,2000}?[?#{$]`,
    explain: 'contains a remote image whose URL carries data (a markdown image beacon)',
  },
  {
    id: 'remote-image', kind: 'pattern', severity: 'low', back: 0, ahead: 2300,
    keywords: ['![', '<img'],
    pattern: String.raw`!\[[^\]\n]{0,200}\]\(\s*<?https?:\/\/|<img\b[^>]{0,200}\bsrc\s*=\s*["']?https?:\/\/`,
    explain: 'contains a remote image the client may fetch when it renders the text',
  },
  {
    id: 'role-impersonation', kind: 'pattern', severity: 'medium', back: 4, ahead: 80,
    keywords: ['system:', 'assistant:', 'developer:', 'new instructions', 'new task', 'your new', 'your real', 'your actual', 'your true'],
    pattern: String.raw`(?:^|\n)\s{0,4}(?:#{1,4}\s*)?(?:system|assistant|developer)\s*:|\bnew\s+(?:instructions|task|objective)\s*:|\byour\s+(?:new|real|actual|true)\s+(?:instructions?|task|goal|purpose|objective)\b`,
    explain: 'impersonates a system or assistant turn, or hands the agent a new task',
  },
  {
    id: 'pipe-to-shell', kind: 'pattern', severity: 'medium', back: 0, ahead: 240,
    keywords: ['curl', 'wget', 'iex', 'invoke-expression'],
    pattern: String.raw`\b(?:curl|wget)\b[^\n|;]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|\b(?:iex|invoke-expression)\b`,
    explain: 'contains a download piped into a shell',
  },
  {
    id: 'shouted-imperative', kind: 'pattern', severity: 'low', back: 0, ahead: 16, flags: 'u',
    keywords: ['important', 'critical', 'mandatory', 'urgent'],
    pattern: String.raw`\b(?:IMPORTANT|CRITICAL|MANDATORY|URGENT)\b\s*[:!]`,
    explain: 'uses a shouted imperative (IMPORTANT:) addressed to the model',
  },
  {
    id: 'bidi-control', kind: 'chars', severity: 'high',
    ranges: [[0x202a, 0x202e], [0x2066, 0x2069], [0x200e, 0x200f], [0x061c, 0x061c]],
    explain: 'contains bidirectional control characters that make text read differently than it displays',
  },
  {
    id: 'tag-characters', kind: 'chars', severity: 'high',
    ranges: [[0xe0000, 0xe007f], [0xe0100, 0xe01ef]],
    explain: 'contains Unicode tag or supplementary variation-selector characters (invisible smuggled text)',
  },
  {
    id: 'invisible-characters', kind: 'chars', severity: 'medium',
    ranges: [[0x200b, 0x200c], [0x2060, 0x2064], [0x180e, 0x180e], [0xfff9, 0xfffb]],
    explain: 'contains zero-width or other invisible characters',
  },
];
