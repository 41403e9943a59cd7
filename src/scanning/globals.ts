// Which Python globals a pickle may import, decided allowlist-first: a name is allowed only when the
// reviewed allowlist (allowlist.ts, with the opcode shapes each entry may appear in) or the caller's
// configuration names it; everything else is flagged. The denylist below only sets the severity
// (dangerous rather than suspicious) and explains what the name does.
import { allowEntry, CONFIGURED, type AllowEntry } from './allowlist.ts';

export type GlobalClass = 'allowed' | 'suspicious' | 'dangerous';

export interface ClassifiedGlobal {
  /** The name CPython would import, after Python-2 mapping. */
  resolved: string;
  classification: GlobalClass;
  reason: string;
  /** The allowlist entry (with its permitted shapes) when allowed. */
  entry?: AllowEntry;
}

/**
 * Module or attribute paths that run code, touch files, processes or the network, or load a further
 * pickle. An entry matches itself and everything beneath it (`os` matches `os.system`).
 */
const DENY_PREFIXES: Record<string, string> = {};
function deny(reason: string, names: string[]): void {
  for (const n of names) DENY_PREFIXES[n] = reason;
}
deny('runs shell commands or spawns processes', [
  'os',
  'posix',
  'nt',
  'subprocess',
  'pty',
  'popen2',
  'commands',
  'spawn',
  'multiprocessing',
  'asyncio',
  '_posixsubprocess',
  'platform',
  'webbrowser',
  'antigravity',
  'this',
  'turtle',
  'tkinter',
  'cgi',
  'cgitb',
  'uuid._get_command_stdout',
  'uuid._popen',
  '_aix_support',
  '_osx_support',
  '_pyrepl',
  'pydoc',
  'ctypes',
  '_ctypes',
  'signal',
  '_thread',
  'thread',
  'threading',
  'sys',
  'gc',
  'resource',
]);
deny('evaluates or compiles code', [
  'builtins.eval',
  'builtins.exec',
  'builtins.compile',
  'builtins.execfile',
  'builtins.__import__',
  'builtins.getattr',
  'builtins.setattr',
  'builtins.delattr',
  'builtins.globals',
  'builtins.locals',
  'builtins.vars',
  'builtins.open',
  'builtins.input',
  'builtins.breakpoint',
  'builtins.help',
  'builtins.exit',
  'builtins.quit',
  'builtins.apply',
  'builtins.reload',
  'builtins.file',
  'builtins.memoryview',
  'builtins.type',
  'builtins.super',
  'builtins.classmethod',
  'builtins.staticmethod',
  'builtins.property',
  '__builtin__.eval',
  '__builtin__.exec',
  '__builtin__.compile',
  '__builtin__.execfile',
  '__builtin__.getattr',
  '__builtin__.setattr',
  '__builtin__.apply',
  '__builtin__.open',
  '__builtin__.file',
  '__builtin__.__import__',
  '__builtin__.globals',
  '__builtin__.input',
  '__builtin__.reload',
  '__builtins__',
  'code',
  'codeop',
  'compileall',
  'py_compile',
  'zipapp',
  'runpy',
  'importlib',
  'imp',
  'pkgutil',
  'zipimport',
  'types',
  'marshal',
  'bdb',
  'pdb',
  'trace',
  'profile',
  'cProfile',
  'timeit',
  'doctest',
  'idlelib',
  'lib2to3',
  'inspect',
  'operator.attrgetter',
  'operator.methodcaller',
  'operator.itemgetter',
  '_operator.attrgetter',
  '_operator.methodcaller',
  '_operator.itemgetter',
  'functools.partial',
  'functools.reduce',
  'functools.partialmethod',
  '_functools',
  'copyreg.add_extension',
  'copy_reg.add_extension',
  'dill',
  'cloudpickle',
  'jsonpickle',
  'shelve',
  'pickle',
  '_pickle',
  'cPickle',
  'pickletools',
  'numpy.load',
  'numpy.f2py',
  'numpy.testing',
  'numpy.distutils',
  'numpy.ctypeslib',
  'numpy.lib.npyio',
  'numpy.lib.format',
  'numpy.core._internal',
  'numpy._core._internal',
  'joblib.load',
  'joblib.numpy_pickle.load',
  'keras.layers.Lambda',
  'tensorflow',
  'jax',
  'torch.load',
  'torch.serialization.load',
  'torch.serialization._load',
  'torch.serialization._legacy_load',
  'torch.storage._load_from_bytes',
  'keras.models.load_model',
  'keras.saving',
  'keras.src.saving',
  'pandas.read_pickle',
  'pandas.io',
  'scipy.io',
  'numpy.fromfile',
  'numpy.loadtxt',
  'numpy.genfromtxt',
  'numpy.save',
  'numpy.savez',
  'numpy.savez_compressed',
  'numpy.savetxt',
  'torch.jit',
  'torch._inductor',
  'torch._dynamo',
  'torch.fx',
  'torch.hub',
  'torch.package',
  'torch.utils.collect_env',
  'torch.utils.bottleneck',
  'torch.utils._config_module',
  'torch.utils.data.datapipes',
  'torch.utils.cpp_extension',
  'torch._C._jit',
  'torch.ops',
  'torch._ops',
  'torch.compile',
  'torch.autograd.profiler',
  'torch.distributed',
  'torch.testing',
  'torch.utils.benchmark',
  'torch.backends',
  'torch.library',
  'torch._export',
  'torch.export',
]);
deny('reads or writes files', [
  'io',
  '_io',
  'codecs.open',
  'fileinput',
  'shutil',
  'tempfile',
  'glob',
  'pathlib',
  'zipfile',
  'tarfile',
  'logging.FileHandler',
  'logging.handlers',
  'logging.config',
  'distutils',
  'setuptools',
  'pip',
  'ensurepip',
  'venv',
  'dbm',
  'sqlite3',
  'mmap',
  'linecache',
  'filecmp',
  'test',
  'site',
  'sysconfig',
  'builtins.__loader__',
]);
deny('opens network connections', [
  'socket',
  '_socket',
  'ssl',
  '_ssl',
  'http',
  'httplib',
  'urllib',
  'urllib2',
  'urllib3',
  'requests',
  'aiohttp',
  'httpx',
  'ftplib',
  'smtplib',
  'telnetlib',
  'imaplib',
  'poplib',
  'nntplib',
  'xmlrpc',
  'xmlrpclib',
  'socketserver',
  'SocketServer',
  'select',
  'selectors',
  'paramiko',
  'smtpd',
  'asynchat',
  'asyncore',
]);

