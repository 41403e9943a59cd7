// Globs a policy author writes (model sources, non-model image approvals): "*" matches within one path
// segment, "?" one character of a segment, "**" across segments; "**/" also matches nothing, so
// "s3://b/**/m.bin" matches "s3://b/m.bin". Anchored: the whole input must match.
//
// Patterns come from tenants (a ModelPolicy's sources) and inputs from deployers, and both reach the
// admission path. A backtracking RegExp built from them took 3.7 s for one 122-character URI (six "**"),
// stalling admission for the whole cluster. So a glob is compiled to a Thompson NFA and run as bit-parallel
// state sets (Shift-And): the cost is (input length) × ceil((pattern length + 1) / 32) word operations,
// linear in the input for every pattern, whatever its stars. `stepsOf` exposes that count for tests.

/** Longest glob a policy may hold (the CRD's maxLength for sources and image repositories). */
export const MAX_GLOB_LENGTH = 1024;
/** Longer inputs are never matched (a model URI or image reference of 4 KiB is not a real one). */
export const MAX_GLOB_INPUT = 4096;

const enum Tok {
  /** consume one given character */
  Lit,
  /** "?": one character other than "/" */
  One,
  /** "*": any run of characters other than "/" (skippable) */
  Star,
  /** "**": any run of characters (skippable). */
  Any,
  /**
   * Consumes nothing: the entry of "**\/", encoded as Entry, Any, Lit("/"). From Entry an epsilon edge
   * leads into Any and a bypass edge past the "/" (the empty alternative); once Any has consumed a
   * character, only "/" leads on.
   */
  Entry,
}

const SLASH = 47;

export class GlobError extends Error {}

export interface Glob {
  readonly source: string;
  /** True when the whole input matches. */
  test(input: string): boolean;
}

interface Compiled extends Glob {
  /** Word operations the last test() performed (for the linear-time property test). */
  lastSteps: number;
}

export function compileGlob(glob: string): Glob {
  if (glob.length > MAX_GLOB_LENGTH)
    throw new GlobError(`glob is ${glob.length} characters long; at most ${MAX_GLOB_LENGTH} are allowed`);
  const kinds: Tok[] = [];
  const chars: number[] = [];
  /** Entry states j, with an epsilon edge to j+3 (the empty alternative of "**\/"). */
  const bypass: number[] = [];
  for (let i = 0; i < glob.length; i++) {
    const ch = glob.charCodeAt(i);
    if (ch === 42 /* * */) {
      if (glob.charCodeAt(i + 1) === 42) {
        i++;
        while (glob.charCodeAt(i + 1) === 42) i++; // "***" is "**"
        if (glob.charCodeAt(i + 1) === SLASH) {
          i++;
          bypass.push(kinds.length);
          kinds.push(Tok.Entry, Tok.Any, Tok.Lit);
          chars.push(-1, -1, SLASH);
          continue;
        }
        kinds.push(Tok.Any);
      } else kinds.push(Tok.Star);
      chars.push(-1);
    } else if (ch === 63 /* ? */) {
      kinds.push(Tok.One);
      chars.push(-1);
    } else {
      kinds.push(Tok.Lit);
      chars.push(ch);
    }
  }
  return new ShiftAndGlob(glob, kinds, chars, bypass);
}

/**
 * State j (bit j) means "the first j tokens have matched". Bit m (the last) is acceptance. Masks are
 * per character class: which states move on it, which stay (self-loops of stars).
 */
class ShiftAndGlob implements Compiled {
  lastSteps = 0;
  private readonly words: number;
  private readonly m: number;
  /** States whose token is a literal c, keyed by char code: they advance on c. */
  private readonly litAdvance = new Map<number, Uint32Array>();
  /** States that advance on any character but "/" ("?"). */
  private readonly oneAdvance: Uint32Array;
  /** States that stay on any character but "/" ("*"), and on any character ("**", "**\/"). */
  private readonly loopNoSlash: Uint32Array;
  private readonly loopAny: Uint32Array;
  /** Skippable states (stars): epsilon to the next state. */
  private readonly skippable: Uint32Array;
  /** Entry states: an epsilon edge over the next three states ("**\/" may match nothing). */
  private readonly bypass: Uint32Array;
  /** Longest chain of epsilon edges: closure rounds that reach the fixpoint (fixed per pattern). */
  private readonly closureRounds: number;
  private readonly start: Uint32Array;
  private cur: Uint32Array;
  private next: Uint32Array;

