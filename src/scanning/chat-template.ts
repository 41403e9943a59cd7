// Chat templates (GGUF `tokenizer.chat_template*`, transformers' tokenizer_config.json) are Jinja that
// the serving stack renders; a template that reaches Python internals runs code in the server
// (server-side template injection, CVE-2024-34359 in llama-cpp-python). The template is parsed as
// Jinja with @huggingface/jinja (written for exactly these chat templates) and judged on its syntax
// tree, not its text: a comment that mentions exec( is not code, and `attr('\x5f\x5fclass\x5f\x5f')`,
// `'__cla' ~ 'ss__'`, `'%c'|format(95)`, `[...]|join`, `|replace`, `[::-1]` and values carried through
// `set` and `for` are folded to the names they spell before the names are judged.
import { parse, tokenize } from '@huggingface/jinja';
import type { Finding } from './types.ts';

type Node = { type: string } & Record<string, unknown>;
/** Possible constant values of an expression: strings, numbers, or a list of such; undefined = runtime data. */
interface Val {
  s?: string[];
  n?: number[];
  list?: (Val | undefined)[];
}

const MAX_VALUES = 64;
/** A Python dunder name (`__class__`, `__globals__`). */
const DUNDER = /^__[A-Za-z_][A-Za-z0-9_]*__$/;
/** Python internals templates have no business touching (besides every _private or __dunder__ name). */
const INTERNAL_NAMES = new Set([
  'mro',
  'func_globals',
  'func_code',
  'func_closure',
  'func_defaults',
  'f_globals',
  'f_locals',
  'f_builtins',
  'f_back',
  'f_code',
  'gi_frame',
  'gi_code',
  'cr_frame',
  'cr_code',
  'ag_frame',
  'ag_code',
  'tb_frame',
  'tb_next',
  'co_code',
  'im_func',
  'im_self',
  'im_class',
  'environment',
  'application',
]);
/** Filters that take an attribute name as an argument (positional for attr, keyword `attribute`). */
const ATTRIBUTE_FILTERS = new Set([
  'map',
  'selectattr',
  'rejectattr',
  'sort',
  'groupby',
  'sum',
  'unique',
  'min',
  'max',
  'join',
  'dictsort',
]);

export function internalName(name: string): boolean {
  return name.startsWith('_') || INTERNAL_NAMES.has(name);
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}

function cap<T>(xs: T[]): T[] | undefined {
  return xs.length > MAX_VALUES ? undefined : xs;
}

/** Python %-formatting for the few conversions templates use to build names (%s, %c, %d, %%). */
function percentFormat(fmt: string, args: (string | number)[]): string | undefined {
  let i = 0;
  let bad = false;
  const out = fmt.replace(/%([%scdir])/g, (_m, c: string) => {
    if (c === '%') return '%';
    const a = args[i++];
    if (a === undefined) {
      bad = true;
      return '';
    }
    if (c === 'c') return typeof a === 'number' ? String.fromCodePoint(a) : a;
    return String(a);
  });
  return bad ? undefined : out;
}

function product(a: string[], b: string[]): string[] | undefined {
  const out: string[] = [];
  for (const x of a) for (const y of b) out.push(x + y);
  return cap(out);
}

class Analysis {
  readonly env = new Map<string, Val | undefined>();
  readonly findings: Finding[] = [];

  constructor(
    readonly key: string,
    readonly offset: number | undefined,
  ) {}

  report(what: string): void {
    if (this.findings.length >= 5) return;
    this.findings.push({
      rule: 'chat-template-injection',
      severity: 'dangerous',
      detail: `${this.key} is a Jinja template that ${what}; rendering it lets the template reach Python internals and run code in the server`,
      ...(this.offset === undefined ? {} : { offset: this.offset }),
    });
  }