/** Attribute names that walk Python internals to reach builtins, code objects or module globals. */
const DUNDER_ALLOWED = new Set(['__main__']);

// Python 2 names that CPython's unpickler maps below protocol 3 (Lib/_compat_pickle.py).
const IMPORT_MAPPING: Record<string, string> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
  Queue: 'queue',
  SocketServer: 'socketserver',
  ConfigParser: 'configparser',
  repr: 'reprlib',
  tkFileDialog: 'tkinter.filedialog',
  tkSimpleDialog: 'tkinter.simpledialog',
  tkColorChooser: 'tkinter.colorchooser',
  tkCommonDialog: 'tkinter.commondialog',
  Dialog: 'tkinter.dialog',
  Tkdnd: 'tkinter.dnd',
  tkFont: 'tkinter.font',
  tkMessageBox: 'tkinter.messagebox',
  ScrolledText: 'tkinter.scrolledtext',
  Tkconstants: 'tkinter.constants',
  Tix: 'tkinter.tix',
  ttk: 'tkinter.ttk',
  Tkinter: 'tkinter',
  markupbase: '_markupbase',
  _winreg: 'winreg',
  thread: '_thread',
  dummy_thread: '_dummy_thread',
  dbhash: 'dbm.bsd',
  dumbdbm: 'dbm.dumb',
  dbm: 'dbm.ndbm',
  gdbm: 'dbm.gnu',
  xmlrpclib: 'xmlrpc.client',
  SimpleXMLRPCServer: 'xmlrpc.server',
  httplib: 'http.client',
  htmlentitydefs: 'html.entities',
  HTMLParser: 'html.parser',
  Cookie: 'http.cookies',
  cookielib: 'http.cookiejar',
  BaseHTTPServer: 'http.server',
  'test.test_support': 'test.support',
  commands: 'subprocess',
  urlparse: 'urllib.parse',
  robotparser: 'urllib.robotparser',
  urllib2: 'urllib.request',
  anydbm: 'dbm',
  _abcoll: 'collections.abc',
  cPickle: 'pickle',
  _elementtree: 'xml.etree.ElementTree',
  FileDialog: 'tkinter.filedialog',
  SimpleDialog: 'tkinter.simpledialog',
  DocXMLRPCServer: 'xmlrpc.server',
  SimpleHTTPServer: 'http.server',
  CGIHTTPServer: 'http.server',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
  whichdb: 'dbm',
  StringIO: 'io',
  cStringIO: 'io',
  exceptions: 'builtins',
};
const NAME_MAPPING: Record<string, string> = {
  '__builtin__.xrange': 'builtins.range',
  '__builtin__.reduce': 'functools.reduce',
  '__builtin__.intern': 'sys.intern',
  '__builtin__.unichr': 'builtins.chr',
  '__builtin__.unicode': 'builtins.str',
  '__builtin__.long': 'builtins.int',
  'itertools.izip': 'builtins.zip',
  'itertools.imap': 'builtins.map',
  'itertools.ifilter': 'builtins.filter',
  'itertools.ifilterfalse': 'itertools.filterfalse',
  'itertools.izip_longest': 'itertools.zip_longest',
  'UserDict.IterableUserDict': 'collections.UserDict',
  'UserList.UserList': 'collections.UserList',
  'UserString.UserString': 'collections.UserString',
  'whichdb.whichdb': 'dbm.whichdb',
  '_socket.fromfd': 'socket.fromfd',
  '_multiprocessing.Connection': 'multiprocessing.connection.Connection',
  'multiprocessing.process.Process': 'multiprocessing.context.Process',
  'multiprocessing.forking.Popen': 'multiprocessing.popen_fork.Popen',
  'urllib.ContentTooShortError': 'urllib.error.ContentTooShortError',
  'urllib.getproxies': 'urllib.request.getproxies',
  'urllib.pathname2url': 'urllib.request.pathname2url',
  'urllib.quote_plus': 'urllib.parse.quote_plus',
  'urllib.quote': 'urllib.parse.quote',
  'urllib.unquote_plus': 'urllib.parse.unquote_plus',
  'urllib.unquote': 'urllib.parse.unquote',
  'urllib.url2pathname': 'urllib.request.url2pathname',
  'urllib.urlcleanup': 'urllib.request.urlcleanup',
  'urllib.urlencode': 'urllib.parse.urlencode',
  'urllib.urlopen': 'urllib.request.urlopen',
  'urllib.urlretrieve': 'urllib.request.urlretrieve',
  'urllib2.HTTPError': 'urllib.error.HTTPError',
  'urllib2.URLError': 'urllib.error.URLError',
  'UserDict.UserDict': 'collections.UserDict',
  'socket._socketobject': 'socket.SocketType',
};