  constructor(
    readonly source: string,
    kinds: Tok[],
    chars: number[],
    bypassAt: number[],
  ) {
    this.m = kinds.length;
    this.words = ((this.m + 1 + 31) / 32) | 0;
    const mask = () => new Uint32Array(this.words);
    const set = (a: Uint32Array, j: number) => (a[j >>> 5]! |= 1 << (j & 31));
    this.oneAdvance = mask();
    this.loopNoSlash = mask();
    this.loopAny = mask();
    this.skippable = mask();
    this.bypass = mask();
    for (const j of bypassAt) set(this.bypass, j);
    // chain[j]: epsilon edges reachable in a row from state j.
    const chain = new Array<number>(this.m + 4).fill(0);
    for (let j = this.m - 1; j >= 0; j--) {
      const k = kinds[j]!;
      const skip = k === Tok.Star || k === Tok.Any || k === Tok.Entry ? 1 + chain[j + 1]! : 0;
      const over = k === Tok.Entry ? 1 + chain[j + 3]! : 0;
      chain[j] = Math.max(skip, over);
    }
    this.closureRounds = Math.max(0, ...chain);
    for (let j = 0; j < this.m; j++) {
      const k = kinds[j]!;
      if (k === Tok.Lit) {
        let a = this.litAdvance.get(chars[j]!);
        if (!a) this.litAdvance.set(chars[j]!, (a = mask()));
        set(a, j);
      } else if (k === Tok.One) set(this.oneAdvance, j);
      else if (k === Tok.Star) set(this.loopNoSlash, j);
      else if (k === Tok.Any) set(this.loopAny, j);
      if (k === Tok.Star || k === Tok.Any || k === Tok.Entry) set(this.skippable, j);
    }
    this.start = mask();
    set(this.start, 0);
    this.closure(this.start);
    this.cur = mask();
    this.next = mask();
  }

  /** Follows epsilon edges (j -> j+1 for stars and entries, j -> j+3 for entries) along the longest chain. */
  private closure(s: Uint32Array): number {
    let steps = 0;
    for (let round = 0; round < this.closureRounds; round++) {
      let carry1 = 0;
      let carry2 = 0;
      for (let w = 0; w < this.words; w++) {
        const v = s[w]!;
        const a = v & this.skippable[w]!;
        const b = v & this.bypass[w]!;
        s[w] = v | (a << 1) | carry1 | (b << 3) | carry2;
        carry1 = a >>> 31;
        carry2 = b >>> 29;
        steps++;
      }
    }
    return steps;
  }

  test(input: string): boolean {
    if (input.length > MAX_GLOB_INPUT) {
      this.lastSteps = 0;
      return false;
    }
    const W = this.words;
    let cur = this.cur;
    let next = this.next;
    cur.set(this.start);
    let steps = 0;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      const slash = c === SLASH;
      const lit = this.litAdvance.get(c);
      let carry = 0;
      let any = 0;
      for (let w = 0; w < W; w++) {
        const s = cur[w]!;
        let adv = lit ? s & lit[w]! : 0;
        if (!slash) adv |= s & this.oneAdvance[w]!;
        const stay = (slash ? 0 : s & this.loopNoSlash[w]!) | (s & this.loopAny[w]!);
        const v = (adv << 1) | carry | stay;
        carry = adv >>> 31;
        next[w] = v;
        any |= v;
        steps++;
      }
      steps += this.closure(next);
      const t = cur;
      cur = next;
      next = t;
      if (any === 0) {
        this.lastSteps = steps;
        return false;
      }
    }
    this.lastSteps = steps;
    return (cur[this.m >>> 5]! & (1 << (this.m & 31))) !== 0;
  }
}

/** Word operations of the last `test()` of a compiled glob (tests only). */
export function stepsOf(glob: Glob): number {
  return (glob as Compiled).lastSteps;
}