  /** The constant values an expression can have. */
  fold(e: unknown, depth = 0): Val | undefined {
    if (!isNode(e) || depth > 50) return undefined;
    switch (e.type) {
      case 'StringLiteral':
        return { s: [e.value as string] };
      case 'IntegerLiteral':
      case 'FloatLiteral':
        return { n: [e.value as number] };
      case 'ArrayLiteral':
      case 'TupleLiteral':
        return { list: (e.value as unknown[]).map((x) => this.fold(x, depth + 1)) };
      case 'Identifier':
        return this.env.get(e.value as string);
      case 'Ternary': {
        const a = this.fold(e.trueExpr, depth + 1);
        const b = this.fold(e.falseExpr, depth + 1);
        if (a?.s !== undefined && b?.s !== undefined) return { s: cap([...a.s, ...b.s]) ?? [] };
        return undefined;
      }
      case 'BinaryExpression': {
        const op = (e.operator as { value: string }).value;
        const l = this.fold(e.left, depth + 1);
        const r = this.fold(e.right, depth + 1);
        if ((op === '+' || op === '~') && l?.s !== undefined && r?.s !== undefined) {
          const p = product(l.s, r.s);
          return p === undefined ? undefined : { s: p };
        }
        if (op === '~') {
          const ls = l?.s ?? l?.n?.map(String);
          const rs = r?.s ?? r?.n?.map(String);
          if (ls !== undefined && rs !== undefined) {
            const p = product(ls, rs);
            return p === undefined ? undefined : { s: p };
          }
        }
        if (op === '*') {
          const [str, num] = l?.s !== undefined ? [l.s, r?.n] : [r?.s, l?.n];
          if (str !== undefined && num !== undefined) {
            const out = str.flatMap((x) => num.map((k) => (k >= 0 && k <= 64 ? x.repeat(k) : '')));
            return cap(out) === undefined ? undefined : { s: out };
          }
        }
        if (op === '+' && l?.n !== undefined && r?.n !== undefined)
          return { n: l.n.flatMap((a) => r.n!.map((b) => a + b)) };
        return undefined;
      }
      case 'FilterExpression':
        return this.foldFilter(e, depth);
      case 'CallExpression':
        return this.foldMethodCall(e, depth);
      case 'MemberExpression': {
        const obj = this.fold(e.object, depth + 1);
        const prop = e.property;
        if (isNode(prop) && prop.type === 'SliceExpression' && obj?.s !== undefined) {
          const start = this.fold(prop.start, depth + 1)?.n?.[0];
          const stop = this.fold(prop.stop, depth + 1)?.n?.[0];
          const step = this.fold(prop.step, depth + 1)?.n?.[0] ?? 1;
          return { s: obj.s.map((x) => pySlice(x, start, stop, step)) };
        }
        if (e.computed === true && obj?.list !== undefined) {
          const i = this.fold(prop, depth + 1)?.n?.[0];
          if (i !== undefined) return obj.list.at(i);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  private filterArgs(
    f: unknown,
  ): { name: string; args: unknown[]; kwargs: Map<string, unknown> } | undefined {
    if (!isNode(f)) return undefined;
    if (f.type === 'Identifier') return { name: f.value as string, args: [], kwargs: new Map() };
    if (f.type === 'CallExpression' && isNode(f.callee) && f.callee.type === 'Identifier') {
      const args: unknown[] = [];
      const kwargs = new Map<string, unknown>();
      for (const a of f.args as unknown[]) {
        if (isNode(a) && a.type === 'KeywordArgumentExpression')
          kwargs.set((a.key as { value: string }).value, a.value);
        else args.push(a);
      }
      return { name: f.callee.value as string, args, kwargs };
    }
    return undefined;
  }

  private foldFilter(e: Node, depth: number): Val | undefined {
    const f = this.filterArgs(e.filter);
    if (f === undefined) return undefined;
    const operand = this.fold(e.operand, depth + 1);
    const arg = (i: number): Val | undefined => this.fold(f.args[i], depth + 1);
    const mapS = (fn: (x: string) => string): Val | undefined =>
      operand?.s === undefined ? undefined : { s: operand.s.map(fn) };
    switch (f.name) {
      case 'join': {
        const sep = arg(0)?.s?.[0] ?? '';
        const items =
          operand?.list ??
          (operand?.s !== undefined ? operand.s.map((x) => ({ s: [...x] }) as Val) : undefined);
        if (items === undefined) return undefined;
        let acc: string[] | undefined = [''];
        for (const [k, it] of items.entries()) {
          const options = it?.s ?? it?.n?.map(String);
          if (options === undefined || acc === undefined) return undefined;
          acc = product(acc, k === 0 ? options : options.map((o) => sep + o));
        }
        return acc === undefined ? undefined : { s: acc };
      }
      case 'replace': {
        const a = arg(0)?.s?.[0];
        const b = arg(1)?.s?.[0];
        return a === undefined || b === undefined ? undefined : mapS((x) => x.split(a).join(b));
      }
      case 'format': {
        if (operand?.s === undefined) return undefined;
        const args = f.args.map((x) => {
          const v = this.fold(x, depth + 1);
          return v?.s?.[0] ?? v?.n?.[0];
        });
        if (args.some((a) => a === undefined)) return undefined;
        const out = operand.s.map((x) => percentFormat(x, args as (string | number)[]));
        return out.every((x) => x !== undefined) ? { s: out as string[] } : undefined;
      }
      case 'lower':
        return mapS((x) => x.toLowerCase());
      case 'upper':
        return mapS((x) => x.toUpperCase());
      case 'trim':
        return mapS((x) => x.trim());
      case 'reverse':
        return operand?.list !== undefined
          ? { list: [...operand.list].reverse() }
          : mapS((x) => [...x].reverse().join(''));
      case 'string':
        return operand?.s !== undefined
          ? operand
          : operand?.n !== undefined
            ? { s: operand.n.map(String) }
            : undefined;
      case 'list':
        return operand?.s?.length === 1
          ? { list: [...(operand.s[0] ?? '')].map((c) => ({ s: [c] })) }
          : operand?.list
            ? operand
            : undefined;
      case 'first':
        return operand?.list?.[0] ?? mapS((x) => x.slice(0, 1));
      case 'last':
        return operand?.list?.at(-1) ?? mapS((x) => x.slice(-1));
      default:
        return undefined;
    }
  }

  private foldMethodCall(e: Node, depth: number): Val | undefined {
    const callee = e.callee;
    if (!isNode(callee) || callee.type !== 'MemberExpression' || callee.computed === true) return undefined;
    const method = (callee.property as { value?: string }).value;
    const obj = this.fold(callee.object, depth + 1);
    const args = (e.args as unknown[]).map((a) => this.fold(a, depth + 1));
    const s0 = args[0]?.s?.[0];
    const s1 = args[1]?.s?.[0];
    if (obj?.s === undefined) {
      if (method === 'join' && obj === undefined) return undefined;
      return undefined;
    }
    switch (method) {
      case 'replace':
        return s0 === undefined || s1 === undefined
          ? undefined
          : { s: obj.s.map((x) => x.split(s0).join(s1)) };
      case 'upper':
        return { s: obj.s.map((x) => x.toUpperCase()) };
      case 'lower':
        return { s: obj.s.map((x) => x.toLowerCase()) };
      case 'strip':
        return { s: obj.s.map((x) => x.trim()) };
      case 'join': {
        const items = args[0]?.list;
        if (items === undefined) return undefined;
        let acc: string[] | undefined = [''];
        for (const [k, it] of items.entries()) {
          if (it?.s === undefined || acc === undefined) return undefined;
          acc = product(
            acc,
            it.s.map((o) => (k === 0 ? o : (obj.s?.[0] ?? '') + o)),
          );
        }
        return acc === undefined ? undefined : { s: acc };
      }
      case 'format': {
        const pos = args.map((a) => a?.s?.[0] ?? a?.n?.[0]);
        if (pos.some((a) => a === undefined)) return undefined;
        return {
          s: obj.s.map((x) =>
            x.replace(/\{(\d*)\}/g, (_m, d: string) => String(pos[d === '' ? 0 : Number(d)] ?? '')),
          ),
        };
      }
      default:
        return undefined;
    }
  }

  /** Judge a name used as an attribute or key; `computed` names that cannot be folded are reported by the caller. */
  private judgeName(v: Val | undefined, how: string): void {
    for (const name of v?.s ?? []) if (internalName(name)) this.report(`${how} ${JSON.stringify(name)}`);
  }

  /** Collect `set` and `for` bindings (values folded with what is known so far). */
  bind(nodes: unknown, depth = 0): void {
    if (depth > 200) return;
    if (Array.isArray(nodes)) {
      for (const n of nodes) this.bind(n, depth + 1);
      return;
    }
    if (!isNode(nodes)) return;
    if (nodes.type === 'Set' && isNode(nodes.assignee) && nodes.assignee.type === 'Identifier') {
      const name = nodes.assignee.value as string;
      const v = nodes.value === null ? undefined : this.fold(nodes.value);
      const prev = this.env.get(name);
      this.env.set(name, this.env.has(name) ? merge(prev, v) : v);
    }
    if (nodes.type === 'For') {
      const it = this.fold(nodes.iterable);
      const vars =
        isNode(nodes.loopvar) && nodes.loopvar.type === 'Identifier' ? [nodes.loopvar.value as string] : [];
      for (const name of vars) {
        const items =
          it?.list ??
          (it?.s !== undefined ? it.s.flatMap((x) => [...x]).map((c) => ({ s: [c] })) : undefined);
        let v: Val | undefined = items === undefined ? undefined : { s: [] };
        for (const x of items ?? []) v = merge(v, x);
        this.env.set(name, this.env.has(name) ? merge(this.env.get(name), v) : v);
      }
    }
    for (const [k, child] of Object.entries(nodes)) if (k !== 'type') this.bind(children(child), depth + 1);
  }

  /** Judge every member access, attr filter, attribute-name argument and format string. */
  check(node: unknown, depth = 0): void {
    if (depth > 400) return;
    if (Array.isArray(node)) {
      for (const n of node) this.check(n, depth + 1);
      return;
    }
    if (!isNode(node)) return;
    // A Python internal name spelled as a string anywhere (a macro argument, a dict value, a namespace
    // field, a selectattr test) is only there to be used as an attribute name later.
    if (node.type === 'StringLiteral' || node.type === 'BinaryExpression' || node.type === 'FilterExpression')
      for (const s of this.fold(node)?.s ?? [])
        if (DUNDER.test(s)) this.report(`spells the Python internal name ${JSON.stringify(s)}`);
    if (
      (node.type === 'Identifier' && typeof node.value === 'string' && DUNDER.test(node.value)) ||
      (node.type === 'KeywordArgumentExpression' &&
        isNode(node.key) &&
        typeof node.key.value === 'string' &&
        DUNDER.test(node.key.value))
    )
      this.report(
        `names ${JSON.stringify(node.type === 'Identifier' ? node.value : (node.key as Node).value)}`,
      );
    switch (node.type) {
      case 'MemberExpression': {
        const prop = node.property;
        if (node.computed !== true && isNode(prop) && prop.type === 'Identifier') {
          const name = prop.value as string;
          if (internalName(name)) this.report(`reads the attribute ${JSON.stringify(name)}`);
        } else if (isNode(prop) && prop.type !== 'SliceExpression') {
          this.judgeName(this.fold(prop), 'looks up the key');
        }
        break;
      }
      case 'FilterExpression': {
        const f = this.filterArgs(node.filter);
        if (f?.name === 'attr') {
          const v = this.fold(f.args[0]);
          if (v?.s === undefined) this.report('uses the attr filter with a name computed at render time');
          else this.judgeName(v, 'reads the attribute');
        } else if (f !== undefined && ATTRIBUTE_FILTERS.has(f.name)) {
          const attribute = f.kwargs.get('attribute');
          if (attribute !== undefined) {
            const v = this.fold(attribute);
            if (v?.s === undefined) this.report(`passes a computed attribute name to the ${f.name} filter`);
            else this.judgeName(v, `makes the ${f.name} filter read the attribute`);
          }
          if (f.name === 'map' && this.fold(f.args[0])?.s?.includes('attr')) {
            const v = this.fold(f.args[1]);
            if (v?.s === undefined) this.report('maps the attr filter over a computed name');
            else this.judgeName(v, 'maps the attr filter to');
          }
        }
        break;
      }
      case 'CallExpression': {
        const callee = node.callee;
        if (
          isNode(callee) &&
          callee.type === 'MemberExpression' &&
          (callee.property as { value?: string }).value === 'format'
        ) {
          const v = this.fold(callee.object);
          for (const s of v?.s ?? [])
            if (/\{[^{}]*[.[][^{}]*\}/.test(s))
              this.report(
                `formats ${JSON.stringify(s.slice(0, 60))}, whose fields read attributes of their arguments`,
              );
        }
        break;
      }
      default:
        break;
    }
    for (const [k, child] of Object.entries(node)) if (k !== 'type') this.check(children(child), depth + 1);
  }
}

/** A node's child: object literals keep their keys and values in a Map. */
function children(v: unknown): unknown {
  return v instanceof Map ? [...(v as Map<unknown, unknown>).entries()].flat() : v;
}

function merge(a: Val | undefined, b: Val | undefined): Val | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a.s !== undefined && b.s !== undefined) {
    const s = cap([...new Set([...a.s, ...b.s])]);
    return s === undefined ? undefined : { s };
  }
  return undefined;
}

function pySlice(s: string, start: number | undefined, stop: number | undefined, step: number): string {
  const chars = [...s];
  const n = chars.length;
  const norm = (i: number | undefined, dflt: number): number =>
    i === undefined ? dflt : i < 0 ? Math.max(i + n, step < 0 ? -1 : 0) : Math.min(i, step < 0 ? n - 1 : n);
  let out = '';
  if (step > 0) for (let i = norm(start, 0); i < norm(stop, n); i += step) out += chars[i] ?? '';
  else if (step < 0) for (let i = norm(start, n - 1); i > norm(stop, -1); i += step) out += chars[i] ?? '';
  return out;
}

/**
 * Parse with @huggingface/jinja; when it fails, once more with Jinja2's empty tuple `()` (which that
 * parser lacks, and which SSTI payloads use as a handy object: `()|attr(...)`) written as `[]`.
 */
function parseTemplate(template: string): unknown {
  const opts = { lstrip_blocks: true, trim_blocks: true };
  try {
    return parse(tokenize(template, opts));
  } catch (e) {
    const rewritten = template.replace(/(?<![\w)\]'"\s])(\s*)\(\s*\)/g, '$1[]');
    if (rewritten === template) throw e;
    try {
      return parse(tokenize(rewritten, opts));
    } catch {
      throw e;
    }
  }
}

/** Python-style escapes a Jinja lexer resolves, for the text fallback. */
function decodeEscapes(s: string): string {
  return s
    .replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\u([0-9a-fA-F]{4})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\U([0-9a-fA-F]{8})/g, (_m, h: string) =>
      String.fromCodePoint(Math.min(0x10ffff, parseInt(h, 16))),
    )
    .replace(/\\([0-7]{1,3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
    .replace(/\\N\{LOW LINE\}/gi, '_');
}

/** Judge one chat template. `key` names where it came from (for reports). */
export function chatTemplateFindings(template: string, key: string, offset?: number): Finding[] {
  const a = new Analysis(key, offset);
  let program: unknown;
  try {
    program = parseTemplate(template);
  } catch (e) {
    // Not parseable by @huggingface/jinja (Jinja2 accepts a little more, e.g. octal escapes): judge the
    // text outside comments, with escapes decoded, for the names an injection needs — also spelled
    // across string literals (`'__cla' ~ 'ss__'`), so every literal is joined with its neighbours.
    const text = decodeEscapes(template.replace(/\{#[\s\S]*?#\}/g, ''));
    const literals = [...text.matchAll(/'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/g)]
      .map((m) => m[1] ?? m[2] ?? '')
      .join('');
    const hit =
      /__[A-Za-z]+__|\|\s*attr\b|\battr\s*\(|\battribute\s*=|\._[A-Za-z]/.exec(text) ??
      /__[A-Za-z]+__/.exec(literals);
    const load = /\{%[-+]?\s*(include|import|extends|from)\b[^%]*%\}/.exec(text);
    if (hit)
      a.report(
        `could not be parsed as Jinja (${(e as Error).message.slice(0, 80)}) and its text uses ${JSON.stringify(hit[0])}`,
      );
    else if (load)
      return [
        {
          rule: 'chat-template-load',
          severity: 'suspicious',
          detail: `${key} uses {% ${load[1]} %} (${JSON.stringify(load[0].slice(0, 80))}): a chat template is self-contained; loading another template by name reads files wherever the renderer has a template loader`,
          ...(offset === undefined ? {} : { offset }),
        },
      ];
    else
      return [
        {
          rule: 'chat-template-unparsed',
          severity: 'info',
          detail: `${key} could not be parsed as Jinja (${(e as Error).message.slice(0, 120)}); its text names no Python internals`,
          ...(offset === undefined ? {} : { offset }),
        },
      ];
    return a.findings;
  }
  for (let i = 0; i < 3; i++) a.bind(program);
  a.check(program);
  return a.findings;
}