/** The dotted name CPython's `Unpickler.find_class` would import for (module, name) at `protocol`. */
export function resolveGlobalName(module: string, name: string, protocol: number): string {
  if (protocol < 3) {
    const mapped = NAME_MAPPING[`${module}.${name}`];
    if (mapped !== undefined) return mapped;
    const m = IMPORT_MAPPING[module];
    if (m !== undefined) return `${m}.${name}`;
  }
  return `${module}.${name}`;
}

function denyReason(fullName: string): string | undefined {
  const parts = fullName.split('.');
  for (let i = 1; i <= parts.length; i++) {
    const reason = DENY_PREFIXES[parts.slice(0, i).join('.')];
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/**
 * Classify an import. Every spelling a loader might use is checked against the denylist (the literal
 * name, the Python-2-mapped one, and dotted attribute paths, which protocol 4+ resolves), so a
 * mapping or dotted-name trick cannot downgrade a dangerous import. `allowExtra` (from `--allow-global`)
 * can admit an unknown global, never a denied one.
 */
export function classifyGlobal(
  module: string,
  name: string,
  protocol: number,
  allowExtra: ReadonlySet<string>,
): ClassifiedGlobal {
  const resolved = resolveGlobalName(module, name, protocol);
  const candidates = new Set([`${module}.${name}`, resolved, resolveGlobalName(module, name, 0)]);
  // A reviewed allowlist entry names one exact function inside a denied module
  // (numpy._core._internal._convert_to_stringdtype_kwargs); every spelling must be that entry.
  const reviewed = [...candidates].every((c) => allowEntry(c) !== undefined);
  for (const c of candidates) {
    const reason = reviewed ? undefined : denyReason(c);
    if (reason !== undefined) return { resolved, classification: 'dangerous', reason };
  }
  const attrPath = name.split('.');
  const dunder = attrPath.find((p) => p.startsWith('__') && p.endsWith('__') && !DUNDER_ALLOWED.has(p));
  if (dunder !== undefined && allowEntry(resolved) === undefined) {
    return {
      resolved,
      classification: 'dangerous',
      reason: `reaches the Python internal attribute ${dunder}`,
    };
  }
  if (module === '' || name === '' || /[\s\0]/.test(module + name)) {
    return { resolved, classification: 'dangerous', reason: 'malformed import name' };
  }
  const entry = allowEntry(resolved);
  if (entry !== undefined)
    return { resolved, classification: 'allowed', reason: `on the ${entry.group} allowlist`, entry };
  if (allowExtra.has(resolved))
    return { resolved, classification: 'allowed', reason: 'allowed by configuration', entry: CONFIGURED };
  return { resolved, classification: 'suspicious', reason: 'not on the allowlist of data-only globals' };
}
