// scipy.stats distributions as fitted searches pickle them (RandomizedSearchCV keeps its
// `param_distributions`: frozen distributions over `*_gen` instances). Three things in those pickles
// are code-adjacent and are judged exactly, not waved through:
//   - `rv_generic.__setstate__` runs `exec(self._parse_arg_template)` on a string from the pickled
//     state: the template must be the one scipy writes (parse_arg_template in
//     scipy/stats/_distn_infrastructure.py, filled with identifier shapes and one of the two
//     location/scale signatures), nothing else;
//   - `rv_discrete` keeps `vecentropy = numpy.vectorize(self._entropy)`, and a bound method pickles as
//     `builtins.getattr(instance, name)`: getattr is admitted only on an allowlisted distribution
//     instance and only with a method name scipy's own `_attach_methods` vectorizes;
//   - the state may not shadow those methods (getattr would then return the stored value).
import { textOfValue, type Value } from './pickle-values.ts';

/** Distribution classes of scipy.stats (every `rv_continuous`/`rv_discrete` instance it exports). */
export const SCIPY_DISTRIBUTIONS: Record<string, string[]> = {
  'scipy.stats._continuous_distns': [
    'alpha',
    'anglit',
    'arcsine',
    'argus',
    'beta',
    'betaprime',
    'bradford',
    'burr12',
    'burr',
    'cauchy',
    'chi2',
    'chi',
    'cosine',
    'crystalball',
    'dgamma',
    'dpareto_lognorm',
    'dweibull',
    'erlang',
    'expon',
    'exponnorm',
    'exponpow',
    'exponweib',
    'f',
    'fatiguelife',
    'fisk',
    'foldcauchy',
    'foldnorm',
    'gamma',
    'gausshyper',
    'genexpon',
    'genextreme',
    'gengamma',
    'genhalflogistic',
    'genhyperbolic',
    'geninvgauss',
    'genlogistic',
    'gennorm',
    'genpareto',
    'gibrat',
    'gompertz',
    'gumbel_l',
    'gumbel_r',
    'halfcauchy',
    'halfgennorm',
    'halflogistic',
    'halfnorm',
    'hypsecant',
    'invgamma',
    'invgauss',
    'invweibull',
    'irwinhall',
    'jf_skew_t',
    'johnsonsb',
    'johnsonsu',
    'kappa3',
    'kappa4',
    'ksone',
    'kstwo',
    'kstwobign',
    'landau',
    'laplace_asymmetric',
    'laplace',
    'levy',
    'levy_l',
    'loggamma',
    'logistic',
    'loglaplace',
    'lognorm',
    'lomax',
    'maxwell',
    'mielke',
    'moyal',
    'nakagami',
    'ncf',
    'nct',
    'ncx2',
    'norm',
    'norminvgauss',
    'pareto',
    'pearson3',
    'powerlaw',
    'powerlognorm',
    'powernorm',
    'rayleigh',
    'rdist',
    'recipinvgauss',
    'reciprocal',
    'rel_breitwigner',
    'rice',
    'semicircular',
    'skewcauchy',
    'skewnorm',
    'studentized_range',
    't',
    'trapezoid',
    'triang',
    'truncexpon',
    'truncnorm',
    'truncpareto',
    'truncweibull_min',
    'tukeylambda',
    'uniform',
    'vonmises',
    'wald',
    'weibull_max',
    'weibull_min',
    'wrapcauchy',
  ].map((n) => `${n}_gen`),
  'scipy.stats._discrete_distns': [
    'bernoulli',
    'betabinom',
    'betanbinom',
    'binom',
    'boltzmann',
    'dlaplace',
    'geom',
    'hypergeom',
    'logser',
    'nbinom',
    'nchypergeom_fisher',
    'nchypergeom_wallenius',
    'nhypergeom',
    'planck',
    'poisson_binom',
    'poisson',
    'randint',
    'skellam',
    'yulesimon',
    'zipf',
    'zipfian',
  ].map((n) => `${n}_gen`),
  'scipy.stats._levy_stable': ['levy_stable_gen'],
  // scikit-learn 0.22-0.24's subclass of scipy's reciprocal_gen (RandomizedSearchCV examples used it)
  'sklearn.utils.fixes': ['loguniform'],
};

/** Frozen distributions (`scipy.stats.norm(0, 1)`): plain instances holding args, kwds and the distribution. */
export const SCIPY_FROZEN = ['rv_frozen', 'rv_continuous_frozen', 'rv_discrete_frozen'].map(
  (c) => `scipy.stats._distn_infrastructure.${c}`,
);

export const SCIPY_DISTRIBUTION_NAMES: ReadonlySet<string> = new Set(
  Object.entries(SCIPY_DISTRIBUTIONS).flatMap(([m, cs]) => cs.map((c) => `${m}.${c}`)),
);

/** Methods `_attach_methods` wraps in numpy.vectorize: the only names getattr may fetch. */
export const SCIPY_VECTORIZED_METHODS: ReadonlySet<string> = new Set([
  '_entropy',
  '_cdf_single',
  '_ppf_single',
  '_mom0_sc',
  '_mom1_sc',
]);

/** (locscale_in, locscale_out) of rv_continuous and rv_discrete/rv_sample. */
const LOCSCALE: [string, string][] = [
  ['loc=0, scale=1', 'loc, scale'],
  ['loc=0', 'loc, 1'],
];

/** scipy's parse_arg_template filled in as `_construct_argparser` fills it. */
function argParser(shapes: string, locIn: string, locOut: string): string {
  return `
def _parse_args(self, ${shapes} ${locIn}):
    return (${shapes}), ${locOut}

def _parse_args_rvs(self, ${shapes} ${locIn}, size=None):
    return self._argcheck_rvs(${shapes} ${locOut}, size=size)

def _parse_args_stats(self, ${shapes} ${locIn}, moments='mv'):
    return (${shapes}), ${locOut}, moments
`;
}

const SHAPES = /^\ndef _parse_args\(self, ((?:[A-Za-z_][A-Za-z0-9_]*, )*) loc=0/;

/** Why `text` is not an argument parser scipy writes (the code __setstate__ exec()s), or undefined. */
export function argParserProblem(text: string): string | undefined {
  const m = SHAPES.exec(text);
  const shapes = m?.[1];
  if (shapes !== undefined)
    for (const [i, o] of LOCSCALE) if (text === argParser(shapes, i, o)) return undefined;
  return "_parse_arg_template (which the distribution's __setstate__ passes to exec) is not the argument parser scipy generates";
}

function dictEntries(v: Value | undefined): [Value, Value][] | undefined {
  return v?.t === 'dict' && v.entries !== null ? v.entries : undefined;
}

/**
 * Why the BUILD state of a distribution instance is not what scipy writes: rv_generic.__setstate__ does
 * `self.__dict__.update(state)` (a tuple of two-key dicts would set arbitrary attributes, so only a dict)
 * and then exec()s `_parse_arg_template`.
 */
export function distributionStateProblem(state: Value | undefined): string | undefined {
  const entries = dictEntries(state);
  if (entries === undefined)
    return state?.t === 'dict'
      ? 'state too large to check the code its __setstate__ runs'
      : `state is a ${state?.t ?? 'missing value'}, not the instance dict scipy writes`;
  let template: Value | undefined;
  for (const [k, v] of entries) {
    if (k.t !== 'str') return `a state key is a ${k.t}, not an attribute name`;
    if (SCIPY_VECTORIZED_METHODS.has(k.v) || k.v.startsWith('_parse_args'))
      return `the state stores ${k.v}, shadowing the distribution's own method`;
    if (k.v === '_parse_arg_template') template = v;
  }
  const text = textOfValue(template);
  if (text === undefined) return 'the state has no _parse_arg_template string (scipy always writes one)';
  return argParserProblem(text);
}

/** getattr(distribution instance, vectorized method name): how a bound method of one pickles. */
export function boundMethodProblem(items: readonly Value[]): string | undefined {
  if (items.length !== 2) return `takes 2 arguments, got ${items.length}`;
  const [target, name] = items as [Value, Value];
  if (target.t !== 'obj' || target.indirect === true || target.cls === undefined)
    return 'the object must be a scipy.stats distribution instance';
  if (target.cls.classification !== 'allowed' || !SCIPY_DISTRIBUTION_NAMES.has(target.cls.name))
    return `the object must be a scipy.stats distribution instance, not a ${target.cls.name} object`;
  if (name.t !== 'str' || !SCIPY_VECTORIZED_METHODS.has(name.v))
    return `the attribute must be one of ${[...SCIPY_VECTORIZED_METHODS].join(', ')}`;
  return undefined;
}
